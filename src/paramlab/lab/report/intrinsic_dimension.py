"""The intrinsic dimension's report: d_int90 per label setting beside D and the
observations, in sentences computed from the typed analysis, and performance against d."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paramlab.lab.experiments.intrinsic_dimension import (
    DISPLAY,
    IntrinsicDimensionAnalysis,
    LabelResult,
)
from paramlab.lab.report import plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis, Row
from paramlab.lab.store import RunStore

MEMORIZED = 0.9  # a full network below this training accuracy has not memorized shuffled labels
MANY_MORE = 10.0  # shuffled/true ratio that counts as "far more directions" (the 10×)


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    assert isinstance(analysis, IntrinsicDimensionAnalysis)
    rows = sorted(store.rows(), key=lambda r: (r["labels"], r["kind"], r["d"], r["seed"]))
    figure = performance_plot(rows, analysis, plots_dir / "intrinsic_dimension.png")
    return Section(f"Intrinsic dimension of {analysis.spec}: d_int90 against D = "
                   f"{analysis.params:,}", sentences(analysis), [figure],
                   [tables.rows_table("Every model", rows, DISPLAY)])


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    assert isinstance(analysis, IntrinsicDimensionAnalysis)
    return sentences(analysis)


def sentences(analysis: IntrinsicDimensionAnalysis) -> list[str]:
    """The setting, one sentence per label setting, and the shuffled/true comparison."""
    a = analysis
    lines = [f"{a.spec} has D = {a.params:,} parameters for {a.observations:,} training "
             f"observations; d_int90 is the smallest d on the grid ({a.dims[0]:,} … "
             f"{a.dims[-1]:,}, {len(a.dims)} values) whose mean over {a.seeds} seed(s) exceeds "
             f"{a.fraction:.0%} of the full network's performance, training only d directions "
             f"of a random {a.projection} subspace (Li et al. 2018)."]
    lines += [label_sentence(r, a.params, a.observations, a.dims) for r in a.results]
    by = {r.labels: r for r in a.results}
    if "true" in by and "shuffled" in by:
        lines.append(comparison_sentence(by["true"], by["shuffled"], a.dims))
    return lines


def label_sentence(r: LabelResult, params: int, observations: int,
                   dims: tuple[int, ...]) -> str:
    head = (f"{r.labels.capitalize()} labels: the full network's {r.measure} is "
            f"{r.full_performance:.3f}")
    if r.labels == "shuffled" and r.full_performance < MEMORIZED and not r.note:
        head += (f" — it memorizes only part of the shuffled labels in this training budget, "
                 f"so d_int90 measures reaching {r.threshold:.3f}, not memorizing them all")
    if r.note:
        return f"{head}; no d_int90: {r.note}."
    if r.d_int90 is None:
        return (f"{head}; no d up to {dims[-1]:,} reaches {r.threshold:.3f}, so d_int90 > "
                f"{dims[-1]:,} ({dims[-1] / params:.2%} of D) — extend --dims.")
    between = f"between {r.below:,} and {r.d_int90:,}" if r.below else \
        f"at or below {r.d_int90:,} (the grid's first value)"
    spread = (f"per seed {r.seed_min:,}–{r.seed_max:,}" if r.seed_min is not None else
              "no single seed reaches it alone")
    if r.seeds_not_reached and r.seed_min is not None:
        spread += f", {r.seeds_not_reached} seed(s) never reaching it"
    share = r.d_int90 / params
    verdict = (f"the task needs about {share:.2%} of the raw directions, "
               f"{params / r.d_int90:,.0f}× fewer than D" if share < 0.5 else
               "the task needs most of the raw directions")
    per_obs = ("fewer directions than observations" if r.d_int90 < observations else
               "at least as many directions as observations")
    return (f"{head}; d_int90 = {r.d_int90:,} (the crossing lies {between}; {spread}): "
            f"{verdict}, and {per_obs} ({r.d_int90:,} vs {observations:,}).")


def comparison_sentence(true: LabelResult, shuffled: LabelResult,
                        dims: tuple[int, ...]) -> str:
    """Shuffled against true labels, as far as the grid says."""
    if true.d_int90 is None or true.note:
        return "Shuffled and true labels cannot be compared: true labels have no d_int90."
    if shuffled.note:
        return "Shuffled and true labels cannot be compared: shuffled labels have no d_int90."
    if shuffled.d_int90 is None:
        ratio = dims[-1] / true.d_int90
        return (f"Shuffled labels need more than {dims[-1]:,} directions, over {ratio:,.0f}× "
                f"the {true.d_int90:,} of true labels: memorizing noise takes capacity the "
                "structure of true labels does not.")
    ratio = shuffled.d_int90 / true.d_int90
    if ratio >= MANY_MORE:
        return (f"Shuffled labels need {ratio:,.0f}× the directions of true labels "
                f"({shuffled.d_int90:,} vs {true.d_int90:,}): memorizing noise takes capacity "
                "the structure of true labels does not.")
    return (f"Shuffled labels need {ratio:,.1f}× the directions of true labels "
            f"({shuffled.d_int90:,} vs {true.d_int90:,}), less than {MANY_MORE:.0f}×: on this "
            "grid and training budget memorizing noise is not much harder than learning the "
            "task.")


def performance_plot(rows: list[Row], analysis: IntrinsicDimensionAnalysis,
                     path: Path) -> Path:
    """Performance against d per label setting (each seed, their mean), with the full
    network's level, the 90 % threshold and d_int90 marked."""
    fig, ax = plots.figure()
    for r in analysis.results:
        sub = [row for row in rows if row["labels"] == r.labels and row["kind"] == "subspace"]
        dims = sorted({row["d"] for row in sub})
        mean = [np.mean([row["performance"] for row in sub if row["d"] == d]) for d in dims]
        line = ax.plot(dims, mean, "o-", label=f"{r.labels} labels ({r.measure})")[0]
        ax.plot([row["d"] for row in sub], [row["performance"] for row in sub], ".",
                color=line.get_color(), alpha=0.4)
        ax.axhline(r.threshold, color=line.get_color(), ls="--", lw=1,
                   label=f"90 % of full ({r.threshold:.3f})")
        if r.d_int90 is not None:
            ax.axvline(r.d_int90, color=line.get_color(), ls=":",
                       label=f"d_int90 = {r.d_int90:,}")
    ax.set_xscale("log")
    ax.set_xlabel("subspace dimension d (log scale)")
    ax.set_ylabel("performance")
    ax.set_title(f"{analysis.spec}: D = {analysis.params:,}, {analysis.observations:,} "
                 "observations")
    ax.legend(loc="best", fontsize=8)
    return plots.save(fig, path)
