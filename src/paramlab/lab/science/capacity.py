"""Capacity measures read off a sweep: the intrinsic dimension d_int90 (Li, Farkhoor, Liu,
Yosinski, "Measuring the Intrinsic Dimension of Objective Landscapes", ICLR 2018, arXiv
1804.08838; reference code uber-research/intrinsic-dimension at 9754ebe) and epoch-wise
double descent (Nakkiran, Kaplun, Bansal, Yang,
Barak, Sutskever, "Deep Double Descent", arXiv 1912.02292, Sec. 6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paramlab.errors import DataError


@dataclass(frozen=True)
class IntrinsicDimension:
    """d_int90 of a sweep: the headline from the mean over seeds, the spread from each seed.

    The true crossing lies in (``below``, ``d_int90``]: grid values are reported, not
    interpolated, as Li et al. do. ``None`` where the grid never reaches the threshold.
    """

    threshold: float  # fraction × the full model's performance
    d_int90: int | None  # smallest d whose mean over seeds exceeds the threshold
    below: int | None  # the grid point before it (None when d_int90 is the first)
    per_seed: tuple[int | None, ...]  # the same rule applied to each seed alone
    seed_min: int | None  # over the seeds that reached the threshold
    seed_median: float | None
    seed_max: int | None
    seeds_not_reached: int


def _first_above(dims: np.ndarray, scores: np.ndarray, threshold: float) -> int | None:
    above = np.flatnonzero(scores > threshold)
    return int(dims[above[0]]) if above.size else None


def intrinsic_dimension(dims: Sequence[int], performance: np.ndarray,
                        full_performance: float, fraction: float = 0.9,
                        ) -> IntrinsicDimension:
    """d_int90 from ``performance`` (seeds × dims, higher is better, e.g. accuracy).

    Li et al.'s ``compute_d_int`` (``intrinsic_dim/plots/main_plots.ipynb``): average the
    runs at each d, then take the first d, ascending, whose mean is *strictly* above
    0.9 × the baseline (the full model's performance); no interpolation between grid
    points. Where no d qualifies, their notebook returns the largest d with a printed
    warning; we return None instead. Their spread is a bootstrap over runs; ours applies
    the same rule to each seed and reports min/median/max over the seeds that reach it.
    """
    grid = np.asarray(dims, dtype=np.int64)
    scores = np.atleast_2d(np.asarray(performance, dtype=float))
    if grid.ndim != 1 or grid.size == 0 or np.any(np.diff(grid) <= 0) or grid[0] < 1:
        raise DataError(f"dims must be positive and strictly increasing; received "
                        f"{grid.tolist()}")
    if scores.ndim != 2 or scores.shape[1] != grid.size:
        raise DataError(f"performance must be seeds × dims = (seeds, {grid.size}); received "
                        f"shape {scores.shape}")
    if not np.isfinite(scores).all() or not np.isfinite(full_performance):
        raise DataError("performance holds NaN or infinity; a run that failed must be "
                        "dropped or rerun, not averaged")
    if not full_performance > 0 or not 0 < fraction <= 1:
        raise DataError(f"full_performance must be > 0 (higher is better) and fraction in "
                        f"(0, 1]; received {full_performance} and {fraction}")
    threshold = fraction * float(full_performance)
    headline = _first_above(grid, scores.mean(axis=0), threshold)
    position = int(np.searchsorted(grid, headline)) if headline is not None else 0
    per_seed = tuple(_first_above(grid, row, threshold) for row in scores)
    reached = [d for d in per_seed if d is not None]
    return IntrinsicDimension(
        threshold, headline, int(grid[position - 1]) if position > 0 else None, per_seed,
        min(reached, default=None), float(np.median(reached)) if reached else None,
        max(reached, default=None), len(per_seed) - len(reached))


@dataclass(frozen=True)
class EpochDescent:
    """The shape of a test-error curve over epochs, for sentences about it."""

    peak_epoch: float  # where the largest rise above the earlier minimum culminates
    peak_error: float
    min_before: float  # lowest test error up to the peak
    min_before_epoch: float
    min_after: float  # lowest test error from the peak on
    min_after_epoch: float
    margin: float  # the noise margin both the rise and the second descent must exceed
    second_descent: bool

    @property
    def rise(self) -> float:
        return self.peak_error - self.min_before

    @property
    def drop(self) -> float:
        return self.peak_error - self.min_after


def second_descent(epochs: Sequence[float], test_errors: Sequence[float],
                   margin: float = 0.01) -> EpochDescent:
    """Epoch-wise double descent (Nakkiran et al. 2019, Sec. 6): test error falls,
    rises to a peak, then falls again. The peak is the epoch with the largest rise above
    the minimum reached before it; the verdict is True when that rise *and* the fall after
    it (peak − later minimum) both exceed ``margin``, the noise the caller allows (default
    0.01: one percentage point of error rate).
    """
    t, err = np.asarray(epochs, dtype=float), np.asarray(test_errors, dtype=float)
    if t.ndim != 1 or t.shape != err.shape or t.size < 3:
        raise DataError(f"epochs and test_errors must be two lists of one length >= 3; "
                        f"received {t.shape} and {err.shape}")
    if not (np.isfinite(t).all() and np.isfinite(err).all()) or np.any(np.diff(t) <= 0):
        raise DataError("epochs must be strictly increasing and every value finite")
    if not margin >= 0:
        raise DataError(f"margin must be >= 0; received {margin}")
    running_min = np.minimum.accumulate(err)
    peak = int(np.argmax(err - running_min))
    before = int(np.argmin(err[:peak + 1]))
    after = peak + int(np.argmin(err[peak:]))
    rise, drop = err[peak] - err[before], err[peak] - err[after]
    return EpochDescent(float(t[peak]), float(err[peak]), float(err[before]),
                        float(t[before]), float(err[after]), float(t[after]), float(margin),
                        bool(rise > margin and drop > margin))


__all__ = ["EpochDescent", "IntrinsicDimension", "intrinsic_dimension", "second_descent"]
