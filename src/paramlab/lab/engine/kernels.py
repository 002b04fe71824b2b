"""The arithmetic of one training step for a stack of K MLPs, backward pass written out.

Backpropagation through an MLP is three batched products per layer; writing it out skips
autograd's per-operation bookkeeping, which dominates for small models. The loss is the *sum*
over models of each model's mean loss, so each model's gradient is the one it would get alone.

Shapes: x is (rows, in) and shared by every model; hidden activations are (K, rows, width);
predictions (K, rows, outputs). The activation's derivative is taken from its *output*
(relu: h > 0 ⟺ a > 0; tanh: 1 − h²), so a layer keeps one tensor for the backward pass.
No tensor here requires grad, so autograd records nothing and the step needs no ``no_grad``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from paramlab.lab.engine.config import MLPArch
from paramlab.lab.engine.stack import StackedMLP

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


NARROW = 16  # output columns below which a tall, large product is computed transposed


def _bmm(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Batched a @ b, in the form the BLAS runs fastest.

    An inner or output size of 1 (a one-output regression head) is done as a broadcast
    multiply (and sum): at those sizes a batched GEMM call costs several times the arithmetic.
    A tall output with few columns (a ten-class head over a 100-row batch) is computed as
    (bᵀ aᵀ)ᵀ: MKL's kernels for a row-major product are tuned for wide outputs, and measured
    on (13, 100, 57) @ (13, 57, 10) the transposed product with its copy takes 65 µs against
    140 µs. Below about 48 rows or 20,000 input entries the copy costs more than it saves.
    """
    if a.shape[-1] == 1:
        return torch.mul(a, b, out=out)
    if b.shape[-1] == 1:
        return torch.sum(a * b.mT, dim=-1, keepdim=True, out=out)
    if b.shape[-1] < NARROW and a.shape[-2] >= 48 and a.numel() >= 20_000:
        product = torch.bmm(b.mT, a.mT).mT
        return product.contiguous() if out is None else out.copy_(product)
    return torch.bmm(a, b, out=out)


def _shared(x: torch.Tensor, stack: StackedMLP) -> torch.Tensor:
    """The batch every model reads, as a (K, …) view without copying: a batched product over
    it is about 10 µs faster than ``matmul``'s broadcasting, twice a step."""
    return x.expand(len(stack.archs), *x.shape)


def _activation_backward(g: torch.Tensor, out: torch.Tensor, activation: str) -> torch.Tensor:
    """d(loss)/d(pre-activation) from d(loss)/d(output) and the output, in one kernel."""
    if activation == "relu":
        return torch.ops.aten.threshold_backward(g, out, 0)
    return torch.ops.aten.tanh_backward(g, out)


@torch.no_grad()
def forward(stack: StackedMLP, x: torch.Tensor, activation: str) -> torch.Tensor:
    """(rows, features) → (K, rows, outputs), evaluation mode (no dropout)."""
    act = _ACTIVATIONS[activation]
    h = _bmm(_shared(x, stack), stack.weights[0]).add_(stack.biases[0])
    for weight, bias in zip(stack.weights[1:], stack.biases[1:], strict=True):
        h = _bmm(act(h), weight).add_(bias)
    return h


def predict(arch: MLPArch, weights: list[np.ndarray], x: np.ndarray, activation: str,
            chunk: int = 4096) -> np.ndarray:
    """One network's outputs (rows, outputs) for any [W1, b1, …] ((fan_in, fan_out) W), e.g.
    ``unflatten`` of a quantized subspace model's θ: the training kernels' forward pass, so
    what a bound or a score evaluates is exactly the network that was trained."""
    stack = StackedMLP.from_weights([arch], [[torch.as_tensor(w) for w in weights]],
                                    torch.device("cpu"))
    rows = torch.as_tensor(np.asarray(x, dtype=np.float32))
    return torch.cat([forward(stack, rows[i: i + chunk], activation)[0]
                      for i in range(0, rows.shape[0], chunk)]).numpy()


def gradients(stack: StackedMLP, x: torch.Tensor, y: torch.Tensor, *, loss: str,
              activation: str, dropout: float,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """One forward and backward pass; writes every ``.grad``; returns the (K,) batch losses.
    Dropout masks come from ``generator`` (the global RNG when None)."""
    act = _ACTIVATIONS[activation]
    inputs: list[torch.Tensor] = [x]  # what each layer multiplies (after dropout)
    outputs: list[torch.Tensor] = []  # each hidden activation (before dropout)
    keeps: list[torch.Tensor | None] = []  # inverted-dropout masks, scaled by 1 / (1 − p)
    a = _bmm(_shared(x, stack), stack.weights[0]).add_(stack.biases[0])
    for weight, bias in zip(stack.weights[1:], stack.biases[1:], strict=True):
        h = act(a)
        outputs.append(h)
        keep = None
        if dropout > 0:
            draw = torch.rand(h.shape, generator=generator, device=h.device, dtype=h.dtype)
            keep = (draw >= dropout).to(h.dtype).div_(1 - dropout)
            h = h * keep
        keeps.append(keep)
        inputs.append(h)
        a = _bmm(h, weight).add_(bias)
    losses, g = loss_and_gradient(a, y, loss)
    for layer in range(stack.layers - 1, -1, -1):
        weight, bias = stack.weights[layer], stack.biases[layer]
        if layer == 0:  # x is shared by every model: (in, rows) @ (K, rows, out)
            _bmm(_shared(x.T, stack), g, out=weight.grad)
        else:
            _bmm(inputs[layer].mT, g, out=weight.grad)
        torch.sum(g, dim=1, keepdim=True, out=bias.grad)
        if layer:
            g = _bmm(g, weight.mT)
            keep = keeps[layer - 1]
            if keep is not None:
                g.mul_(keep)
            g = _activation_backward(g, outputs[layer - 1], activation)
    return losses


def loss_and_gradient(pred: torch.Tensor, target: torch.Tensor,
                      loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Each model's mean loss (K,) and d(sum of the losses)/d(pred)."""
    k, rows, outputs = pred.shape
    if loss == "mse":
        diff = pred - target
        return diff.square().mean(dim=(1, 2)), diff.mul_(2.0 / (rows * outputs))
    log_probs = torch.log_softmax(pred, dim=-1)
    index = target.view(1, rows, 1).expand(k, rows, 1)
    losses = log_probs.gather(-1, index).squeeze(-1).mean(dim=1).neg_()
    g = log_probs.exp_()  # softmax − one-hot, over the batch mean
    g.scatter_add_(-1, index, torch.full((k, rows, 1), -1.0, dtype=g.dtype, device=g.device))
    return losses, g.div_(rows)


def per_model_loss(pred: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    """(K, rows, out) predictions → (K,) mean loss of each model."""
    if loss == "mse":
        return (pred - target).square().mean(dim=(1, 2))
    k, rows, classes = pred.shape
    flat = F.cross_entropy(pred.reshape(k * rows, classes), target.repeat(k), reduction="none")
    return flat.view(k, rows).mean(dim=1)
