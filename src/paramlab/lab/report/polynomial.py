"""The four-point polynomial's report: the line of exact fits, the minimum-norm member,
gradient descent landing on it and ridge approaching it — read from the run's numbers."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.lab.experiments.polynomial import INTERPOLATES, LANDED, PolynomialAnalysis
from paramlab.lab.report import plots, tables
from paramlab.lab.report.numbers import number
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis
from paramlab.lab.science.polynomial import DEGREE, scale, vandermonde
from paramlab.lab.store import RunStore


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    rows = {r["model_id"]: r for r in store.rows()}
    descended = rows["gradient-descent"]
    return [f"minimum-norm ‖c‖ = {rows['min-norm']['norm']:.4f} · gradient descent from zero "
            f"ended {number(descended['distance_to_min_norm'], 2)} from it after "
            f"{descended['steps']:,} steps"]


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    rows = store.rows()
    assert isinstance(analysis, PolynomialAnalysis)
    lines = polynomial_sentences(rows, analysis)
    return Section(
        "The four-point polynomial: a line of exact fits, and who picks one",
        lines,
        [plot_family(rows, analysis, plots_dir / "polynomial_family.png"),
         plot_convergence(rows, analysis, plots_dir / "polynomial_convergence.png")],
        [tables.rows_table("Every fit (coefficients of 1, u, …, u⁴)",
                              sorted(rows, key=_order), ["model_id", "t", "ridge",
                                                         "max_residual", "norm",
                                                         "distance_to_min_norm",
                                                         *(f"c{k}" for k in range(5))])],
        lines[1],  # whether every member drawn fits the four points: the finding
    )


def _order(row: dict[str, Any]) -> tuple[int, float, float]:
    kinds = ["min-norm", "gradient-descent", "cubic", "family", "ridge"]
    return kinds.index(row["model"]), -(row["ridge"] or 0.0), row["t"]


def polynomial_sentences(rows: list[dict[str, Any]], analysis: PolynomialAnalysis) -> list[str]:
    """The numbers of this run, read whichever way they point."""
    by_id = {r["model_id"]: r for r in rows}
    best, descended = by_id["min-norm"], by_id["gradient-descent"]
    exact = [r for r in rows if r["model"] in ("min-norm", "cubic", "family")]
    worst = max(r["max_residual"] for r in exact)
    ts = [r["t"] for r in exact]
    lines = [
        f"A degree-{DEGREE} polynomial has {best['params']} coefficients and {best['n_train']} "
        f"points give {best['n_train']} equations: the Vandermonde matrix has rank "
        f"{analysis.rank}, singular values "
        f"{', '.join(f'{s:.3g}' for s in analysis.singular_values)}.",
    ]
    if worst <= INTERPOLATES:
        lines.append(f"Every one of the {len(exact)} members drawn, the minimum-norm fit plus "
                     f"t·∏(x − xᵢ) for t from {min(ts):+.3g} to {max(ts):+.3g}, passes through "
                     f"all four points (largest residual {number(worst, 2)}): the data cannot tell "
                     "them apart.")
    else:
        lines.append(f"The members drawn do not all fit: the largest residual is "
                     f"{number(worst, 2)} — the points are too close together for floating "
                     "point to keep the null direction exact.")
    cubic = by_id.get("cubic")
    if cubic is not None:
        lines.append(f"The minimum-norm member (pseudo-inverse) has ‖c‖ = {best['norm']:.4f}; "
                     f"the cubic through the same points is the member t = {cubic['t']:+.4f}, "
                     f"with ‖c‖ = {cubic['norm']:.4f}.")
    distance = descended["distance_to_min_norm"]
    head = (f"Gradient descent from zero ({descended['steps']:,} steps of "
            f"{analysis.lr:.3g}) ended {number(distance, 2)} from the minimum-norm fit")
    if distance <= LANDED:
        lines.append(head + " — it landed on it: its gradients lie in the row space of the "
                     "Vandermonde matrix, so from zero it never moves along ∏(x − xᵢ). The "
                     "procedure, not the data, chose the solution.")
    else:
        needed = analysis.converge_steps
        hint = (f"about {needed:,.0f} steps are needed at this step size" if needed
                else "the step size is too large to converge")
        lines.append(head + f" — it has not landed on it ({hint}).")
    lines.append(_ridge_sentence([r for r in rows if r["model"] == "ridge"]))
    return lines


def _ridge_sentence(ridges: list[dict[str, Any]]) -> str:
    ordered = sorted(ridges, key=lambda r: -r["ridge"])
    large, small = ordered[0], ordered[-1]
    distances = [r["distance_to_min_norm"] for r in ordered]
    head = (f"Ridge has one solution for each λ: {number(large['distance_to_min_norm'])} from "
            f"the minimum-norm fit at λ = {number(large['ridge'])} (largest residual "
            f"{number(large['max_residual'])}), {number(small['distance_to_min_norm'])} at "
            f"λ = {number(small['ridge'])}")
    shrinking = all(b <= a * (1 + 1e-9) + 1e-15 for a, b in itertools.pairwise(distances))
    if len(ordered) > 1 and shrinking and small["distance_to_min_norm"] < 1e-3:
        return head + " — as λ → 0 ridge tends to the minimum-norm interpolant."
    return head + (" — in this run the distance does not shrink steadily to zero as λ "
                   "falls, so these penalties do not show ridge approaching the "
                   "minimum-norm fit.")


def plot_family(rows: list[dict[str, Any]], analysis: PolynomialAnalysis, path: Path) -> Path:
    """The points, the family of exact fits, the minimum-norm fit, descent and ridge."""
    x = np.asarray(analysis.x)
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
    ax.scatter(x, analysis.y, color="crimson", zorder=5, s=40, label="the four points")
    span = np.ptp(analysis.y) or 1.0
    ax.set_ylim(min(analysis.y) - 1.5 * span, max(analysis.y) + 1.5 * span)
    ax.set_xlabel("x")
    ax.set_ylabel("p(x)")
    ax.set_title("Degree 4 through 4 points: a line of exact fits")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return plots.save(fig, path)


def plot_convergence(rows: list[dict[str, Any]], analysis: PolynomialAnalysis,
                     path: Path) -> Path:
    """Distance to the minimum-norm fit: gradient descent by step, ridge by λ."""
    fig, (left, right) = plots.plt.subplots(1, 2, figsize=(9, 3.8))
    steps, distance = zip(*analysis.descent_distance, strict=True)
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
