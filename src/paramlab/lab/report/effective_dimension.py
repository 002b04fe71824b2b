"""The effective dimensionality's report: what the Hessian spectra say — N_eff levels off
or keeps growing with width, as the numbers have it. Reads the typed analysis (convention,
z) and the results rows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from paramlab.lab.experiments.effective_dimension import DISPLAY, EffectiveDimensionAnalysis
from paramlab.lab.report import plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis, Row
from paramlab.lab.store import RunStore


def _rows(store: RunStore) -> list[Row]:
    return sorted(store.rows(), key=lambda r: (r["params"], r["seed"]))


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    assert isinstance(analysis, EffectiveDimensionAnalysis)
    rows = _rows(store)
    figures = []
    if len({r["width"] for r in rows}) > 1:
        figures.append(width_plot(rows, plots_dir / "effective_dimension_widths.png"))
    figures.append(spectrum_plot(store, rows[-1], plots_dir / "effective_dimension_spectrum.png"))
    return Section(f"Effective dimensionality: {len(rows)} Hessian spectra",
                   sentences(rows, analysis), figures,
                   [tables.rows_table("Every model", rows, DISPLAY)])


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    assert isinstance(analysis, EffectiveDimensionAnalysis)
    return [f"{analysis.convention}; z = {analysis.z:g}; N_eff marked 'top-k lower bound' "
            "counts only the computed eigenvalues", *sentences(_rows(store), analysis)[1:]]


def sentences(rows: list[Row], analysis: EffectiveDimensionAnalysis) -> list[str]:
    """What the spectra say — levels off or keeps growing, as the numbers have it."""
    rows = sorted(rows, key=lambda r: (r["params"], r["seed"]))
    z = analysis.z
    lines = [f"Convention: {analysis.convention}, z = {z:g}; N_eff(z) = Σ λ/(λ + z) "
             "(Maddox, Benton and Wilson 2020), negative eigenvalues counted as 0."]
    lines.append(_model_sentence(rows[-1], z))
    by_width = _per_width(rows)
    if len(by_width) > 1:
        bounded = any(r["n_eff_method"] == "top-k lower bound" for r in rows)
        lines.append(_growth_sentence(by_width, rows[0]["observations"], bounded))
    return lines


def _model_sentence(row: Row, z: float) -> str:
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


def _per_width(rows: list[Row]) -> list[tuple[int, float, float]]:
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


def width_plot(rows: list[Row], path: Path) -> Path:
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


def spectrum_plot(store: RunStore, row: Row, path: Path) -> Path:
    """The computed eigenvalues of the largest model, largest first, against z."""
    values = store.load_arrays(f"{row['model_id']}.spectrum")["eigenvalues"]
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
