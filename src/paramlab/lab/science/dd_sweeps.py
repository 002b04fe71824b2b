"""The double-descent study's closed-form sweeps, one repeat at a time: every size of a sweep
fitted on prefixes of one draw (:mod:`paramlab.lab.science.dd_fits`), with the theory of
each point (:mod:`paramlab.lab.science.dd_theory`) beside the measurement.

* :func:`linear_sweep`: min-norm (or ridge) least squares on isotropic Gaussian features and
  the optimally tuned ridge fit of the same draw, model-wise (p grows at fixed n) or
  sample-wise (n grows at fixed p);
* :func:`random_feature_sweep`: min-norm regression on the first k of N random features.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from paramlab.lab.data.double_descent import Arrays
from paramlab.lab.science import dd_theory
from paramlab.lab.science.dd_fits import (
    gaussian_draw,
    prefix_fits,
    prefix_fits_many,
    random_feature_map,
)


@dataclass(frozen=True)
class LinearFitPoint:
    """One size of a linear sweep: p features, n training rows; risks are ‖β̂ − β‖²
    averaged over the draw's noise vectors."""

    p: int
    n: int
    train_loss: float  # mean squared training residual
    risk: float  # the chosen fit (min-norm, or the given ridge λ)
    theory_risk: float | None  # exact finite-n min-norm risk (None with a ridge, or p ≈ n)
    theory_asymptotic: float | None  # Hastie et al.'s limit at p/n and λ
    optimal_ridge: float  # λ* = σ²γ/r²
    optimal_ridge_risk: float  # ridge with λ*, the same draw
    optimal_ridge_theory: float  # its limit σ²γ·m(−λ*)


def linear_sweep(sweep: str, sizes: Sequence[int], fixed: int, *, signal: float,
                 noise_std: float, ridge: float, seed: int, repeat: int,
                 noise_draws: int) -> list[LinearFitPoint]:
    """The points of one repeat. ``sweep="features"``: p in ``sizes`` at n = ``fixed``;
    ``"samples"``: n in ``sizes`` at p = ``fixed``. The largest design is drawn once (from
    ``seed`` and ``repeat``) and every size is its prefix; β is uniform on the sphere of
    radius √signal (within each prefix of features, for a model-wise sweep)."""
    r2, s2 = signal, noise_std**2
    by_features = sweep == "features"
    rows, cols = (fixed, sizes[-1]) if by_features else (sizes[-1], fixed)
    draw = gaussian_draw(rows, cols, seed, repeat, noise_draws)
    if by_features:
        betas = {k: math.sqrt(r2) * draw.direction[:k] / np.linalg.norm(draw.direction[:k])
                 for k in sizes}
        ys: dict[int, np.ndarray] = {
            k: (draw.X[:, :k] @ betas[k])[:, None] + noise_std * draw.noise for k in sizes}
    else:
        beta = math.sqrt(r2) * draw.direction / np.linalg.norm(draw.direction)
        y_all: np.ndarray = (draw.X @ beta)[:, None] + noise_std * draw.noise
        betas = {k: beta for k in sizes}
        ys = {k: y_all[:k] for k in sizes}

    def shape(k: int) -> tuple[int, int]:
        return (k, fixed) if by_features else (fixed, k)

    def optimal(k: int) -> float:
        p_k, n_k = shape(k)
        return dd_theory.optimal_ridge_penalty(p_k / n_k, r2, s2)

    points = []
    for k, (fit, tuned) in prefix_fits_many(draw.X, sizes, ys.__getitem__,
                                            [lambda k: ridge, optimal], sweep):
        p, n = shape(k)
        points.append(LinearFitPoint(
            p=p, n=n, train_loss=float(np.mean((fit.train_predictions() - ys[k]) ** 2)),
            risk=fit.squared_distance(betas[k]),
            theory_risk=dd_theory.finite_risk(p, n, r2, s2) if ridge == 0 else None,
            theory_asymptotic=dd_theory.asymptotic_ridge_risk(p / n, ridge, r2, s2),
            optimal_ridge=optimal(k), optimal_ridge_risk=tuned.squared_distance(betas[k]),
            optimal_ridge_theory=dd_theory.optimal_ridge_risk(p / n, r2, s2)))
    return points


@dataclass(frozen=True)
class Scores:
    """Squared loss (mean over rows and outputs) and, for classes, the accuracy of the
    largest output."""

    loss: float
    accuracy: float | None


def scores(predictions: np.ndarray, targets: np.ndarray, labels: np.ndarray | None
           ) -> Scores:
    accuracy = None if labels is None else float(np.mean(predictions.argmax(axis=1) == labels))
    return Scores(float(np.mean((predictions - targets) ** 2)), accuracy)


def random_feature_sweep(arrays: Arrays, kind: str, sizes: Sequence[int], ridge: float,
                         rng: np.random.Generator) -> Iterator[tuple[int, Scores, Scores]]:
    """(k, training scores, test scores) for the first k of ``sizes[-1]`` random features
    (one first layer drawn from ``rng`` serves every k)."""
    feature_map = random_feature_map(kind, arrays.X_train.shape[1], sizes[-1], rng)
    train, test = feature_map(arrays.X_train), feature_map(arrays.X_test)
    for k, fit in prefix_fits(train, sizes, lambda k: arrays.y_train, lambda k: ridge):
        yield (k, scores(train[:, :k] @ fit, arrays.y_train, arrays.labels_train),
               scores(test[:, :k] @ fit, arrays.y_test, arrays.labels_test))
