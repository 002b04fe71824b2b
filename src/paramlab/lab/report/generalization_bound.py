"""The generalization bound's report: the certified error of the quantized network beside its
measured test error and the trivial bound, in sentences that name the loss bounded."""

from __future__ import annotations

from pathlib import Path

from paramlab.lab.experiments.generalization_bound import DISPLAY, GeneralizationBoundAnalysis
from paramlab.lab.report import plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis, Row
from paramlab.lab.store import RunStore


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    assert isinstance(analysis, GeneralizationBoundAnalysis)
    rows = sorted(store.rows(), key=lambda r: (r["d"], r["levels"]))
    figure = bound_plot(rows, analysis, plots_dir / "generalization_bound.png")
    return Section(f"A certified bound for {analysis.spec}: {analysis.bound:.1%} "
                   f"({'vacuous' if analysis.vacuous else 'non-vacuous'})",
                   sentences(analysis), [figure],
                   [tables.rows_table("Every (d, L)", rows, DISPLAY)])


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    assert isinstance(analysis, GeneralizationBoundAnalysis)
    return sentences(analysis)


def loss_words(a: GeneralizationBoundAnalysis) -> str:
    """The bounded loss, named in every sentence that gives a number."""
    if a.tau is None:
        return "0-1 error (misclassified fraction)"
    return f"τ-error (fraction of points with |ŷ − y| > τ = {a.tau:.4g})"


def sentences(a: GeneralizationBoundAnalysis) -> list[str]:
    loss = loss_words(a)
    lines = [
        f"{a.spec} has {a.params:,} parameters for n = {a.n_train:,} training observations. "
        f"Trained in a random {a.d:,}-dimensional subspace and quantized to {a.levels} levels "
        f"(the best of {a.grid_size} (d, L) pairs declared before training, the choice paid "
        f"for in bits), it is described by a message of {a.message_bits:,.0f} bits "
        f"({a.message_bits / a.params:.3f} bits per raw parameter).",
        f"With probability ≥ {1 - a.delta:.0%} over the training sample, the quantized "
        f"network's {loss} on new data is at most {a.bound:.1%} (Occam / kl-inverse bound; "
        f"Lotfi et al.'s Catoni form gives {a.catoni_bound:.1%}); its {loss} is "
        f"{a.train_error:.1%} on the training set and {a.test_error:.1%} "
        f"(± {a.test_sampling_error:.1%}) on {a.n_test:,} test points.",
        *prior_sentence(a),
        verdict(a),
    ]
    if a.bound < a.test_error - a.test_sampling_error:
        lines.append(f"Warning: the bound lies below the measured {loss} by more than its "
                     "sampling error — the bound's assumptions (i.i.d. splits, a prior fixed "
                     "before the data) deserve a check.")
    return lines


def prior_sentence(a: GeneralizationBoundAnalysis) -> list[str]:
    """With a data-dependent prior, what it took and why the bound still holds; nothing
    without one."""
    if not a.n_prior:
        return []
    alone = ("" if a.prior_test_error is None else
             f" (that network alone: {a.prior_test_error:.1%} {loss_words(a)} on the test set)")
    return [f"The prior is data-dependent (Lotfi et al.'s data-dependent priors): the whole "
            f"network was first trained on {a.n_prior:,} other training rows{alone}, and "
            f"every subspace starts at those weights. The bound is over the n = "
            f"{a.n_train:,} rows that prior never saw, not over all "
            f"{a.n_prior + a.n_train:,}; it certifies the fine-tuned message, not the "
            "network trained from scratch."]


def verdict(a: GeneralizationBoundAnalysis) -> str:
    """Vacuous or not, against the trivial bound; computed, so it flips with the numbers."""
    if a.vacuous:
        return (f"The bound is vacuous: {a.bound:.1%} is no better than the trivial bound "
                f"({a.trivial_name}: {a.trivial:.1%} {loss_words(a)}); this run certifies "
                "nothing (a lower training error, more data or a shorter message would "
                "tighten it).")
    outnumber = "outnumber" if a.params > a.n_train else "do not even outnumber"
    return (f"The bound is non-vacuous: {a.bound:.1%} is below the trivial bound "
            f"({a.trivial_name}: {a.trivial:.1%} {loss_words(a)}), and the {a.params:,} "
            f"parameters {outnumber} the {a.n_train:,} observations: what the bound counts is "
            "the message, not the parameters.")


def bound_plot(rows: list[Row], a: GeneralizationBoundAnalysis, path: Path) -> Path:
    """Against d, for each L: the Occam bound and the quantized test error; the trivial
    bound drawn in."""
    fig, ax = plots.figure()
    for levels in sorted({r["levels"] for r in rows}):
        mine = [r for r in rows if r["levels"] == levels]
        line = ax.plot([r["d"] for r in mine], [r["occam_bound"] for r in mine], "o-",
                       label=f"bound, L = {levels}")[0]
        ax.plot([r["d"] for r in mine], [r["test_error"] for r in mine], "x:",
                color=line.get_color(), label=f"test error, L = {levels}")
    ax.axhline(a.trivial, color="crimson", ls="--", label=f"{a.trivial_name}")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("subspace dimension d (log scale)")
    ax.set_ylabel(a.loss)
    ax.set_title(f"{a.spec}: bound at δ = {a.delta:g}, n = {a.n_train:,}")
    ax.legend(loc="best", fontsize=7)
    return plots.save(fig, path)
