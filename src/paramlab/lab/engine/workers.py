"""Groups trained side by side: one worker process per core, one thread each.

On a CPU a group's step is a few dozen small kernels and the Python that issues them, and a
process runs that on one core however many threads PyTorch has; PyTorch's threads only help
the products of wide models, and even those scale about 1.5× from one to two threads.
Independent groups in separate processes use every core for all of it. Measured on the 2-core
VM: two processes at one thread each trained two small-MLP loops in the time one took alone
(1.8–1.9 s against 1.7 s), and the 32 × 40-256-256-1 workload in 16.5 s against 24 s for one
process at two threads.

Workers are forked, so they start in milliseconds with the parent's imports and inherit the
run's data without pickling it. A forked child must stay on one thread: GNU OpenMP, PyTorch's
CPU thread pool, hangs in a forked child that enters a parallel region (reproduced here), so a
worker never does. Where fork is missing (Windows) or unsafe (macOS), on a GPU, and for runs
too short to pay for the processes, groups train in this process, as before.

Each group is still trained by :class:`~paramlab.lab.engine.loop.GroupRun`, from the same
seeds and batch order, so a model's result does not depend on where it trained (only the
summation order of a product may differ with the thread count, within float tolerance).
"""

from __future__ import annotations

import ctypes
import functools
import heapq
import math
import multiprocessing
import os
import pickle
import select
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import torch

from paramlab.errors import ParamlabError
from paramlab.lab.engine.config import EpochCallback, MLPArch, ModelResult, TrainConfig
from paramlab.lab.engine.cpus import usable_cpus
from paramlab.lab.engine.grouping import StepCost, group_archs
from paramlab.lab.engine.optim import state_numel_per_param

if TYPE_CHECKING:
    from multiprocessing.queues import SimpleQueue

MIN_SECONDS = 0.5  # estimated training time below which forking workers is not worth it
POLL_SECONDS = 0.05  # how often the parent forwards the workers' epoch reports
PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies
# a pipe message (and its header) the kernel writes at once; POSIX guarantees 512 bytes
ATOMIC_BYTES = getattr(select, "PIPE_BUF", 512) - 64


class WorkerDied(ParamlabError):
    """A worker process ended without its group's results (killed for memory, mostly)."""


@dataclass(frozen=True)
class GroupPlan:
    """Which models train together (costliest group first) and on how many processes."""

    groups: list[list[int]]
    workers: int  # 1: every group in this process


def step_cost(config: TrainConfig, device: torch.device) -> StepCost:
    """The cost model for this device: on a CPU groups stay within the cache."""
    tensors = 2 + state_numel_per_param(config)  # weight, gradient, optimizer state
    return StepCost(state_tensors=tensors) if device.type == "cpu" else StepCost(cache=None)


def plan_groups(archs: list[MLPArch], config: TrainConfig, observations: int,
                device: torch.device, *, workers: int | None = None,
                group_size: int = 64) -> GroupPlan:
    """The engine's groups, and the processes that train them.

    ``workers=None`` picks one per PyTorch thread (the cores the user lets PyTorch use, no
    more than the cgroup's CPU quota grants: see :mod:`.cpus`) on a CPU where fork is safe,
    when the run is long enough; ``workers=1`` keeps everything in this process. With several
    workers, groups are halved while that shortens the estimated run (see :func:`_balanced`).
    """
    cost = step_cost(config, device)
    steps = config.epochs * math.ceil(observations / config.batch_size)

    def seconds(group: list[int]) -> float:
        return steps * cost.step([archs[i] for i in group], config.batch_size)

    return plan_for(group_archs(archs, group_size, config.batch_size, cost), seconds, device,
                    workers)


def plan_for(groups: list[list[int]], seconds: Callable[[list[int]], float],
             device: torch.device, workers: int | None) -> GroupPlan:
    """The processes for given groups (``seconds``: a group's estimated run), and the groups
    halved where that balances the workers (see :func:`plan_groups`)."""
    count = _worker_count(workers, device, sum(map(seconds, groups)))
    if count > 1:
        groups = _balanced(groups, count, seconds)
    return GroupPlan(sorted(groups, key=seconds, reverse=True), min(count, len(groups)))


def _worker_count(requested: int | None, device: torch.device, seconds: float) -> int:
    if requested is not None:
        if requested < 1:
            raise ParamlabError(f"workers must be ≥ 1; received {requested}")
        if requested > 1 and not forking_works(device):
            raise ParamlabError(
                f"{requested} worker processes need a CPU run on Linux (fork); this run is on "
                f"{device.type} under {sys.platform}: use workers=1 (--workers 1)")
        return requested
    if not forking_works(device) or seconds < MIN_SECONDS:
        return 1
    return min(torch.get_num_threads(), usable_cpus())


def forking_works(device: torch.device) -> bool:
    """Whether worker processes may be forked: a CPU run on Linux (macOS forks unsafely),
    from a process allowed children (a multiprocessing daemon is not)."""
    return (device.type == "cpu" and sys.platform.startswith("linux")
            and not multiprocessing.current_process().daemon)


def _balanced(groups: list[list[int]], workers: int,
              seconds: Callable[[list[int]], float]) -> list[list[int]]:
    """Halve groups while that shortens the estimated run: the groups dealt costliest first
    to whichever worker is free, until the last worker finishes. A halved group pays a
    second step overhead, so identical models stop splitting once the workers are even, and
    one long group is split so that no core waits for it alone."""
    cost = functools.cache(lambda group: seconds(list(group)))
    best = _finish(groups, workers, cost)
    while True:
        splittable = [at for at, group in enumerate(groups) if len(group) > 1]
        costliest = sorted(splittable, key=lambda at: cost(tuple(groups[at])))[-2 * workers:]
        if not costliest:
            return groups
        split = min((_halved(groups, at) for at in costliest),
                    key=lambda candidate: _finish(candidate, workers, cost))
        finish = _finish(split, workers, cost)
        if finish >= best:
            return groups
        best, groups = finish, split


def _finish(groups: list[list[int]], workers: int,
            cost: Callable[[tuple[int, ...]], float]) -> float:
    """When the last worker finishes, each taking the costliest group left when it is free."""
    loads = [0.0] * workers
    for group_cost in sorted((cost(tuple(g)) for g in groups), reverse=True):
        heapq.heapreplace(loads, loads[0] + group_cost)
    return max(loads)


def _halved(groups: list[list[int]], at: int) -> list[list[int]]:
    half = len(groups[at]) // 2
    return [*groups[:at], groups[at][:half], groups[at][half:], *groups[at + 1:]]


# trains one group: the arguments given to GroupPool.submit, and on_epoch= → its results
GroupTrainer = Callable[..., list[ModelResult]]


@dataclass(frozen=True)
class _Shared:
    """A worker's run: how to train a group (with the run's data, options and loss inside),
    the pipe for epoch reports, and the driver's process id; a forked worker inherits them
    without pickling."""

    train: GroupTrainer
    epochs: SimpleQueue[tuple[int, dict[str, dict[str, float]]]] | None
    parent: int


_SHARED: list[_Shared] = []  # the worker's run, set once by _start_worker


def _start_worker(shared: _Shared) -> None:
    """A worker's set-up: one thread (see the module docstring) and the run it serves.
    Ctrl-C is the parent's to handle (it stops the workers), not a traceback per worker; a
    warning goes to the real stderr, not through a progress bar's redirection, whose lock
    another of the parent's threads may have held when this process was forked."""
    _die_with_parent(shared.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    torch.set_num_threads(1)
    _SHARED.append(shared)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this worker when its parent dies (PR_SET_PDEATHSIG): a driver killed
    with SIGKILL would otherwise leave its workers waiting forever on a queue whose write end
    they hold themselves. ``parent`` is the driver's id as the driver read it before forking:
    read here, it would already name the new parent (init) of a worker whose driver died
    between the fork and this call, and that worker would live on (seen once in ten runs of
    the SIGKILL test)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _train_group(*group: object) -> list[ModelResult]:
    """One group, trained in a worker exactly as the parent would, its epochs reported."""
    shared = _SHARED[-1]
    pipe = shared.epochs
    if pipe is None:
        return shared.train(*group, on_epoch=None)

    def report(epoch: int, metrics: dict[str, dict[str, float]]) -> None:
        for part in _atomic_parts(epoch, metrics):
            pipe.put(part)

    return shared.train(*group, on_epoch=report)


def _atomic_parts(epoch: int, metrics: dict[str, dict[str, float]],
                  ) -> list[tuple[int, dict[str, dict[str, float]]]]:
    """An epoch's report in messages small enough for one atomic pipe write (PIPE_BUF): a
    worker killed mid-report then leaves no half message for the parent to wait on."""
    if len(metrics) < 2 or len(pickle.dumps((epoch, metrics))) <= ATOMIC_BYTES:
        return [(epoch, metrics)]
    items = list(metrics.items())
    half = len(items) // 2
    return (_atomic_parts(epoch, dict(items[:half]))
            + _atomic_parts(epoch, dict(items[half:])))


class GroupPool:
    """Worker processes that train one run's groups side by side.

    Epoch reports travel back through a pipe the parent reads while it waits, so a progress
    bar advances as the workers train (the groups' epochs interleave, and a large group's
    epoch may come in several reports, each for some of its models); a worker that dies
    ends the run with an error that says so, and leaving the ``with`` block early stops
    every worker."""

    def __init__(self, workers: int, train: GroupTrainer, *, report_epochs: bool) -> None:
        context = multiprocessing.get_context("fork")
        self._epochs = context.SimpleQueue() if report_epochs else None
        shared = _Shared(train, self._epochs, os.getpid())
        self._executor = ProcessPoolExecutor(workers, mp_context=context,
                                             initializer=_start_worker, initargs=(shared,))

    def __enter__(self) -> GroupPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close(stop=error is not None)

    def submit(self, *group: object) -> Future[list[ModelResult]]:
        """Train one group (the trainer's arguments, picklable) in the next free worker."""
        return self._executor.submit(_train_group, *group)

    def wait(self, futures: Iterable[Future[list[ModelResult]]],
             on_epoch: EpochCallback | None) -> set[Future[list[ModelResult]]]:
        """The futures that have finished (possibly none yet), after forwarding the epoch
        reports that arrived meanwhile."""
        done, _ = wait(list(futures), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        self.forward_epochs(on_epoch)
        return done

    def forward_epochs(self, on_epoch: EpochCallback | None) -> None:
        """Hand every epoch report waiting in the pipe to ``on_epoch``. A report is in the
        pipe before its group's result is sent, so a group's epochs come before its end."""
        while self._epochs is not None and not self._epochs.empty():
            epoch, metrics = self._epochs.get()
            if on_epoch is not None:
                on_epoch(epoch, metrics)

    @staticmethod
    def result(future: Future[list[ModelResult]], what: str) -> list[ModelResult]:
        """A finished group's results; a worker that died becomes a clear error."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            cause = f" ({exc.__cause__})" if exc.__cause__ is not None else ""
            raise WorkerDied(
                f"a worker process died training {what}{cause}; if the system killed it for "
                "memory, train in one process (workers=1, --workers 1) or with smaller widths "
                "or batches") from exc

    def close(self, *, stop: bool = False) -> None:
        """Shut the workers down: after the last group, or at once (``stop``) when the run
        ends early, so no worker trains on for a run that has already failed."""
        if stop:
            for process in list(getattr(self._executor, "_processes", {}).values()):
                process.terminate()  # Python 3.14's terminate_workers(), by hand
        self._executor.shutdown(wait=True, cancel_futures=stop)
        self.forward_epochs(None)  # nothing is left waiting in the pipe
