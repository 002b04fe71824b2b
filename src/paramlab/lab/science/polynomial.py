"""The four-point polynomial: more parameters than observations, in the smallest case.

A degree-4 polynomial has five coefficients; four points give four equations. The Vandermonde
matrix V (4 × 5) has rank 4, so the exact fits form a line: any one of them plus any multiple
of ∏(x − xᵢ), which vanishes at every point. The data cannot pick a member; the *fitting
procedure* does. The pseudo-inverse picks the minimum-norm one. Gradient descent on the
squared error started at zero picks it too: every gradient Vᵀ(Vc − y) lies in the row space
of V, orthogonal to the null direction, so the iterates never move along it. Ridge
((VᵀV + λI)⁻¹Vᵀy) has a unique solution for every λ > 0 and tends to the minimum-norm one as
λ → 0. The polynomial is written in the scaled variable u = (x − centre) / half-range, which
keeps V well conditioned (and "minimum norm" refers to these coefficients).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEGREE = 4


def scale(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """u = (x − centre) / half-range of the reference points: u ∈ [−1, 1] on them."""
    low, high = float(reference.min()), float(reference.max())
    return (x - (low + high) / 2) / ((high - low) / 2)


def vandermonde(u: np.ndarray) -> np.ndarray:
    """Rows (1, u, u², …, u⁴)."""
    return np.vander(u, DEGREE + 1, increasing=True)


def null_direction(u: np.ndarray) -> np.ndarray:
    """Coefficients (increasing powers) of ∏(u − uᵢ): zero at every point, so V·n = 0."""
    return np.asarray(np.polynomial.polynomial.polyfromroots(u), dtype=float)


def min_norm(V: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.pinv(V) @ y)


def ridge(V: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """The unique minimizer of ‖Vc − y‖² + λ‖c‖², in its 4 × 4 form Vᵀ(VVᵀ + λI)⁻¹y:
    equal to (VᵀV + λI)⁻¹Vᵀy but well conditioned as λ → 0, where it becomes the
    pseudo-inverse's minimum-norm solution (VVᵀ is invertible: the points are distinct)."""
    return np.asarray(V.T @ np.linalg.solve(V @ V.T + lam * np.eye(V.shape[0]), y))


def default_step(V: np.ndarray) -> float:
    """1/σ_max²: the loss ½‖Vc − y‖² has curvature at most σ_max², so this step never
    overshoots (anything below 2/σ_max² converges)."""
    return float(1.0 / np.linalg.norm(V, 2) ** 2)


def gradient_descent(V: np.ndarray, y: np.ndarray, lr: float, steps: int,
                     start: np.ndarray | None = None,
                     track: np.ndarray | None = None) -> tuple[np.ndarray, list[float]]:
    """Plain gradient descent on ½‖Vc − y‖²; with ``track``, ‖c − track‖ at each step."""
    c = np.zeros(V.shape[1]) if start is None else start.astype(float).copy()
    distances = []
    for _ in range(steps):
        c -= lr * (V.T @ (V @ c - y))
        if track is not None:
            distances.append(float(np.linalg.norm(c - track)))
    return c, distances


def coordinate(c: np.ndarray, base: np.ndarray, direction: np.ndarray) -> float:
    """t such that c = base + t·direction (+ a part orthogonal to the direction)."""
    return float((c - base) @ direction / (direction @ direction))


def steps_to_converge(singular: np.ndarray, lr: float) -> float | None:
    """Iterations for the error along the weakest row-space direction to shrink 1e6-fold:
    it contracts by |1 − lr·σ_min²| per step."""
    factor = abs(1 - lr * float(singular[-1]) ** 2)
    if factor >= 1:
        return None
    return math.log(1e-6) / math.log(factor) if factor > 0 else 1.0


@dataclass(frozen=True)
class Fit:
    """One fit of the study: its id, what it is, and its coefficients (in u)."""

    fit_id: str
    model: str  # min-norm, cubic, family, gradient-descent or ridge
    coefficients: np.ndarray
    t: float  # coordinate along ∏(u − uᵢ) relative to the minimum-norm fit
    ridge: float | None = None
    steps: int | None = None


@dataclass(frozen=True)
class Family:
    """The four points' line of exact fits and every procedure's pick on it."""

    u: np.ndarray
    singular_values: np.ndarray
    null_direction: np.ndarray
    min_norm: np.ndarray
    lr: float
    distances: list[float]  # ‖c − c_min‖ after each gradient-descent step
    fits: list[Fit]


def family(x: np.ndarray, y: np.ndarray, ts: tuple[float, ...], ridges: tuple[float, ...],
           steps: int, lr: float) -> Family:
    """Every fit: the minimum-norm one, the cubic, gradient descent from zero, the members
    min-norm + t·∏(u − uᵢ) and ridge at each λ (``lr`` below 2/σ_max², see
    :func:`default_step`)."""
    u = scale(x, x)
    V = vandermonde(u)
    best = min_norm(V, y)
    direction = null_direction(u)
    descended, distances = gradient_descent(V, y, lr, steps, track=best)
    cubic_t = -best[DEGREE] / direction[DEGREE]  # the member with no u⁴ term
    fits = [Fit("min-norm", "min-norm", best, 0.0),
            Fit("cubic", "cubic", best + cubic_t * direction, cubic_t),
            Fit("gradient-descent", "gradient-descent", descended,
                coordinate(descended, best, direction), steps=steps)]
    fits += [Fit(f"family-t={t:+g}", "family", best + t * direction, t) for t in ts]
    for lam in ridges:
        c = ridge(V, y, lam)
        fits.append(Fit(f"ridge-{lam:g}", "ridge", c, coordinate(c, best, direction), lam))
    return Family(u, np.linalg.svd(V, compute_uv=False), direction, best, lr, distances, fits)
