"""Batches of models, and what one batch needs: the engine's own grouping, a memory estimate
made with the counting core's memory model, and the function that trains a batch — the
same one in this process and on a Ray worker.

A batch is one group of :func:`paramlab.lab.engine.group_archs` (models of one depth whose
stacked, padded weights waste little), so handing a batch to ``train_models`` trains it
exactly as the engine would have inside one big call. A group that would not fit in memory
is halved until it does; a single model that does not fit is refused before anything trains.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paramlab.errors import ParamlabError

if TYPE_CHECKING:
    from collections.abc import Callable

    from paramlab.lab.data import Dataset
    from paramlab.lab.engine import MLPArch, ModelResult, Planned, TrainConfig

EVALUATION_ROWS = 256  # the engine evaluates a split at least this many rows at a time
GiB = 2**30


class TooLargeError(ParamlabError):
    """A model needs more memory than the machine (or the largest Ray node) has."""


class BatchError(ParamlabError):
    """A batch failed for a reason that retrying cannot fix (bad data, out of memory)."""


@dataclass(frozen=True)
class Memory:
    """Bytes one batch needs at its peak, by part (a lower bound: workspace not counted)."""

    state: int  # weights + gradients + optimizer state (+ best weights with early stopping)
    activations: int  # layer outputs of one training batch
    evaluation: int  # layer outputs while evaluating a split in row chunks

    @property
    def total(self) -> int:
        return self.state + self.activations + self.evaluation


def make_batches(todo: list[Planned], train: TrainConfig,
                 available: tuple[int, str] | None) -> list[list[Planned]]:
    """The engine's groups of ``todo``, halved where one would not fit in ``available``
    (bytes, and where they are); a model that does not fit alone is refused."""
    from paramlab.lab.engine import group_archs, resolve_device
    from paramlab.lab.engine.workers import step_cost

    cost = step_cost(train, resolve_device(train.device))
    archs = [p.arch for p in todo]
    groups = [[todo[i] for i in group]
              for group in group_archs(archs, batch_size=train.batch_size, cost=cost)]
    return fit_in_memory(groups, train, available)


def fit_in_memory(groups: list[list[Planned]], train: TrainConfig,
                  available: tuple[int, str] | None) -> list[list[Planned]]:
    """Each group, halved until its parts fit in ``available`` (None: no limit known)."""
    if available is None:
        return groups
    batches: list[list[Planned]] = []
    for group in groups:
        pending = [group]
        while pending:
            batch = pending.pop(0)
            need = peak_memory([p.arch for p in batch], train)
            if need.total <= available[0]:
                batches.append(batch)
            elif len(batch) == 1:
                raise _too_large(batch[0], need, train, available)
            else:
                half = len(batch) // 2
                pending[:0] = [batch[:half], batch[half:]]
    return batches


def peak_memory(archs: list[MLPArch], train: TrainConfig) -> Memory:
    """What training these models together needs: the memory model of ``paramlab count
    --memory`` (ZeRO accounting, fp32) applied to the group's padded architecture, times the
    number of models the engine stacks."""
    from paramlab import count
    from paramlab.memory import memory_report

    widest = [max(a.widths[i] for a in archs) for i in range(len(archs[0].widths))]
    summary = count("-".join(map(str, widest)), other_convention=False)
    optimizer = ("Adam/AdamW" if train.optimizer == "adam" else
                 "SGD + momentum" if train.momentum else "SGD")
    row = next(r for r in memory_report(summary, train.batch_size).training
               if r.precision == "fp32" and r.optimizer == optimizer)
    state = row.weights + row.gradients + row.optimizer_state
    if train.patience:
        state += row.weights  # the best weights, kept for restoring
    k = len(archs)
    evaluation = 2 * EVALUATION_ROWS * max(widest[1:]) * 4  # a layer's input and output
    return Memory(k * state, k * (row.activations or 0), k * evaluation)


def _too_large(planned: Planned, need: Memory, train: TrainConfig,
               available: tuple[int, str]) -> TooLargeError:
    params = planned.arch.params()
    return TooLargeError(
        f"model {planned.model_id} ({planned.arch.spec()}, {params:,} parameters) needs at "
        f"least {need.total / GiB:,.1f} GiB to train (weights, gradients and "
        f"{train.optimizer} state {need.state / GiB:,.1f} GiB, activations of a batch of "
        f"{train.batch_size} {need.activations / GiB:,.1f} GiB, evaluation "
        f"{need.evaluation / GiB:,.1f} GiB) but {available[0] / GiB:,.1f} GiB is available "
        f"{available[1]}; lower the hidden widths (--width, or the SPEC) or --batch-size")


def available_memory(device: str) -> tuple[int, str] | None:
    """Free memory where this process trains: the GPU's free memory on CUDA, otherwise
    MemAvailable from /proc/meminfo (or the free pages os.sysconf reports)."""
    from paramlab.lab.engine import resolve_device

    resolved = resolve_device(device)
    if resolved.type == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(resolved)
        return int(free), f"on {torch.cuda.get_device_name(resolved)}"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024, "on this machine (MemAvailable)"
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return int(pages), "on this machine (free pages)"


def train_batch(batch: list[Planned], data: Dataset, train: TrainConfig, keep_weights: bool,
                on_epoch: Callable[[int, dict[str, dict[str, float]]], None] | None = None,
                ) -> list[ModelResult]:
    """Train one batch with the batched engine, in this process (a batch is one worker's
    share already); running out of memory is a :class:`BatchError` (retrying the same batch
    on the same machine cannot fix it)."""
    import torch

    from paramlab.lab.engine import train_models

    try:
        return train_models([p.arch for p in batch], data, train, [p.seed for p in batch],
                            model_ids=[p.model_id for p in batch], keep_weights=keep_weights,
                            on_epoch=on_epoch, workers=1)
    except (torch.OutOfMemoryError, MemoryError, RuntimeError) as exc:
        if not isinstance(exc, torch.OutOfMemoryError | MemoryError) and (
                "memory" not in str(exc) and "allocate" not in str(exc)):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BatchError(f"out of memory training {batch[0].model_id}…{batch[-1].model_id} "
                         f"({first}); lower the hidden widths or --batch-size") from None
