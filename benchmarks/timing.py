"""Wall and CPU seconds of a block, for benchmarks on a machine other work may share.

Wall time is what a user waits; the process's CPU time is what the work itself cost, and it
is the figure other processes on a shared machine distort least (with one thread it excludes
the time the process spent descheduled). It includes the CPU time of the engine's worker
processes, which have ended by the time a training call returns. Benchmarks print both, and
ratios of both.
"""

from __future__ import annotations

import platform
import resource
import time
from importlib import metadata
from typing import NamedTuple


class Seconds(NamedTuple):
    wall: float
    cpu: float

    def __mul__(self, factor: object) -> Seconds:
        if not isinstance(factor, int | float):
            return NotImplemented
        return Seconds(self.wall * factor, self.cpu * factor)

    def best(self, other: Seconds) -> Seconds:
        return Seconds(min(self.wall, other.wall), min(self.cpu, other.cpu))

    def ratio(self, faster: Seconds) -> str:
        return f"{self.wall / faster.wall:.1f}× (CPU time {self.cpu / faster.cpu:.1f}×)"

    def __str__(self) -> str:
        return f"{self.wall:.2f} s (CPU {self.cpu:.2f} s)"


def cpu_seconds() -> float:
    """This process's CPU time and that of its children that have ended."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class Stopwatch:
    """``with Stopwatch() as watch: …`` then ``watch.seconds``."""

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = Seconds(time.perf_counter() - self._wall, cpu_seconds() - self._cpu)


def versions() -> str:
    """Python and the libraries whose speed the figures depend on, for a benchmark's header
    (Keras's without importing it: that takes seconds; torch and numpy only here, so the
    counting benchmark that shares this module stays free of them)."""
    import numpy as np
    import torch

    try:
        keras = metadata.version("keras")
    except metadata.PackageNotFoundError:
        keras = "not installed"
    return (f"Python {platform.python_version()}, torch {torch.__version__} "
            f"({torch.backends.cpu.get_cpu_capability()}), numpy {np.__version__}, "
            f"keras {keras}")
