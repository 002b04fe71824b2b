"""The refits' report: same loss, different weights — or not, as the numbers say; the loss
barriers between refits; identified or not. Reads :class:`RefitAnalysis`'s attributes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from paramlab.lab.experiments.refit import RefitAnalysis
from paramlab.lab.report import plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis, Row
from paramlab.lab.science.barriers import BarrierSummary
from paramlab.lab.science.identification import Identification
from paramlab.lab.store import RunStore

IDENTIFICATION_DISPLAY = ("model", "params", "observations", "aligned_distance", "n_eff",
                          "n_eff_method", "eigenvalues_above_z", "smallest_eigenvalue",
                          "top_eigenvalue")


def _refit_rows(store: RunStore) -> list[Row]:
    return [r for r in store.rows() if r["model_id"].startswith("refit-")]


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    assert isinstance(analysis, RefitAnalysis)
    rows = _refit_rows(store)
    sentences = refit_sentences(analysis, rows)
    figures = [spread_plot(analysis, plots_dir / "refit_spread.png")]
    html = tables.architecture_tables([rows[0]["spec"]])
    if analysis.barrier is not None:
        sentences.append(barrier_sentence(analysis.barrier))
        figures.append(barrier_plot(analysis.barrier, plots_dir / "refit_barrier.png"))
    if analysis.contrast is not None:
        sentences += [identification_sentence(e) for e in analysis.contrast]
        html.append(tables.rows_table(
            "Identified or not", [dataclasses.asdict(e) for e in analysis.contrast],
            IDENTIFICATION_DISPLAY))
    return Section(f"Refits: {rows[0]['spec']} with {len(rows)} seeds", sentences, figures,
                   html)


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    """The spreads in one line; the barrier and identification verdicts when measured."""
    assert isinstance(analysis, RefitAnalysis)
    lines = [f"validation loss spread {analysis.val_loss_spread:.1%} · weight distance "
             f"{analysis.weight_distance:.0%} (aligned {analysis.aligned_distance:.0%}) · "
             f"prediction difference {analysis.prediction_difference:.1%}"]
    if analysis.barrier is not None:
        lines.append(barrier_sentence(analysis.barrier))
    if analysis.contrast is not None:
        lines += [identification_sentence(e) for e in analysis.contrast]
    return lines


def refit_sentences(analysis: RefitAnalysis, rows: list[Row]) -> list[str]:
    """The seed answer, measured — or contradicted, when the numbers say so."""
    n = analysis.observations or rows[0]["observations"]
    params = analysis.params or rows[0]["params"]
    same_loss = analysis.val_loss_spread < 0.1
    apart = analysis.aligned_distance > 0.2
    lines = [
        f"{len(rows)} refits of {rows[0]['spec']} ({params:,} parameters for {n:,} "
        f"observations, {params / n:,.1f} per observation) differ only in their random seed.",
        f"Their validation losses are within {analysis.val_loss_spread:.1%} of each other "
        f"(mean {analysis.val_loss_mean:.4f}).",
        f"Their weights are {'far apart' if apart else 'close'}: the mean relative distance "
        f"between two refits is {analysis.weight_distance:.0%} (cosine similarity "
        f"{analysis.weight_cosine:.2f}); after matching hidden units across refits it is "
        f"{analysis.aligned_distance:.0%} (cosine {analysis.aligned_cosine:.2f}).",
        f"Their test predictions differ by {analysis.prediction_difference:.1%} of the "
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


def barrier_sentence(summary: BarrierSummary) -> str:
    """Different basins or one; relabelled copies or genuinely different — from the numbers."""
    raw, matched, level = summary.raw_barrier, summary.aligned_barrier, summary.end_loss

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


def identification_sentence(entry: Identification) -> str:
    """Identified (the refits agree and every direction is curved) or not, from the numbers."""
    params, n_eff, z = entry.params, entry.n_eff, entry.z
    bound = "≥ " if entry.n_eff_method == "top-k lower bound" else (
        "≈ " if entry.n_eff_method == "top-k + SLQ" else "= ")
    head = (f"{entry.model[0].upper()}{entry.model[1:]} ({params:,} parameters, "
            f"{entry.observations:,} observations): its refits land "
            f"{entry.aligned_distance:.1e} apart after alignment, N_eff({z:g}) {bound}"
            f"{n_eff:,.1f}")
    smallest = entry.smallest_eigenvalue
    if entry.identified:
        tail = (f" and every Hessian eigenvalue is above z (smallest {smallest:.3g})"
                if smallest is not None and smallest > z else "")
        return head + tail + (" — identified: the data determine its parameters, whose "
                              "values therefore mean something.")
    return head + (f" of {params:,} ({n_eff / params:.1%}) — not identified: the data "
                   "determine its predictions, not its parameters.")


def spread_plot(analysis: RefitAnalysis, path: Path) -> Path:
    """How much refits differ: in validation loss, in weights (raw and aligned), in output."""
    labels = ["validation loss\n(max − min) / mean", "weights\nrelative L2",
              "weights after\nunit alignment", "test predictions\nRMS / target std"]
    values = [analysis.val_loss_spread, analysis.weight_distance, analysis.aligned_distance,
              analysis.prediction_difference]
    fig, ax = plots.figure(height=4.2)
    bars = ax.bar(labels, [100 * v for v in values],
                  color=["#4a6fd0", "#d0704a", "#e0a060", "#6a9a5a"])
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(f"{value:.1%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom")
    ax.set_ylabel("percent")
    ax.set_title("Refits: same loss, different weights")
    return plots.save(fig, path)


def barrier_plot(summary: BarrierSummary, path: Path) -> Path:
    """Training (solid) and test (dotted) loss along each path, raw and aligned."""
    fig, ax = plots.figure()
    for entry in summary.pairs:
        color = "tab:green" if entry.aligned else "tab:red"
        label = "after matching units" if entry.aligned else "raw"
        ax.plot(summary.ts, entry.train, "-", color=color, alpha=0.7,
                label=f"training loss, {label}")
        ax.plot(summary.ts, entry.test, ":", color=color, alpha=0.7,
                label=f"test loss, {label}")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="best")
    ax.set_xlabel("t along the straight path θ(t) = (1 − t)·θ_i + t·θ_j")
    ax.set_ylabel("loss")
    ax.set_title("Loss between two refits: the barrier, raw and after matching hidden units")
    return plots.save(fig, path)
