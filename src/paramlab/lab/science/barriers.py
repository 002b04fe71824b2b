"""Loss barriers between refits: the training and test loss along the straight path between
every pair, raw and with the second's hidden units matched to the first's (Frankle et al.
2020; Ainsworth et al. 2023, "Git Re-Basin"). One basin, relabelled copies of one basin, or
genuinely different basins — :mod:`paramlab.lab.science.landscape` gives each path's losses.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paramlab.lab.science.alignment import Weights, align, flat, relative_distance
from paramlab.lab.science.landscape import barrier, path_losses

Split = tuple[np.ndarray, np.ndarray]  # (x, y)


@dataclass(frozen=True)
class BarrierPath:
    """The path from refit i to refit j (``pair`` "i-j"), raw or aligned."""

    pair: str
    aligned: bool
    distance: float  # relative L2 between the end points
    barrier: float  # training loss's largest rise above the line between the ends
    test_barrier: float
    train: tuple[float, ...]  # training loss at each t
    test: tuple[float, ...]


@dataclass(frozen=True)
class BarrierSummary:
    """Every path, and the mean barriers raw and aligned."""

    ts: tuple[float, ...]
    pairs: tuple[BarrierPath, ...]
    raw_barrier: float
    aligned_barrier: float
    raw_test_barrier: float
    aligned_test_barrier: float
    end_loss: float  # mean training loss at the paths' end points (the refits themselves)


def barrier_paths(refits: Sequence[Weights], train: Split, test: Split, points: int, *,
                  loss: str, activation: str) -> BarrierSummary:
    """Losses along the straight path between every pair of refits, raw and aligned (with
    sign flips for tanh, whose units are symmetric under them)."""
    ts = np.linspace(0.0, 1.0, points)
    signs = activation == "tanh"
    paths = []
    for i, j in itertools.combinations(range(len(refits)), 2):
        for aligned in (False, True):
            other = align(refits[i], refits[j], signs) if aligned else list(refits[j])
            losses = [path_losses(refits[i], other, x, y, ts, loss=loss,
                                  activation=activation) for x, y in (train, test)]
            paths.append(BarrierPath(
                f"{i}-{j}", aligned, relative_distance(flat(refits[i]), flat(other)),
                barrier(ts, losses[0]), barrier(ts, losses[1]),
                tuple(losses[0].tolist()), tuple(losses[1].tolist())))
    return summarize(tuple(ts.tolist()), tuple(paths))


def summarize(ts: tuple[float, ...], paths: tuple[BarrierPath, ...]) -> BarrierSummary:
    """Mean barriers over the raw paths and over the aligned ones."""
    def mean(aligned: bool, test: bool) -> float:
        return float(np.mean([p.test_barrier if test else p.barrier
                              for p in paths if p.aligned == aligned]))

    ends = [value for p in paths for value in (p.train[0], p.train[-1])]
    return BarrierSummary(ts, paths, mean(False, False), mean(True, False), mean(False, True),
                          mean(True, True), float(np.mean(ends)))


__all__ = ["BarrierPath", "BarrierSummary", "barrier_paths", "summarize"]
