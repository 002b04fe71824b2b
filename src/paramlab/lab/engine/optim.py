"""The optimizer over a stack's weights: PyTorch's own Adam or SGD with momentum.

Both are element-wise (L2 ``weight_decay`` is added to the gradient, as ``torch.optim``
does), so stepping the stacked tensors updates each model's slice exactly as if it were
alone. The fused kernels make one pass over weights, gradients and state, which matters: an
unfused Adam step costs more than the matrix products of a small MLP.

``StackOptimizer`` runs the kernels ``torch.optim.Adam(fused=True)`` and ``SGD(fused=True)``
run, with the state it keeps itself: the ``Optimizer`` wrapper's per-step bookkeeping (hooks,
state lookup, grouping) costs several times the fused kernel when a stack is small. On a CPU
or GPU both call the fused kernels themselves: Adam with one step counter shared by every
tensor (they all step together), where the functional ``adam`` increments a counter per
tensor through a CPU fallback costing about 60 µs a step, three times the fused update of a
small stack; SGD with its momentum buffers made up front, which saves the functional
``sgd``'s 35 µs of Python a step.
"""

from __future__ import annotations

import torch
from torch.optim.adam import adam
from torch.optim.sgd import sgd

from paramlab.lab.engine.config import TrainConfig

ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults


class StackOptimizer:
    """Adam or SGD (with momentum) over fixed tensors whose ``.grad`` the kernels fill."""

    def __init__(self, params: list[torch.Tensor], config: TrainConfig,
                 fused: bool | None = None) -> None:
        """``fused`` defaults to whether every tensor is on a CPU or GPU, where the fused
        kernels exist; elsewhere the functional foreach path runs."""
        self.params, self.config = params, config
        self.fused = (all(p.device.type in ("cpu", "cuda") for p in params) if fused is None
                      else fused)
        # SGD's momentum buffers start at zero: its first step, momentum · 0 + gradient, is
        # then exactly torch.optim's (which copies the gradient)
        self.momentum: list[torch.Tensor | None] = (
            [torch.zeros_like(p) for p in params] if config.optimizer == "sgd"
            and config.momentum > 0 else [None] * len(params))
        if config.optimizer == "adam":
            self.exp_avg = [torch.zeros_like(p) for p in params]
            self.exp_avg_sq = [torch.zeros_like(p) for p in params]
            # fused: one counter for every tensor; foreach: the counters ``adam`` increments
            self.step_count = torch.zeros((), device=params[0].device)
            self.steps = [] if self.fused else [torch.tensor(0.0) for _ in params]

    def step(self) -> None:
        config = self.config
        grads = [p.grad for p in self.params if p.grad is not None]
        fused, foreach = (True, None) if self.fused else (None, True)
        if config.optimizer == "adam" and self.fused:
            self.step_count.add_(1)
            torch._fused_adam_(self.params, grads, self.exp_avg, self.exp_avg_sq, [],
                               [self.step_count] * len(self.params), amsgrad=False,
                               lr=config.lr, beta1=ADAM_BETAS[0], beta2=ADAM_BETAS[1],
                               weight_decay=config.weight_decay, eps=ADAM_EPS, maximize=False)
        elif config.optimizer == "adam":
            adam(self.params, grads, self.exp_avg, self.exp_avg_sq, [], self.steps,
                 foreach=foreach, fused=fused, amsgrad=False, beta1=ADAM_BETAS[0],
                 beta2=ADAM_BETAS[1], lr=config.lr, weight_decay=config.weight_decay,
                 eps=ADAM_EPS, maximize=False)
        elif self.fused:
            buffers = [b for b in self.momentum if b is not None]
            torch._fused_sgd_(self.params, grads, buffers, weight_decay=config.weight_decay,
                              momentum=config.momentum, lr=config.lr, dampening=0.0,
                              nesterov=False, maximize=False, is_first_step=False)
        else:
            sgd(self.params, grads, self.momentum, foreach=foreach, fused=fused,
                weight_decay=config.weight_decay,
                momentum=config.momentum, lr=config.lr, dampening=0.0, nesterov=False,
                maximize=False)


def state_numel_per_param(config: TrainConfig) -> int:
    """Optimizer state per parameter: Adam's two moments, SGD's momentum buffer (or none)."""
    if config.optimizer == "adam":
        return 2
    return 1 if config.momentum > 0 else 0
