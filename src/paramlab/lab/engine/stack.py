"""K MLPs of one depth held as stacked, zero-padded weight tensors.

Layer ``l`` of every model lives in one tensor of shape (K, fan_in, fan_out), padded with zeros
to the group's widest model, and its bias in (K, 1, fan_out). Padding does not change the
mathematics: a padded unit has zero incoming weights and bias, so its activation is
relu(0) = 0 (tanh(0) = 0); its outgoing weights are zero, so it contributes nothing; and every
gradient that touches a padded entry is a product with one of those zeros, so it is exactly 0.
With a zero gradient and a zero weight, Adam's moments stay 0 and its update 0 / (√0 + ε) is 0,
SGD's momentum stays 0, and L2 weight decay adds λ·0 = 0: padded entries stay zero for ever.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from paramlab.lab.engine.config import MLPArch


def init_weights(arch: MLPArch, seed: int) -> list[torch.Tensor]:
    """``nn.Linear``'s default initialization from a generator seeded with ``seed`` only.

    U(−1/√fan_in, 1/√fan_in) for weights and biases, drawn in ``nn.Linear``'s order; W is
    returned as (fan_in, fan_out). A model therefore starts the same alone or in any group.
    """
    generator = torch.Generator().manual_seed(seed)
    tensors = []
    for fan_in, fan_out in zip(arch.widths, arch.widths[1:], strict=False):
        bound = 1 / math.sqrt(fan_in)
        weight = torch.empty(fan_out, fan_in).uniform_(-bound, bound, generator=generator)
        bias = torch.empty(fan_out).uniform_(-bound, bound, generator=generator)
        tensors += [weight.T.contiguous(), bias]
    return tensors


def flatten(tensors: list[torch.Tensor]) -> torch.Tensor:
    """One model's θ: [W1 (fan_in × fan_out, row-major), b1, W2, b2, …] end to end."""
    return torch.cat([t.reshape(-1) for t in tensors])


def unflatten(arch: MLPArch, theta: np.ndarray) -> list[np.ndarray]:
    """θ (laid out as :func:`flatten`) back to [W1, b1, …] with W as (fan_in, fan_out)."""
    out, offset = [], 0
    for fan_in, fan_out in zip(arch.widths, arch.widths[1:], strict=False):
        for shape in ((fan_in, fan_out), (fan_out,)):
            size = math.prod(shape)
            out.append(theta[offset: offset + size].reshape(shape))
            offset += size
    return out


def padded_widths(archs: list[MLPArch]) -> tuple[int, ...]:
    """Layer widths of the stack: the widest model at every layer."""
    return tuple(max(widths) for widths in zip(*(a.widths for a in archs), strict=True))


@dataclass
class StackedMLP:
    """The weights of K same-depth models; ``.grad`` buffers are allocated once and reused.

    Reusing the gradient buffers (the kernels write into them with ``out=``) keeps the
    allocator out of the training step: a fresh multi-megabyte gradient every step costs page
    faults comparable to the arithmetic itself.
    """

    archs: list[MLPArch]
    weights: list[torch.Tensor]  # per layer (K, fan_in, fan_out)
    biases: list[torch.Tensor]  # per layer (K, 1, fan_out)

    @classmethod
    def build(cls, archs: list[MLPArch], seeds: list[int], device: torch.device) -> StackedMLP:
        """Every model initialized from its seed (see :func:`init_weights`)."""
        return cls.from_weights(archs, [init_weights(arch, seed)
                                        for arch, seed in zip(archs, seeds, strict=True)],
                                device)

    @classmethod
    def from_weights(cls, archs: list[MLPArch], initial: list[list[torch.Tensor]],
                     device: torch.device) -> StackedMLP:
        """Each model starts from its given [W1, b1, …] ((fan_in, fan_out) W), zero-padded."""
        depths = {len(a.hidden) for a in archs}
        if len(depths) != 1:
            raise ValueError(f"a stack holds models of one depth; received depths {depths}")
        sizes = padded_widths(archs)
        weights, biases = [], []
        for layer in range(len(sizes) - 1):
            weight = torch.zeros(len(archs), sizes[layer], sizes[layer + 1])
            bias = torch.zeros(len(archs), 1, sizes[layer + 1])
            for k, tensors in enumerate(initial):
                w, b = tensors[2 * layer: 2 * layer + 2]
                weight[k, : w.shape[0], : w.shape[1]] = w
                bias[k, 0, : b.shape[0]] = b
            weights.append(weight.to(device))
            biases.append(bias.to(device))
        for tensor in (*weights, *biases):
            tensor.grad = torch.zeros_like(tensor)
        return cls(archs, weights, biases)

    @classmethod
    def over(cls, arch: MLPArch, theta: torch.Tensor, grad: torch.Tensor) -> StackedMLP:
        """K copies of one architecture whose weights and gradients are *views* of (K, D)
        flat tensors laid out as :func:`flatten` lays out θ: writing θ moves every layer,
        and the kernels' gradients land in ``grad`` without a copy."""
        weights: list[torch.Tensor] = []
        biases: list[torch.Tensor] = []
        offset = 0
        for fan_in, fan_out in zip(arch.widths, arch.widths[1:], strict=False):
            for rows, store in ((fan_in, weights), (1, biases)):
                size = rows * fan_out
                view = theta[:, offset: offset + size].view(-1, rows, fan_out)
                view.grad = grad[:, offset: offset + size].view(-1, rows, fan_out)
                store.append(view)
                offset += size
        return cls([arch] * theta.shape[0], weights, biases)

    @property
    def params(self) -> list[torch.Tensor]:
        """W0, b0, W1, b1, … — what the optimizer steps."""
        return [t for pair in zip(self.weights, self.biases, strict=True) for t in pair]

    @property
    def layers(self) -> int:
        return len(self.weights)

    def numel(self) -> int:
        """Stacked (padded) parameters."""
        return sum(t.numel() for t in self.params)

    def unstack(self, k: int) -> list[np.ndarray]:
        """Model k's own (unpadded) weights as numpy arrays, (fan_in, fan_out) layout."""
        widths = self.archs[k].widths
        out = []
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            w = weight[k, : widths[layer], : widths[layer + 1]]
            b = bias[k, 0, : widths[layer + 1]]
            out += [w.detach().cpu().numpy().copy(), b.detach().cpu().numpy().copy()]
        return out
