"""Random labels (Zhang, Bengio, Hardt, Recht & Vinyals 2017, "Understanding deep learning
requires rethinking generalization"): the label corruption and the epoch a network fits.

The noisy labels are drawn once from the seed (one random order of the training rows and one
random class per row; the fraction f corrupts the first f·n rows of that order, so the levels
are nested) and never redrawn; there is no augmentation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from paramlab.lab.data import Dataset


def noisy_labels(y: np.ndarray, classes: int, fraction: float, seed: int) -> np.ndarray:
    """``y`` with the first round(fraction·n) rows of one seeded order given uniformly random
    classes (which may, by chance, be the true one: Zhang et al.'s corruption). The order and
    the random classes depend only on the seed, so every level corrupts a superset of the
    rows of a lower one."""
    rng = np.random.default_rng([seed, 7])
    order = rng.permutation(len(y))
    random = rng.integers(0, classes, len(y))
    out: np.ndarray = y.copy()
    chosen = order[: round(fraction * len(y))]
    out[chosen] = random[chosen]
    return out


def with_labels(data: Dataset, n_train: int | None, fraction: float, seed: int) -> Dataset:
    rows = data.observations if n_train is None else n_train
    y = noisy_labels(data.y_train[:rows], int(data.n_classes or 0), fraction, seed)
    return dataclasses.replace(data, X_train=data.X_train[:rows], y_train=y)


def fit_epoch(history: list[dict[str, float]]) -> int | None:
    """The first epoch after which training accuracy is 100 %, or None within the budget
    (the engine records it per epoch: ``TrainConfig.track_train_accuracy``)."""
    return next((int(h["epoch"]) for h in history if h.get("train_accuracy") == 1.0), None)


def shuffled(data: Dataset, seed: int) -> Dataset:
    """``data`` with its training targets permuted by one seeded permutation (Li et al.
    2018's shuffled-label control, Zhang et al. 2017's "shuffled labels"): the same marginal
    distribution of targets, no relation left between a row and its target. Classes or
    regression targets alike; the test split keeps its true targets."""
    order = np.random.default_rng([seed, 11]).permutation(data.observations)
    return dataclasses.replace(data, y_train=data.y_train[order])
