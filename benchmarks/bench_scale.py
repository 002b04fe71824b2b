"""When does Ray pay? The same sweep in-process and on a local Ray cluster with 1 and 2
workers: wall time, the Ray overhead per task, and ratios against the in-process run
measured in this same run.

The sweep draws ``--models`` random MLPs over ``--depth`` hidden layers, so the engine forms
at least one group (one Ray task) per depth. In one process, the engine trains the groups one
after another with every core; the local executor's worker processes train them side by
side, one per core; on Ray each task gets ``--cpus-per-worker`` cores (1 here), and
1 or 2 tasks run at once. The cluster start is timed apart (a cluster is started once and
kept); the first tasks of each run include starting the worker processes (importing torch),
which is part of what a run on Ray costs.

Overhead per task = (wall on Ray with 1 worker − wall in-process with 1 thread) / tasks: the
same work done one task at a time on one core, so what remains is scheduling, shipping data
and results, and starting the worker. (A Ray task runs with OMP_NUM_THREADS = its CPUs, hence
the one-thread in-process anchor; on a machine whose cores are busy, PyTorch's threads
contend, which a one-thread run avoids.)
Run: ``python benchmarks/bench_scale.py [--models N] [--depth D] [--epochs E]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import ray
import torch

from paramlab.lab import executors, runner
from paramlab.lab.data import DataConfig
from paramlab.lab.engine import TrainConfig, group_archs
from paramlab.lab.executors.local import LocalExecutor
from paramlab.lab.executors.ray import RayExecutor
from paramlab.lab.experiments import sweep


def config(models: int, depth: int, epochs: int) -> sweep.SweepConfig:
    return sweep.SweepConfig(DataConfig(n_samples=2000), TrainConfig(epochs=epochs,
                             batch_size=64), models=models, depth=(1, depth), width=(16, 512))


def timed_run(cfg: sweep.SweepConfig, executor: executors.Executor) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    start = time.perf_counter()
    try:
        runner.run(sweep.EXPERIMENT, cfg, out, executor=executor)
    finally:
        executor.close()
    seconds = time.perf_counter() - start
    shutil.rmtree(out)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=32)
    parser.add_argument("--depth", type=int, default=4, help="hidden layers 1..DEPTH")
    parser.add_argument("--epochs", type=int, default=2)
    ns = parser.parse_args()
    cfg = config(ns.models, ns.depth, ns.epochs)
    archs = sweep.draw_architectures(cfg, 40, 1)
    tasks = len(group_archs(archs))
    print(f"sweep: {ns.models} models, depths 1..{ns.depth}, {ns.epochs} epochs on 2,000 rows × 40 "
          f"→ {tasks} batches (Ray tasks); {os.cpu_count()} CPU cores")
    local = timed_run(cfg, LocalExecutor(workers=1))
    print(f"in-process, {torch.get_num_threads()} threads       {local:7.1f} s   1.00×")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    single = timed_run(cfg, LocalExecutor(workers=1))
    torch.set_num_threads(threads)
    print(f"in-process, 1 thread        {single:7.1f} s   {single / local:4.2f}× in-process")
    forked = timed_run(cfg, LocalExecutor(workers=threads))
    print(f"local, {threads} worker processes {forked:7.1f} s   {forked / local:4.2f}× in-process "
          f"(the default --executor local where fork is safe)")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    for workers in (1, 2):
        temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
        started = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, _temp_dir=temp,
                 logging_level="ERROR", log_to_driver=False)
        startup = time.perf_counter() - started
        wall = timed_run(cfg, RayExecutor(cpus_per_worker=1))
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
        line = (f"Ray, {workers} worker{'s' if workers > 1 else ' '}            {wall:7.1f} s   "
                f"{wall / local:4.2f}× in-process   (cluster start {startup:.1f} s, not included)")
        if workers == 1:
            line += f"   overhead per task {(wall - single) / tasks:+.2f} s"
        print(line)


if __name__ == "__main__":
    main()
