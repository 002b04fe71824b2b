"""Closed-form fits for the double-descent study: minimum-norm (or ridge) least squares on
nested prefixes of one design matrix, the isotropic Gaussian draws of the linear theory, and
random-feature maps.

Why prefixes. A sweep fits the same kind of model at a hundred sizes. Drawing the largest
design once and fitting its first k columns (more parameters, the model-wise sweep) or its
first k rows (more samples, the sample-wise sweep) gives each size an honest, independent
draw of the right distribution, and lets one Gram matrix serve every size:

* on the *near* side of the threshold the small Gram of size k is a leading block of one
  Gram matrix computed once (XᵀX for k ≤ n columns; XXᵀ for k ≤ p rows);
* on the *far* side it is a running sum that grows by the new columns (or rows) only.

Each size then costs one Cholesky of at most min(n, p)² entries instead of a fresh SVD of
the whole n × k block. The solution is the exact minimum-norm one, X⁺y, written in whichever
of its two equal forms is smaller: (XᵀX + sI)⁻¹Xᵀy or Xᵀ(XXᵀ + sI)⁻¹y, with s = 0 for
least squares (no hidden ridge: a singular Gram falls back to an SVD pseudo-inverse, never to
a jitter) and s = n·λ for ridge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg

Targets = Callable[[int], np.ndarray]  # size k -> the targets of the first k (or all) rows


@dataclass
class PrefixFit:
    """One prefix's ridge/min-norm fit on its design X_k (rows × k columns or k rows × p).

    In the dual form (more columns than rows) only α is solved for, with β̂ = X_kᵀα, and what
    the study needs is read from the Gram matrix G = X_kX_kᵀ it was solved with: training
    predictions X_kβ̂ = Gα and ‖β̂ − β‖² = αᵀGα − 2αᵀ(X_kβ) + ‖β‖², so β̂ itself (k numbers
    per noise draw, and a k × n product to form) is built only when asked for.
    """

    design: np.ndarray  # X_k
    solution: np.ndarray  # β̂ (primal) or α (dual); one column per target column
    gram: np.ndarray | None = None  # X_kX_kᵀ: set in the dual form

    def coefficients(self) -> np.ndarray:
        """β̂, one column per target column."""
        if self.gram is None:
            return self.solution
        beta: np.ndarray = self.design.T @ self.solution
        return beta

    def train_predictions(self) -> np.ndarray:
        """X_kβ̂."""
        predictions: np.ndarray = (self.design if self.gram is None else self.gram
                                   ) @ self.solution
        return predictions

    def squared_distance(self, beta: np.ndarray) -> float:
        """‖β̂ − β‖², averaged over the target columns."""
        if self.gram is None:
            return float(np.mean(np.sum((self.solution - beta[:, None]) ** 2, axis=0)))
        alpha = self.solution
        norms = np.sum(alpha * (self.gram @ alpha), axis=0)
        cross = (self.design @ beta) @ alpha
        return float(np.mean(norms - 2 * cross + beta @ beta))


def prefix_fits(X: np.ndarray, sizes: Sequence[int], targets: Targets,
                ridge: Callable[[int], float], along: str = "features",
                ) -> Iterator[tuple[int, np.ndarray]]:
    """For each k in ``sizes`` (ascending): the ridge/min-norm coefficients fitted on the
    first k columns (``along="features"``) or the first k rows (``along="samples"``) of X.

    ``targets(k)`` gives the training targets of that fit (n rows, or k rows when rows are
    swept; one column or several); ``ridge(k)`` the penalty λ of the (1/n)-scaled objective
    (0: minimum norm). Yields (k, β̂) with β̂ of shape (k or p, targets' columns…).
    """
    for k, (fit,) in prefix_fits_many(X, sizes, targets, [ridge], along):
        yield k, fit.coefficients()


def prefix_fits_many(X: np.ndarray, sizes: Sequence[int], targets: Targets,
                     ridges: Sequence[Callable[[int], float]], along: str = "features",
                     ) -> Iterator[tuple[int, list[PrefixFit]]]:
    """:func:`prefix_fits` for several penalties at once (the study's chosen fit and the
    optimally tuned ridge): each prefix's Gram matrix and right-hand side are formed once and
    serve every penalty. Yields (k, [the fit for each penalty])."""
    if list(sizes) != sorted(sizes):
        raise ValueError("sizes must be ascending")
    by_samples = along == "samples"
    A = X.T if by_samples else X  # sizes are always column prefixes of A
    other = A.shape[0]
    near = [k for k in sizes if k <= other]
    fixed = A[:, :near[-1]].T @ A[:, :near[-1]] if near else None
    running = np.zeros((other, other))
    summed = 0
    for k in sizes:
        design = X[:k] if by_samples else X[:, :k]
        y = targets(k)
        rows = k if by_samples else X.shape[0]
        shifts = [ridge(k) * rows for ridge in ridges]
        if k <= other:
            assert fixed is not None
            gram = fixed[:k, :k]
            # features: gram = XₖᵀXₖ (primal); samples: gram = XₖXₖᵀ (dual)
            if by_samples:
                yield k, [PrefixFit(design, _solve(gram, y, shift), gram) for shift in shifts]
            else:
                rhs = design.T @ y
                yield k, [PrefixFit(design, _solve(gram, rhs, shift)) for shift in shifts]
        else:
            running += A[:, summed:k] @ A[:, summed:k].T
            summed = k
            # features: running = XₖXₖᵀ (dual); samples: running = XₖᵀXₖ (primal)
            if by_samples:
                rhs = design.T @ y
                yield k, [PrefixFit(design, _solve(running, rhs, shift)) for shift in shifts]
            else:
                gram = running.copy()  # the running sum grows on
                yield k, [PrefixFit(design, _solve(gram, y, shift), gram) for shift in shifts]


def _solve(gram: np.ndarray, rhs: np.ndarray, shift: float) -> np.ndarray:
    """(G + shift·I)⁻¹ rhs for a positive semi-definite G; the pseudo-inverse when G is
    singular and shift = 0 (pinv(XᵀX)Xᵀy = X⁺y = Xᵀpinv(XXᵀ)y)."""
    matrix = gram
    if shift:
        matrix = gram.copy()
        matrix.flat[:: gram.shape[0] + 1] += shift
    try:
        factor = scipy.linalg.cho_factor(matrix, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        least_squares: np.ndarray = np.linalg.lstsq(matrix, rhs, rcond=None)[0]
        return least_squares
    solution: np.ndarray = scipy.linalg.cho_solve(factor, rhs, check_finite=False)
    return solution


# ------------------------------------------------------------------ draws


@dataclass
class GaussianDraw:
    """One draw of the linear model: X with i.i.d. N(0, 1) entries, a direction g ~ N(0, I)
    for β (β = r·g/‖g‖ is uniform on the sphere of radius r, independent of X), and
    ``noise_draws`` independent standard normal noise vectors ε (scaled by σ where used):
    each is a separate training target for the same X, fitted at the cost of one more
    right-hand side."""

    X: np.ndarray  # (rows, cols)
    direction: np.ndarray  # (cols,)
    noise: np.ndarray  # (rows, noise_draws)


def gaussian_draw(rows: int, cols: int, seed: int, repeat: int, noise_draws: int = 1
                  ) -> GaussianDraw:
    """The draw of one repeat; the same (seed, repeat) always gives the same arrays."""
    rng = np.random.default_rng([seed, repeat])
    return GaussianDraw(rng.standard_normal((rows, cols)), rng.standard_normal(cols),
                        rng.standard_normal((rows, noise_draws)))


# ------------------------------------------------------------------ random features


def random_feature_map(kind: str, n_inputs: int, n_features: int,
                       rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """x ↦ φ(x) ∈ R^N with a fixed random first layer, the model of Rahimi & Recht (2007)
    and of Belkin et al.'s double-descent figures (arXiv 1812.11118):

    * ``relu``: φ(x) = max(0, Wx/√d) with W Gaussian (a two-layer ReLU network whose first
      layer is frozen at initialization; Mei & Montanari 2019);
    * ``fourier``: φ(x) = √2·cos(Wx/√d·s + b), b ~ U[0, 2π) (random Fourier features of a
      Gaussian kernel with bandwidth ~ √d/s; s = 1 here since inputs are standardized).

    Columns are independent, so the first k columns of φ are a k-feature model of the same
    family: one map serves every width of the sweep.
    """
    W = rng.standard_normal((n_inputs, n_features)) / math.sqrt(n_inputs)
    if kind == "relu":
        return lambda x: np.maximum(x @ W, 0.0)
    if kind == "fourier":
        b = rng.uniform(0.0, 2 * math.pi, n_features)
        return lambda x: math.sqrt(2.0) * np.cos(x @ W + b)
    raise ValueError(f"unknown random-feature kind {kind!r}")
