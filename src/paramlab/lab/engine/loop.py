"""The training loop: every group of models runs its epochs; results come back per model.

Per epoch the training rows are permuted once and gathered once (``X[order]``), so a step
takes contiguous slices instead of gathering rows; losses accumulate on the device, and the
host reads them once per epoch, when the history is recorded. Evaluation runs the whole split
in chunks sized to stay within the stack's own memory.

Early stopping follows Keras' ``EarlyStopping(restore_best_weights=True)``: a model whose
validation loss has not improved for ``patience`` epochs stops recording history, and at the
end its best weights are restored; it keeps stepping inside its group (cheaper than
re-stacking), and the group ends when all of its models have stopped.

The batch order depends only on ``TrainConfig.data_seed`` and a model's initialization only on
its own seed, so a model trained alone or in any group starts and steps the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from paramlab.errors import ParamlabError
from paramlab.lab.data import Dataset
from paramlab.lab.engine import kernels
from paramlab.lab.engine.config import (
    EpochCallback,
    MLPArch,
    ModelResult,
    TrainConfig,
    resolve_device,
)
from paramlab.lab.engine.optim import StackOptimizer
from paramlab.lab.engine.stack import StackedMLP
from paramlab.lab.engine.workers import GroupPlan, GroupPool, GroupTrainer, plan_groups

SPLITS = ("train", "val", "test")


@dataclass
class Splits:
    """The data set's three splits as device tensors (classes as int64, targets as float).

    ``same_as`` maps a split to an earlier one holding the very same rows: MNIST-1D studies
    validate on their test set, as the paper does, and evaluating it twice every epoch would
    cost a sixth of a small network's training time for nothing.
    """

    X: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    observations: int
    same_as: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, data: Dataset, device: torch.device) -> Splits:
        classification = data.task == "classification"
        X: dict[str, torch.Tensor] = {}
        y: dict[str, torch.Tensor] = {}
        same_as: dict[str, str] = {}
        for split in SPLITS:
            features, labels = getattr(data, f"X_{split}"), getattr(data, f"y_{split}")
            twin = next((earlier for earlier in X if _same_rows(data, earlier, split)), None)
            if twin is not None:
                same_as[split] = twin
            X[split] = torch.as_tensor(features, device=device).float()
            target = torch.as_tensor(labels, device=device)
            y[split] = target.long() if classification else target.float()
        return cls(X, y, data.observations, same_as)


def _same_rows(data: Dataset, first: str, second: str) -> bool:
    """Whether two splits hold identical features and labels."""
    return all(np.array_equal(getattr(data, f"{kind}_{first}"), getattr(data, f"{kind}_{second}"))
               for kind in ("X", "y"))


@dataclass
class Evaluation:
    """Every model's loss (and accuracy, for classes) on one split."""

    losses: torch.Tensor  # (K,)
    accuracy: torch.Tensor | None  # (K,)
    predictions: torch.Tensor  # (K, rows, outputs)


class Stepper(Protocol):
    """What follows each backward pass: the optimizer step, and whatever a training mode adds
    around it (a subspace's projection, a pruning mask). ``state`` lists the tensors besides
    the stack's weights that early stopping must save and restore (leading dimension K)."""

    state: list[torch.Tensor]

    def step(self) -> None: ...


class PlainStep:
    """Ordinary training: the optimizer steps the stack's own weights."""

    def __init__(self, stack: StackedMLP, config: TrainConfig) -> None:
        self.optimizer = StackOptimizer(stack.params, config)
        self.state: list[torch.Tensor] = []

    def step(self) -> None:
        self.optimizer.step()


class GroupRun:
    """One group's run: its stack and optimizer, the data, and each model's record so far.

    ``stack`` and ``stepper`` default to ordinary training of models initialized from their
    seeds; the subspace and masked modes pass their own (see :mod:`.subspace`, :mod:`.masked`).
    """

    def __init__(self, archs: list[MLPArch], seeds: list[int], ids: list[str], splits: Splits,
                 config: TrainConfig, loss: str, *, stack: StackedMLP | None = None,
                 stepper: Callable[[StackedMLP], Stepper] | None = None) -> None:
        device = splits.X["train"].device
        self.archs, self.seeds, self.ids = archs, seeds, ids
        self.splits, self.config, self.loss = splits, config, loss
        self.stack = stack or StackedMLP.build(archs, seeds, device)
        self.stepper = (stepper or (lambda s: PlainStep(s, config)))(self.stack)
        self.tracked = [*self.stack.params, *self.stepper.state]
        k = len(archs)
        self.active = torch.ones(k, dtype=torch.bool)
        self.best = torch.full((k,), math.inf)
        self.best_epoch = torch.zeros(k, dtype=torch.long)
        self.waited = torch.zeros(k, dtype=torch.long)
        self.stopped_at = [config.epochs] * k
        self.history: list[list[dict[str, float]]] = [[] for _ in range(k)]
        self.current: dict[str, Evaluation] = {}  # evaluations of the weights as they are now
        self.best_params = ([p.detach().clone() for p in self.tracked]
                            if config.patience else [])
        # dropout masks from the run's own seeds, not the process's global RNG: the same run
        # gives the same models in this process, in another, or on a Ray worker
        self.dropout_generator = torch.Generator(device=device).manual_seed(
            config.data_seed * 1_000_003 + seeds[0])

    def run(self, on_epoch: EpochCallback | None, keep_weights: bool) -> list[ModelResult]:
        start = time.perf_counter()
        order_generator = torch.Generator().manual_seed(self.config.data_seed)
        for epoch in range(1, self.config.epochs + 1):
            train_loss = self.train_epoch(torch.randperm(self.splits.observations,
                                                         generator=order_generator))
            scores = self.evaluate_splits(("val", "test"))
            val, test = scores["val"].losses.cpu(), scores["test"].losses.cpu()
            accuracy = {"train_accuracy": self.train_accuracy(),
                        "test_accuracy": scores["test"].accuracy}
            self.record(epoch, train_loss.cpu(), val, test, on_epoch, accuracy)
            if self.config.patience and self.stop_early(epoch, val):
                break
        if self.config.patience:
            self.restore_best()
        return self.results(keep_weights, time.perf_counter() - start)

    def train_epoch(self, order: torch.Tensor) -> torch.Tensor:
        """One pass over the training rows in ``order``; each model's mean batch loss."""
        self.current.clear()
        order = order.to(self.splits.X["train"].device)
        X, y = self.splits.X["train"][order], self.splits.y["train"][order]
        total = torch.zeros(len(self.archs), device=X.device)
        size, config = self.config.batch_size, self.config
        for begin in range(0, X.shape[0], size):
            total += kernels.gradients(self.stack, X[begin: begin + size],
                                       y[begin: begin + size], loss=self.loss,
                                       activation=config.activation, dropout=config.dropout,
                                       generator=self.dropout_generator)
            self.stepper.step()
        return total / math.ceil(X.shape[0] / size)

    @torch.no_grad()
    def evaluate(self, split: str) -> Evaluation:
        """Whole-split evaluation in row chunks whose activations fit in the stack's size."""
        X, y = self.splits.X[split], self.splits.y[split]
        widest = max(w.shape[-1] for w in self.stack.weights)
        chunk = max(256, self.stack.numel() // (len(self.archs) * widest))
        preds = torch.cat([kernels.forward(self.stack, X[i: i + chunk], self.config.activation)
                           for i in range(0, X.shape[0], chunk)], dim=1)
        accuracy = ((preds.argmax(-1) == y).float().mean(dim=1)
                    if self.loss == "cross_entropy" else None)
        return Evaluation(kernels.per_model_loss(preds, y, self.loss), accuracy, preds)

    def evaluate_splits(self, names: tuple[str, ...]) -> dict[str, Evaluation]:
        """Each named split's evaluation of the current weights, each computed once: a split
        identical to another shares its evaluation, and the final results reuse the last
        epoch's (a second pass over val and test would cost a wide model's last epoch a
        tenth of its time)."""
        for name in names:
            twin = self.splits.same_as.get(name)
            if name not in self.current:
                self.current[name] = (self.current[twin] if twin in self.current
                                      else self.evaluate(name))
        return {name: self.current[name] for name in names}

    def train_accuracy(self) -> torch.Tensor | None:
        """Each model's accuracy on the whole training set now, when the config asks for it
        (the mean batch loss of an epoch says nothing about when every label is fitted)."""
        if not (self.config.track_train_accuracy and self.loss == "cross_entropy"):
            return None
        accuracy = self.evaluate_splits(("train",))["train"].accuracy
        return None if accuracy is None else accuracy.cpu()

    def record(self, epoch: int, train: torch.Tensor, val: torch.Tensor, test: torch.Tensor,
               on_epoch: EpochCallback | None,
               accuracy: dict[str, torch.Tensor | None]) -> None:
        """Append this epoch to the history of every model still learning. Classification
        records each model's test accuracy, which the epoch's evaluation computed anyway
        (epoch-wise double descent reads test *error* over epochs), and the training
        accuracy when the config asks for that extra pass."""
        live = [i for i in range(len(self.archs)) if self.active[i]]
        present = {key: values.cpu() for key, values in accuracy.items() if values is not None}
        for i in live:
            entry = {"epoch": epoch, "train_loss": float(train[i]),
                     "val_loss": float(val[i]), "test_loss": float(test[i])}
            entry |= {key: float(values[i]) for key, values in present.items()}
            self.history[i].append(entry)
        if on_epoch is not None:
            on_epoch(epoch, {self.ids[i]: self.history[i][-1] for i in live})

    def stop_early(self, epoch: int, val: torch.Tensor) -> bool:
        """Keep each improving model's weights; stop the patient ones; True when all stopped."""
        improved = (val < self.best) & self.active
        self.best = torch.where(improved, val, self.best)
        self.best_epoch[improved] = epoch
        device_mask = improved.to(self.stack.weights[0].device)
        for p, saved in zip(self.tracked, self.best_params, strict=True):
            mask = device_mask.view(-1, *([1] * (p.dim() - 1)))
            saved.copy_(torch.where(mask, p.detach(), saved))
        self.waited = torch.where(improved, 0, self.waited + self.active.long())
        newly = (self.waited >= (self.config.patience or 0)) & self.active
        for i in torch.nonzero(newly).flatten().tolist():
            self.stopped_at[i] = epoch
        self.active &= ~newly
        return not bool(self.active.any())

    @torch.no_grad()
    def restore_best(self) -> None:
        self.current.clear()
        for p, saved in zip(self.tracked, self.best_params, strict=True):
            p.copy_(saved)

    def results(self, keep_weights: bool, seconds: float) -> list[ModelResult]:
        final = self.evaluate_splits(SPLITS)

        def metric(split: str, i: int) -> float | None:
            accuracy = final[split].accuracy
            return None if accuracy is None else float(accuracy[i])

        out = []
        observations = self.splits.observations
        for i, arch in enumerate(self.archs):
            params = arch.params()
            out.append(ModelResult(
                model_id=self.ids[i], arch=arch, seed=self.seeds[i], params=params,
                observations=observations, params_per_observation=params / observations,
                history=self.history[i], train_loss=float(final["train"].losses[i]),
                val_loss=float(final["val"].losses[i]), test_loss=float(final["test"].losses[i]),
                epochs=self.stopped_at[i], seconds=seconds / len(self.archs),
                train_metric=metric("train", i), val_metric=metric("val", i),
                test_metric=metric("test", i),
                best_epoch=int(self.best_epoch[i]) if self.config.patience else self.stopped_at[i],
                weights=self.stack.unstack(i) if keep_weights else None,
                test_predictions=(final["test"].predictions[i].cpu().numpy()
                                  if keep_weights else None),
            ))
        return out


def _failed(future: Future[list[ModelResult]]) -> bool:
    return future.exception() is not None


def group_trainer(splits: Splits, config: TrainConfig, loss: str,
                  keep_weights: bool) -> GroupTrainer:
    """How one group of this run trains, here or in a worker process."""
    def train(archs: list[MLPArch], seeds: list[int], ids: list[str], *,
              on_epoch: EpochCallback | None) -> list[ModelResult]:
        return GroupRun(archs, seeds, ids, splits, config, loss).run(on_epoch, keep_weights)

    return train


def train_models(
    archs: list[MLPArch],
    data: Dataset,
    config: TrainConfig,
    seeds: list[int],
    *,
    model_ids: list[str] | None = None,
    keep_weights: bool = False,
    on_epoch: EpochCallback | None = None,
    on_model_done: Callable[[ModelResult], None] | None = None,
    group_size: int = 64,
    workers: int | None = None,
) -> list[ModelResult]:
    """Train every architecture (with its seed); results come back in input order.

    ``on_epoch(epoch, {model_id: metrics})`` follows each group's epochs;
    ``on_model_done(result)`` fires as soon as a model's group has finished. ``workers``:
    processes that train groups side by side (None: one per PyTorch thread on a CPU, for
    runs long enough to gain; 1: all in this process; see :mod:`.workers`).
    """
    config.validate()
    if len(archs) != len(seeds):
        raise ParamlabError(f"{len(archs)} architectures but {len(seeds)} seeds")
    ids = model_ids or [f"m{i:04d}" for i in range(len(archs))]
    check_fits(archs, data)
    device = resolve_device(config.device)
    plan = plan_groups(archs, config, data.observations, device, workers=workers,
                       group_size=group_size)
    train = group_trainer(Splits.of(data, device), config, config.loss_for(data.task),
                          keep_weights)

    def pick(group: list[int]) -> tuple[list[MLPArch], list[int], list[str]]:
        return [archs[i] for i in group], [seeds[i] for i in group], [ids[i] for i in group]

    return drive(plan, train, pick, ids, on_epoch=on_epoch, on_model_done=on_model_done)


def check_fits(archs: list[MLPArch], data: Dataset) -> None:
    """Every architecture's inputs and outputs match the data set's."""
    for arch in archs:
        if arch.in_features != data.n_features or arch.out_features != data.n_outputs:
            raise ParamlabError(
                f"architecture {arch.spec()} does not fit the data: it needs "
                f"{data.n_features} inputs and {data.n_outputs} outputs"
            )


def drive(plan: GroupPlan, train: GroupTrainer,
          arguments: Callable[[list[int]], tuple[object, ...]], ids: list[str], *,
          on_epoch: EpochCallback | None,
          on_model_done: Callable[[ModelResult], None] | None) -> list[ModelResult]:
    """Train the plan's groups, here or in worker processes; results in model order.

    ``train(*arguments(group), on_epoch=…)`` trains one group; the arguments are pickled to
    a worker, the trainer itself (with the run's data and per-model inputs) is inherited.
    """
    results: dict[int, ModelResult] = {}

    def finished(group: list[int], trained: list[ModelResult]) -> None:
        for index, result in zip(group, trained, strict=True):
            results[index] = result
            if on_model_done is not None:
                on_model_done(result)

    if plan.workers == 1:
        for group in plan.groups:
            finished(group, train(*arguments(group), on_epoch=on_epoch))
    else:
        with GroupPool(plan.workers, train, report_epochs=on_epoch is not None) as pool:
            running = {pool.submit(*arguments(group)): group for group in plan.groups}
            while running:
                # the groups that trained are handed over before a failed one's error
                for future in sorted(pool.wait(running, on_epoch), key=_failed):
                    group = running.pop(future)
                    finished(group, pool.result(future, f"models {ids[group[0]]}…"))
    return [results[i] for i in range(len(ids))]
