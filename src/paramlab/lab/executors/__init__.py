"""Where a run's models are trained: in this process (``local``, the default) or on a Ray
cluster (``ray``). The choice is not part of an experiment's configuration, so a run folder
started under one executor resumes under the other.

Every executor gets the same *batches* (the engine's own groups, see
:mod:`~paramlab.lab.executors.batches`) and hands back finished models; the driver — this
process — alone claims models and writes the run store, through :func:`run_plan`. So the run
folder, ``results.csv`` and the report do not depend on where the models were trained, and
two drivers on one folder (two shells, or a shell and a Ray job) split the work through the
store's claims instead of training a model twice.

The CLI picks the executor from ``--executor`` and installs it with :func:`use` around
``Experiment.run``; :func:`paramlab.lab.experiments.common.execute` takes it from
:func:`current` (or from its ``executor=`` argument), so an experiment that trains through
``execute`` runs on Ray without code of its own.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from paramlab.errors import ParamlabError
from paramlab.lab.executors.batches import BatchError

if TYPE_CHECKING:
    from paramlab.lab.data import Dataset
    from paramlab.lab.engine import ModelResult, TrainConfig
    from paramlab.lab.experiments.common import Planned
    from paramlab.lab.store import RunStore

EXECUTORS = ("local", "ray")
WAIT_SECONDS = 0.5  # how often a driver looks again at models another driver is training

OnEpoch = Callable[[int, dict[str, dict[str, float]]], None]


class Executor(Protocol):
    """Trains batches somewhere. ``launch`` returns a handle; ``wait`` blocks until at least
    one launched batch has finished and returns those (handle, results) pairs, or raises
    :class:`BatchError` for a batch that failed for good."""

    name: str
    slots: int  # batches in flight at once (known once ``plan`` has run)

    def plan(self, todo: list[Planned], data: Dataset,
             train: TrainConfig) -> list[list[Planned]]: ...  # the batches, each fits

    def start(self, data: Dataset, train: TrainConfig, keep_weights: bool,
              on_epoch: OnEpoch | None) -> None: ...

    def launch(self, batch: list[Planned]) -> Hashable: ...

    def wait(self, handles: list[Hashable]) -> list[tuple[Hashable, list[ModelResult]]]: ...

    def stop(self) -> None: ...  # cancel what is still in flight (after a failure)

    def close(self) -> None: ...  # leave the cluster, when this executor joined it


_CURRENT: list[Executor] = []


def current() -> Executor:
    """The executor installed by :func:`use`, else a local one."""
    if _CURRENT:
        return _CURRENT[-1]
    from paramlab.lab.executors.local import LocalExecutor

    return LocalExecutor()


@contextmanager
def use(executor: Executor) -> Iterator[Executor]:
    """Train through ``executor`` inside the block; close it at the end."""
    _CURRENT.append(executor)
    try:
        yield executor
    finally:
        _CURRENT.pop()
        executor.close()


def make(name: str = "local", *, workers: int | None = None, address: str | None = None,
         cpus_per_worker: float | None = None, gpus_per_worker: float | None = None,
         ) -> Executor:
    """The executor the command line asked for (``--executor``, ``--workers``, …)."""
    if workers is not None and workers < 1:
        raise ParamlabError(f"--workers must be ≥ 1; received {workers}")
    if name == "local":
        given = [option for option, value in (("--address", address),
                 ("--cpus-per-worker", cpus_per_worker), ("--gpus-per-worker", gpus_per_worker))
                 if value is not None]
        if given:
            raise ParamlabError(f"{', '.join(given)} apply to --executor ray only; add "
                                "--executor ray or drop them")
        from paramlab.lab.executors.local import LocalExecutor

        return LocalExecutor(workers)
    if name == "ray":
        if workers is not None:
            raise ParamlabError("--workers applies to --executor local; Ray runs one task per "
                                "--cpus-per-worker CPUs")
        from paramlab.lab.executors.ray import RayExecutor

        return RayExecutor(address=address, cpus_per_worker=cpus_per_worker or 1.0,
                           gpus_per_worker=gpus_per_worker or 0.0)
    raise ParamlabError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}")


def run_plan(todo: list[Planned], data: Dataset, train: TrainConfig, store: RunStore,
             executor: Executor, *, keep_weights: bool,
             on_model_done: Callable[[ModelResult], None],
             on_epoch: OnEpoch | None = None) -> list[ModelResult]:
    """Train ``todo`` through ``executor``: claim each batch in the store before launching
    it, hand each finished model to ``on_model_done`` (which records it) as its batch comes
    back, wait for models that another live driver holds, and take over the claims of one
    that died. Returns the models this driver trained."""
    if not todo:
        return []
    train.validate()
    queue = deque(executor.plan(todo, data, train))
    executor.start(data, train, keep_weights, on_epoch)
    try:
        return _drive(queue, store, executor, on_model_done)
    except BaseException:  # a failed batch, Ctrl-C, a failure recording a model: all stop
        executor.stop()
        raise


def _drive(queue: deque[list[Planned]], store: RunStore, executor: Executor,
           on_model_done: Callable[[ModelResult], None]) -> list[ModelResult]:
    """run_plan's loop: launch what the store lets this driver claim, record what returns."""
    running: dict[Hashable, list[Planned]] = {}
    elsewhere: list[list[Planned]] = []  # batches (parts) held by another driver
    results: list[ModelResult] = []
    with store.heartbeat():
        while queue or running or elsewhere:
            while queue and len(running) < executor.slots:
                batch = queue.popleft()
                mine = set(store.claim(p.model_id for p in batch))
                if mine:
                    claimed = [p for p in batch if p.model_id in mine]
                    running[executor.launch(claimed)] = claimed
                others = [p for p in batch if p.model_id not in mine]
                if others:
                    elsewhere.append(others)
            if running:
                for handle, trained in _wait(executor, running, len(results)):
                    del running[handle]
                    for result in trained:
                        on_model_done(result)
                    results += trained
            elif elsewhere:
                time.sleep(WAIT_SECONDS)
                finished = store.finished_ids()
                queue.extend(left for batch in elsewhere
                             if (left := [p for p in batch if p.model_id not in finished]))
                elsewhere = []
    return results


def _wait(executor: Executor, running: dict[Hashable, list[Planned]],
          done: int) -> list[tuple[Hashable, list[ModelResult]]]:
    """The batches that finish next; a failed one ends the run, keeping what finished."""
    try:
        return executor.wait(list(running))
    except BatchError as exc:
        raise BatchError(f"{exc}; the {done} models this run finished are kept in the run "
                         "folder — fix the cause and run the same command again to resume "
                         "the rest") from None


__all__ = ["EXECUTORS", "BatchError", "Executor", "current", "make", "run_plan", "use"]
