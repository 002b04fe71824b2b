"""Identified or not: do the data determine a model's parameters, or only its predictions?

A model is *identified* when refits from different random starts land on the same
parameters (after aligning the symmetries that leave the function unchanged) and the Hessian
of the summed loss curves every direction by more than z. Ordinary least squares on full-rank
data is; a wide MLP is not (Maddox, Benton and Wilson 2020 for N_eff(z)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paramlab.lab.science import hessian
from paramlab.lab.science.alignment import Weights, mean_aligned_distance


@dataclass(frozen=True)
class Identification:
    """One model's refits: how far apart after alignment, and its Hessian spectrum's N_eff
    (the fields of :meth:`paramlab.lab.science.hessian.Spectrum.summary`)."""

    model: str
    params: int
    observations: int
    z: float
    aligned_distance: float
    n_eff: float
    n_eff_method: str
    n_eff_lower_bound: float | None
    eigenvalues_above_z: int
    above_z_method: str
    eigenvalues_computed: int
    top_eigenvalue: float
    smallest_eigenvalue: float | None
    negative_eigenvalues: int
    trace: float | None
    hvps: int
    slq_resolution: float | None

    @property
    def identified(self) -> bool:
        """The refits agree (within 5 %) and almost every direction is curved by > z."""
        return self.aligned_distance < 0.05 and self.n_eff > 0.95 * self.params


def least_squares_refits(x: np.ndarray, y: np.ndarray,
                         seeds: Sequence[int]) -> list[list[np.ndarray]]:
    """Ordinary least squares with an intercept, solved by LSQR from a random start per seed
    — gradient-like iterations, so a direction the data leave free keeps its random start,
    as a network's would. [W, b] in the engine's layout."""
    from scipy.sparse.linalg import lsqr

    design = np.hstack([x, np.ones((x.shape[0], 1))]).astype(np.float64)
    targets = np.asarray(y, dtype=np.float64).reshape(x.shape[0], -1)
    fits = []
    for seed in seeds:
        start = np.random.default_rng(seed).standard_normal((design.shape[1],
                                                             targets.shape[1]))
        coef = np.column_stack([
            lsqr(design, targets[:, c], x0=start[:, c], atol=1e-15, btol=1e-15,
                 iter_lim=20 * design.shape[1])[0] for c in range(targets.shape[1])])
        fits.append([coef[:-1], coef[-1]])
    return fits


def spec_of(weights: Weights) -> str:
    """The MLP shorthand of weights in the engine's layout, e.g. ``40-1-1``."""
    return "-".join(str(w) for w in [weights[0].shape[0], *(v.shape[1] for v in weights[::2])])


def identification(name: str, fits: Sequence[Weights], x: np.ndarray, y: np.ndarray, *,
                   activation: str, z: float, top_k: int, seed: int) -> Identification:
    """How far apart the refits land after alignment, and how many directions the Hessian
    of the summed (MSE) loss at the first refit curves by more than z."""
    spectrum = hessian.measure(fits[0], x, y, loss="mse", activation=activation,
                               top_k=top_k, seed=seed).summary(z)
    return Identification(name, int(sum(w.size for w in fits[0])), int(x.shape[0]), z,
                          mean_aligned_distance(fits, activation == "tanh"), **spectrum)


__all__ = ["Identification", "identification", "least_squares_refits", "spec_of"]
