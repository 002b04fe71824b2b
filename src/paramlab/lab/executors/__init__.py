"""Where a run's models are trained: in this process (``local``, the default) or on a Ray
cluster (``ray``). The choice is not part of an experiment's configuration, so a run folder
started under one executor resumes under the other.

Every executor gets the same *batches* (the engine's own groups, see
:mod:`~paramlab.lab.executors.batches`) and hands back finished models; the driver — this
process — alone claims models and writes the run store, through :func:`run_plan`. So the run
folder, ``results.csv`` and the report do not depend on where the models were trained, and
two drivers on one folder (two shells, or a shell and a Ray job) split the work through the
store's claims instead of training a model twice.

The CLI builds the executor from :class:`ExecutorOptions` (``--executor`` …) and hands it to
:func:`paramlab.lab.runner.run`, which trains every stage through it, so an experiment runs
on Ray without code of its own.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from paramlab.errors import ParamlabError
from paramlab.fields import option, require
from paramlab.lab.executors.batches import BatchError

if TYPE_CHECKING:
    from paramlab.lab.data import Dataset
    from paramlab.lab.engine import ModelResult, Planned, TrainConfig
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


@dataclass(frozen=True)
class ExecutorOptions:
    """Where a run's models train: ``paramlab run``'s executor options, each declared once.
    Not part of an experiment's configuration (a run started on Ray resumes in-process, in
    the same folder, and the other way round)."""

    executor: str = option("local", flag="--executor", group="executor", choices=EXECUTORS,
                           help="local: in this process (default); ray: batches of models "
                           "as Ray tasks (pip install 'paramlab[ray]')")
    workers: int | None = option(None, flag="--workers", group="executor", type=int,
                                 help="local, CPU: processes that train batches side by "
                                 "side, one thread each (default: one per core, for runs "
                                 "long enough to gain; 1: all in this process)")
    address: str | None = option(None, flag="--address", group="executor",
                                 help="Ray cluster: auto (the one `ray start --head` made), "
                                 "HOST:PORT or ray://HOST:PORT (default: start a local one)")
    cpus_per_worker: float | None = option(None, flag="--cpus-per-worker", group="executor",
                                           type=float, help="CPUs per Ray task (default 1)")
    gpus_per_worker: float | None = option(None, flag="--gpus-per-worker", group="executor",
                                           type=float, help="GPUs per Ray task (default 0; "
                                           "with --device cuda)")

    def validate(self) -> None:
        require(self.workers is None or self.workers >= 1, "workers",
                f"must be ≥ 1; received {self.workers}")
        if self.executor == "local":
            given = [name for name in ("address", "cpus_per_worker", "gpus_per_worker")
                     if getattr(self, name) is not None]
            require(not given, given[0] if given else "", "applies to --executor ray only; "
                    "add --executor ray or drop it")
        elif self.executor == "ray":
            require(self.workers is None, "workers", "applies to --executor local; Ray runs "
                    "one task per --cpus-per-worker CPUs")
        else:
            raise ParamlabError(f"unknown executor {self.executor!r}; known: "
                                f"{', '.join(EXECUTORS)}")


def make(options: ExecutorOptions | str = "local") -> Executor:
    """The executor ``options`` (or just its name) asks for."""
    if isinstance(options, str):
        options = ExecutorOptions(options)
    options.validate()
    if options.executor == "local":
        from paramlab.lab.executors.local import LocalExecutor

        return LocalExecutor(options.workers)
    from paramlab.lab.executors.ray import RayExecutor

    return RayExecutor(address=options.address, cpus_per_worker=options.cpus_per_worker or 1.0,
                       gpus_per_worker=options.gpus_per_worker or 0.0)


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


__all__ = ["EXECUTORS", "BatchError", "Executor", "ExecutorOptions", "make", "run_plan"]
