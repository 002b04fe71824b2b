"""How many parameters does the data actually determine? The effective dimensionality of a
trained network (Maddox, Benton and Wilson 2020, "Rethinking parameter counting in deep
models").

Each network is trained by the batched engine; then the Hessian of its *summed* training loss
at the solution (see :mod:`paramlab.lab.hessian` for the convention) gives

    N_eff(z) = Σᵢ λᵢ / (λᵢ + z),

the number of directions in which the data curve the loss by more than ``z`` (z = 1 by
default: a unit-precision Gaussian prior). Small models get every eigenvalue (the dense
Hessian); large ones the top ``k`` by block Lanczos — whose N_eff is a *lower bound* — plus the
rest of the spectrum by stochastic Lanczos quadrature on the deflated Hessian, which
estimates the whole-spectrum value. ``--widths`` repeats this over hidden widths: raw
parameters grow quadratically with width, N_eff levels off (the paper's figure 1).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.lab import hessian
from paramlab.lab.report import plots
from paramlab.lab.report import tables as reporting
from paramlab.lab.data import Dataset
from paramlab.lab.engine import MLPArch, ModelResult, TrainConfig, train_models
from paramlab.lab.experiments import options
from paramlab.lab.experiments.base import (
    Column,
    DemoLevel,
    Experiment,
    Progress,
    RunOutcome,
    Section,
)
from paramlab.lab.experiments.common import DataConfig, Planned, open_store
from paramlab.lab.experiments.refit import mlp_arch
from paramlab.lab.store import RunStore

NAME = "effective-dimension"

COLUMNS = (
    Column("model_id", str, "unique within the run; the resume key"),
    Column("params", int, "trainable parameters (paramlab count)"),
    Column("observations", int, "training rows"),
    Column("z", float, "the prior precision in N_eff(z) = Σ λ/(λ + z)"),
    Column("n_eff", float, "whole-spectrum N_eff(z): exact, or top-k + SLQ estimate"),
    Column("eigenvalues_above_z", int, "Hessian eigenvalues above z (see above_z_method)"),
    Column("top_eigenvalue", float, "largest Hessian eigenvalue"),
    Column("n_eff_method", str, "exact | top-k + SLQ | top-k lower bound"),
    Column("n_eff_lower_bound", float, "N_eff from the top-k eigenvalues alone (≤ N_eff)"),
    Column("above_z_method", str, "exact | lower bound | SLQ estimate"),
    Column("eigenvalues_computed", int, "all (exact) or k (Lanczos)"),
    Column("smallest_eigenvalue", float, "the smallest Hessian eigenvalue (exact only)"),
    Column("negative_eigenvalues", int, "among those computed"),
    Column("trace", float, "tr H: exact, or top-k + SLQ estimate"),
    Column("slq_resolution", float, "the SLQ rule's span ÷ (2 × steps): it resolves N_eff(z) "
           "only for z ≥ 10× this"),
    Column("seed", int, "initialization seed"),
    Column("hidden", str, "hidden widths, e.g. 256-256"),
    Column("spec", str, "the MLP shorthand"),
    Column("width", int, "the swept hidden width (None without --widths)"),
    Column("scaling", str, "Hessian of the summed (sum) training loss"),
    Column("train_loss", float), Column("test_loss", float),
    Column("epochs", int), Column("hvps", int, "Hessian-vector products used"),
    Column("hessian_seconds", float),
)
DISPLAY = ("model_id", "params", "observations", "n_eff", "n_eff_method",
           "n_eff_lower_bound", "eigenvalues_above_z", "top_eigenvalue", "train_loss")


@dataclass
class EffectiveDimensionConfig:
    spec: str = "40-256-256-1"  # the MLP shorthand (with --widths: depth, inputs, outputs)
    widths: tuple[int, ...] | None = None  # sweep: every hidden layer this wide
    seeds: int = 1  # initializations per architecture
    z: float = 1.0  # N_eff(z) = Σ λ/(λ + z), Hessian of the summed loss
    top_k: int = 100  # Lanczos eigenvalues for models above exact_max parameters
    exact_max: int = 3000  # at most this many parameters: the whole dense Hessian
    slq_probes: int = 4  # stochastic Lanczos quadrature probes (0: top-k lower bound only)
    slq_steps: int = 48  # Lanczos steps per probe
    tol: float = 1e-3  # Ritz residual ≤ tol·|θ| for each of the top-k
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0  # first initialization seed; seed k uses seed + k

    def validate(self) -> None:
        hessian.check_z(self.z, "--z")
        checks = [
            (self.seeds >= 1, "--seeds must be at least 1", self.seeds),
            (self.top_k >= 1, "--top-k must be at least 1", self.top_k),
            (self.exact_max >= 0, "--exact-max must be ≥ 0", self.exact_max),
            (self.slq_probes >= 0, "--slq-probes must be ≥ 0", self.slq_probes),
            (self.slq_steps >= 2, "--slq-steps must be at least 2", self.slq_steps),
            (0 < self.tol < 1, "--tol must be in (0, 1)", self.tol),
            (self.widths is None or (len(self.widths) > 0 and all(w >= 1 for w in self.widths)),
             "--widths must be positive integers such as 8,16,32", self.widths),
        ]
        for ok, message, value in checks:
            if not ok:
                raise ParamlabError(f"{message}; received {value!r}")
        self.train.validate()

    def plan(self, n_in: int, n_out: int) -> list[tuple[Planned, int | None]]:
        """(model, swept width) pairs; ids are deterministic from the config (resume)."""
        base = mlp_arch(self.spec, n_in, n_out, NAME)
        if self.widths and not base.hidden:
            raise ParamlabError(f"--widths needs a spec with hidden layers, such as "
                                f"{n_in}-64-64-{n_out}; received {self.spec!r}")
        archs: list[tuple[MLPArch, int | None]] = [(base, None)] if not self.widths else [
            (MLPArch(n_in, (w,) * len(base.hidden), n_out), w) for w in self.widths]
        return [(Planned(f"ed-{arch.spec()}-s{self.seed + k}", arch, self.seed + k), width)
                for arch, width in archs for k in range(self.seeds)]


def run(config: EffectiveDimensionConfig, out: Path,
        progress: Progress | None = None) -> RunOutcome:
    config.validate()
    progress = progress or Progress()
    data = config.data.load()
    plan = config.plan(data.n_features, data.n_outputs)
    store = open_store(out, NAME, dataclasses.asdict(config), COLUMNS)
    done = store.finished_ids()
    todo = [(p, w) for p, w in plan if p.model_id not in done]
    progress.start(len(plan), len(plan) - len(todo), config.train.epochs)
    start = time.perf_counter()
    _train_missing([p for p, _ in todo], data, config.train, store, progress)
    for planned, width in todo:  # a kill here resumes without retraining: weights are saved
        row, history = spectrum_row(planned, width, data, config, store)
        store.record(row, history)
        progress.model_done(row)
    store.write_csv()
    rows = store.rows()
    analysis = {"convention": hessian.convention("sum", _loss(config.train, data)),
                "z": config.z, "observations": data.observations}
    store.write_json("analysis.json", analysis)
    outcome = RunOutcome(store, len(todo), len(plan) - len(todo), time.perf_counter() - start,
                         data, analysis=analysis)
    outcome.summary = [f"{analysis['convention']}; z = {config.z:g}; N_eff marked 'top-k "
                       "lower bound' counts only the computed eigenvalues",
                       *sentences(rows, analysis)[1:]]
    return outcome


def _loss(train: TrainConfig, data: Dataset) -> str:
    return train.loss or ("cross_entropy" if data.task == "classification" else "mse")


def _train_missing(planned: list[Planned], data: Dataset, train: TrainConfig,
                   store: RunStore, progress: Progress) -> None:
    """Train the models whose weights the run folder does not hold yet, saving each."""
    missing = [p for p in planned if not store.weights_path(p.model_id).exists()]
    if not missing:
        return

    def save(result: ModelResult) -> None:
        assert result.weights is not None
        history = np.array([[h["epoch"], h["train_loss"], h["val_loss"], h["test_loss"]]
                            for h in result.history], dtype=np.float64).reshape(-1, 4)
        store.save_arrays(result.model_id, {
            **{f"p{i}": w for i, w in enumerate(result.weights)}, "history": history,
            "summary": np.array([result.train_loss, result.test_loss, result.epochs])})

    train_models([p.arch for p in missing], data, train, [p.seed for p in missing],
                 model_ids=[p.model_id for p in missing], keep_weights=True,
                 on_epoch=lambda epoch, metrics: progress.epoch(epoch, len(metrics)),
                 on_model_done=save)


def spectrum_row(planned: Planned, width: int | None, data: Dataset,
                 config: EffectiveDimensionConfig,
                 store: RunStore) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """The Hessian spectrum of one trained model, as its results row (and its history)."""
    arrays = store.load_arrays(planned.model_id)
    weights = [arrays[f"p{i}"] for i in range(2 * (len(planned.arch.hidden) + 1))]
    start = time.perf_counter()
    spectrum = hessian.measure(
        weights, data.X_train, data.y_train, loss=_loss(config.train, data),
        activation=config.train.activation, top_k=config.top_k, exact_max=config.exact_max,
        probes=config.slq_probes, steps=config.slq_steps, tol=config.tol, seed=config.seed)
    seconds = time.perf_counter() - start
    store.save_arrays(f"{planned.model_id}.spectrum", spectrum.arrays())
    train_loss, test_loss, epochs = arrays["summary"]
    arch = planned.arch
    row = {
        "model_id": planned.model_id, "params": arch.params(),
        "observations": data.observations, "z": config.z, **spectrum.summary(config.z),
        "seed": planned.seed, "hidden": "-".join(map(str, arch.hidden)), "spec": arch.spec(),
        "width": width, "scaling": "sum", "train_loss": float(train_loss),
        "test_loss": float(test_loss), "epochs": int(epochs), "hessian_seconds": seconds,
    }
    history = [{"epoch": int(e), "train_loss": t, "val_loss": v, "test_loss": s}
               for e, t, v, s in arrays["history"]]
    return row, history


# ------------------------------------------------------------------ command line


def width_list(text: str) -> tuple[int, ...]:
    """``8,16,32`` as a tuple of widths."""
    try:
        widths = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected widths such as 8,16,32; received {text!r}") from None
    if not widths:
        raise argparse.ArgumentTypeError(f"expected widths such as 8,16,32; received {text!r}")
    return widths


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", help="MLP shorthand, e.g. 40-256-256-1")
    spectrum = p.add_argument_group("spectrum")
    spectrum.add_argument("--widths", type=width_list, metavar="W1,W2,…",
                          help="sweep: every hidden layer of SPEC this wide, in turn")
    spectrum.add_argument("--seeds", type=int, default=1, help="initializations (default 1)")
    spectrum.add_argument("--z", type=float, default=1.0,
                          help="N_eff(z) = Σ λ/(λ+z) over the Hessian of the summed training "
                          "loss (default 1)")
    spectrum.add_argument("--top-k", type=int, default=100,
                          help="Lanczos eigenvalues of large models (default 100)")
    spectrum.add_argument("--exact-max", type=int, default=3000,
                          help="at most this many parameters: the dense Hessian (default 3000)")
    spectrum.add_argument("--slq-probes", type=int, default=4,
                          help="stochastic Lanczos quadrature probes; 0: top-k lower bound "
                          "only (default 4)")
    spectrum.add_argument("--slq-steps", type=int, default=48)
    spectrum.add_argument("--tol", type=float, default=1e-3,
                          help="Lanczos: Ritz residual ≤ tol·|θ| (default 1e-3)")
    options.add_data(p)
    options.add_training(p)


def build_config(ns: argparse.Namespace) -> EffectiveDimensionConfig:
    return EffectiveDimensionConfig(
        ns.spec, ns.widths, ns.seeds, ns.z, ns.top_k, ns.exact_max, ns.slq_probes,
        ns.slq_steps, ns.tol, options.data_config(ns), options.train_config(ns), ns.seed)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]
                ) -> EffectiveDimensionConfig | None:
    """``--full`` only: two hidden layers of widths 4 … 128 on 1,400 rows of the seed data —
    parameters from ~200 to ~22,000 around the number of observations. z = 30: on this
    summed-loss scale (eigenvalues up to ~2·10⁴) 40 quadrature steps resolve about ±2, so
    z = 1 would leave the two widest nets with top-k lower bounds only; at z = 30 every
    width gets its whole-spectrum N_eff."""
    if level != "full":
        return None
    return EffectiveDimensionConfig(
        "40-64-64-1", widths=(4, 8, 16, 32, 64, 128), z=30.0, top_k=100, slq_probes=4,
        slq_steps=40,
        data=DataConfig("synthetic", n_samples=2000),
        train=TrainConfig(epochs=60, batch_size=64))


# ------------------------------------------------------------------ report


def report(store: RunStore, plots_dir: Path) -> Section:
    rows = sorted(store.rows(), key=lambda r: (r["params"], r["seed"]))
    analysis = store.read_json("analysis.json")
    figures = []
    if len({r["width"] for r in rows}) > 1:
        figures.append(width_plot(rows, plots_dir / "effective_dimension_widths.png"))
    figures.append(spectrum_plot(store, rows[-1], plots_dir / "effective_dimension_spectrum.png"))
    return Section(f"Effective dimensionality: {len(rows)} Hessian spectra",
                   sentences(rows, analysis), figures,
                   [reporting.rows_table("Every model", rows, DISPLAY)])


def sentences(rows: list[dict[str, Any]], analysis: dict[str, Any]) -> list[str]:
    """What the spectra say — levels off or keeps growing, as the numbers have it."""
    rows = sorted(rows, key=lambda r: (r["params"], r["seed"]))
    z = analysis["z"]
    lines = [f"Convention: {analysis['convention']}, z = {z:g}; N_eff(z) = Σ λ/(λ + z) "
             "(Maddox, Benton and Wilson 2020), negative eigenvalues counted as 0."]
    largest = rows[-1]
    lines.append(_model_sentence(largest, z))
    by_width = _per_width(rows)
    if len(by_width) > 1:
        bounded = any(r["n_eff_method"] == "top-k lower bound" for r in rows)
        lines.append(_growth_sentence(by_width, rows[0]["observations"], bounded))
    return lines


def _model_sentence(row: dict[str, Any], z: float) -> str:
    params, n = row["params"], row["observations"]
    method = row["n_eff_method"]
    if method == "exact":
        value = f"N_eff({z:g}) = {row['n_eff']:,.1f} (every eigenvalue, exact)"
    elif method == "top-k + SLQ":
        value = (f"N_eff({z:g}) ≈ {row['n_eff']:,.1f} over the whole spectrum (top "
                 f"{row['eigenvalues_computed']} by Lanczos + the rest by stochastic Lanczos "
                 f"quadrature; the top {row['eigenvalues_computed']} alone give the lower "
                 f"bound {row['n_eff_lower_bound']:,.1f})")
    else:
        value = (f"N_eff({z:g}) ≥ {row['n_eff']:,.1f} (a lower bound: only the top "
                 f"{row['eigenvalues_computed']} eigenvalues were computed")
        if row.get("slq_resolution") is not None:
            value += (f"; stochastic Lanczos quadrature sees the rest of this spectrum only to "
                      f"about ±{row['slq_resolution']:,.3g}, too coarse for z = {z:g} — more "
                      f"--slq-steps or a larger --z give the whole-spectrum value")
        value += ")"
    share = row["n_eff"] / params
    if method == "top-k lower bound":  # a bound says how many at least, not that the rest is flat
        verdict = (f"the data pin down at least {share:.1%} of the parameter directions; how "
                   "flat the rest is, this run does not say")
    elif share < 0.5:
        verdict = (f"the data pin down about {share:.1%} of the parameter directions; along "
                   "the rest the loss is flat")
    else:
        verdict = f"the data curve the loss along most parameter directions ({share:.0%})"
    return (f"{row['spec']} has {params:,} parameters for {n:,} observations; {value}, with "
            f"{row['eigenvalues_above_z']:,} eigenvalues above z ({row['above_z_method']}): "
            f"{verdict}.")


def _per_width(rows: list[dict[str, Any]]) -> list[tuple[int, float, float]]:
    """(width, parameters, mean N_eff over seeds) for each swept width."""
    widths = sorted({r["width"] for r in rows if r["width"] is not None})
    out = []
    for w in widths:
        group = [r for r in rows if r["width"] == w]
        out.append((w, float(group[0]["params"]), float(np.mean([r["n_eff"] for r in group]))))
    return out


def _growth_sentence(by_width: list[tuple[int, float, float]], observations: int,
                     bounded: bool = False) -> str:
    """How N_eff grows against the parameters. With lower bounds among the widths (top-k
    eigenvalues only: N_eff ≤ k) a flat N_eff proves nothing, and the sentence says so."""
    (w0, p0, n0), (w1, p1, n1) = by_width[0], by_width[-1]
    param_growth, neff_growth = p1 / p0, n1 / n0 if n0 else math.inf
    head = (f"From width {w0} to {w1} the raw parameter count grows {param_growth:,.0f}× "
            f"({p0:,.0f} → {p1:,.0f}) while N_eff grows {neff_growth:,.1f}× ({n0:,.1f} → "
            f"{n1:,.1f})")
    if math.log(neff_growth) < 0.5 * math.log(param_growth) and bounded:
        return head + (": but some of these N_eff are lower bounds from the top eigenvalues "
                       "alone (at most their number), so this does not show that it levels "
                       "off.")
    if math.log(neff_growth) < 0.5 * math.log(param_growth):
        tail = (": N_eff levels off — the extra parameters add flat directions, not "
                "directions the data determine")
        tail += (f", and it stays below the {observations:,} observations." if
                 max(n for _, _, n in by_width) < observations else ".")
        return head + tail
    return head + (": here N_eff keeps pace with the parameter count — the data still "
                   "determine most new directions (too few widths, too much data, or "
                   "training not converged).")


def width_plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Raw parameters and N_eff against width, on one log axis, with parameters =
    observations drawn in."""
    by_width = _per_width(rows)
    widths = [w for w, _, _ in by_width]
    fig, ax = plots.figure()
    ax.plot(widths, [p for _, p, _ in by_width], "o-", label="raw parameters")
    ax.plot(widths, [n for _, _, n in by_width], "s-", label="N_eff(z) (whole spectrum)")
    above = [float(np.mean([r["eigenvalues_above_z"] for r in rows if r["width"] == w]))
             for w in widths]
    ax.plot(widths, above, "^:", label="eigenvalues above z")
    ax.axhline(rows[0]["observations"], color="crimson", ls="--",
               label=f"observations ({rows[0]['observations']:,})")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hidden width")
    ax.set_ylabel("count (log scale)")
    ax.set_title(f"Parameters vs effective dimensionality (z = {rows[0]['z']:g})")
    ax.legend(loc="best")
    return plots.save(fig, path)


def spectrum_plot(store: RunStore, row: dict[str, Any], path: Path) -> Path:
    """The computed eigenvalues of the largest model, largest first, against z."""
    spectrum = store.load_arrays(f"{row['model_id']}.spectrum")
    values = spectrum["eigenvalues"]
    positive = values[values > 0]
    fig, ax = plots.figure()
    ax.plot(np.arange(1, len(positive) + 1), positive, ".", ms=3,
            label=f"positive eigenvalues ({row['n_eff_method']})")
    ax.axhline(row["z"], color="crimson", ls="--", label=f"z = {row['z']:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("eigenvalue rank")
    ax.set_ylabel("Hessian eigenvalue (summed loss)")
    ax.set_title(f"Hessian spectrum of {row['spec']} ({row['params']:,} parameters)")
    ax.legend(loc="best")
    return plots.save(fig, path)


EXPERIMENT = Experiment(
    name=NAME,
    help="how many parameter directions the data determine: Hessian N_eff(z)",
    description="Train MLPs, then the Hessian of the summed training loss at the solution: "
    "top eigenvalues (Lanczos), spectral density (SLQ) or the exact spectrum, and the "
    "effective dimensionality N_eff(z) beside the raw parameter count.",
    config=EffectiveDimensionConfig,
    add_options=add_options,
    build_config=build_config,
    run=run,
    columns=COLUMNS,
    report=report,
    order=70,
    display=DISPLAY,
    demo=demo_config,
    example=("40-4-1", "--widths", "2,4", "--epochs", "1", "--n-samples", "200"),
    # trains and saves weights first, then measures each Hessian in this process: not yet
    # split into executor batches
    executors=False,
)
