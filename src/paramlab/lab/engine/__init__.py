"""The batched training engine: many MLPs advance together, one optimizer step for all.

Design. Models of the same depth form a *group*; each layer's weights are stacked into one
tensor of shape (K, fan_in, fan_out), padded with zeros to the widest model in the group, so a
forward pass is a handful of batched matrix products. Padding does not change the
mathematics: a padded unit has zero incoming weights and bias, so its activation is
relu(0) = 0 (tanh(0) = 0); its outgoing weights are zero, so it contributes nothing; and
every gradient that touches a padded entry is a product with one of those zeros, so it is
exactly 0 — Adam's moments stay 0 there and the update 0 / (√0 + ε) is 0. The loss is the
*sum* over models of each model's mean loss, so each model's gradient is the gradient it
would get alone. The optimizers are PyTorch's Adam (L2 ``weight_decay`` added to the gradient)
and SGD with momentum; both are element-wise, so stacking does not couple the models.

Early stopping follows Keras' ``EarlyStopping(restore_best_weights=True)``: a model whose
validation loss has not improved for ``patience`` epochs stops recording history, and at the
end its best weights are restored; it keeps stepping inside its group (cheaper than
re-stacking), and the group ends when all of its models have stopped.

A model's initialization depends only on its own seed (``torch.nn.Linear``'s default:
U(−1/√fan_in, 1/√fan_in) for weights and biases); the batch order depends only on
``TrainConfig.data_seed``. So a model trained alone or in any group starts and steps the same.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from paramlab.errors import ParamlabError
from paramlab.lab.data import Dataset


@dataclass(frozen=True)
class MLPArch:
    """A fully connected network: input features, hidden widths, outputs."""

    in_features: int
    hidden: tuple[int, ...]
    out_features: int

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.in_features, *self.hidden, self.out_features)

    def spec(self) -> str:
        """The MLP shorthand, e.g. ``40-256-256-1``."""
        return "-".join(map(str, self.widths))

    def params(self) -> int:
        """Exact parameter count, from the counting core."""
        from paramlab import count

        return count(self.spec(), other_convention=False).total


@dataclass
class TrainConfig:
    """How every model of a run is trained."""

    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"  # "adam" | "sgd"
    momentum: float = 0.0  # SGD only
    weight_decay: float = 0.0  # L2 added to the gradient, as torch.optim's weight_decay
    dropout: float = 0.0  # after every hidden activation, training only
    loss: str | None = None  # "mse" | "cross_entropy"; None: from the data set's task
    patience: int | None = None  # early stopping on validation loss; best weights restored
    device: str = "cpu"  # "cpu" | "cuda" | "auto"
    activation: str = "relu"  # "relu" | "tanh"
    data_seed: int = 0  # the batch order, shared by every model of a run

    def validate(self) -> None:
        checks = [
            (self.epochs >= 1, "epochs must be a positive integer", self.epochs),
            (self.batch_size >= 1, "batch_size must be a positive integer", self.batch_size),
            (self.lr > 0, "lr must be positive", self.lr),
            (self.optimizer in ("adam", "sgd"), "optimizer must be 'adam' or 'sgd'",
             self.optimizer),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)", self.momentum),
            (self.weight_decay >= 0, "weight_decay must be ≥ 0", self.weight_decay),
            (0 <= self.dropout < 1, "dropout must be in [0, 1)", self.dropout),
            (self.loss in (None, "mse", "cross_entropy"), "loss must be 'mse' or "
             "'cross_entropy'", self.loss),
            (self.patience is None or self.patience >= 1, "patience must be ≥ 1",
             self.patience),
            (self.device in ("cpu", "cuda", "auto"), "device must be cpu, cuda or auto",
             self.device),
            (self.activation in ("relu", "tanh"), "activation must be relu or tanh",
             self.activation),
        ]
        for ok, message, value in checks:
            if not ok:
                raise ParamlabError(f"{message}; received {value!r}")


@dataclass
class ModelResult:
    """Everything recorded for one trained model."""

    model_id: str
    arch: MLPArch
    seed: int
    params: int
    observations: int
    params_per_observation: float
    history: list[dict[str, float]]  # per epoch: epoch, train_loss, val_loss, test_loss
    train_loss: float
    val_loss: float
    test_loss: float
    epochs: int  # epochs trained (early stopping may end sooner)
    seconds: float  # the group's wall time shared equally among its models
    train_metric: float | None = None  # accuracy, for classification
    val_metric: float | None = None
    test_metric: float | None = None
    best_epoch: int = 0
    weights: list[np.ndarray] | None = None  # [W1, b1, W2, b2, …], W as (fan_in, fan_out)
    test_predictions: np.ndarray | None = None


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ParamlabError("device 'cuda' was requested but PyTorch sees no CUDA GPU; "
                            "use --device cpu or auto")
    return torch.device(name)


def init_weights(arch: MLPArch, seed: int) -> list[torch.Tensor]:
    """``nn.Linear``'s default initialization from a generator seeded with ``seed`` only."""
    generator = torch.Generator().manual_seed(seed)
    tensors = []
    for fan_in, fan_out in zip(arch.widths, arch.widths[1:], strict=False):
        bound = 1 / math.sqrt(fan_in)
        weight = torch.empty(fan_out, fan_in).uniform_(-bound, bound, generator=generator)
        bias = torch.empty(fan_out).uniform_(-bound, bound, generator=generator)
        tensors += [weight.T.contiguous(), bias]
    return tensors


@dataclass
class _Group:
    """K models of one depth with their weights stacked and zero-padded."""

    archs: list[MLPArch]
    params: list[torch.Tensor]  # W0, b0, W1, b1, … with shapes (K, in, out), (K, 1, out)
    state: list[dict[str, torch.Tensor]] = field(default_factory=list)

    @classmethod
    def build(cls, archs: list[MLPArch], seeds: list[int], device: torch.device) -> _Group:
        depth = len(archs[0].widths) - 1
        sizes = [max(a.widths[i] for a in archs) for i in range(depth + 1)]
        params = []
        for layer in range(depth):
            weight = torch.zeros(len(archs), sizes[layer], sizes[layer + 1])
            bias = torch.zeros(len(archs), 1, sizes[layer + 1])
            for k, (arch, seed) in enumerate(zip(archs, seeds, strict=True)):
                w, b = init_weights(arch, seed)[2 * layer: 2 * layer + 2]
                weight[k, : w.shape[0], : w.shape[1]] = w
                bias[k, 0, : b.shape[0]] = b
            params += [weight.to(device), bias.to(device)]
        return cls(archs, params)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, config: TrainConfig) -> torch.Tensor:
        """(rows, features) → (K, rows, outputs), evaluation mode (no dropout)."""
        act = torch.relu if config.activation == "relu" else torch.tanh
        h = torch.matmul(x, self.params[0]) + self.params[1]
        for layer in range(1, len(self.params) // 2):
            h = torch.baddbmm(self.params[2 * layer + 1], act(h), self.params[2 * layer])
        return h

    @torch.no_grad()
    def gradients(self, x: torch.Tensor, y: torch.Tensor, config: TrainConfig,
                  loss: str) -> torch.Tensor:
        """One forward and a hand-written backward pass; sets ``.grad``; returns (K,) losses.

        Backpropagation through an MLP is a few batched products per layer; writing it out
        skips autograd's per-operation bookkeeping, which dominates for small models.
        """
        layers = len(self.params) // 2
        inputs, derivatives = [x], []
        h = torch.matmul(x, self.params[0]) + self.params[1]
        for layer in range(1, layers):
            h, derivative = _activate(h, config)
            inputs.append(h)
            derivatives.append(derivative)
            h = torch.baddbmm(self.params[2 * layer + 1], h, self.params[2 * layer])
        losses, g = _loss_and_gradient(h, y, loss)
        for layer in range(layers - 1, -1, -1):
            source = inputs[layer]
            if layer == 0:  # x is shared by every model: (in, rows) @ (K, rows, out)
                self.params[0].grad = torch.matmul(source.T, g)
            else:
                self.params[2 * layer].grad = torch.bmm(source.transpose(1, 2), g)
            self.params[2 * layer + 1].grad = g.sum(dim=1, keepdim=True)
            if layer:
                g = torch.bmm(g, self.params[2 * layer].transpose(1, 2)).mul_(
                    derivatives[layer - 1])
        return losses

    def unstack(self, k: int) -> list[np.ndarray]:
        """Model k's own (unpadded) weights as numpy arrays, (fan_in, fan_out) layout."""
        widths = self.archs[k].widths
        out = []
        for layer in range(len(widths) - 1):
            w = self.params[2 * layer][k, : widths[layer], : widths[layer + 1]]
            b = self.params[2 * layer + 1][k, 0, : widths[layer + 1]]
            out += [w.detach().cpu().numpy().copy(), b.detach().cpu().numpy().copy()]
        return out


def _activate(a: torch.Tensor, config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Activation (and inverted dropout) with its derivative, for the backward pass."""
    if config.activation == "relu":
        derivative = (a > 0).to(a.dtype)
        h = a * derivative
    else:
        h = torch.tanh(a)
        derivative = 1 - h * h
    if config.dropout > 0:
        keep = (torch.rand_like(a) >= config.dropout).to(a.dtype) / (1 - config.dropout)
        h = h * keep
        derivative = derivative * keep
    return h, derivative


def _loss_and_gradient(pred: torch.Tensor, target: torch.Tensor,
                       loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Each model's mean loss and d(sum of losses)/d(pred)."""
    k, rows, outputs = pred.shape
    if loss == "mse":
        diff = pred - target
        return diff.pow(2).mean(dim=(1, 2)), diff * (2.0 / (rows * outputs))
    log_probs = torch.log_softmax(pred, dim=-1)
    picked = log_probs.gather(-1, target.view(1, rows, 1).expand(k, rows, 1))
    g = log_probs.exp()
    g.scatter_add_(-1, target.view(1, rows, 1).expand(k, rows, 1),
                   torch.full((k, rows, 1), -1.0, dtype=pred.dtype, device=pred.device))
    return -picked.squeeze(-1).mean(dim=1), g / rows


def per_model_loss(pred: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    """(K, rows, out) predictions → (K,) mean loss of each model."""
    if loss == "mse":
        return (pred - target).pow(2).mean(dim=(1, 2))
    k, rows, classes = pred.shape
    flat = F.cross_entropy(pred.reshape(k * rows, classes), target.repeat(k), reduction="none")
    return flat.view(k, rows).mean(dim=1)


def make_optimizer(params: list[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    """PyTorch's own Adam or SGD over the stacked weights: both are element-wise, so each
    model's slice is updated exactly as if it were alone. The fused kernels make one pass
    over memory, which matters: an unfused Adam step costs more than the matrix products."""
    kwargs: dict[str, Any] = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        kwargs["momentum"] = config.momentum
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD
    try:
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, ValueError, TypeError):  # no fused kernel for this device/dtype
        return cls(params, foreach=True, **kwargs)


def _cost(widths: tuple[int, ...] | list[int]) -> int:
    """Multiply-adds per row of an MLP with these layer widths."""
    return sum(a * b for a, b in itertools.pairwise(widths))


def group_archs(archs: list[MLPArch], max_group: int = 64, waste: float = 1.3,
                small: int = 64 * 64) -> list[list[int]]:
    """Indices of models to train together.

    Only models of one depth can share stacked weights. Within a depth, models are taken
    from cheapest to most expensive and join the current group while the padded work stays
    within ``waste`` × the work the models really need — or while every layer is small
    (``small`` multiply-adds), where per-step overhead, not arithmetic, is the cost.
    """
    by_depth: dict[int, list[int]] = {}
    for index, arch in enumerate(archs):
        by_depth.setdefault(len(arch.hidden), []).append(index)
    groups: list[list[int]] = []
    for depth in sorted(by_depth):
        members = sorted(by_depth[depth], key=lambda i: _cost(archs[i].widths))
        current: list[int] = []
        for index in members:
            trial = [*current, index]
            widest = [max(archs[i].widths[layer] for i in trial)
                      for layer in range(depth + 2)]
            padded = len(trial) * _cost(widest)
            needed = sum(_cost(archs[i].widths) for i in trial)
            fits = padded <= waste * needed or _cost(widest) <= small
            if current and (not fits or len(current) >= max_group):
                groups.append(current)
                current = [index]
            else:
                current = trial
        groups.append(current)
    return groups


def train_models(
    archs: list[MLPArch],
    data: Dataset,
    config: TrainConfig,
    seeds: list[int],
    *,
    model_ids: list[str] | None = None,
    keep_weights: bool = False,
    on_epoch: Callable[[int, dict[str, dict[str, float]]], None] | None = None,
    on_model_done: Callable[[ModelResult], None] | None = None,
    group_size: int = 64,
) -> list[ModelResult]:
    """Train every architecture (with its seed); results come back in input order."""
    config.validate()
    if len(archs) != len(seeds):
        raise ParamlabError(f"{len(archs)} architectures but {len(seeds)} seeds")
    ids = model_ids or [f"m{i:04d}" for i in range(len(archs))]
    for arch in archs:
        if arch.in_features != data.n_features or arch.out_features != data.n_outputs:
            raise ParamlabError(
                f"architecture {arch.spec()} does not fit the data: it needs "
                f"{data.n_features} inputs and {data.n_outputs} outputs"
            )
    device = resolve_device(config.device)
    tensors = _tensors(data, device)
    results: dict[int, ModelResult] = {}
    for group in group_archs(archs, group_size):
        trained = _train_group([archs[i] for i in group], [seeds[i] for i in group],
                               [ids[i] for i in group], data, tensors, config, device,
                               keep_weights, on_epoch)
        for index, result in zip(group, trained, strict=True):
            results[index] = result
            if on_model_done is not None:
                on_model_done(result)
    return [results[i] for i in range(len(archs))]


def _tensors(data: Dataset, device: torch.device) -> dict[str, torch.Tensor]:
    classification = data.task == "classification"
    out = {}
    for split in ("train", "val", "test"):
        out[f"X_{split}"] = torch.as_tensor(getattr(data, f"X_{split}"), device=device)
        y = torch.as_tensor(getattr(data, f"y_{split}"), device=device)
        out[f"y_{split}"] = y.long() if classification else y.float()
    return out


@torch.no_grad()
def _evaluate(group: _Group, X: torch.Tensor, y: torch.Tensor, config: TrainConfig,
              loss: str) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Per-model loss (and accuracy) on a whole split, in row chunks to bound memory."""
    k = len(group.archs)
    widest = max(p.shape[-1] for p in group.params)
    chunk = max(256, 2**24 // max(1, k * widest))
    preds = torch.cat([group.forward(X[i: i + chunk], config)
                       for i in range(0, X.shape[0], chunk)], dim=1)
    losses = per_model_loss(preds, y, loss)
    accuracy = (preds.argmax(-1) == y).float().mean(dim=1) if loss == "cross_entropy" else None
    return losses, accuracy, preds


def _train_group(
    archs: list[MLPArch],
    seeds: list[int],
    ids: list[str],
    data: Dataset,
    t: dict[str, torch.Tensor],
    config: TrainConfig,
    device: torch.device,
    keep_weights: bool,
    on_epoch: Callable[[int, dict[str, dict[str, float]]], None] | None,
) -> list[ModelResult]:
    start = time.perf_counter()
    loss_name = config.loss or ("cross_entropy" if data.task == "classification" else "mse")
    group = _Group.build(archs, seeds, device)
    optimizer = make_optimizer(group.params, config)
    k, rows = len(archs), t["X_train"].shape[0]
    active = torch.ones(k, device=device)
    best = torch.full((k,), math.inf, device=device)
    best_epoch = torch.zeros(k, dtype=torch.long)
    waited = torch.zeros(k, dtype=torch.long)
    stopped_at = [config.epochs] * k
    best_params = [p.detach().clone() for p in group.params] if config.patience else []
    history: list[list[dict[str, float]]] = [[] for _ in range(k)]
    order_gen = torch.Generator().manual_seed(config.data_seed)
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(rows, generator=order_gen).to(device)
        total = torch.zeros(k, device=device)
        batches = 0
        for begin in range(0, rows, config.batch_size):
            index = order[begin: begin + config.batch_size]
            losses = group.gradients(t["X_train"][index], t["y_train"][index], config,
                                     loss_name)
            optimizer.step()
            total += losses
            batches += 1
        val, _, _ = _evaluate(group, t["X_val"], t["y_val"], config, loss_name)
        test, _, _ = _evaluate(group, t["X_test"], t["y_test"], config, loss_name)
        train_epoch = (total / batches).cpu()
        live = active.bool().cpu()
        for i in range(k):
            if live[i]:
                history[i].append({"epoch": epoch, "train_loss": float(train_epoch[i]),
                                   "val_loss": float(val[i]), "test_loss": float(test[i])})
        if on_epoch is not None:
            on_epoch(epoch, {ids[i]: history[i][-1] for i in range(k) if live[i]})
        improved = (val < best) & active.bool()
        best = torch.where(improved, val, best)
        best_epoch[improved.cpu()] = epoch
        if config.patience:
            for p, saved in zip(group.params, best_params, strict=True):
                mask = improved.view(-1, *([1] * (p.dim() - 1)))
                saved.copy_(torch.where(mask, p.detach(), saved))
            waited = torch.where(improved.cpu(), 0, waited + live.long())
            newly = (waited >= config.patience) & live
            for i in torch.nonzero(newly).flatten().tolist():
                stopped_at[i] = epoch
            active[newly.to(device)] = 0
            if not active.any():
                break
    if config.patience:
        with torch.no_grad():
            for p, saved in zip(group.params, best_params, strict=True):
                p.copy_(saved)
    return _results(group, archs, seeds, ids, data, t, config, loss_name, history, stopped_at,
                    best_epoch, keep_weights, time.perf_counter() - start)


def _results(group: _Group, archs: list[MLPArch], seeds: list[int], ids: list[str],
             data: Dataset, t: dict[str, torch.Tensor], config: TrainConfig, loss_name: str,
             history: list[list[dict[str, float]]], stopped_at: list[int],
             best_epoch: torch.Tensor, keep_weights: bool, seconds: float) -> list[ModelResult]:
    final: dict[str, Any] = {}
    for split in ("train", "val", "test"):
        losses, accuracy, preds = _evaluate(group, t[f"X_{split}"], t[f"y_{split}"], config,
                                            loss_name)
        final[split] = (losses.cpu(), None if accuracy is None else accuracy.cpu(), preds)
    results = []
    for i, arch in enumerate(archs):
        params = arch.params()
        metric = {s: (None if final[s][1] is None else float(final[s][1][i])) for s in final}
        test_pred = final["test"][2][i].cpu().numpy() if keep_weights else None
        results.append(ModelResult(
            model_id=ids[i], arch=arch, seed=seeds[i], params=params,
            observations=data.observations, params_per_observation=params / data.observations,
            history=history[i], train_loss=float(final["train"][0][i]),
            val_loss=float(final["val"][0][i]), test_loss=float(final["test"][0][i]),
            epochs=stopped_at[i], seconds=seconds / len(archs),
            train_metric=metric["train"], val_metric=metric["val"], test_metric=metric["test"],
            best_epoch=int(best_epoch[i]) if config.patience else stopped_at[i],
            weights=group.unstack(i) if keep_weights else None, test_predictions=test_pred,
        ))
    return results


__all__ = ["MLPArch", "ModelResult", "TrainConfig", "group_archs", "init_weights",
           "per_model_loss", "resolve_device", "train_models"]
