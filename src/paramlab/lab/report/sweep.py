"""The sweep's report: the seed question answered from the run's own numbers, whichever
way they point — how many networks have more parameters than observations, how their
validation losses compare, and how far apart training and validation loss are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paramlab.lab.report import numbers, plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import MODEL_DISPLAY, Analysis
from paramlab.lab.store import RunStore


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    rows = store.rows()
    observations = rows[0]["observations"]
    figures = [
        plots.loss_vs_params(rows, observations, plots_dir / "val_loss_vs_params.png"),
        plots.train_vs_val(rows, observations, plots_dir / "train_vs_val.png"),
        plots.learning_curves(store.history(), rows, plots_dir / "learning_curves.png"),
    ]
    ordered = sorted(rows, key=lambda r: r["params"])
    return Section(
        f"Sweep: {len(rows)} random architectures",
        sweep_sentences(rows, store.config()),
        figures,
        [tables.rows_table("Every model", ordered, MODEL_DISPLAY),
         *tables.architecture_tables([ordered[0]["spec"], ordered[-1]["spec"]])],
        finding(rows),
    )


def medians(rows: list[dict[str, Any]]) -> tuple[float, float] | None:
    """Median validation loss of the networks with more parameters than observations and
    of the others; ``None`` unless the run has both kinds."""
    n = rows[0]["observations"]
    over = [r["val_loss"] for r in rows if r["params"] > n]
    under = [r["val_loss"] for r in rows if r["params"] <= n]
    return (tables.median(over), tables.median(under)) if over and under else None


def finding(rows: list[dict[str, Any]]) -> str:
    """The section's one line: did the networks with more parameters than observations
    generalize as well as the others?"""
    n = rows[0]["observations"]
    over = sum(r["params"] > n for r in rows)
    head = f"{over} of {len(rows)} networks have more parameters than observations"
    pair = medians(rows)
    if pair is None:
        return head + "."
    better = "no worse" if pair[0] <= pair[1] else "worse"
    return (head + f"; they generalize {better} than the others (median validation loss "
            f"{numbers.number(pair[0])} against {numbers.number(pair[1])}).")


def sweep_sentences(rows: list[dict[str, Any]], config: dict[str, Any]) -> list[str]:
    """The seed question answered from this run's numbers — whichever way they point."""
    n = rows[0]["observations"]
    over = [r for r in rows if r["params"] > n]
    under = [r for r in rows if r["params"] <= n]
    largest = max(rows, key=lambda r: r["params"])
    smallest = min(rows, key=lambda r: r["params"])
    best = min(rows, key=lambda r: r["val_loss"])
    data = config.get("data", {}).get("data", "the data")
    lines = [
        f"{len(rows)} networks were trained on {n:,} observations of {data}; "
        f"{len(over)} of them have more trainable parameters than observations.",
        f"The largest ({largest['spec']}) has {largest['params']:,} parameters — "
        f"{largest['params'] / n:,.1f} per observation — and reached validation loss "
        f"{numbers.number(largest['val_loss'])} (training loss "
        f"{numbers.number(largest['train_loss'])}); the smallest "
        f"({smallest['spec']}, {smallest['params']:,} parameters) reached "
        f"{numbers.number(smallest['val_loss'])}.",
        f"The best validation loss, {numbers.number(best['val_loss'])}, came from "
        f"{best['spec']} with "
        f"{best['params']:,} parameters ({best['params'] / n:,.2f} per observation).",
    ]
    if over and under:
        lines.append(_over_vs_under(over, under))
    if over:
        gap = tables.median([r["val_loss"] - r["train_loss"] for r in over])
        lines.append(_gap_sentence(gap, tables.median([r["val_loss"] for r in over])))
    return lines


def _over_vs_under(over: list[dict[str, Any]], under: list[dict[str, Any]]) -> str:
    median_over = tables.median([r["val_loss"] for r in over])
    median_under = tables.median([r["val_loss"] for r in under])
    head = (f"Median validation loss is {numbers.number(median_over)} for the networks with more "
            f"parameters than observations and {numbers.number(median_under)} for the others — ")
    if median_over <= median_under:
        return head + ("lower for the over-parameterized ones: having more parameters than "
                       "observations did not by itself ruin generalization.")
    return head + ("higher for the over-parameterized ones: in this run the larger networks "
                   "did generalize worse (too few epochs, too little data, or overfitting — "
                   "the regularization and double-descent studies separate these).")


def _gap_sentence(gap: float, val_median: float) -> str:
    head = (f"For the over-parameterized networks the median gap between validation and "
            f"training loss is {numbers.number(gap)}")
    if gap <= 0.5 * val_median:
        return head + (": the training data constrain the function, not each weight. The "
                       "weights are not determined by the data — see the refits — yet the "
                       "predictions largely are.")
    return head + (", large beside their validation loss: these networks fit the training "
                   "data much better than new data, so here the extra parameters went into "
                   "memorizing.")


