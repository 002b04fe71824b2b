"""Refits: one architecture, several seeds. The seed answer's claim, measured: about the same
validation loss, very different weights.

Weights are compared raw and after *permutation alignment*: hidden units of an MLP can be
reordered without changing the function, so two refits may differ only by such a
relabelling. Each refit's hidden units are matched to the reference refit's, layer by layer,
with the Hungarian algorithm on the similarity of their incoming weights (Ainsworth et al.
2023, "Git Re-Basin", weight matching), the permutation then applied to the next layer's
inputs. What distance remains after alignment is real disagreement.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.errors import ParamlabError, SpecError
from paramlab.lab.engine import MLPArch, TrainConfig
from paramlab.lab.experiments.common import (
    DataConfig,
    Planned,
    Progress,
    RunOutcome,
    execute,
    open_store,
)


@dataclass
class RefitConfig:
    spec: str = "40-256-256-1"  # the MLP shorthand: inputs, hidden widths, outputs
    seeds: int = 5  # refits
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # first initialization seed; refit k uses seed + k

    def arch(self, n_in: int, n_out: int) -> MLPArch:
        parts = self.spec.replace(" ", "").split("-")
        if len(parts) < 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise SpecError(f"refit needs an MLP shorthand such as {n_in}-256-256-{n_out}; "
                            f"received {self.spec!r}")
        widths = [int(p) for p in parts]
        if widths[0] != n_in or widths[-1] != n_out:
            hidden = "-".join(map(str, widths[1:-1])) or "64"
            raise SpecError(
                f"{self.spec!r} does not fit the data: it has {n_in} features and needs "
                f"{n_out} outputs, e.g. {n_in}-{hidden}-{n_out}"
            )
        return MLPArch(n_in, tuple(widths[1:-1]), n_out)


def run(config: RefitConfig, out: Path, progress: Progress | None = None) -> RunOutcome:
    if config.seeds < 2:
        raise ParamlabError(f"--seeds must be at least 2 to compare refits; received "
                            f"{config.seeds}")
    config.train.validate()
    data = config.data.load()
    arch = config.arch(data.n_features, data.n_outputs)
    store = open_store(out, "refit", dataclasses.asdict(config))
    planned = [Planned(f"refit-{k:03d}", arch, config.seed + k) for k in range(config.seeds)]
    return execute(planned, data, config.train, store, keep_weights=True, progress=progress)


# ------------------------------------------------------------------ analysis


def align(reference: list[np.ndarray], other: list[np.ndarray]) -> list[np.ndarray]:
    """``other`` with its hidden units permuted to best match ``reference``.

    Weights are [W1, b1, W2, b2, …] with W of shape (fan_in, fan_out). The function computed
    by the network is unchanged.
    """
    from scipy.optimize import linear_sum_assignment

    aligned = [w.copy() for w in other]
    layers = len(aligned) // 2
    for layer in range(layers - 1):  # the output layer's units are not interchangeable
        w_ref, b_ref = reference[2 * layer], reference[2 * layer + 1]
        w, b = aligned[2 * layer], aligned[2 * layer + 1]
        ref_units = np.vstack([w_ref, b_ref[None, :]])  # (fan_in + 1, units)
        units = np.vstack([w, b[None, :]])
        similarity = ref_units.T @ units  # (units_ref, units_other)
        _, permutation = linear_sum_assignment(similarity, maximize=True)
        aligned[2 * layer] = w[:, permutation]
        aligned[2 * layer + 1] = b[permutation]
        aligned[2 * layer + 2] = aligned[2 * layer + 2][permutation, :]
    return aligned


def flat(weights: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([w.ravel() for w in weights]).astype(np.float64)


def relative_distance(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ relative to the mean of ‖a‖ and ‖b‖ (0: identical; ≈1.4: unrelated vectors
    of equal size, orthogonal)."""
    scale = (np.linalg.norm(a) + np.linalg.norm(b)) / 2
    return float(np.linalg.norm(a - b) / scale) if scale else 0.0


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    denominator = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denominator) if denominator else 1.0


@dataclass
class RefitAnalysis:
    """Spread of loss vs spread of weights across refits of one architecture."""

    val_losses: list[float]
    test_losses: list[float]
    val_loss_mean: float
    val_loss_spread: float  # (max − min) / mean
    weight_distance: float  # mean pairwise relative L2, raw
    weight_cosine: float  # mean pairwise cosine, raw
    aligned_distance: float  # the same after permutation alignment to the first refit
    aligned_cosine: float
    prediction_difference: float  # mean pairwise RMS difference of test predictions / std(y)
    params: int = 0
    observations: int = 0
    pairs: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def analyze(weights: list[list[np.ndarray]], predictions: list[np.ndarray],
            val_losses: list[float], test_losses: list[float], target_std: float,
            params: int = 0, observations: int = 0) -> RefitAnalysis:
    reference = weights[0]
    aligned = [reference] + [align(reference, w) for w in weights[1:]]
    pairs = []
    for i, j in itertools.combinations(range(len(weights)), 2):
        raw_i, raw_j = flat(weights[i]), flat(weights[j])
        # both aligned to the reference (refit 0), hence to each other through it
        al_i, al_j = flat(aligned[i]), flat(aligned[j])
        rms = float(np.sqrt(np.mean((predictions[i] - predictions[j]) ** 2)))
        pairs.append({"i": i, "j": j, "distance": relative_distance(raw_i, raw_j),
                      "cosine": cosine(raw_i, raw_j),
                      "aligned_distance": relative_distance(al_i, al_j),
                      "aligned_cosine": cosine(al_i, al_j),
                      "prediction_difference": rms / target_std if target_std else rms})
    mean = float(np.mean(val_losses))

    def avg(key: str) -> float:
        return float(np.mean([p[key] for p in pairs]))

    return RefitAnalysis(
        val_losses=list(val_losses), test_losses=list(test_losses), val_loss_mean=mean,
        val_loss_spread=float((max(val_losses) - min(val_losses)) / mean) if mean else 0.0,
        weight_distance=avg("distance"), weight_cosine=avg("cosine"),
        aligned_distance=avg("aligned_distance"), aligned_cosine=avg("aligned_cosine"),
        prediction_difference=avg("prediction_difference"), params=params,
        observations=observations, pairs=pairs,
    )


def analyze_store(store: Any, target_std: float, prefix: str = "refit-") -> RefitAnalysis:
    """The analysis of the refits recorded in a run store."""
    rows = [r for r in store.rows() if r["model_id"].startswith(prefix)]
    if len(rows) < 2:
        raise ParamlabError(f"{store.path}: fewer than two refits recorded")
    weights, predictions = [], []
    for row in rows:
        arrays = store.load_arrays(row["model_id"])
        weights.append([arrays[f"p{i}"] for i in range(len(arrays) - 1)])
        predictions.append(arrays["test_predictions"])
    return analyze(weights, predictions, [r["val_loss"] for r in rows],
                   [r["test_loss"] for r in rows], target_std, rows[0]["params"],
                   rows[0]["observations"])
