"""The random-labels study's report: Zhang et al.'s observations — the network fits every
noise level, test accuracy falls to chance, memorizing noise takes longer — or their opposite,
from this run's numbers."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.lab.experiments.random_labels import FITTED, NEAR_CHANCE
from paramlab.lab.report import plots, tables
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Analysis
from paramlab.lab.store import RunStore


def console_lines(store: RunStore, analysis: Analysis | None) -> list[str]:
    return random_label_sentences(store.rows())[1:3]


def section(store: RunStore, analysis: Analysis | None, plots_dir: Path) -> Section:
    rows = sorted(store.rows(), key=lambda r: (r["label_noise"], r["repeat"]))
    return Section(
        f"Random labels: {rows[0]['model']} on {rows[0]['observations']:,} examples",
        random_label_sentences(rows),
        [plot_accuracy(rows, plots_dir / "random_labels_accuracy.png"),
         plot_fit_epochs(rows, store.history(), plots_dir / "random_labels_fit.png")],
        [tables.rows_table("Every model", rows, [
            "model_id", "params", "observations", "labels_changed", "train_metric",
            "test_metric", "epochs_to_fit", "train_loss"])],
    )


def random_label_sentences(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Zhang et al.'s observations, or their opposite, from this run's numbers."""
    by_noise: dict[float, list[dict[str, Any]]] = {}
    for r in rows:
        by_noise.setdefault(r["label_noise"], []).append(r)
    levels = sorted(by_noise)
    first = rows[0]
    chance = first["chance"]

    def mean(level: float, key: str) -> float:
        return float(np.mean([r[key] for r in by_noise[level]]))

    lines = [f"The same network, {first['model']} ({first['params']:,} parameters), was "
             f"trained on {first['observations']:,} examples with "
             f"{', '.join(f'{f:.0%}' for f in levels)} of the labels randomized."]
    unfit = [f for f in levels if mean(f, "train_metric") < FITTED]
    worst = min(levels, key=lambda f: mean(f, "train_metric"))
    if not unfit:
        lines.append(f"It fit every one of them: training accuracy at least "
                     f"{mean(worst, 'train_metric'):.1%} at every noise level — capacity to fit "
                     "the training set, even pure noise, says nothing about generalization.")
    else:
        lines.append(f"It did not fit them all: training accuracy "
                     f"{mean(worst, 'train_metric'):.1%} at {worst:.0%} noise (below "
                     f"{FITTED:.0%} at {', '.join(f'{f:.0%}' for f in unfit)}) — more "
                     "epochs or a wider network are needed to memorize.")
    low, high = levels[0], levels[-1]
    clean_test, noisy_test = mean(low, "test_metric"), mean(high, "test_metric")
    head = (f"Test accuracy (clean test labels) is {clean_test:.1%} at {low:.0%} noise and "
            f"{noisy_test:.1%} at {high:.0%}, chance being {chance:.0%}")
    if high >= 1.0 and abs(noisy_test - chance) <= NEAR_CHANCE and clean_test > chance + 0.2:
        lines.append(head + ": on random labels the network learned nothing that transfers, "
                     "on real ones it generalizes — the same parameter count, so the count "
                     "alone cannot explain generalization.")
    elif clean_test > noisy_test + 0.1:
        lines.append(head + ": generalization falls as the labels lose their meaning.")
    else:
        lines.append(head + ": in this run the noise did not lower test accuracy much.")
    lines.append(_fit_time_sentence(levels, by_noise))
    changed = max(by_noise[high], key=lambda r: r["labels_changed"])
    if changed["labels_changed"]:
        lines.append(f"At {high:.0%} noise, {changed['labels_changed']:,} of the "
                     f"{changed['observations']:,} training labels differ from the truth; "
                     f"{'memorizing' if changed['train_metric'] >= FITTED else 'fitting'} them "
                     f"took {changed['params']:,} parameters — "
                     f"{changed['params'] / changed['labels_changed']:,.1f} per label "
                     "memorized.")
    return lines


def _fit_time_sentence(levels: list[float], by_noise: dict[float, list[dict[str, Any]]]) -> str:
    epochs = {f: [r["epochs_to_fit"] for r in by_noise[f]] for f in levels}
    reached = {f: float(np.mean(e)) for f, e in epochs.items() if all(v is not None for v in e)}
    listed = "; ".join(f"{f:.0%}: {reached[f]:.0f}" if f in reached else f"{f:.0%}: never"
                       for f in levels)
    head = f"Epochs until training accuracy first reached 100 % — {listed}"
    values = [reached[f] for f in levels if f in reached]
    if len(values) == len(levels) > 1 and all(b > a for a, b in itertools.pairwise(values)):
        return head + ": memorizing noise takes longer, the more of it there is."
    if len(values) > 1 and values[-1] > values[0]:
        return head + (": noisier labels took longer overall, though not longer at every "
                       "step (or not every level fit).")
    return head + ": in this run more noise did not take longer to fit."


def plot_accuracy(rows: list[dict[str, Any]], path: Path) -> Path:
    """Training and test accuracy against the fraction of random labels, chance marked."""
    fig, ax = plots.figure()
    noise = [r["label_noise"] for r in rows]
    ax.plot(noise, [100 * r["train_metric"] for r in rows], "v-", label="training accuracy")
    ax.plot(noise, [100 * r["test_metric"] for r in rows], "o-", label="test accuracy")
    ax.axhline(100 * rows[0]["chance"], color="crimson", ls="--", label="chance")
    ax.set_xlabel("fraction of training labels randomized")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 103)
    ax.set_title(f"{rows[0]['model']}: training and test accuracy against label noise")
    ax.legend(loc="center left")
    return plots.save(fig, path)


def plot_fit_epochs(rows: list[dict[str, Any]], history: dict[str, list[dict[str, float]]],
                    path: Path) -> Path:
    """Training loss per epoch for each noise level, with the epoch it fit marked."""
    fig, ax = plots.figure()
    cmap = plots.plt.get_cmap("viridis")
    for row in rows:
        if row["repeat"]:
            continue
        epochs = history.get(row["model_id"], [])
        color = cmap(row["label_noise"])
        ax.plot([e["epoch"] for e in epochs], [e["train_loss"] for e in epochs], color=color,
                label=f"{row['label_noise']:.0%} random")
        if row["epochs_to_fit"]:
            ax.axvline(row["epochs_to_fit"], color=color, ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("epoch (dotted: first epoch with 100 % training accuracy)")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title("Training loss per epoch, by fraction of random labels")
    ax.legend(fontsize=8)
    return plots.save(fig, path)
