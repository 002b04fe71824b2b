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

import argparse
import dataclasses
import itertools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.lab.report import plots
from paramlab.lab.report import tables as reporting
from paramlab.lab.experiments import study_options
from paramlab.lab.experiments.base import (
    Column,
    DemoLevel,
    Experiment,
    Progress,
    RunOutcome,
    Section,
)
from paramlab.lab.experiments.common import open_store
from paramlab.lab.store import RunStore

NAME = "polynomial"
DEGREE = 4
INTERPOLATES = 1e-9  # largest residual of an exact fit
LANDED = 1e-6  # gradient descent "on" the minimum-norm fit


@dataclass
class PolynomialConfig:
    x: tuple[float, ...] = (-1.0, -0.4, 0.3, 1.0)  # the four abscissae (distinct)
    y: tuple[float, ...] = (0.5, -0.3, 0.8, -0.2)  # the four values
    family: tuple[float, ...] = (-3.0, -1.5, 1.5, 3.0)  # multiples t of ∏(u − uᵢ) to draw
    ridge: tuple[float, ...] = (1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-6)  # ridge penalties λ
    steps: int = 5000  # gradient-descent iterations from zero
    lr: float | None = None  # gradient-descent step; None: 1 / σ_max(V)²

    def validate(self) -> None:
        if len(self.x) != DEGREE or len(self.y) != DEGREE:
            raise ParamlabError(f"--x and --y need exactly {DEGREE} values each (a degree-"
                                f"{DEGREE} polynomial through {DEGREE} points); received "
                                f"{len(self.x)} and {len(self.y)}")
        if len(set(self.x)) != len(self.x):
            raise ParamlabError(f"--x values must be distinct; received {self.x}")
        study_options.check_list("--family", self.family)
        study_options.check_list("--ridge", self.ridge, low=0.0)
        if self.steps < 1:
            raise ParamlabError(f"--steps must be at least 1; received {self.steps}")
        if self.lr is not None and self.lr <= 0:
            raise ParamlabError(f"--lr must be positive; received {self.lr}")


COLUMNS = (
    Column("model_id", str, "the fit; unique within the run, the resume key"),
    Column("model", str, "min-norm, cubic, family, gradient-descent or ridge"),
    Column("t", float, "coordinate along ∏(u − uᵢ) relative to the minimum-norm fit"),
    Column("ridge", float, "ridge penalty λ"),
    Column("steps", int, "gradient-descent iterations"),
    Column("params", int, "coefficients"),
    Column("n_train", int, "points fitted"),
    Column("train_loss", float, "mean squared residual at the points"),
    Column("max_residual", float, "largest |p(xᵢ) − yᵢ|"),
    Column("norm", float, "‖c‖ (coefficients in u)"),
    Column("distance_to_min_norm", float, "‖c − c_min‖"),
    *(Column(f"c{k}", float, f"coefficient of u^{k}") for k in range(DEGREE + 1)),
)
DISPLAY = ("model_id", "t", "ridge", "max_residual", "norm", "distance_to_min_norm")


# ------------------------------------------------------------------ the mathematics


def scale(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """u = (x − centre) / half-range of the reference points: u ∈ [−1, 1] on them."""
    low, high = float(reference.min()), float(reference.max())
    return (x - (low + high) / 2) / ((high - low) / 2)


def vandermonde(u: np.ndarray) -> np.ndarray:
    """Rows (1, u, u², …, u⁴)."""
    return np.vander(u, DEGREE + 1, increasing=True)


def null_direction(u: np.ndarray) -> np.ndarray:
    """Coefficients (increasing powers) of ∏(u − uᵢ): zero at every point, so V·n = 0."""
    return np.polynomial.polynomial.polyfromroots(u)


def min_norm(V: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.pinv(V) @ y


def ridge(V: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """The unique minimizer of ‖Vc − y‖² + λ‖c‖², in its 4 × 4 form Vᵀ(VVᵀ + λI)⁻¹y:
    equal to (VᵀV + λI)⁻¹Vᵀy but well conditioned as λ → 0, where it becomes the
    pseudo-inverse's minimum-norm solution (VVᵀ is invertible: the points are distinct)."""
    return V.T @ np.linalg.solve(V @ V.T + lam * np.eye(V.shape[0]), y)


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


# ------------------------------------------------------------------ run


def fits(config: PolynomialConfig) -> tuple[list[tuple[str, dict[str, Any], np.ndarray]],
                                            dict[str, Any]]:
    """Every fit of the study as (id, fields, coefficients), and the analysis."""
    x, y = np.asarray(config.x, float), np.asarray(config.y, float)
    u = scale(x, x)
    V = vandermonde(u)
    best = min_norm(V, y)
    direction = null_direction(u)
    lr = config.lr if config.lr is not None else default_step(V)
    if lr >= 2 * default_step(V):
        raise ParamlabError(f"--lr {lr:g} makes gradient descent diverge on these points; "
                            f"it must be below 2/σ_max² = {2 * default_step(V):.4g}")
    descended, distances = gradient_descent(V, y, lr, config.steps, track=best)
    cubic_t = -best[DEGREE] / direction[DEGREE]  # the member with no u⁴ term
    out: list[tuple[str, dict[str, Any], np.ndarray]] = [
        ("min-norm", {"model": "min-norm", "t": 0.0}, best),
        ("cubic", {"model": "cubic", "t": cubic_t}, best + cubic_t * direction),
        ("gradient-descent", {"model": "gradient-descent", "steps": config.steps}, descended),
    ]
    out += [(f"family-t={t:+g}", {"model": "family", "t": t}, best + t * direction)
            for t in config.family]
    out += [(f"ridge-{lam:g}", {"model": "ridge", "ridge": lam}, ridge(V, y, lam))
            for lam in config.ridge]
    for _, fields, c in out:
        fields.setdefault("t", coordinate(c, best, direction))
    singular = np.linalg.svd(V, compute_uv=False)
    every = np.unique(np.geomspace(1, config.steps, 200).astype(int))
    analysis = {
        "x": list(config.x), "y": list(config.y), "u": u.tolist(),
        "singular_values": singular.tolist(), "rank": int(np.sum(singular > 1e-12)),
        "null_direction": direction.tolist(), "min_norm": best.tolist(),
        "lr": lr, "steps": config.steps,
        "descent_distance": [[int(k), distances[k - 1]] for k in every],
        "converge_steps": _steps_to_converge(singular, lr),
    }
    return out, analysis


def _steps_to_converge(singular: np.ndarray, lr: float) -> float | None:
    """Iterations for the error along the weakest row-space direction to shrink 1e6-fold:
    it contracts by |1 − lr·σ_min²| per step."""
    factor = abs(1 - lr * float(singular[-1]) ** 2)
    if factor >= 1:
        return None
    return math.log(1e-6) / math.log(factor) if factor > 0 else 1.0


def row_of(model_id: str, fields: dict[str, Any], c: np.ndarray,
           config: PolynomialConfig, best: np.ndarray) -> dict[str, Any]:
    x, y = np.asarray(config.x, float), np.asarray(config.y, float)
    residual = vandermonde(scale(x, x)) @ c - y
    return {"model_id": model_id, "params": DEGREE + 1, "n_train": len(y),
            "train_loss": float(np.mean(residual ** 2)),
            "max_residual": float(np.max(np.abs(residual))),
            "norm": float(np.linalg.norm(c)),
            "distance_to_min_norm": float(np.linalg.norm(c - best)),
            **{f"c{k}": float(v) for k, v in enumerate(c)}, **fields}


def run(config: PolynomialConfig, out: Path, progress: Progress | None = None) -> RunOutcome:
    config.validate()
    progress = progress or Progress()
    start = time.perf_counter()
    store = open_store(out, NAME, dataclasses.asdict(config), COLUMNS)
    planned, analysis = fits(config)
    best = np.asarray(analysis["min_norm"])
    done = store.finished_ids()
    progress.start(len(planned), sum(f in done for f, _, _ in planned), 0)
    trained = 0
    for model_id, fields, c in planned:
        if model_id in done:
            continue
        row = row_of(model_id, fields, c, config, best)
        store.record(row, [])
        progress.model_done(row)
        trained += 1
    store.write_csv()
    store.write_json("analysis.json", analysis)
    outcome = RunOutcome(store, trained, len(planned) - trained, time.perf_counter() - start,
                         analysis=analysis)
    rows = {r["model_id"]: r for r in store.rows()}
    outcome.summary = [
        f"minimum-norm ‖c‖ = {rows['min-norm']['norm']:.4f} · gradient descent from zero "
        f"ended {rows['gradient-descent']['distance_to_min_norm']:.1e} from it after "
        f"{config.steps:,} steps"]
    return outcome


# ------------------------------------------------------------------ command line


def add_options(p: argparse.ArgumentParser) -> None:
    defaults = PolynomialConfig()
    p.add_argument("--x", type=study_options.float_list, default=defaults.x, metavar="X,…",
                   help="the four abscissae (default -1,-0.4,0.3,1)")
    p.add_argument("--y", type=study_options.float_list, default=defaults.y, metavar="Y,…",
                   help="the four values (default 0.5,-0.3,0.8,-0.2)")
    p.add_argument("--family", type=study_options.float_list, default=defaults.family,
                   metavar="T,…", help="multiples of ∏(x − xᵢ) to add to the minimum-norm "
                   "fit (default -3,-1.5,1.5,3)")
    study_options.add_ridge(p, defaults.ridge)
    p.add_argument("--steps", type=int, default=defaults.steps,
                   help="gradient-descent iterations from zero (default 5000)")
    p.add_argument("--lr", type=float, default=None,
                   help="gradient-descent step (default 1/σ_max² of the Vandermonde matrix)")


def build_config(ns: argparse.Namespace) -> PolynomialConfig:
    return PolynomialConfig(ns.x, ns.y, ns.family, ns.ridge, ns.steps, ns.lr)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> PolynomialConfig:
    """Milliseconds at every level."""
    return PolynomialConfig()


# ------------------------------------------------------------------ report


def report(store: RunStore, plots_dir: Path) -> Section:
    rows = store.rows()
    analysis = store.read_json("analysis.json")
    return Section(
        "The four-point polynomial: a line of exact fits, and who picks one",
        polynomial_sentences(rows, analysis),
        [plot_family(rows, analysis, plots_dir / f"{NAME}_family.png"),
         plot_convergence(rows, analysis, plots_dir / f"{NAME}_convergence.png")],
        [reporting.rows_table("Every fit (coefficients of 1, u, …, u⁴)",
                              sorted(rows, key=_order), ["model_id", "t", "ridge",
                                                         "max_residual", "norm",
                                                         "distance_to_min_norm",
                                                         *(f"c{k}" for k in range(5))])],
    )


def _order(row: dict[str, Any]) -> tuple[int, float, float]:
    kinds = ["min-norm", "gradient-descent", "cubic", "family", "ridge"]
    return kinds.index(row["model"]), -(row["ridge"] or 0.0), row["t"]


def polynomial_sentences(rows: list[dict[str, Any]], analysis: dict[str, Any]) -> list[str]:
    """The numbers of this run, read whichever way they point."""
    by_id = {r["model_id"]: r for r in rows}
    best, descended = by_id["min-norm"], by_id["gradient-descent"]
    exact = [r for r in rows if r["model"] in ("min-norm", "cubic", "family")]
    worst = max(r["max_residual"] for r in exact)
    ts = [r["t"] for r in exact]
    lines = [
        f"A degree-{DEGREE} polynomial has {best['params']} coefficients and {best['n_train']} "
        f"points give {best['n_train']} equations: the Vandermonde matrix has rank "
        f"{analysis['rank']}, singular values "
        f"{', '.join(f'{s:.3g}' for s in analysis['singular_values'])}.",
    ]
    if worst <= INTERPOLATES:
        lines.append(f"Every one of the {len(exact)} members drawn, the minimum-norm fit plus "
                     f"t·∏(x − xᵢ) for t from {min(ts):+.3g} to {max(ts):+.3g}, passes through "
                     f"all four points (largest residual {worst:.1e}): the data cannot tell "
                     "them apart.")
    else:
        lines.append(f"The members drawn do not all fit: the largest residual is {worst:.1e} "
                     "— the points are too close together for floating point to keep the "
                     "null direction exact.")
    cubic = by_id.get("cubic")
    if cubic is not None:
        lines.append(f"The minimum-norm member (pseudo-inverse) has ‖c‖ = {best['norm']:.4f}; "
                     f"the cubic through the same points is the member t = {cubic['t']:+.4f}, "
                     f"with ‖c‖ = {cubic['norm']:.4f}.")
    distance = descended["distance_to_min_norm"]
    head = (f"Gradient descent from zero ({descended['steps']:,} steps of "
            f"{analysis['lr']:.3g}) ended {distance:.1e} from the minimum-norm fit")
    if distance <= LANDED:
        lines.append(head + " — it landed on it: its gradients lie in the row space of the "
                     "Vandermonde matrix, so from zero it never moves along ∏(x − xᵢ). The "
                     "procedure, not the data, chose the solution.")
    else:
        needed = analysis.get("converge_steps")
        hint = (f"about {needed:,.0f} steps are needed at this step size" if needed
                else "the step size is too large to converge")
        lines.append(head + f" — it has not landed on it ({hint}).")
    lines.append(_ridge_sentence([r for r in rows if r["model"] == "ridge"]))
    return lines


def _ridge_sentence(ridges: list[dict[str, Any]]) -> str:
    ordered = sorted(ridges, key=lambda r: -r["ridge"])
    large, small = ordered[0], ordered[-1]
    distances = [r["distance_to_min_norm"] for r in ordered]
    head = (f"Ridge has one solution for each λ: {large['distance_to_min_norm']:.2e} from "
            f"the minimum-norm fit at λ = {large['ridge']:g} (largest residual "
            f"{large['max_residual']:.2e}), {small['distance_to_min_norm']:.2e} at "
            f"λ = {small['ridge']:g}")
    shrinking = all(b <= a * (1 + 1e-9) + 1e-15 for a, b in itertools.pairwise(distances))
    if len(ordered) > 1 and shrinking and small["distance_to_min_norm"] < 1e-3:
        return head + " — as λ → 0 ridge tends to the minimum-norm interpolant."
    return head + (" — in this run the distance does not shrink steadily to zero as λ "
                   "falls, so these penalties do not show ridge approaching the "
                   "minimum-norm fit.")


def plot_family(rows: list[dict[str, Any]], analysis: dict[str, Any], path: Path) -> Path:
    """The points, the family of exact fits, the minimum-norm fit, descent and ridge."""
    x = np.asarray(analysis["x"])
    grid = np.linspace(x.min() - 0.1 * np.ptp(x), x.max() + 0.1 * np.ptp(x), 400)
    basis = vandermonde(scale(grid, x))
    fig, ax = plots.figure(width=9.5)
    cmap = plots.plt.get_cmap("viridis")
    ridges = sorted((r for r in rows if r["model"] == "ridge"), key=lambda r: r["ridge"])
    for row in rows:
        c = np.array([row[f"c{k}"] for k in range(DEGREE + 1)])
        curve = basis @ c
        if row["model"] == "family":
            ax.plot(grid, curve, color="#999", lw=0.9)
        elif row["model"] == "cubic":
            ax.plot(grid, curve, color="#d0704a", lw=1.4, label=f"cubic (t = {row['t']:+.2f})")
        elif row["model"] == "min-norm":
            ax.plot(grid, curve, color="k", lw=2.6, label="minimum norm (t = 0)")
        elif row["model"] == "gradient-descent":
            ax.plot(grid, curve, color="#4a6fd0", ls="--", lw=1.6,
                    label=f"gradient descent from 0 ({row['steps']:,} steps)")
    for i, row in enumerate(ridges):
        c = np.array([row[f"c{k}"] for k in range(DEGREE + 1)])
        ax.plot(grid, basis @ c, color=cmap(i / max(1, len(ridges) - 1)), lw=0.9, ls=":",
                label=f"ridge λ = {row['ridge']:g}")
    ax.plot([], [], color="#999", lw=0.9, label="min-norm + t·∏(x − xᵢ)")
    ax.scatter(x, analysis["y"], color="crimson", zorder=5, s=40, label="the four points")
    span = np.ptp(analysis["y"]) or 1.0
    ax.set_ylim(min(analysis["y"]) - 1.5 * span, max(analysis["y"]) + 1.5 * span)
    ax.set_xlabel("x")
    ax.set_ylabel("p(x)")
    ax.set_title("Degree 4 through 4 points: a line of exact fits")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return plots.save(fig, path)


def plot_convergence(rows: list[dict[str, Any]], analysis: dict[str, Any],
                     path: Path) -> Path:
    """Distance to the minimum-norm fit: gradient descent by step, ridge by λ."""
    fig, (left, right) = plots.plt.subplots(1, 2, figsize=(9, 3.8))
    steps, distance = zip(*analysis["descent_distance"], strict=True)
    left.loglog(steps, np.maximum(distance, 1e-17), color="#4a6fd0")
    left.axhline(LANDED, color="crimson", ls="--", lw=0.8, label=f"{LANDED:g}")
    left.set_xlabel("gradient-descent step")
    left.set_ylabel("‖c − c_min‖")
    left.set_title("Gradient descent from zero")
    left.legend(fontsize=8)
    ridges = sorted((r for r in rows if r["model"] == "ridge" and r["ridge"] > 0),
                    key=lambda r: r["ridge"])
    right.loglog([r["ridge"] for r in ridges],
                 [max(r["distance_to_min_norm"], 1e-17) for r in ridges], "o-",
                 color="#6a9a5a")
    right.set_xlabel("ridge λ")
    right.set_ylabel("‖c_λ − c_min‖")
    right.set_title("Ridge as λ → 0")
    return plots.save(fig, path)


EXPERIMENT = Experiment(
    name=NAME,
    help="degree 4 through 4 points: the line of exact fits and who picks one",
    description="The one-parameter family of exact degree-4 interpolants of four points, the "
    "minimum-norm one (pseudo-inverse), gradient descent from zero landing on it, and ridge's "
    "unique solutions approaching it as λ → 0.",
    config=PolynomialConfig,
    add_options=add_options,
    build_config=build_config,
    run=run,
    columns=COLUMNS,
    report=report,
    order=60,
    display=DISPLAY,
    demo=demo_config,
    example=("--steps", "2000"),
    executors=False,  # closed-form fits: nothing to send to workers
)
