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

import argparse
import dataclasses
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.errors import ParamlabError, SpecError
from paramlab.lab import plots, reporting
from paramlab.lab.engine import MLPArch, TrainConfig
from paramlab.lab.experiments import options
from paramlab.lab.experiments.base import (
    DemoLevel,
    Experiment,
    Progress,
    RunOutcome,
    Section,
    from_dict,
)
from paramlab.lab.experiments.common import (
    MODEL_COLUMNS,
    MODEL_DISPLAY,
    DataConfig,
    Planned,
    execute,
    open_store,
)
from paramlab.lab.store import RunStore


@dataclass
class RefitConfig:
    spec: str = "40-256-256-1"  # the MLP shorthand: inputs, hidden widths, outputs
    seeds: int = 5  # refits
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # first initialization seed; refit k uses seed + k

    def arch(self, n_in: int, n_out: int) -> MLPArch:
        return mlp_arch(self.spec, n_in, n_out, "refit")


def mlp_arch(spec: str, n_in: int, n_out: int, experiment: str) -> MLPArch:
    """The MLP a shorthand such as ``40-256-256-1`` names, checked against the data."""
    parts = spec.replace(" ", "").split("-")
    if len(parts) < 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise SpecError(f"{experiment} needs an MLP shorthand such as {n_in}-256-256-{n_out}; "
                        f"received {spec!r}")
    widths = [int(p) for p in parts]
    if widths[0] != n_in or widths[-1] != n_out:
        hidden = "-".join(map(str, widths[1:-1])) or "64"
        raise SpecError(
            f"{spec!r} does not fit the data: it has {n_in} features and needs "
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
    outcome = execute(planned, data, config.train, store, keep_weights=True,
                      progress=progress)
    target_std = float(np.std(data.y_test)) if data.task == "regression" else 1.0
    outcome.analysis = analyze_store(store, target_std).to_dict()
    store.write_json("analysis.json", outcome.analysis)
    outcome.summary = [
        f"validation loss spread {outcome.analysis['val_loss_spread']:.1%} · weight distance "
        f"{outcome.analysis['weight_distance']:.0%} (aligned "
        f"{outcome.analysis['aligned_distance']:.0%}) · prediction difference "
        f"{outcome.analysis['prediction_difference']:.1%}"]
    return outcome


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


# ------------------------------------------------------------------ command line


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", help="MLP shorthand, e.g. 40-256-256-1")
    p.add_argument("--seeds", type=int, default=5, help="refits (default 5)")
    options.add_data(p)
    options.add_training(p)


def build_config(ns: argparse.Namespace) -> RefitConfig:
    return RefitConfig(ns.spec, ns.seeds, options.data_config(ns), options.train_config(ns),
                       ns.seed)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> RefitConfig | None:
    """The largest architecture of the demo's sweep, refitted from four seeds."""
    swept = earlier.get("sweep")
    if swept is None:
        return None
    largest = max(swept.store.rows(), key=lambda r: r["params"])["spec"]
    sweep_config = swept.store.config()
    data = from_dict(DataConfig, sweep_config["data"])
    train = from_dict(TrainConfig, sweep_config["train"])
    return RefitConfig(largest, 3 if level == "quick" else 4, data, train, seed=1000)


# ------------------------------------------------------------------ report


def report(store: RunStore, plots_dir: Path) -> Section:
    rows = store.rows()
    analysis = store.read_json("analysis.json")
    return Section(
        f"Refits: {rows[0]['spec']} with {len(rows)} seeds",
        refit_sentences(analysis, rows),
        [plots.refit_spread(analysis, plots_dir / "refit_spread.png")],
        reporting.architecture_tables([rows[0]["spec"]]),
    )


def refit_sentences(analysis: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The seed answer, measured — or contradicted, when the numbers say so."""
    n = analysis["observations"] or rows[0]["observations"]
    params = analysis["params"] or rows[0]["params"]
    same_loss = analysis["val_loss_spread"] < 0.1
    apart = analysis["aligned_distance"] > 0.2
    lines = [
        f"{len(rows)} refits of {rows[0]['spec']} ({params:,} parameters for {n:,} "
        f"observations, {params / n:,.1f} per observation) differ only in their random seed.",
        f"Their validation losses are within {analysis['val_loss_spread']:.1%} of each other "
        f"(mean {analysis['val_loss_mean']:.4f}).",
        f"Their weights are {'far apart' if apart else 'close'}: the mean relative distance "
        f"between two refits is {analysis['weight_distance']:.0%} (cosine similarity "
        f"{analysis['weight_cosine']:.2f}); after matching hidden units across refits it is "
        f"{analysis['aligned_distance']:.0%} (cosine {analysis['aligned_cosine']:.2f}).",
        f"Their test predictions differ by {analysis['prediction_difference']:.1%} of the "
        "targets' spread.",
    ]
    if same_loss and apart:
        lines.append("This is the seed answer, measured: the data determine the predictions, "
                     "not the parameters. The goal of fitting is a good predictor, and many "
                     "very different weight settings are equally good ones.")
    elif same_loss:
        lines.append("Here the data do pin the weights down: after matching units the refits "
                     "land close together, as a model with few parameters per observation "
                     "should.")
    else:
        lines.append("The refits do not even agree on the loss: training has not converged "
                     "to equally good solutions (more epochs or a smaller learning rate), so "
                     "their weights say little yet.")
    return lines


EXPERIMENT = Experiment(
    name="refit",
    help="one architecture, several seeds: same loss, different weights?",
    description="Train one architecture from several seeds and compare the spread of "
    "validation loss with the spread of weights (raw and after aligning hidden units).",
    config=RefitConfig,
    add_options=add_options,
    build_config=build_config,
    run=run,
    columns=MODEL_COLUMNS,
    report=report,
    order=20,
    display=MODEL_DISPLAY,
    demo=demo_config,
    example=("40-8-1", "--seeds", "2", "--epochs", "1", "--n-samples", "200"),
)
