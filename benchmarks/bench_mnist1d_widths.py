"""The MNIST-1D width sweep of a double-descent study: the engine against one width at a time.

Workload: 19 widths, geometric from 2 to 300, each a 40-w-w-10 ReLU MLP; the 4,000 training
examples of ``mnist1d.data.make_dataset(get_dataset_args())`` (its 1,000 test examples serve
as validation and test split); batch 100, SGD lr 0.01 momentum 0.9, cross-entropy, 500 epochs.
The anchor, measured in the same run, trains the widths one after another with a plain
PyTorch loop (``nn.Sequential``, ``torch.optim.SGD`` with its defaults, a gathered batch per
step) that also evaluates the test loss every epoch, as the engine's history does, and the
training loss and accuracy at the end, as its results do; a second anchor is the same loop
with the fused SGD kernel.

``--quick`` measures everything over 5 epochs (every epoch costs the same) and says so;
``--repeat N`` takes the best of N alternating runs of each.
Run: ``PYTHONPATH=src python benchmarks/bench_mnist1d_widths.py [--quick] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os

import numpy as np
import torch
from timing import Seconds, Stopwatch, versions
from torch import nn

from paramlab.lab.data import Dataset
from paramlab.lab.data.generators import mnist1d_data
from paramlab.lab.engine import MLPArch, TrainConfig, resolve_device, train_models
from paramlab.lab.engine.workers import plan_groups

WIDTHS = [math.ceil(w - 1e-9) for w in np.geomspace(2, 300, 19)]  # 2, 3, 4, 5, 7, … 300
TRAIN_ROWS = 4000  # make_dataset's training split; the remaining 1,000 are its test split


def mnist1d() -> Dataset:
    X, y, _, names, description = mnist1d_data(0)
    X, y = X.astype(np.float32), y.astype(np.int64)
    train, test = slice(0, TRAIN_ROWS), slice(TRAIN_ROWS, None)
    return Dataset("mnist1d", "classification", X[train], y[train], X[test], y[test],
                   X[test], y[test], n_classes=10, feature_names=names,
                   description=description)


def plain_loop_seconds(data: Dataset, config: TrainConfig, fused: bool) -> Seconds:
    """Each width alone: nn.Sequential, SGD (default or fused), per-epoch test loss."""
    with Stopwatch() as watch:
        for width in WIDTHS:
            train_one_width(width, data, config, fused)
    return watch.seconds


def train_one_width(width: int, data: Dataset, config: TrainConfig, fused: bool) -> None:
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    X_test, y_test = torch.as_tensor(data.X_test), torch.as_tensor(data.y_test)
    model = nn.Sequential(nn.Linear(40, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                          nn.Linear(width, 10))
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                          fused=fused or None)
    generator = torch.Generator().manual_seed(config.data_seed)
    for _ in range(config.epochs):
        order = torch.randperm(len(X), generator=generator)
        for begin in range(0, len(X), config.batch_size):
            index = order[begin: begin + config.batch_size]
            loss = nn.functional.cross_entropy(model(X[index]), y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():  # the engine's validation and test rows
            nn.functional.cross_entropy(model(X_test), y_test)
    with torch.no_grad():  # the final training loss and accuracy the engine reports
        logits = model(X)
        nn.functional.cross_entropy(logits, y)
        logits.argmax(1).eq(y).float().mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="measure 5 of the 500 epochs")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--repeat", type=int, default=1,
                        help="best of N alternating runs of each (useful on a shared machine)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda for the engine")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    full_epochs = 500
    epochs = 5 if args.quick else full_epochs
    config = TrainConfig(epochs=epochs, batch_size=100, lr=0.01, optimizer="sgd",
                         momentum=0.9, loss="cross_entropy", device=args.device)
    data = mnist1d()
    archs = [MLPArch(40, (w, w), 10) for w in WIDTHS]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{versions()}; {torch.get_num_threads()} threads, engine on {args.device}")
    print(f"MNIST-1D width sweep: widths {WIDTHS}, {TRAIN_ROWS} examples, batch 100, "
          f"SGD lr 0.01 momentum 0.9, cross-entropy")
    plan = plan_groups(archs, config, TRAIN_ROWS, resolve_device(args.device))
    print(f"engine groups: {[[WIDTHS[i] for i in g] for g in plan.groups]}, on "
          f"{plan.workers} worker process{'es' if plan.workers > 1 else ''}")
    train_models(archs[:2], data, dataclasses.replace(config, epochs=1), [0, 1])  # warm-up
    never = Seconds(float("inf"), float("inf"))
    ours, plain, fused = never, never, never
    for _ in range(args.repeat):
        with Stopwatch() as watch:
            results = train_models(archs, data, config, list(range(len(archs))))
        ours = ours.best(watch.seconds)
        plain = plain.best(plain_loop_seconds(data, config, fused=False))
        fused = fused.best(plain_loop_seconds(data, config, fused=True))
    note = (f" (measured over {epochs} of {full_epochs} epochs; ×{full_epochs // epochs} "
            f"for the full run)" if args.quick else "")
    scale = full_epochs / epochs
    print(f"engine {ours}; one width after another: plain PyTorch {plain}, with fused SGD "
          f"{fused}{note}")
    print(f"full 500 epochs: engine ≈ {ours.wall * scale:.0f} s, plain ≈ "
          f"{plain.wall * scale:.0f} s, fused ≈ {fused.wall * scale:.0f} s → engine "
          f"{plain.ratio(ours)} the plain loop, {fused.ratio(ours)} the fused one")
    best = max(results, key=lambda r: r.test_metric or 0.0)
    print(f"(sanity) best test accuracy after {epochs} epochs: {best.test_metric:.2f} "
          f"at width {best.arch.hidden[0]}")


if __name__ == "__main__":
    main()
