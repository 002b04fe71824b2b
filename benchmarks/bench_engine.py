"""How fast is the batched engine against training the same models one after another?

All figures come from one run on this machine, which also measures its own limits: the best
fp32 matrix-multiply rate (square products) and the memory bandwidth (a large copy).
(a) 32 MLPs 40 → 256 → 256 → 1 on the 13,000 × 40 synthetic data, batch 32, Adam, 5 epochs:
    the engine vs a sequential PyTorch loop with fused Adam that also scores the validation
    and test splits every epoch, as the engine's history does, and the training rows once at
    the end, as its results do (the anchor), and vs Keras ``fit`` one model after another;
    the engine against this workload's roofline, the larger of the run's FLOPs (training and
    that scoring; the training alone is printed too) ÷ matmul peak and optimizer +
    activation bytes ÷ bandwidth; and where a worker's time goes (products, optimizer, the
    rest), clocked.
(b) 32 small MLPs (widths 2–64, the double-descent regime), where per-step overhead dominates.
(c) 32 random architectures as the sweep draws them (1–3 hidden layers, widths 16–1024), with
    the padding waste of the groups the engine chose.
Beside each engine time: its peak memory against what the models' own weights, gradients,
optimizer state and activations need.

``--quick`` times Keras and the sequential loop of (a) on a subset of models/epochs and
scales linearly (each model and epoch costs the same); the printout says so. ``--repeat N``
takes the best of N alternating runs of engine and anchor (useful on a shared machine).
Run: ``KERAS_BACKEND=torch PYTHONPATH=src python benchmarks/bench_engine.py [--quick]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from unittest import mock

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import torch
from timing import Seconds, Stopwatch, versions

from paramlab.lab.data import Dataset, load_dataset
from paramlab.lab.engine import (
    MLPArch,
    TrainConfig,
    group_archs,
    kernels,
    resolve_device,
    train_models,
)
from paramlab.lab.engine.grouping import macs, parameters
from paramlab.lab.engine.optim import StackOptimizer, state_numel_per_param
from paramlab.lab.engine.stack import padded_widths
from paramlab.lab.engine.workers import plan_groups
from paramlab.lab.experiments.sweep import SweepConfig, draw_architectures

FLOAT = 4  # bytes


def workloads(device: str) -> dict[str, tuple[list[MLPArch], TrainConfig]]:
    """The three workloads of the issue: architectures and training options."""
    base = TrainConfig(epochs=5, batch_size=32, device=device)
    sweep = draw_architectures(SweepConfig(models=32, depth=(1, 3), width=(16, 1024)), 40, 1)
    return {
        "a": ([MLPArch(40, (256, 256), 1)] * 32, base),
        "b": ([MLPArch(40, (w,), 1) for w in range(2, 66, 2)],
              dataclasses.replace(base, epochs=2)),
        "c": (sweep, dataclasses.replace(base, epochs=1)),
    }


def best_rate(work: float, block: Callable[[], object], repeats: int = 5) -> Seconds:
    """Best units of ``work`` per second of one run of ``block``, by wall and CPU clock."""
    block()
    fastest = Seconds(float("inf"), float("inf"))
    for _ in range(repeats):
        with Stopwatch() as watch:
            block()
        fastest = fastest.best(watch.seconds)
    return Seconds(work / fastest.wall, work / max(fastest.cpu, 1e-9))


def matmul_peak() -> dict[str, Seconds]:
    """Best fp32 FLOP/s of square matrix products on this machine, now, through each BLAS at
    hand: PyTorch's (MKL on x86) and numpy's (OpenBLAS in its wheels), which on an AMD EPYC
    is 10–20 % faster; the roofline takes the faster, the machine's figure, not one
    library's."""
    rates: dict[str, list[Seconds]] = {"torch": [], "numpy": []}
    for n in (512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        rates["torch"].append(best_rate(2 * n**3, functools.partial(torch.matmul, a, b)))
        rates["numpy"].append(best_rate(2 * n**3, functools.partial(np.matmul, a.numpy(),
                                                                    b.numpy())))
    return {name: fastest(runs) for name, runs in rates.items()}


def fastest(rates: Iterable[Seconds]) -> Seconds:
    """The best of several measurements of one rate, by each clock."""
    rates = list(rates)
    return Seconds(max(r.wall for r in rates), max(r.cpu for r in rates))


def bandwidth() -> Seconds:
    """Best bytes/s of copying 256 MB (read + write), far beyond every cache."""
    src = torch.ones(64 * 2**20)
    dst = torch.empty_like(src)
    return best_rate(2 * src.numel() * FLOAT, lambda: dst.copy_(src))


def roofline(flops: float, traffic: float, peak: Seconds, bw: Seconds) -> Seconds:
    """The least time the arithmetic or the memory traffic takes at this machine's rates."""
    return Seconds(max(flops / peak.wall, traffic / bw.wall),
                   max(flops / peak.cpu, traffic / bw.cpu))


def steps(data: Dataset, config: TrainConfig) -> int:
    return -(-data.observations // config.batch_size) * config.epochs


def training_flops(archs: list[MLPArch], data: Dataset, config: TrainConfig) -> float:
    """Forward 2 FLOPs per multiply-add, backward twice the forward."""
    return 6.0 * sum(macs(a.widths) for a in archs) * data.observations * config.epochs


def evaluation_flops(archs: list[MLPArch], data: Dataset, config: TrainConfig) -> float:
    """The forward passes a run makes besides training, which its results report: the
    validation and test rows after every epoch (the history), the training rows once at the
    end (the final training loss). The anchors make them too."""
    scored = (data.X_val.shape[0] + data.X_test.shape[0]) * config.epochs + data.observations
    return 2.0 * sum(macs(a.widths) for a in archs) * scored


def step_bytes(archs: list[MLPArch], config: TrainConfig) -> float:
    """Memory traffic a step cannot avoid: the optimizer reads weight, gradient and state and
    writes weight and state; each activation is written forward and read backward."""
    state = state_numel_per_param(config)
    optimizer = sum(parameters(a.widths) for a in archs) * (3 + 2 * state)
    activations = 2 * config.batch_size * sum(sum(a.widths) for a in archs)
    return FLOAT * (optimizer + activations)


def memory_need(archs: list[MLPArch], config: TrainConfig) -> float:
    """Bytes of the models' own weights, gradients, optimizer state and step activations
    (each activation and its gradient)."""
    params = sum(parameters(a.widths) for a in archs) * (2 + state_numel_per_param(config))
    activations = 2 * config.batch_size * sum(sum(a.widths) for a in archs)
    return FLOAT * (params + activations)


def padding_waste(archs: list[MLPArch], batch_size: int) -> float:
    """Padded multiply-adds of the engine's groups ÷ the multiply-adds the models need."""
    padded = sum(len(g) * macs(padded_widths([archs[i] for i in g]))
                 for g in group_archs(archs, batch_size=batch_size))
    return padded / sum(macs(a.widths) for a in archs)


def peak_memory(workload: str, device: str, threads: int | None) -> int:
    """Peak bytes the engine adds while training a workload, measured in a fresh process,
    its worker processes included.

    A fresh process, and glibc told to map every block above 64 kB on its own, keep memory
    freed by earlier work from being reused unseen (and returned at once, so the sampling
    sees each step's activations come and go); on a GPU, the allocator's peak counter.
    """
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    return int(in_fresh_process("--memory-of", workload, device, threads, env))


def in_fresh_process(flag: str, workload: str, device: str, threads: int | None,
                     env: dict[str, str] | None = None) -> str:
    """The last line this script prints when run as its own child with ``flag workload``."""
    command = [sys.executable, __file__, flag, workload, "--device", device]
    if threads:
        command += ["--threads", str(threads)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(command[1:])} failed (exit status {done.returncode}):\n"
                 f"{done.stderr.strip()}")
    return done.stdout.splitlines()[-1]


def measure_memory_of(workload: str, device: str) -> int:
    """The child's side: train one workload and return its peak (RSS or GPU) growth."""
    archs, config = workloads(device)[workload]
    data = load_dataset("synthetic")
    rows = slice(0, 4 * config.batch_size)  # warm-up: page in the code and BLAS buffers
    tiny = dataclasses.replace(data, X_train=data.X_train[rows], y_train=data.y_train[rows],
                               X_val=data.X_val[rows], y_val=data.y_val[rows],
                               X_test=data.X_test[rows], y_test=data.y_test[rows])
    train_models(archs, tiny, dataclasses.replace(config, epochs=1), list(range(len(archs))))
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        train_models(archs, data, config, list(range(len(archs))))
        return torch.cuda.max_memory_allocated() - base
    return sampled_peak(lambda: train_models(archs, data, config, list(range(len(archs)))))


def sampled_peak(run: Callable[[], object], every: float = 0.01) -> int:
    """Peak growth of the anonymous memory of this process and its worker processes while
    ``run`` runs, sampled every ``every`` seconds. Proportional set sizes (Pss_Anon) count a
    page a forked worker still shares with this process once, not once per process."""
    base = tree_anonymous_bytes()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            peak[0] = max(peak[0], tree_anonymous_bytes())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        run()
    finally:
        done.set()
        sampler.join()
    return max(peak[0], tree_anonymous_bytes()) - base


def tree_anonymous_bytes() -> int:
    """Σ Pss_Anon over this process and its living children (a child that has just ended
    counts as nothing)."""
    children = [int(pid) for task in Path("/proc/self/task").iterdir()
                for pid in _read_or_empty(task / "children").split()]
    return sum(int(line.split()[1]) * 1024 for pid in [os.getpid(), *children]
               for line in _read_or_empty(Path(f"/proc/{pid}/smaps_rollup")).splitlines()
               if line.startswith("Pss_Anon:"))


def _read_or_empty(path: Path) -> str:
    """A /proc file's text, or "" when its thread or process has ended since it was listed
    (a worker's helper thread can end between the listing and the read)."""
    try:
        return path.read_text()
    except OSError:
        return ""


def time_shares(workload: str, device: str) -> dict[str, float]:
    """:func:`measure_shares` in a fresh process: its clocks patched into the engine, and
    its single thread, stay there."""
    return dict(json.loads(in_fresh_process("--shares-of", workload, device, None)))


def measure_shares(archs: list[MLPArch], data: Dataset, config: TrainConfig,
                   ) -> dict[str, float]:
    """Where the engine's time goes as a worker process spends it: a quarter of the models
    (all the epochs) trained here at one thread, as each worker trains its groups, with a
    clock around every batched product (``kernels._bmm``) and every optimizer step; the
    rest is element-wise kernels, the loss and Python. ``seconds``: all the models at that
    speed, one after another.

    A clock costs under a microsecond a call, against products of tens to hundreds.
    PyTorch's profiler, used before, made the run 2.5× slower and inflated the kernels it
    timed: its products and optimizer alone came to more than a whole unprofiled run.
    """
    quarter = archs[: max(1, len(archs) // 4)]
    spent = {"products": 0.0, "optimizer": 0.0}

    def clocked(share: str, function: Callable[..., object]) -> Callable[..., object]:
        @functools.wraps(function)
        def timed(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[share] += time.perf_counter() - start
        return timed

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with (mock.patch.object(kernels, "_bmm", clocked("products", kernels._bmm)),
              mock.patch.object(StackOptimizer, "step",
                                clocked("optimizer", StackOptimizer.step)),
              Stopwatch() as watch):
            train_models(quarter, data, config, list(range(len(quarter))), workers=1)
    finally:
        torch.set_num_threads(threads)
    total = watch.seconds.wall
    products, optimizer = spent["products"] / total, spent["optimizer"] / total
    return {"products": products, "optimizer": optimizer, "rest": 1 - products - optimizer,
            "seconds": total * len(archs) / len(quarter)}


def engine_seconds(archs: list[MLPArch], data: Dataset, config: TrainConfig) -> Seconds:
    with Stopwatch() as watch:
        train_models(archs, data, config, list(range(len(archs))))
        if config.device == "cuda":
            torch.cuda.synchronize()
    return watch.seconds


def sequential_torch_seconds(archs: list[MLPArch], data: Dataset,
                             config: TrainConfig) -> Seconds:
    """One nn.Sequential at a time, fused Adam, the same batches: the honest anchor."""
    with Stopwatch() as watch:
        for arch in archs:
            train_one_torch(arch, data, config)
    return watch.seconds


def train_one_torch(arch: MLPArch, data: Dataset, config: TrainConfig) -> None:
    """The loop a PyTorch user writes, doing the engine's work: every epoch it also scores
    the validation and test splits, whose losses the engine records in each history, and at
    the end the training rows, whose loss the engine reports with the final weights."""
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    scored = [(torch.as_tensor(data.X_val), torch.as_tensor(data.y_val)),
              (torch.as_tensor(data.X_test), torch.as_tensor(data.y_test))]
    layers: list[torch.nn.Module] = []
    for a, b in itertools.pairwise(arch.widths):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    gen = torch.Generator().manual_seed(0)
    for _ in range(config.epochs):
        order = torch.randperm(len(X), generator=gen)
        for begin in range(0, len(X), config.batch_size):
            index = order[begin: begin + config.batch_size]
            loss = torch.nn.functional.mse_loss(model(X[index]), y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            for X_split, y_split in scored:
                torch.nn.functional.mse_loss(model(X_split), y_split)
    with torch.no_grad():
        torch.nn.functional.mse_loss(model(X), y)


def keras_seconds(archs: list[MLPArch], data: Dataset, config: TrainConfig) -> Seconds:
    with Stopwatch() as watch:
        for arch in archs:
            fit_one_keras(arch, data, config)
    return watch.seconds


def fit_one_keras(arch: MLPArch, data: Dataset, config: TrainConfig) -> None:
    import keras

    model = keras.Sequential([keras.Input((arch.in_features,))]
                             + [keras.layers.Dense(w, activation="relu") for w in arch.hidden]
                             + [keras.layers.Dense(arch.out_features)])
    model.compile(optimizer=keras.optimizers.Adam(config.lr), loss="mse")
    model.fit(data.X_train, data.y_train, batch_size=config.batch_size, epochs=config.epochs,
              verbose=0)
    keras.backend.clear_session()


Timer = Callable[[list[MLPArch], Dataset, TrainConfig], Seconds]


def scaled(fn: Timer, archs: list[MLPArch], data: Dataset, config: TrainConfig,
           models: int | None = None, epochs: int | None = None) -> tuple[Seconds, str]:
    """Time on a subset and scale linearly by models × epochs (stated in the output)."""
    sub = archs[:models] if models else archs
    small = dataclasses.replace(config, epochs=epochs or config.epochs)
    seconds = fn(sub, data, small)
    factor = (len(archs) / len(sub)) * (config.epochs / small.epochs)
    note = f" (measured {len(sub)} models × {small.epochs} epochs, ×{factor:g})"
    return seconds * factor, note if factor != 1 else ""


def compare(archs: list[MLPArch], data: Dataset, config: TrainConfig, repeat: int,
            anchor_models: int | None = None) -> tuple[Seconds, Seconds, str]:
    """Best of ``repeat`` alternating runs of the engine and the sequential anchor."""
    never = Seconds(float("inf"), float("inf"))
    ours, anchor, note = never, never, ""
    for _ in range(repeat):
        ours = ours.best(engine_seconds(archs, data, config))
        seconds, note = scaled(sequential_torch_seconds, archs, data,
                               dataclasses.replace(config, device="cpu"), anchor_models)
        anchor = anchor.best(seconds)
    return ours, anchor, note


def memory_line(peak: int, archs: list[MLPArch], config: TrainConfig, data: Dataset) -> str:
    """Peak beside the need; the engine's copy of the data (three splits and one epoch's
    gathered rows) is named apart, since for tiny models it outweighs the models."""
    need = memory_need(archs, config)
    rows = data.observations * 2 + data.X_val.shape[0] + data.X_test.shape[0]
    copy = FLOAT * rows * (data.n_features + data.n_outputs)
    return (f"    peak memory {peak / 2**20:.1f} MB vs the models' weights + grads + optimizer "
            f"state + activations {need / 2**20:.1f} MB + the data's copy {copy / 2**20:.1f} MB"
            f" ({peak / (need + copy):.2f}×)")


def main() -> None:
    parser = argparse.ArgumentParser(description="batched engine benchmark")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--device", default="cpu", help="cpu | cuda for the engine")
    parser.add_argument("--memory-of", choices=["a", "b", "c"], help=argparse.SUPPRESS)
    parser.add_argument("--shares-of", choices=["a"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_of:  # the child process of peak_memory
        print(measure_memory_of(args.memory_of, args.device))
        return
    if args.shares_of:  # the child process of time_shares
        archs, config = workloads(args.device)[args.shares_of]
        print(json.dumps(measure_shares(archs, load_dataset("synthetic"), config)))
        return
    data = load_dataset("synthetic")
    warm = TrainConfig(epochs=1, device=args.device)  # one-time initialization; not timed
    engine_seconds([MLPArch(40, (8,), 1)] * 2, data, warm)
    sequential_torch_seconds([MLPArch(40, (8,), 1)], data, warm)
    peaks, bw = matmul_peak(), bandwidth()
    peak = fastest(peaks.values())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; {versions()}; {torch.get_num_threads()} "
          f"threads, engine on {args.device}; fp32 matmul peak {peak.wall / 1e9:.0f} GFLOP/s "
          f"(per CPU second {peak.cpu / 1e9:.0f}; PyTorch's BLAS "
          f"{peaks['torch'].wall / 1e9:.0f}, numpy's {peaks['numpy'].wall / 1e9:.0f}), copy "
          f"bandwidth {bw.wall / 1e9:.1f} GB/s (per CPU second {bw.cpu / 1e9:.1f})\n")
    cases = workloads(args.device)
    memory = {name: peak_memory(name, args.device, args.threads) for name in cases}

    archs, config = cases["a"]
    ours, seq, seq_note = compare(archs, data, config, args.repeat, 4 if args.quick else None)
    flops = training_flops(archs, data, config)
    scoring = evaluation_flops(archs, data, config)
    traffic = step_bytes(archs, config) * steps(data, config)
    # the limits measured again: the machine's speed drifts within minutes, and its limit
    # is the best it showed, before (a) or after
    peak, bw = fastest([peak, *matmul_peak().values()]), fastest([bw, bandwidth()])
    bound = roofline(flops + scoring, traffic, peak, bw)
    training_bound = roofline(flops, traffic, peak, bw)
    ker, ker_note = scaled(keras_seconds, archs, data, config, 1 if args.quick else 4, 1)
    print("(a) 32 × 40-256-256-1, 13,000 rows, batch 32, Adam, 5 epochs")
    print(f"    engine {ours} = {(flops + scoring) / ours.wall / 1e9:.0f} GFLOP/s "
          f"({(flops + scoring) / ours.wall / peak.wall:.0%} of the matmul peak; the "
          f"machine's limits, the best measured before and after (a): "
          f"{peak.wall / 1e9:.0f} GFLOP/s, {bw.wall / 1e9:.1f} GB/s)")
    print(f"    roofline {bound} = max(({flops / 1e12:.2f} TFLOP training + "
          f"{scoring / 1e12:.2f} TFLOP scoring the splits the results report) ÷ peak, "
          f"{traffic / 1e9:.0f} GB ÷ bandwidth) → engine at {bound.wall / ours.wall:.0%} of "
          f"the roofline (by CPU time {bound.cpu / ours.cpu:.0%}); of the training arithmetic "
          f"alone ({training_bound.wall:.2f} s) {training_bound.wall / ours.wall:.0%}")
    shares = time_shares("a", args.device)
    workers = plan_groups(archs, config, data.observations, resolve_device(args.device)).workers
    floor = shares["seconds"] * (shares["products"] + shares["optimizer"]) / workers
    print(f"    where a worker's time goes (all 32 at one thread ≈ {shares['seconds']:.1f} s): "
          f"batched products {shares['products']:.0%}, fused Adam "
          f"{shares['optimizer']:.0%}, the rest {shares['rest']:.0%} (clocked) → the "
          f"products and optimizer alone, at that speed on {workers} worker"
          f"{'s' if workers > 1 else ''}, would take {floor:.1f} s: "
          f"{bound.wall / floor:.0%} of the roofline")
    print(f"    sequential PyTorch, fused Adam, scoring val and test each epoch and the "
          f"training rows at the end as the engine does {seq}{seq_note} → engine "
          f"{seq.ratio(ours)}")
    print(f"    Keras fit one after another {ker}{ker_note} → engine {ker.ratio(ours)}")
    print(memory_line(memory["a"], archs, config, data))

    archs, config = cases["b"]
    ours, seq, note = compare(archs, data, config, args.repeat)
    print(f"\n(b) 32 small MLPs (widths 2–64), 2 epochs: engine {ours}, sequential "
          f"{seq}{note} → {seq.ratio(ours)}")
    print(memory_line(memory["b"], archs, config, data))

    archs, config = cases["c"]
    ours, seq, note = compare(archs, data, config, args.repeat)
    flops = training_flops(archs, data, config) + evaluation_flops(archs, data, config)
    groups = group_archs(archs, batch_size=config.batch_size)
    print(f"\n(c) 32 sweep architectures (1–3 layers, widths 16–1024), 1 epoch: engine "
          f"{ours} ({flops / ours.wall / 1e9:.0f} GFLOP/s) in {len(groups)} groups, "
          f"padding waste {padding_waste(archs, config.batch_size):.2f}× (padded ÷ needed "
          f"multiply-adds); sequential {seq}{note} → {seq.ratio(ours)}")
    print(amdahl_line(archs, data, config, seq))
    print(memory_line(memory["c"], archs, config, data))


def amdahl_line(archs: list[MLPArch], data: Dataset, config: TrainConfig,
                anchor: Seconds) -> str:
    """The most (c) can gain, measured: the engine has to train its two widest models
    whatever it does with the rest, and at their widths the products dominate, which
    batching cannot shorten; even if the other 30 cost nothing, the ratio cannot pass the
    anchor's total over the engine's time on those two alone."""
    widest = sorted(archs, key=lambda a: macs(a.widths))[-2:]
    ours = engine_seconds(widest, data, config)
    theirs = sequential_torch_seconds(widest, data, dataclasses.replace(config, device="cpu"))
    names = " and ".join(a.spec() for a in widest)
    return (f"    its two widest models ({names}) take {theirs.wall / anchor.wall:.0%} of the "
            f"anchor's time; the engine trains them in {ours.wall:.2f} s against the anchor's "
            f"{theirs.wall:.2f} s, so (c) is capped at {anchor.wall / ours.wall:.1f}× "
            f"however the other {len(archs) - 2} are grouped")


if __name__ == "__main__":
    main()
