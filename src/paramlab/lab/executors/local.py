"""The in-process executor: batches trained by the batched engine on this machine, one after
another in this process, or side by side in worker processes (one per core) when the run is
long enough to gain from them (see :mod:`paramlab.lab.engine.workers`)."""

from __future__ import annotations

import functools
from collections.abc import Hashable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from paramlab.lab.executors.batches import (
    BatchError,
    TooLargeError,
    available_memory,
    fit_in_memory,
    train_batch,
)

if TYPE_CHECKING:
    from paramlab.lab.data import Dataset
    from paramlab.lab.engine import ModelResult, Planned, TrainConfig
    from paramlab.lab.engine.workers import GroupPlan, GroupPool
    from paramlab.lab.executors import OnEpoch


class LocalExecutor:
    """Trains each batch here: in this process when the driver waits for it, or in a pool of
    ``workers`` processes (None: as :func:`~paramlab.lab.engine.workers.plan_groups` picks).
    Epochs reach the progress bar as they happen either way."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.requested = workers
        self.slots = 1
        self._batches: dict[Hashable, list[Planned]] = {}
        self._next = 0
        self._pool: GroupPool | None = None

    def plan(self, todo: list[Planned], data: Dataset, train: TrainConfig) -> list[list[Planned]]:
        """The engine's groups, costliest first, balanced over the workers, each batch within
        its worker's share of the free memory; a model too large for a share trains in one
        process instead, unless ``workers`` was asked for."""
        from paramlab.lab.engine import resolve_device
        from paramlab.lab.engine.workers import plan_groups

        def groups(workers: int | None) -> GroupPlan:
            return plan_groups([p.arch for p in todo], train, data.observations,
                               resolve_device(train.device), workers=workers)

        free = available_memory(train.device)
        chosen = groups(self.requested)
        try:
            return self._fitted(todo, chosen, train, free)
        except TooLargeError:
            if chosen.workers == 1 or self.requested is not None:
                raise
            return self._fitted(todo, groups(1), train, free)

    def _fitted(self, todo: list[Planned], plan: GroupPlan, train: TrainConfig,
                free: tuple[int, str] | None) -> list[list[Planned]]:
        if free is not None and plan.workers > 1:
            free = (free[0] // plan.workers, f"{free[1]}, shared by {plan.workers} workers")
        batches = fit_in_memory([[todo[i] for i in group] for group in plan.groups], train, free)
        self.slots = plan.workers
        return batches

    def start(self, data: Dataset, train: TrainConfig, keep_weights: bool,
              on_epoch: OnEpoch | None) -> None:
        self._data, self._train, self._keep, self._on_epoch = data, train, keep_weights, on_epoch
        self.close()  # an earlier run's workers hold that run's data and options
        if self.slots > 1:
            from paramlab.lab.engine.workers import GroupPool

            trainer = functools.partial(train_batch, data=data, train=train,
                                        keep_weights=keep_weights)
            self._pool = GroupPool(self.slots, trainer, report_epochs=on_epoch is not None)

    def launch(self, batch: list[Planned]) -> Hashable:
        if self._pool is not None:
            future = self._pool.submit(batch)
            self._batches[future] = batch
            return future
        self._next += 1
        self._batches[self._next] = batch
        return self._next

    def wait(self, handles: list[Hashable]) -> list[tuple[Hashable, list[ModelResult]]]:
        if self._pool is None:
            handle = handles[0]
            batch = self._batches.pop(handle)
            return [(handle, train_batch(batch, self._data, self._train, self._keep,
                                         self._on_epoch))]
        futures: list[Future[list[ModelResult]]] = handles  # type: ignore[assignment]
        done: set[Future[list[ModelResult]]] = set()
        while not done:
            done = self._pool.wait(futures, self._on_epoch)
        finished = [future for future in done if future.exception() is None]
        if finished:  # a failed batch's error waits for the next call: these are kept first
            return [(future, self._result(future)) for future in finished]
        return [(future, self._result(future)) for future in done]

    def _result(self, future: Future[list[ModelResult]]) -> list[ModelResult]:
        """A batch's models from its worker; a worker that died fails the batch for good."""
        from paramlab.lab.engine.workers import GroupPool, WorkerDied

        batch = self._batches.pop(future)
        try:
            return GroupPool.result(future, f"{batch[0].model_id}…{batch[-1].model_id}")
        except WorkerDied as exc:
            raise BatchError(str(exc)) from exc

    def stop(self) -> None:
        self._batches.clear()
        if self._pool is not None:
            self._pool.close(stop=True)
            self._pool = None

    def close(self) -> None:
        """Let the workers go; any still training (the run ended early) are stopped."""
        if self._pool is not None:
            self._pool.close(stop=bool(self._batches))
            self._pool = None
