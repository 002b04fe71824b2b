"""The optimizer over a stack's weights: PyTorch's own Adam or SGD with momentum.

Both are element-wise (L2 ``weight_decay`` is added to the gradient, as ``torch.optim``
does), so stepping the stacked tensors updates each model's slice exactly as if it were
alone. The fused kernels make one pass over weights, gradients and state, which matters: an
unfused Adam step costs more than the matrix products of a small MLP.
"""

from __future__ import annotations

from typing import Any

import torch

from paramlab.lab.engine.config import TrainConfig


def make_optimizer(params: list[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    """Fused Adam/SGD where this device and dtype have the kernel, else the foreach one."""
    kwargs: dict[str, Any] = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        kwargs["momentum"] = config.momentum
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD
    try:
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, ValueError, TypeError):  # no fused kernel for this device/dtype
        return cls(params, foreach=True, **kwargs)


def state_numel_per_param(config: TrainConfig) -> int:
    """Optimizer state per parameter: Adam's two moments, SGD's momentum buffer (or none)."""
    if config.optimizer == "adam":
        return 2
    return 1 if config.momentum > 0 else 0
