"""Masked training for lottery-ticket pruning (Frankle & Carbin, ICLR 2019, arXiv 1803.03635).

Each model trains from initial weights it is given (the original initialization to rewind
to, or a fresh one for the random re-initialization control) under a fixed 0/1 mask per
weight matrix; biases are never masked, as in facebookresearch/open_lth, whose
``PrunedModel`` masks only the tensors its ``prunable_layer_names`` lists: the weights of
``Linear`` and ``Conv2d`` layers.

Pruned weights are zero from the start and stay exactly zero: the step multiplies each
weight gradient by its mask before the optimizer, so a pruned entry has gradient 0, Adam's
moments stay 0 and its update 0 / (√0 + ε) is 0, SGD's momentum stays 0 and weight decay adds
λ·0 — the argument that keeps the stack's padding at zero (:mod:`.stack`). open_lth instead
multiplies the weights by the mask before every forward pass; the surviving weights follow
the same trajectory either way, since a pruned weight, zeroed before it is used, never
touches the loss. Models of one depth share a padded group as in ordinary training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from paramlab.errors import ParamlabError
from paramlab.lab.data import Dataset
from paramlab.lab.engine.config import (
    EpochCallback,
    MLPArch,
    ModelResult,
    TrainConfig,
    resolve_device,
)
from paramlab.lab.engine.loop import GroupRun, Splits, check_fits, drive
from paramlab.lab.engine.optim import StackOptimizer
from paramlab.lab.engine.stack import StackedMLP
from paramlab.lab.engine.workers import GroupTrainer, plan_groups


@dataclass(frozen=True, eq=False)
class MaskedModel:
    """One model: its architecture, where it starts and which weights it keeps."""

    arch: MLPArch
    initial: list[np.ndarray]  # [W1, b1, W2, b2, …], W as (fan_in, fan_out): ModelResult.weights
    masks: list[np.ndarray]  # per weight matrix, (fan_in, fan_out): 1 keeps, 0 prunes
    seed: int = 0  # recorded in the result; seeds the group's dropout

    def validate(self, where: str) -> None:
        """Shapes as the architecture needs, masks of 0 and 1 only."""
        pairs = list(zip(self.arch.widths, self.arch.widths[1:], strict=False))
        shapes = [shape for fan_in, fan_out in pairs for shape in ((fan_in, fan_out), (fan_out,))]
        if len(self.initial) != len(shapes) or len(self.masks) != len(pairs):
            raise ParamlabError(
                f"{where}: {self.arch.spec()} needs {len(shapes)} initial arrays (W, b per "
                f"layer) and {len(pairs)} masks; received {len(self.initial)} and "
                f"{len(self.masks)}")
        for index, (array, shape) in enumerate(zip(self.initial, shapes, strict=True)):
            if np.shape(array) != shape:
                raise ParamlabError(f"{where}: initial array {index} (layer {index // 2 + 1} "
                                    f"{'weight' if index % 2 == 0 else 'bias'}) must have "
                                    f"shape {shape}; received {np.shape(array)}")
        for layer, (mask, shape) in enumerate(zip(self.masks, shapes[::2], strict=True)):
            if np.shape(mask) != shape:
                raise ParamlabError(f"{where}: mask of layer {layer + 1} must have shape "
                                    f"{shape}; received {np.shape(mask)}")
            if not np.isin(mask, (0, 1)).all():
                raise ParamlabError(f"{where}: mask of layer {layer + 1} must hold only 0 "
                                    "and 1")


class MaskedStep:
    """Weight gradients masked, then the optimizer's step (pruned weights stay 0)."""

    def __init__(self, stack: StackedMLP, masks: list[torch.Tensor],
                 config: TrainConfig) -> None:
        self.stack, self.masks = stack, masks
        self.optimizer = StackOptimizer(stack.params, config)
        self.state: list[torch.Tensor] = []

    def step(self) -> None:
        for weight, mask in zip(self.stack.weights, self.masks, strict=True):
            assert weight.grad is not None
            weight.grad.mul_(mask)
        self.optimizer.step()


def masked_stack(chosen: list[MaskedModel], device: torch.device,
                 ) -> tuple[StackedMLP, list[torch.Tensor]]:
    """The group's stack, started from the masked initial weights, and its padded masks."""
    archs = [m.arch for m in chosen]
    initial = []
    for model in chosen:
        tensors = [torch.tensor(np.asarray(a), dtype=torch.float32) for a in model.initial]
        for layer, mask in enumerate(model.masks):
            tensors[2 * layer] *= torch.as_tensor(np.asarray(mask), dtype=torch.float32)
        initial.append(tensors)
    stack = StackedMLP.from_weights(archs, initial, device)
    masks = [torch.zeros_like(w) for w in stack.weights]
    for k, model in enumerate(chosen):
        for layer, mask in enumerate(model.masks):
            rows, cols = np.shape(mask)
            masks[layer][k, :rows, :cols] = torch.as_tensor(np.asarray(mask),
                                                            dtype=torch.float32)
    return stack, masks


def masked_trainer(models: list[MaskedModel], ids: list[str], splits: Splits,
                   config: TrainConfig, loss: str) -> GroupTrainer:
    """How one group of masked models trains, here or in a worker process."""
    def train(group: list[int], *, on_epoch: EpochCallback | None) -> list[ModelResult]:
        chosen = [models[i] for i in group]
        stack, masks = masked_stack(chosen, splits.X["train"].device)
        run = GroupRun([m.arch for m in chosen], [m.seed for m in chosen],
                       [ids[i] for i in group], splits, config, loss, stack=stack,
                       stepper=lambda s: MaskedStep(s, masks, config))
        return run.run(on_epoch, keep_weights=True)

    return train


def train_masked(
    models: list[MaskedModel],
    data: Dataset,
    config: TrainConfig,
    *,
    model_ids: list[str] | None = None,
    on_epoch: EpochCallback | None = None,
    on_model_done: Callable[[ModelResult], None] | None = None,
    group_size: int = 64,
    workers: int | None = None,
) -> list[ModelResult]:
    """Train every model under its masks; results in input order, trained ``weights`` kept
    (pruned entries exactly 0). The arguments are
    :func:`~paramlab.lab.engine.loop.train_models`'."""
    config.validate()
    ids = model_ids or [f"p{i:04d}" for i in range(len(models))]
    for model, model_id in zip(models, ids, strict=True):
        model.validate(f"model {model_id}")
    archs = [m.arch for m in models]
    check_fits(archs, data)
    device = resolve_device(config.device)
    plan = plan_groups(archs, config, data.observations, device, workers=workers,
                       group_size=group_size)
    train = masked_trainer(models, ids, Splits.of(data, device), config,
                           config.loss_for(data.task))
    return drive(plan, train, lambda group: (group,), ids, on_epoch=on_epoch,
                 on_model_done=on_model_done)

