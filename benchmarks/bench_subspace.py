"""How fast does the engine train many (d, seed) subspace models against one at a time?

Subspace training (Li et al., ICLR 2018) of an MLP 784-200-200-10 (D = 199,210) on the
5,000-image MNIST subset (3,500 training rows), with d ∈ {100, 200, 400, 800} × 8 seeds
(32 models), sparse projections (the studies' default), Adam, batch 32, 3 epochs:

* the engine: ``train_subspace`` (batched products, the group's projections a chunk of
  models at a time, its worker processes), which also scores the validation and test splits
  every epoch (the history) and every split at the end (the results);
* the anchor: a plain PyTorch loop per (d, seed): θ = θ₀ + P·θ_d and ∇θ_d = Pᵀ·∇θ with
  the *same* projection code (its hand-written transpose, the engine's arithmetic),
  autograd for the network (``F.linear`` over views of θ), fused Adam on θ_d, the same
  batch order, the same scoring. It runs at one thread and at PyTorch's default threads,
  and the faster counts: on a shared machine a multi-threaded product can wait for a
  descheduled thread (measured under load: one anchor step 13 ms at one thread, 112 ms at
  two), and the engine's workers run at one thread each.

Both paths do the projections' arithmetic (P·θ_d and Pᵀ·∇θ, every step, every model), and
batching cannot share it between models with different P: the printout gives what it costs
alone and the ratio that bounds. ``--hidden 32 --dims 10,40,160,640 --digits`` times the
capacity studies' demo network (64-32-10 on the digits), where the network's products are
small and batching them is what counts; ``--digits`` alone 64-200-200-10. Both paths train
the same models: the printout gives the largest difference of their final training losses.
``--quick`` times the anchor on 4 models and scales by the model count (each model costs the
same per d; the printout says so). Run: ``PYTHONPATH=src python
benchmarks/bench_subspace.py [--quick] [--digits] [--hidden 200,200] [--dims 100,200,400,800]
[--projection sparse|fastfood|dense] [--epochs 3]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform

import torch
import torch.nn.functional as F
from timing import Seconds, Stopwatch, versions

from paramlab.lab.data import Dataset, load_dataset
from paramlab.lab.engine import (
    MLPArch,
    SubspaceModel,
    TrainConfig,
    resolve_device,
    train_subspace,
)
from paramlab.lab.engine.projection import group_projection
from paramlab.lab.engine.stack import flatten, init_weights
from paramlab.lab.engine.subspace import subspace_groups
from paramlab.lab.engine.workers import plan_for

DIMENSIONS = (100, 200, 400, 800)
SEEDS = 8


def layers(theta: torch.Tensor, arch: MLPArch) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """θ's views as (W (fan_out, fan_in) for F.linear, b), laid out as ``flatten``."""
    out, offset = [], 0
    for fan_in, fan_out in zip(arch.widths, arch.widths[1:], strict=False):
        weight = theta[offset: offset + fan_in * fan_out].view(fan_in, fan_out).T
        offset += fan_in * fan_out
        out.append((weight, theta[offset: offset + fan_out]))
        offset += fan_out
    return out


def forward(theta: torch.Tensor, arch: MLPArch, X: torch.Tensor) -> torch.Tensor:
    h = X
    for i, (weight, bias) in enumerate(layers(theta, arch)):
        h = F.linear(h, weight, bias)
        if i < len(arch.hidden):
            h = torch.relu(h)
    return h


def anchor_one(model: SubspaceModel, data: Dataset, config: TrainConfig) -> float:
    """One (d, seed) alone, the plain way; its final training loss."""
    projection = group_projection([model.spec()], torch.device("cpu"))
    theta0 = flatten(init_weights(model.arch, model.seed))
    theta_d = torch.zeros(1, 1, projection.width, requires_grad=True)
    optimizer = torch.optim.Adam([theta_d], lr=config.lr, fused=True)
    X, y = torch.as_tensor(data.X_train), torch.as_tensor(data.y_train)
    scored = [(torch.as_tensor(data.X_val), torch.as_tensor(data.y_val)),
              (torch.as_tensor(data.X_test), torch.as_tensor(data.y_test))]
    order_generator = torch.Generator().manual_seed(config.data_seed)
    for _ in range(config.epochs):
        order = torch.randperm(len(X), generator=order_generator)
        X_epoch, y_epoch = X[order], y[order]
        for begin in range(0, len(X), config.batch_size):
            with torch.no_grad():
                theta = (theta0 + projection.apply(theta_d)[0, 0]).requires_grad_()
            batch = slice(begin, begin + config.batch_size)
            loss = F.cross_entropy(forward(theta, model.arch, X_epoch[batch]), y_epoch[batch])
            loss.backward()
            assert theta.grad is not None
            theta_d.grad = projection.transpose(theta.grad.view(1, 1, -1))
            optimizer.step()
        with torch.no_grad():
            theta = theta0 + projection.apply(theta_d)[0, 0]
            for X_split, y_split in scored:
                F.cross_entropy(forward(theta, model.arch, X_split), y_split)
    with torch.no_grad():
        return float(F.cross_entropy(forward(theta, model.arch, X), y))


def anchor(models: list[SubspaceModel], data: Dataset, config: TrainConfig,
           threads: int) -> tuple[Seconds, list[float]]:
    default = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with Stopwatch() as watch:
            losses = [anchor_one(model, data, config) for model in models]
    finally:
        torch.set_num_threads(default)
    return watch.seconds, losses


def engine(models: list[SubspaceModel], data: Dataset, config: TrainConfig,
           ) -> tuple[Seconds, list[float]]:
    with Stopwatch() as watch:
        results = train_subspace(models, data, config)
    return watch.seconds, [r.train_loss for r in results]


def projection_seconds(models: list[SubspaceModel], data: Dataset,
                       config: TrainConfig) -> float:
    """What the projections alone cost the run at one thread: P·θ_d and Pᵀ·∇θ of each group
    of eight (one d, eight seeds, as the engine groups them), best of three, times the
    steps. Both paths do this arithmetic; batching cannot shorten it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    total = 0.0
    for d in sorted({m.d for m in models}):
        group = [m for m in models if m.d == d]
        projection = group_projection([m.spec() for m in group], torch.device("cpu"))
        x = torch.randn(len(group), 1, projection.width)
        g = torch.randn(len(group), 1, group[0].D)
        best = float("inf")
        for _ in range(3):
            with Stopwatch() as watch:
                projection.transpose(g)
                projection.apply(x)
            best = min(best, watch.seconds.wall)
        total += best
    torch.set_num_threads(threads)
    steps = config.epochs * -(-data.observations // config.batch_size)
    return total * steps


def main() -> None:
    parser = argparse.ArgumentParser(description="subspace training: engine vs plain loop")
    parser.add_argument("--quick", action="store_true", help="anchor on 4 models, scaled")
    parser.add_argument("--digits", action="store_true", help="the digits set itself")
    parser.add_argument("--projection", default="sparse",
                        choices=["fastfood", "sparse", "dense"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", default="200,200", help="hidden widths (default 200,200)")
    parser.add_argument("--dims", default=",".join(map(str, DIMENSIONS)))
    args = parser.parse_args()
    data = load_dataset("digits" if args.digits else "mnist")
    arch = MLPArch(data.n_features, tuple(map(int, args.hidden.split(","))), data.n_outputs)
    dimensions = tuple(map(int, args.dims.split(",")))
    config = TrainConfig(epochs=args.epochs, batch_size=32, lr=1e-3)
    models = [SubspaceModel(arch, d, seed, args.projection) for d in dimensions
              for seed in range(SEEDS)]
    warm = [SubspaceModel(arch, 8, 0, args.projection)]  # one-time initialization
    small = dataclasses.replace(config, epochs=1)
    engine(warm, data, small)
    anchor(warm, data, small, 1)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; {versions()}; {torch.get_num_threads()} threads")
    print(f"{len(models)} subspace models of {arch.spec()} (D = {models[0].D:,}), d ∈ "
          f"{dimensions} × {SEEDS} seeds, {args.projection} projections, on "
          f"{data.observations:,} rows of {data.name}, batch {config.batch_size}, Adam, "
          f"{config.epochs} epochs")
    ours, engine_losses = engine(models, data, config)
    # the anchor: every d, the same number of seeds each (--quick: one seed per d)
    timed = [m for m in models if m.seed == 0] if args.quick else models
    threads = sorted({1, torch.get_num_threads()})
    runs = {n: anchor(timed, data, config, n) for n in threads}
    best = min(threads, key=lambda n: runs[n][0].wall)
    theirs, anchor_losses = runs[best]
    factor = len(models) / len(timed)
    note = (f" (measured {len(timed)} models, one per d, ×{factor:g})" if factor != 1
            else "")
    by_id = {(m.d, m.seed): loss for m, loss in zip(models, engine_losses, strict=True)}
    gap = max(abs(by_id[m.d, m.seed] - loss)
              for m, loss in zip(timed, anchor_losses, strict=True))
    print(f"    engine {ours}")
    for n in threads:
        print(f"    plain PyTorch, one model at a time, {n} thread{'s' if n > 1 else ''} "
              f"{runs[n][0] * factor}{note}")
    print(f"    → engine against the faster ({best} thread{'s' if best > 1 else ''}): "
          f"{(theirs * factor).ratio(ours)}")
    alone = projection_seconds(models, data, config)
    workers = plan_for(subspace_groups(models, 64), lambda group: float(len(group)),
                       resolve_device("cpu"), None).workers
    print(f"    the projections alone (P·θ_d and Pᵀ·∇θ every step, every model) take "
          f"{alone:.1f} s at one thread: the engine's {ours.wall:.1f} s on {workers} "
          f"worker{'s' if workers > 1 else ''} cannot fall below {alone / workers:.1f} s, nor "
          f"the ratio rise above {theirs.wall * factor / (alone / workers):.1f}×")
    print(f"    largest difference of a model's final training loss between the two: "
          f"{gap:.2e}")


if __name__ == "__main__":
    main()
