"""Subspace training: θ = θ₀ + P·θ_d, only θ_d ∈ ℝᵈ trained (Li et al., ICLR 2018).

θ₀ is the model's usual initialization (``init_weights(arch, seed)``) or the weights given
as its ``origin`` (a data-dependent prior's), frozen; θ_d starts at 0, and P is the fixed
random projection of :mod:`.projection`, drawn from the same seed on a stream of its own.
Many (d, seed) models of one architecture and projection kind form a group: θ is one (K, D)
tensor whose slices *are* the stack's weights (``StackedMLP.over``),
so the network's forward and backward are the engine's batched kernels unchanged, and the
gradients land in one (K, D) buffer. Each step then computes ∇θ_d = Pᵀ·∇θ for the whole group
at once, lets the optimizer (Adam or SGD, ``TrainConfig``'s) step θ_d — weight decay acts on
θ_d, as ``torch.optim`` on θ_d would — and writes θ = θ₀ + P·θ_d back into the stack.

Groups train in the engine's worker processes like ordinary ones (a group's models and
data are inherited by the forked worker); the lab's executors (local, Ray) hand batches to
``train_models`` and do not know this mode yet.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

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
from paramlab.lab.engine.grouping import parameters
from paramlab.lab.engine.loop import GroupRun, Splits, check_fits, drive
from paramlab.lab.engine.optim import StackOptimizer
from paramlab.lab.engine.projection import GroupProjection, ProjectionSpec, group_projection
from paramlab.lab.engine.stack import StackedMLP, flatten, init_weights
from paramlab.lab.engine.workers import GroupTrainer, plan_for, step_cost


@dataclass(frozen=True)
class SubspaceModel:
    """One model trained in a d-dimensional random subspace of its D parameters."""

    arch: MLPArch
    d: int
    seed: int  # θ₀ = init_weights(arch, seed) unless ``origin``; P from (projection, D, d, seed)
    projection: str = "fastfood"  # "dense" | "sparse" | "fastfood" | "identity"
    # θ₀ given instead (laid out as ``flatten``): a data-dependent prior's trained weights
    origin: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def D(self) -> int:
        return parameters(self.arch.widths)

    def theta0(self) -> torch.Tensor:
        """θ₀: the given origin, or the architecture's initialization from ``seed``."""
        if self.origin is None:
            return flatten(init_weights(self.arch, self.seed))
        if np.shape(self.origin) != (self.D,):
            raise ParamlabError(f"the origin θ₀ must have shape ({self.D},) for "
                                f"{self.arch.spec()}; received {np.shape(self.origin)}")
        return torch.as_tensor(np.asarray(self.origin, dtype=np.float32))

    def spec(self) -> ProjectionSpec:
        return ProjectionSpec(self.projection, self.D, self.d, self.seed)


class SubspaceStep:
    """∇θ_d = Pᵀ·∇θ, the optimizer's step of θ_d, then θ = θ₀ + P·θ_d, for a whole group."""

    def __init__(self, theta0: torch.Tensor, theta: torch.Tensor, grad: torch.Tensor,
                 projection: GroupProjection, config: TrainConfig) -> None:
        self.theta0, self.theta, self.grad, self.projection = theta0, theta, grad, projection
        self.theta_d = torch.zeros(theta.shape[0], projection.width, device=theta.device)
        self.theta_d.grad = torch.zeros_like(self.theta_d)
        self.optimizer = StackOptimizer([self.theta_d], config)
        self.state = [self.theta_d]  # early stopping saves θ_d with the weights it made

    def step(self) -> None:
        assert self.theta_d.grad is not None
        self.theta_d.grad.copy_(self.projection.transpose(self.grad.unsqueeze(1)).squeeze(1))
        self.optimizer.step()
        torch.add(self.theta0, self.projection.apply(self.theta_d.unsqueeze(1)).squeeze(1),
                  out=self.theta)


def full_weights(model: SubspaceModel, theta_d: np.ndarray) -> np.ndarray:
    """θ = θ₀ + P·θ_d for any θ_d (a trained one, or a quantized copy), P regenerated from
    the model's seed; laid out as :func:`~paramlab.lab.engine.stack.flatten` (use
    :func:`~paramlab.lab.engine.stack.unflatten` for per-layer arrays)."""
    spec = model.spec()
    spec.validate()
    if np.shape(theta_d) != (model.d,):
        raise ParamlabError(f"θ_d must have shape ({model.d},) for d = {model.d}; "
                            f"received {np.shape(theta_d)}")
    projection = group_projection([spec], torch.device("cpu"))
    padded = torch.zeros(1, 1, projection.width)
    padded[0, 0, : model.d] = torch.as_tensor(np.asarray(theta_d, dtype=np.float32))
    theta0 = model.theta0()
    with torch.no_grad():
        return (theta0 + projection.apply(padded)[0, 0]).numpy()


def subspace_groups(models: list[SubspaceModel], group_size: int) -> list[list[int]]:
    """Models that can share a group: one architecture, one projection kind (and for fastfood
    one block length), in the fewest even chunks of at most ``group_size``."""
    def key(i: int) -> tuple[tuple[int, ...], str, int]:
        model = models[i]
        return model.arch.widths, model.projection, model.spec().block * (
            model.projection == "fastfood")

    groups = []
    for _, members in itertools.groupby(sorted(range(len(models)), key=key), key=key):
        run = list(members)
        count = math.ceil(len(run) / group_size)
        bounds = [round(i * len(run) / count) for i in range(count + 1)]
        groups += [run[a:b] for a, b in itertools.pairwise(bounds)]
    return groups


def subspace_trainer(models: list[SubspaceModel], ids: list[str], splits: Splits,
                     config: TrainConfig, loss: str, keep_weights: bool) -> GroupTrainer:
    """How one group of subspace models trains, here or in a worker process."""
    def train(group: list[int], *, on_epoch: EpochCallback | None) -> list[ModelResult]:
        chosen = [models[i] for i in group]
        arch, device = chosen[0].arch, splits.X["train"].device
        theta0 = torch.stack([m.theta0() for m in chosen]).to(device)
        theta, grad = theta0.clone(), torch.zeros_like(theta0)
        step = SubspaceStep(theta0, theta, grad, group_projection(
            [m.spec() for m in chosen], device), config)
        run = GroupRun([arch] * len(chosen), [m.seed for m in chosen], [ids[i] for i in group],
                       splits, config, loss, stack=StackedMLP.over(arch, theta, grad),
                       stepper=lambda _: step)
        results = run.run(on_epoch, keep_weights)
        return [dataclasses.replace(result, theta_d=step.theta_d[k, : m.d].cpu().numpy().copy())
                for k, (result, m) in enumerate(zip(results, chosen, strict=True))]

    return train


def train_subspace(
    models: list[SubspaceModel],
    data: Dataset,
    config: TrainConfig,
    *,
    model_ids: list[str] | None = None,
    keep_weights: bool = False,
    on_epoch: EpochCallback | None = None,
    on_model_done: Callable[[ModelResult], None] | None = None,
    group_size: int = 64,
    workers: int | None = None,
) -> list[ModelResult]:
    """Train every model in its subspace; results in input order, each with ``theta_d``.

    ``params`` in a result is the network's D (the counting core's number); the model's d is
    the caller's. ``weights`` (with ``keep_weights``) are the final θ per layer. The other
    arguments are :func:`~paramlab.lab.engine.loop.train_models`'.
    """
    config.validate()
    for model in models:
        model.spec().validate()
    check_fits([m.arch for m in models], data)
    ids = model_ids or [f"s{i:04d}" for i in range(len(models))]
    device = resolve_device(config.device)
    cost = step_cost(config, device)
    steps = config.epochs * math.ceil(data.observations / config.batch_size)

    def seconds(group: list[int]) -> float:
        return steps * cost.step([models[i].arch for i in group], config.batch_size)

    plan = plan_for(subspace_groups(models, group_size), seconds, device, workers)
    train = subspace_trainer(models, ids, Splits.of(data, device), config,
                             config.loss_for(data.task), keep_weights)
    return drive(plan, train, lambda group: (group,), ids, on_epoch=on_epoch,
                 on_model_done=on_model_done)

