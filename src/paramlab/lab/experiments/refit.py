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
from paramlab.lab import hessian, landscape
from paramlab.lab.report import plots
from paramlab.lab.report import tables as reporting
from paramlab.lab.data import Dataset
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
    barrier: bool = False  # loss along the straight path between every pair of refits
    barrier_points: int = 11  # points t in [0, 1] on each path
    barrier_rows: int | None = None  # training/test rows the paths are evaluated on (None: all)
    contrast: bool = False  # also refit least squares and a small MLP on the same data
    contrast_spec: str | None = None  # the small MLP (None: IN-1-OUT), tanh, polished
    z: float = 1.0  # N_eff(z) of the contrast, Hessian of the summed loss
    top_k: int = 50  # Lanczos eigenvalues of the contrast's large model

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
    validate(config)
    data = config.data.load()
    arch = config.arch(data.n_features, data.n_outputs)
    if config.contrast and data.task != "regression":
        raise ParamlabError(f"--contrast fits ordinary least squares, so it needs a regression "
                            f"data set; received {data.name} ({data.task})")
    store = open_store(out, "refit", dataclasses.asdict(config))
    planned = [Planned(f"refit-{k:03d}", arch, config.seed + k) for k in range(config.seeds)]
    outcome = execute(planned, data, config.train, store, keep_weights=True,
                      progress=progress)
    target_std = float(np.std(data.y_test)) if data.task == "regression" else 1.0
    signs = config.train.activation == "tanh"
    outcome.analysis = analyze_store(store, target_std, signs=signs).to_dict()
    outcome.summary = [
        f"validation loss spread {outcome.analysis['val_loss_spread']:.1%} · weight distance "
        f"{outcome.analysis['weight_distance']:.0%} (aligned "
        f"{outcome.analysis['aligned_distance']:.0%}) · prediction difference "
        f"{outcome.analysis['prediction_difference']:.1%}"]
    refits = [_weights(store, p.model_id) for p in planned]
    if config.barrier:
        summary, paths = barrier_analysis(refits, data, config)
        store.write_table("paths.csv", PATH_COLUMNS, paths)
        outcome.analysis["barrier"] = summary
        outcome.summary.append(barrier_sentence(summary))
    if config.contrast:
        small = contrast_refits(config, data, store, progress)
        outcome.analysis["contrast"] = contrast_analysis(config, data, refits, small)
        outcome.summary += [identification_sentence(e) for e in outcome.analysis["contrast"]]
    store.write_json("analysis.json", outcome.analysis)
    return outcome


def validate(config: RefitConfig) -> None:
    if config.seeds < 2:
        raise ParamlabError(f"--seeds must be at least 2 to compare refits (a pair at least); "
                            f"received {config.seeds}")
    if config.barrier_points < 3:
        raise ParamlabError(f"--barrier-points must be at least 3 (both ends and one between); "
                            f"received {config.barrier_points}")
    if config.barrier_rows is not None and config.barrier_rows < 1:
        raise ParamlabError(f"--barrier-rows must be at least 1; received "
                            f"{config.barrier_rows}")
    if config.top_k < 1:
        raise ParamlabError(f"--top-k must be at least 1; received {config.top_k}")
    hessian.check_z(config.z, "--z")
    config.train.validate()


def _weights(store: RunStore, model_id: str) -> list[np.ndarray]:
    arrays = store.load_arrays(model_id)
    return [arrays[f"p{i}"] for i in range(len(arrays) - 1)]  # all but test_predictions


# ------------------------------------------------------------------ analysis


def align(reference: list[np.ndarray], other: list[np.ndarray],
          signs: bool = False) -> list[np.ndarray]:
    """``other`` with its hidden units permuted (and, with ``signs``, sign-flipped: the
    symmetry of odd activations such as tanh) to best match ``reference``.

    Weights are [W1, b1, W2, b2, …] with W of shape (fan_in, fan_out); the function computed
    by the network is unchanged. A forward pass matches each layer's units on their incoming
    weights; then coordinate ascent (Git Re-Basin's weight matching) re-solves one layer at
    a time on incoming *and* outgoing weights. Starting from the better of that pass and no
    permutation at all, each step can only raise ⟨reference, aligned⟩: the aligned distance
    is never larger than the raw one.
    """
    layers = len(other) // 2 - 1  # hidden layers; the output units are not interchangeable
    identity = [(np.arange(other[2 * k].shape[1]), np.ones(other[2 * k].shape[1]))
                for k in range(layers)]
    forward = _forward_matching(reference, other, signs)
    best = max((identity, forward), key=lambda m: _agreement(reference, other, m))
    score = _agreement(reference, other, best)
    for _ in range(10):  # sweeps; usually 1–3
        changed = False
        for layer in range(layers):
            trial = [*best[:layer], _match_layer(reference, other, best, layer, signs),
                     *best[layer + 1:]]
            trial_score = _agreement(reference, other, trial)
            if trial_score > score + 1e-12 * abs(score):
                best, score, changed = trial, trial_score, True
        if not changed:
            break
    return _permute(other, best)


Matching = list[tuple[np.ndarray, np.ndarray]]  # per hidden layer: (permutation, signs)


def _permute(weights: list[np.ndarray], matching: Matching) -> list[np.ndarray]:
    """Aligned unit a of layer l is sign[a] × unit perm[a] of ``weights``."""
    out = [w.copy() for w in weights]
    for layer, (perm, sign) in enumerate(matching):
        out[2 * layer] = out[2 * layer][:, perm] * sign
        out[2 * layer + 1] = out[2 * layer + 1][perm] * sign
        out[2 * layer + 2] = out[2 * layer + 2][perm, :] * sign[:, None]
    return out


def _agreement(reference: list[np.ndarray], other: list[np.ndarray],
               matching: Matching) -> float:
    return float(flat(reference) @ flat(_permute(other, matching)))


def _assign(similarity: np.ndarray, signs: bool) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

    _, perm = linear_sum_assignment(np.abs(similarity) if signs else similarity,
                                    maximize=True)
    picked = similarity[np.arange(len(perm)), perm]
    return perm, np.where(picked < 0, -1.0, 1.0) if signs else np.ones(len(perm))


def _forward_matching(reference: list[np.ndarray], other: list[np.ndarray],
                      signs: bool) -> Matching:
    """Layer by layer on incoming weights and bias, each after the previous layer's match."""
    matching: Matching = []
    current = [w.copy() for w in other]
    for layer in range(len(other) // 2 - 1):
        ref_units = np.vstack([reference[2 * layer], reference[2 * layer + 1][None, :]])
        units = np.vstack([current[2 * layer], current[2 * layer + 1][None, :]])
        matching.append(_assign(ref_units.T @ units, signs))
        current = _permute(other, matching)
    return matching


def _match_layer(reference: list[np.ndarray], other: list[np.ndarray], matching: Matching,
                 layer: int, signs: bool) -> tuple[np.ndarray, np.ndarray]:
    """The best matching of one layer's units given every other layer's."""
    units = other[2 * layer].shape[1]
    free = [*matching[:layer], (np.arange(units), np.ones(units)), *matching[layer + 1:]]
    current = _permute(other, free)
    ref_in = np.vstack([reference[2 * layer], reference[2 * layer + 1][None, :]])
    cur_in = np.vstack([current[2 * layer], current[2 * layer + 1][None, :]])
    similarity = ref_in.T @ cur_in + reference[2 * layer + 2] @ current[2 * layer + 2].T
    return _assign(similarity, signs)


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
            params: int = 0, observations: int = 0, signs: bool = False) -> RefitAnalysis:
    reference = weights[0]
    aligned = [reference] + [align(reference, w, signs) for w in weights[1:]]
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


def analyze_store(store: Any, target_std: float, prefix: str = "refit-",
                  signs: bool = False) -> RefitAnalysis:
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
                   rows[0]["observations"], signs)


# ------------------------------------------------------------------ loss barriers

PATH_COLUMNS = ("pair", "aligned", "t", "train_loss", "test_loss", "barrier", "test_barrier")


def barrier_analysis(refits: list[list[np.ndarray]], data: Dataset,
                     config: RefitConfig) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Training and test loss along the straight path between every pair of refits, raw and
    with the second's hidden units matched to the first's; the barrier of each path."""
    ts = np.linspace(0.0, 1.0, config.barrier_points)
    rows = config.barrier_rows
    splits = {"train": (data.X_train[:rows], data.y_train[:rows]),
              "test": (data.X_test[:rows], data.y_test[:rows])}
    loss = config.train.loss or ("cross_entropy" if data.task == "classification" else "mse")
    signs = config.train.activation == "tanh"
    pairs, paths = [], []
    for i, j in itertools.combinations(range(len(refits)), 2):
        for aligned in (False, True):
            other = align(refits[i], refits[j], signs) if aligned else refits[j]
            losses = {name: landscape.path_losses(refits[i], other, x, y, ts, loss=loss,
                                                  activation=config.train.activation)
                      for name, (x, y) in splits.items()}
            entry = {"pair": f"{i}-{j}", "aligned": aligned,
                     "distance": relative_distance(flat(refits[i]), flat(other)),
                     "barrier": landscape.barrier(ts, losses["train"]),
                     "test_barrier": landscape.barrier(ts, losses["test"]),
                     "train": losses["train"].tolist(), "test": losses["test"].tolist()}
            pairs.append(entry)
            paths += [{"pair": entry["pair"], "aligned": int(aligned), "t": float(t),
                       "train_loss": float(a), "test_loss": float(b),
                       "barrier": entry["barrier"], "test_barrier": entry["test_barrier"]}
                      for t, a, b in zip(ts, losses["train"], losses["test"], strict=True)]
    return barrier_summary(ts.tolist(), pairs), paths


def barrier_summary(ts: list[float], pairs: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(key: str, aligned: bool) -> float:
        return float(np.mean([p[key] for p in pairs if p["aligned"] == aligned]))

    ends = [value for p in pairs for value in (p["train"][0], p["train"][-1])]
    return {"ts": ts, "pairs": pairs, "raw_barrier": mean("barrier", False),
            "aligned_barrier": mean("barrier", True),
            "raw_test_barrier": mean("test_barrier", False),
            "aligned_test_barrier": mean("test_barrier", True),
            "end_loss": float(np.mean(ends))}


def barrier_sentence(summary: dict[str, Any]) -> str:
    """Different basins or one; relabelled copies or genuinely different — from the numbers."""
    raw, matched, level = summary["raw_barrier"], summary["aligned_barrier"], summary["end_loss"]

    def share(value: float) -> str:
        return f"{value / level:.0%} of the end points' loss" if level > 0 else "—"

    if raw <= 0.05 * level:
        return (f"The refits sit in one basin: the straight path between two of them rises by "
                f"only {raw:.4g} in training loss ({share(raw)}) even before matching units "
                f"(after matching: {matched:.4g}).")
    head = (f"The refits sit in different basins of equal height: the raw path rises by "
            f"{raw:.4g} in training loss ({share(raw)}); after matching units the rise is ")
    if matched <= 0.5 * raw:
        return head + (f"{matched:.4g} ({share(matched)}) — the basins are largely relabelled "
                       "copies of one another (Ainsworth et al. 2022).")
    return head + (f"still {matched:.4g} ({share(matched)}) — the basins differ by more than a "
                   "relabelling of hidden units.")


# ------------------------------------------------------------------ identified or not


def least_squares_refits(x: np.ndarray, y: np.ndarray,
                         seeds: list[int]) -> list[list[np.ndarray]]:
    """Ordinary least squares with an intercept, solved by LSQR from a random start per seed
    — gradient-like iterations, so a direction the data leave free keeps its random start,
    as a network's would. [W, b] in the engine's layout."""
    from scipy.sparse.linalg import lsqr  # type: ignore[import-untyped]

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


def contrast_refits(config: RefitConfig, data: Dataset, store: RunStore,
                    progress: Progress | None) -> list[list[np.ndarray]]:
    """The small MLP's refits, each polished to its nearest minimum by full-batch L-BFGS
    (tanh: its only symmetries are permutations and sign flips, where ReLU adds a continuous
    rescaling per unit that no data can fix). By default one hidden unit: in our runs on the
    seed data, two units already reached different minima."""
    spec = config.contrast_spec or f"{data.n_features}-1-{data.n_outputs}"
    arch = mlp_arch(spec, data.n_features, data.n_outputs, "refit --contrast")
    planned = [Planned(f"small-{k:03d}", arch, config.seed + k) for k in range(config.seeds)]
    execute(planned, data, dataclasses.replace(config.train, activation="tanh"), store,
            keep_weights=True, progress=progress)
    return [landscape.polish(_weights(store, p.model_id), data.X_train, data.y_train,
                             loss="mse", activation="tanh") for p in planned]


def contrast_analysis(config: RefitConfig, data: Dataset, refits: list[list[np.ndarray]],
                      small: list[list[np.ndarray]]) -> list[dict[str, Any]]:
    seeds = [config.seed + k for k in range(config.seeds)]
    ols = least_squares_refits(data.X_train, data.y_train, seeds)
    models = [("ordinary least squares", ols, "relu"),
              (f"small MLP {_spec(small[0])} (tanh)", small, "tanh"),
              (f"{config.spec} ({config.train.activation})", refits, config.train.activation)]
    return [identification(name, fits, data, activation, config)
            for name, fits, activation in models]


def _spec(weights: list[np.ndarray]) -> str:
    return "-".join(str(w) for w in [weights[0].shape[0], *(v.shape[1] for v in weights[::2])])


def identification(name: str, fits: list[list[np.ndarray]], data: Dataset, activation: str,
                   config: RefitConfig) -> dict[str, Any]:
    """How far apart the refits land after alignment, and how many directions the Hessian
    of the summed loss curves by more than z, for one model."""
    signs = activation == "tanh"
    aligned = [fits[0]] + [align(fits[0], f, signs) for f in fits[1:]]
    distances = [relative_distance(flat(a), flat(b))
                 for a, b in itertools.combinations(aligned, 2)]
    spectrum = hessian.measure(fits[0], data.X_train, data.y_train, loss="mse",
                               activation=activation, top_k=config.top_k,
                               seed=config.seed).summary(config.z)
    return {"model": name, "params": int(sum(w.size for w in fits[0])),
            "observations": data.observations, "z": config.z,
            "aligned_distance": float(np.mean(distances)), **spectrum}


def identification_sentence(entry: dict[str, Any]) -> str:
    """Identified (the refits agree and every direction is curved) or not, from the numbers."""
    params, n_eff, z = entry["params"], entry["n_eff"], entry["z"]
    bound = "≥ " if entry["n_eff_method"] == "top-k lower bound" else (
        "≈ " if entry["n_eff_method"] == "top-k + SLQ" else "= ")
    head = (f"{entry['model'][0].upper()}{entry['model'][1:]} ({params:,} parameters, "
            f"{entry['observations']:,} observations): its refits land "
            f"{entry['aligned_distance']:.1e} apart after alignment, N_eff({z:g}) {bound}"
            f"{n_eff:,.1f}")
    smallest = entry.get("smallest_eigenvalue")
    if entry["aligned_distance"] < 0.05 and n_eff > 0.95 * params:
        tail = (f" and every Hessian eigenvalue is above z (smallest {smallest:.3g})"
                if smallest is not None and smallest > z else "")
        return head + tail + (" — identified: the data determine its parameters, whose "
                              "values therefore mean something.")
    return head + (f" of {params:,} ({n_eff / params:.1%}) — not identified: the data "
                   "determine its predictions, not its parameters.")


# ------------------------------------------------------------------ command line


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", help="MLP shorthand, e.g. 40-256-256-1")
    p.add_argument("--seeds", type=int, default=5, help="refits (default 5)")
    paths = p.add_argument_group("loss barriers and identification")
    paths.add_argument("--barrier", action="store_true",
                       help="loss along the straight path between every pair of refits, raw "
                       "and with hidden units matched (paths.csv)")
    paths.add_argument("--barrier-points", type=int, default=11, help="points on each path")
    paths.add_argument("--barrier-rows", type=int,
                       help="evaluate paths on the first N training/test rows (default all)")
    paths.add_argument("--contrast", action="store_true",
                       help="also refit ordinary least squares and a small tanh MLP on the "
                       "same data: identified vs not, by aligned distance and Hessian N_eff")
    paths.add_argument("--contrast-spec", help="the small tanh MLP (default IN-1-OUT)")
    paths.add_argument("--z", type=float, default=1.0,
                       help="N_eff(z) of --contrast, Hessian of the summed loss (default 1)")
    paths.add_argument("--top-k", type=int, default=50,
                       help="--contrast: Lanczos eigenvalues of a model too large for the "
                       "dense Hessian (default 50)")
    options.add_data(p)
    options.add_training(p)


def build_config(ns: argparse.Namespace) -> RefitConfig:
    return RefitConfig(ns.spec, ns.seeds, options.data_config(ns), options.train_config(ns),
                       ns.seed, ns.barrier, ns.barrier_points, ns.barrier_rows, ns.contrast,
                       ns.contrast_spec, ns.z, ns.top_k)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> RefitConfig | None:
    """The largest architecture of the demo's sweep, refitted from four seeds."""
    swept = earlier.get("sweep")
    if swept is None:
        return None
    largest = max(swept.store.rows(), key=lambda r: r["params"])["spec"]
    sweep_config = swept.store.config()
    data = from_dict(DataConfig, sweep_config["data"])
    train = from_dict(TrainConfig, sweep_config["train"])
    full = level == "full"  # with the loss barriers, on 2,000 rows of each split
    return RefitConfig(largest, 3 if level == "quick" else 4, data, train, seed=1000,
                       barrier=full, barrier_points=7, barrier_rows=2000 if full else None)


# ------------------------------------------------------------------ report


def report(store: RunStore, plots_dir: Path) -> Section:
    rows = [r for r in store.rows() if r["model_id"].startswith("refit-")]
    analysis = store.read_json("analysis.json")
    sentences = refit_sentences(analysis, rows)
    figures = [plots.refit_spread(analysis, plots_dir / "refit_spread.png")]
    tables = reporting.architecture_tables([rows[0]["spec"]])
    if "barrier" in analysis:
        sentences.append(barrier_sentence(analysis["barrier"]))
        figures.append(barrier_plot(analysis["barrier"], plots_dir / "refit_barrier.png"))
    if "contrast" in analysis:
        sentences += [identification_sentence(e) for e in analysis["contrast"]]
        tables.append(reporting.rows_table("Identified or not", analysis["contrast"], (
            "model", "params", "observations", "aligned_distance", "n_eff", "n_eff_method",
            "eigenvalues_above_z", "smallest_eigenvalue", "top_eigenvalue")))
    return Section(f"Refits: {rows[0]['spec']} with {len(rows)} seeds", sentences, figures,
                   tables)


def barrier_plot(summary: dict[str, Any], path: Path) -> Path:
    """Training (solid) and test (dotted) loss along each path, raw and aligned."""
    fig, ax = plots.figure()
    ts = summary["ts"]
    for entry in summary["pairs"]:
        color = "tab:green" if entry["aligned"] else "tab:red"
        label = "after matching units" if entry["aligned"] else "raw"
        ax.plot(ts, entry["train"], "-", color=color, alpha=0.7,
                label=f"training loss, {label}")
        ax.plot(ts, entry["test"], ":", color=color, alpha=0.7, label=f"test loss, {label}")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="best")
    ax.set_xlabel("t along the straight path θ(t) = (1 − t)·θ_i + t·θ_j")
    ax.set_ylabel("loss")
    ax.set_title("Loss between two refits: the barrier, raw and after matching hidden units")
    return plots.save(fig, path)


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
    example=("40-8-1", "--seeds", "2", "--epochs", "1", "--n-samples", "200", "--barrier",
             "--barrier-points", "5", "--contrast"),
)
