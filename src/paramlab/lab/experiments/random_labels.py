"""Random labels (Zhang, Bengio, Hardt, Recht & Vinyals 2017, "Understanding deep learning
requires rethinking generalization"): the same network, trained the same way, on the true
labels and on labels of which a fraction is replaced by uniformly random classes.

It fits them all — 100 % training accuracy even when every label is noise — so capacity to
fit the training set says nothing about generalization: test accuracy (on clean test labels)
falls to chance as the noise rises, while the parameter count stays the same. Memorizing noise
also takes longer: the first epoch at which training accuracy reaches 100 % grows with the
noise. The noisy labels are drawn once from the seed (one random order of the training rows
and one random class per row; the fraction f corrupts the first f·n rows of that order, so
the levels are nested) and never redrawn; there is no augmentation.

The engine evaluates the whole training set after every epoch here
(``TrainConfig.track_train_accuracy``), which gives the epoch at which a model fits.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.lab.report import plots
from paramlab.lab.report import tables as reporting
from paramlab.lab.data import Dataset
from paramlab.lab.engine import MLPArch, ModelResult, TrainConfig
from paramlab.lab.experiments import options, study_options
from paramlab.lab.experiments.base import (
    Column,
    DemoLevel,
    Experiment,
    Progress,
    RunOutcome,
    Section,
)
from paramlab.lab.experiments.common import (
    MODEL_COLUMNS,
    DataConfig,
    Planned,
    execute,
    open_store,
    row_of,
)
from paramlab.lab.store import RunStore

NAME = "random-labels"
FITTED = 0.99  # "fits the training set": training accuracy at least this
NEAR_CHANCE = 0.05  # test accuracy within this of chance


@dataclass
class RandomLabelsConfig:
    data: DataConfig = field(default_factory=lambda: DataConfig("digits"))
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=300, batch_size=32, lr=1e-3))
    hidden: tuple[int, ...] = (512,)  # hidden widths of the one network
    label_noise: tuple[float, ...] = (0.0, 0.2, 0.5, 0.8, 1.0)  # fractions of labels randomized
    n_train: int | None = None  # training rows used (None: the whole training split)
    repeats: int = 1  # initializations per noise level
    seed: int = 0  # the label draw and the initializations

    def validate(self) -> None:
        study_options.check_list("--label-noise", self.label_noise, low=0.0, high=1.0)
        study_options.check_list("--hidden", self.hidden, low=1)
        if self.n_train is not None and self.n_train < 2:
            raise ParamlabError(f"--n-train must be at least 2; received {self.n_train}")
        if self.repeats < 1:
            raise ParamlabError(f"--repeats must be at least 1; received {self.repeats}")
        if self.train.dropout or self.train.patience:
            raise ParamlabError("random-labels trains without dropout and early stopping (the "
                                "question is whether the network can fit the labels at all); "
                                "omit --dropout and --patience")
        self.train.validate()


COLUMNS = (
    *MODEL_COLUMNS,
    Column("model", str, "the network, e.g. 64-512-10"),
    Column("label_noise", float, "fraction of training labels replaced by random classes"),
    Column("repeat", int, "initialization index"),
    Column("n_train", int, "training rows (= observations)"),
    Column("train_accuracy", float, "on the labels it was given (= train_metric)"),
    Column("test_accuracy", float, "on the clean test labels (= test_metric)"),
    Column("labels_changed", int, "training labels the draw actually changed"),
    Column("train_error", float, "1 − training accuracy (on the labels it was given)"),
    Column("test_error", float, "1 − test accuracy (clean test labels)"),
    Column("chance", float, "test accuracy of guessing: 1 / classes"),
    Column("epochs_to_fit", int, "first epoch with 100 % training accuracy (empty: never)"),
)
DISPLAY = ("model_id", "params", "observations", "labels_changed", "train_metric",
           "test_metric", "epochs_to_fit")


# ------------------------------------------------------------------ labels


def noisy_labels(y: np.ndarray, classes: int, fraction: float, seed: int) -> np.ndarray:
    """``y`` with the first round(fraction·n) rows of one seeded order given uniformly random
    classes (which may, by chance, be the true one: Zhang et al.'s corruption). The order and
    the random classes depend only on the seed, so every level corrupts a superset of the
    rows of a lower one."""
    rng = np.random.default_rng([seed, 7])
    order = rng.permutation(len(y))
    random = rng.integers(0, classes, len(y))
    out = y.copy()
    chosen = order[: round(fraction * len(y))]
    out[chosen] = random[chosen]
    return out


def with_labels(data: Dataset, n_train: int | None, fraction: float, seed: int) -> Dataset:
    rows = data.observations if n_train is None else n_train
    y = noisy_labels(data.y_train[:rows], int(data.n_classes or 0), fraction, seed)
    return dataclasses.replace(data, X_train=data.X_train[:rows], y_train=y)


# ------------------------------------------------------------------ the epoch it fits


def fit_epoch(history: list[dict[str, float]]) -> int | None:
    """The first epoch after which training accuracy is 100 %, or None within the budget
    (the engine records it per epoch: ``TrainConfig.track_train_accuracy``)."""
    return next((int(h["epoch"]) for h in history if h.get("train_accuracy") == 1.0), None)


# ------------------------------------------------------------------ run


def plan(config: RandomLabelsConfig, data: Dataset) -> list[tuple[float, list[Planned]]]:
    """Per noise level, the one network from each repeat's seed (the same seeds at every
    level: only the labels differ)."""
    arch = MLPArch(data.n_features, config.hidden, data.n_outputs)
    return [(fraction, [Planned(f"noise={fraction:g}-r{r}", arch, config.seed * 100_003 + r)
                        for r in range(config.repeats)])
            for fraction in config.label_noise]


def model_row(config: RandomLabelsConfig, fraction: float, noisy: Dataset,
              clean: np.ndarray) -> Callable[[ModelResult], dict[str, Any]]:
    chance = 1.0 / int(noisy.n_classes or 1)
    changed = int(np.sum(noisy.y_train != clean))

    def row(result: ModelResult) -> dict[str, Any]:
        train_accuracy, test_accuracy = result.train_metric or 0.0, result.test_metric or 0.0
        return {**row_of(result), "model": result.arch.spec(), "label_noise": fraction,
                "repeat": int(result.model_id.rsplit("-r", 1)[1]), "labels_changed": changed,
                "n_train": result.observations, "train_accuracy": train_accuracy,
                "test_accuracy": test_accuracy,
                "train_error": 1 - train_accuracy, "test_error": 1 - test_accuracy,
                "chance": chance,
                "epochs_to_fit": fit_epoch(result.history)}
    return row


def run(config: RandomLabelsConfig, out: Path, progress: Progress | None = None) -> RunOutcome:
    config.validate()
    progress = progress or Progress()
    start = time.perf_counter()
    data = config.data.load()
    if data.task != "classification":
        raise ParamlabError(f"random-labels needs a classification data set (digits, mnist1d "
                            f"or a file with class labels); {data.name} is a {data.task}")
    if config.n_train is not None and config.n_train > data.observations:
        raise ParamlabError(f"--n-train {config.n_train} exceeds the {data.observations:,} "
                            f"training rows of {data.name}")
    store = open_store(out, NAME, dataclasses.asdict(config), COLUMNS)
    levels = plan(config, data)
    done = store.finished_ids()
    total = sum(len(p) for _, p in levels)
    skipped = sum(m.model_id in done for _, p in levels for m in p)
    progress.start(total, skipped, config.train.epochs)
    inner = Progress(epoch=progress.epoch, model_done=progress.model_done)
    clean = with_labels(data, config.n_train, 0.0, config.seed)
    train = dataclasses.replace(config.train, track_train_accuracy=True)  # epochs to fit
    for fraction, planned in levels:
        noisy = with_labels(data, config.n_train, fraction, config.seed)
        execute(planned, noisy, train, store, keep_weights=False, progress=inner,
                row=model_row(config, fraction, noisy, clean.y_train))
    store.write_csv()
    outcome = RunOutcome(store, total - skipped, skipped, time.perf_counter() - start, clean)
    outcome.summary = random_label_sentences(store.rows())[1:3]
    return outcome


# ------------------------------------------------------------------ command line


def add_options(p: argparse.ArgumentParser) -> None:
    d = RandomLabelsConfig()
    p.add_argument("--label-noise", type=study_options.float_list, default=d.label_noise,
                   metavar="F,…", help="fractions of training labels randomized, each in "
                   "[0, 1] (default 0,0.2,0.5,0.8,1)")
    p.add_argument("--hidden", type=study_options.int_list, default=d.hidden, metavar="W,…",
                   help="hidden widths of the network (default 512)")
    p.add_argument("--n-train", type=int, help="training rows to use (default: all)")
    p.add_argument("--repeats", type=int, default=d.repeats,
                   help="initializations per noise level (default 1)")
    options.add_data(p, default="digits")
    options.add_training(p, epochs=d.train.epochs, batch_size=d.train.batch_size,
                         lr=d.train.lr)


def build_config(ns: argparse.Namespace) -> RandomLabelsConfig:
    return RandomLabelsConfig(options.data_config(ns), options.train_config(ns), ns.hidden,
                              ns.label_noise, ns.n_train, ns.repeats, ns.seed)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> RandomLabelsConfig | None:
    """Full demo only: digits, the network 64-512-10, every noise level."""
    if level != "full":
        return None
    return RandomLabelsConfig(DataConfig("digits"),
                              TrainConfig(epochs=150, batch_size=32, lr=1e-3))


# ------------------------------------------------------------------ report


def report(store: RunStore, plots_dir: Path) -> Section:
    rows = sorted(store.rows(), key=lambda r: (r["label_noise"], r["repeat"]))
    return Section(
        f"Random labels: {rows[0]['model']} on {rows[0]['observations']:,} examples",
        random_label_sentences(rows),
        [plot_accuracy(rows, plots_dir / "random_labels_accuracy.png"),
         plot_fit_epochs(rows, store.history(), plots_dir / "random_labels_fit.png")],
        [reporting.rows_table("Every model", rows, [
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


EXPERIMENT = Experiment(
    name=NAME,
    help="the same network on true and randomized labels: fits all, generalizes on one",
    description="Train one MLP on labels of which 0–100 % are replaced by random classes "
    "(drawn once from the seed) and measure whether it fits them, how its test accuracy "
    "falls towards chance, and the first epoch at which it fits each (Zhang et al. 2017).",
    config=RandomLabelsConfig,
    add_options=add_options,
    build_config=build_config,
    run=run,
    columns=COLUMNS,
    report=report,
    order=40,
    display=DISPLAY,
    demo=demo_config,
    example=("--n-train", "60", "--hidden", "16", "--label-noise", "0,1", "--epochs", "3"),
)
