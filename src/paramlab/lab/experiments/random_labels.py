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

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from paramlab.errors import ParamlabError
from paramlab.fields import check_list, float_list, int_list, option, require
from paramlab.lab.data import DataConfig, Dataset
from paramlab.lab.engine import MLPArch, ModelResult, Planned, TrainConfig
from paramlab.lab.runner import (
    MODEL_COLUMNS,
    DemoLevel,
    Experiment,
    Plan,
    Row,
    RunOutcome,
    TrainModels,
    row_of,
    seed_option,
)
from paramlab.lab.science.random_labels import fit_epoch, with_labels
from paramlab.lab.store import Column

FITTED = 0.99  # "fits the training set": training accuracy at least this
NEAR_CHANCE = 0.05  # test accuracy within this of chance


@dataclass
class RandomLabelsConfig:
    data: DataConfig = option(default_factory=lambda: DataConfig("digits"))
    train: TrainConfig = option(
        default_factory=lambda: TrainConfig(epochs=300, batch_size=32, lr=1e-3))
    hidden: tuple[int, ...] = option((512,), flag="--hidden", type=int_list, metavar="W,…",
                                     help="hidden widths of the network (default 512)")
    label_noise: tuple[float, ...] = option((0.0, 0.2, 0.5, 0.8, 1.0), flag="--label-noise",
                                            type=float_list, metavar="F,…",
                                            help="fractions of training labels randomized, "
                                            "each in [0, 1] (default 0,0.2,0.5,0.8,1)")
    n_train: int | None = option(None, flag="--n-train", type=int,
                                 help="training rows to use (default: all)")
    repeats: int = option(1, flag="--repeats", type=int,
                          help="initializations per noise level")
    seed: int = seed_option()  # the label draw and the initializations

    def validate(self) -> None:
        check_list("label_noise", self.label_noise, low=0.0, high=1.0)
        check_list("hidden", self.hidden, low=1)
        require(self.n_train is None or self.n_train >= 2, "n_train",
                f"must be at least 2; received {self.n_train}")
        require(self.repeats >= 1, "repeats", f"must be at least 1; received {self.repeats}")
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


def model_row(config: RandomLabelsConfig, fraction: float, noisy: Dataset,
              clean: np.ndarray) -> Callable[[ModelResult], Row]:
    chance = 1.0 / int(noisy.n_classes or 1)
    changed = int(np.sum(noisy.y_train != clean))

    def row(result: ModelResult) -> Row:
        train_accuracy, test_accuracy = result.train_metric or 0.0, result.test_metric or 0.0
        return {**row_of(result), "model": result.arch.spec(), "label_noise": fraction,
                "repeat": int(result.model_id.rsplit("-r", 1)[1]), "labels_changed": changed,
                "n_train": result.observations, "train_accuracy": train_accuracy,
                "test_accuracy": test_accuracy,
                "train_error": 1 - train_accuracy, "test_error": 1 - test_accuracy,
                "chance": chance,
                "epochs_to_fit": fit_epoch(result.history)}
    return row


def plan(config: RandomLabelsConfig) -> Plan:
    """Per noise level, the one network from each repeat's seed (the same seeds at every
    level: only the labels differ), trained on that level's labels."""
    data = config.data.load()
    if data.task != "classification":
        raise ParamlabError(f"random-labels needs a classification data set (digits, mnist1d "
                            f"or a file with class labels); {data.name} is a {data.task}")
    if config.n_train is not None and config.n_train > data.observations:
        raise ParamlabError(f"--n-train {config.n_train} exceeds the {data.observations:,} "
                            f"training rows of {data.name}")
    arch = MLPArch(data.n_features, config.hidden, data.n_outputs)
    clean = with_labels(data, config.n_train, 0.0, config.seed)
    train = dataclasses.replace(config.train, track_train_accuracy=True)  # epochs to fit
    stages = []
    for fraction in config.label_noise:
        noisy = with_labels(data, config.n_train, fraction, config.seed)
        models = [Planned(f"noise={fraction:g}-r{r}", arch, config.seed * 100_003 + r)
                  for r in range(config.repeats)]
        stages.append(TrainModels(models, noisy, train,
                                  row=model_row(config, fraction, noisy, clean.y_train)))
    return Plan(tuple(stages), clean)


def demo_config(level: DemoLevel, earlier: dict[str, RunOutcome]) -> RandomLabelsConfig | None:
    """Full demo only: digits, the network 64-512-10, every noise level."""
    if level != "full":
        return None
    return RandomLabelsConfig(DataConfig("digits"),
                              TrainConfig(epochs=150, batch_size=32, lr=1e-3))


EXPERIMENT = Experiment(
    name="random-labels",
    help="the same network on true and randomized labels: fits all, generalizes on one",
    description="Train one MLP on labels of which 0–100 % are replaced by random classes "
    "(drawn once from the seed) and measure whether it fits them, how its test accuracy "
    "falls towards chance, and the first epoch at which it fits each (Zhang et al. 2017).",
    config=RandomLabelsConfig,
    plan=plan,
    columns=COLUMNS,
    order=40,
    display=DISPLAY,
    demo=demo_config,
    example=("--n-train", "60", "--hidden", "16", "--label-noise", "0,1", "--epochs", "3"),
)
