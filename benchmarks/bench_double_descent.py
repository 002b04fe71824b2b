"""How fast is the linear double-descent curve, and what does sharing one Gram buy?

The issue's target: 100 feature counts × 20 repeats in under 2 s. Timed in one run:
(a) the study's fits — every repeat draws the widest design once, each feature count is a
    column prefix, and one Gram matrix serves all of them (``science.dd_fits.prefix_fits``);
    both the min-norm fit and the optimally tuned ridge fit, 10 noise draws each, as
    ``paramlab run double-descent`` does;
(b) the anchor: the same min-norm fits with ``numpy.linalg.pinv`` on each n × p block
    separately (an SVD per point), on a subset of repeats, scaled linearly.

Run: ``python benchmarks/bench_double_descent.py [--n 200] [--repeats 20]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from paramlab.lab.blas import one_blas_thread
from paramlab.lab.experiments.double_descent import (
    DoubleDescentConfig,
    linear_rows,
    parse_counts,
    resolved,
)
from paramlab.lab.science.dd_fits import gaussian_draw


def study(config: DoubleDescentConfig) -> float:
    start = time.perf_counter()
    for repeat in range(config.repeats):
        linear_rows(config, repeat)
    return time.perf_counter() - start


def one_pinv_per_point(config: DoubleDescentConfig, repeats: int) -> float:
    """Min-norm fits only, one draw and one SVD per point (what a naive sweep does)."""
    n, sizes = config.n_train[0], config.features
    start = time.perf_counter()
    for repeat in range(repeats):
        draw = gaussian_draw(n, sizes[-1], config.seed, repeat, config.noise_draws)
        for k in sizes:
            beta = draw.direction[:k] / np.linalg.norm(draw.direction[:k])
            y = (draw.X[:, :k] @ beta)[:, None] + 0.5 * draw.noise
            np.linalg.pinv(draw.X[:, :k]) @ y
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--anchor-repeats", type=int, default=2)
    args = parser.parse_args()
    features = parse_counts(f"{args.n // 10}..{10 * args.n}:100", "--features")
    config = resolved(DoubleDescentConfig(features=features, n_train=(args.n,),
                                          repeats=args.repeats))
    with one_blas_thread():
        ours = study(config)
        anchor = one_pinv_per_point(config, args.anchor_repeats) * (
            args.repeats / args.anchor_repeats)
    points = len(features) * args.repeats
    print(f"linear double descent: {len(features)} feature counts × {args.repeats} repeats "
          f"(n = {args.n}, p up to {features[-1]:,}; min-norm + tuned ridge, "
          f"{config.noise_draws} noise draws)")
    print(f"  prefix fits, one Gram per repeat: {ours:6.2f} s  ({points / ours:,.0f} points/s)"
          f"  target < 2 s: {'met' if ours < 2 else 'NOT met'} on this machine now")
    print(f"  pinv per point (min-norm only, {args.anchor_repeats} repeats scaled): "
          f"{anchor:6.2f} s")
    print(f"  speed-up against the anchor: {anchor / ours:.1f}×")


if __name__ == "__main__":
    main()
