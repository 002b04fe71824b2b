"""The pruning study's report: how few of its weights a network needs (the smallest fraction
kept within the tolerance of the dense accuracy), whether the rewound ticket beats the same
mask from a random initialization, and how noisy the test set makes the comparison — every
sentence computed from the run and able to say the opposite."""

from __future__ import annotations

from pathlib import Path

from paramlab.lab.experiments.prune import PruneAnalysis
from paramlab.lab.report import plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis
from paramlab.lab.store import RunStore


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    assert isinstance(analysis, PruneAnalysis)
    return prune_sentences(analysis)[:2]


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    assert isinstance(analysis, PruneAnalysis)
    rows = [{"round": p.round, "kept_fraction": p.kept_fraction,
             "ticket_accuracy": p.ticket_accuracy, "control_accuracy": p.control_accuracy,
             "train_accuracy": p.train_accuracy} for p in analysis.curve]
    return Section(
        "Pruning: how many of its weights the network needs (lottery tickets)",
        prune_sentences(analysis),
        [plot_accuracy_vs_kept(analysis, plots_dir / "prune_accuracy_vs_kept.png")],
        [tables.rows_table("Rounds (means over seeds)", rows, list(rows[0]))])


def prune_sentences(analysis: PruneAnalysis) -> list[str]:
    """The verdicts: the headline fraction, the control, the sampling noise."""
    return [_kept_sentence(analysis), _control_sentence(analysis), _noise_sentence(analysis)]


def _kept_sentence(a: PruneAnalysis) -> str:
    tolerance = f"within {a.within:g} point{'s' if a.within != 1 else ''}"
    head = (f"Pruned by magnitude {len(a.curve) - 1} times ({a.rate:.0%} of the kept hidden "
            f"weights a round, the output layer at {a.output_rate:.0%}) and rewound to its "
            f"initial weights each time, {a.spec} ({a.weights:,} weights, {a.params:,} "
            f"parameters, {a.observations:,} training observations)")
    if a.kept_fraction is None or a.kept_fraction >= 1:
        best = max(a.curve[1:], key=lambda p: p.ticket_accuracy, default=None)
        detail = "" if best is None else (
            f"; the best pruned ticket ({best.kept_fraction:.1%} kept) reached "
            f"{best.ticket_accuracy:.1%}")
        return (head + f" never stayed {tolerance} of its dense test accuracy "
                f"{a.dense_accuracy:.1%}{detail}: here every pruning round cost accuracy.")
    kept = round(a.kept_fraction * a.weights)
    than = ("still more than" if kept > a.observations
            else "no more than")
    return (head + f" kept its test accuracy {tolerance} of the dense network's "
            f"{a.dense_accuracy:.1%} down to {a.kept_fraction:.1%} of its weights "
            f"({kept:,} weights, ticket accuracy {a.ticket_accuracy:.1%}): "
            f"{1 - a.kept_fraction:.0%} of the weights were not needed — the remaining "
            f"{kept:,} are {than} the {a.observations:,} observations.")


def _control_sentence(a: PruneAnalysis) -> str:
    if a.control_accuracy is None or a.ticket_accuracy is None:
        return ("No pruned ticket matched the dense network, so there is no fraction at which "
                "to compare the rewound ticket with a random reinitialization of its mask.")
    gap = 100 * (a.ticket_accuracy - a.control_accuracy)
    head = (f"The same mask trained from a random initialization reached "
            f"{a.control_accuracy:.1%} at {a.kept_fraction:.1%} kept")
    if gap > 0:
        also = (f", yet still within {a.within:g} point of the dense network: at this fraction "
                "the mask alone nearly suffices" if a.control_within else
                f", outside the {a.within:g}-point tolerance")
        return (head + f", {gap:.1f} points below the rewound ticket{also}; the surviving "
                "weights' initial values, not the mask alone, make the winning ticket "
                "(Frankle & Carbin 2019).")
    level = "as good as" if gap == 0 else f"{-gap:.1f} points above"
    return (head + f", {level} the rewound ticket: here the initial "
            "values did not matter — the mask alone carries the small network, so this run "
            "shows no winning ticket.")


def _noise_sentence(a: PruneAnalysis) -> str:
    se = 100 * a.sampling_error
    head = (f"On {a.n_test:,} test observations one standard error of an accuracy near "
            f"{a.dense_accuracy:.1%} is {se:.1f} points")
    seeds = f" (averaged over {a.seeds} seeds)" if a.seeds > 1 else ""
    if a.within < 2 * se:
        return (head + f"{seeds}: the {a.within:g}-point tolerance lies within two standard "
                "errors, so the fraction kept is as noisy as the test set is small.")
    return (head + f"{seeds}: the {a.within:g}-point tolerance is wider than two standard "
            "errors, so the fraction kept is not an artifact of test-set noise.")


def plot_accuracy_vs_kept(a: PruneAnalysis, path: Path) -> Path:
    """Test accuracy against the fraction of weights kept (log axis, decreasing to the
    right as in Frankle & Carbin's figures): ticket with its seed range, control, the dense
    accuracy and its tolerance."""
    fig, ax = plots.figure()
    kept = [p.kept_fraction for p in a.curve]
    ticket = [100 * p.ticket_accuracy for p in a.curve]
    spread = [[100 * (p.ticket_accuracy - p.ticket_min) for p in a.curve],
              [100 * (p.ticket_max - p.ticket_accuracy) for p in a.curve]]
    ax.errorbar(kept, ticket, yerr=spread, fmt="o-", color="#4a6fd0", capsize=3,
                label="ticket (rewound to θ₀)")
    pruned = [p for p in a.curve if p.control_accuracy is not None]
    ax.plot([p.kept_fraction for p in pruned], [100 * (p.control_accuracy or 0) for p in pruned],
            "s--", color="#d07a4a", label="same mask, random initialization")
    dense = 100 * a.dense_accuracy
    ax.axhline(dense, color="k", lw=1, label=f"dense ({dense:.1f} %)")
    ax.axhspan(dense - a.within, dense, color="#bbb", alpha=0.3,
               label=f"within {a.within:g} point")
    if a.kept_fraction is not None:
        ax.axvline(a.kept_fraction, color="crimson", ls=":",
                   label=f"smallest matching: {a.kept_fraction:.1%} kept")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xticks(kept, [f"{k:.0%}" if k >= 0.095 else f"{k:.1%}" for k in kept], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel("fraction of weights kept (log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"Iterative magnitude pruning of {a.spec}")
    ax.legend(fontsize=8)
    return plots.save(fig, path)
