"""Data for the double-descent study: the MNIST-1D split of its paper and fixed train/test
arrays for closed-form fits. Everything is generated locally and deterministic from a seed.
The math of the study's draws (isotropic Gaussian designs, training-label noise) is science:
:mod:`paramlab.lab.science.dd_fits` and :mod:`paramlab.lab.science.label_noise`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paramlab.errors import DataError
from paramlab.lab.data import Dataset, load_dataset
from paramlab.lab.data.generators import mnist1d_raw

MNIST1D_TRAIN_ROWS = 4_000  # the MNIST-1D paper's training set (5,000 signals, 80 % train)


@dataclass
class Arrays:
    """Fixed training and test arrays for a closed-form fit (nothing is tuned on the test
    rows, so the validation split joins them); y as one-hot rows for classes."""

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray  # (n, outputs) float64: targets, or one-hot classes
    labels_train: np.ndarray | None  # int classes, for classification
    X_test: np.ndarray
    y_test: np.ndarray
    labels_test: np.ndarray | None
    description: str


def fit_arrays(name: str, seed: int, n_train: int, noise: float | None = None) -> Arrays:
    """The first ``n_train`` training rows of a built-in data set and all its held-out rows,
    in float64. MNIST-1D uses its paper's 4,000/1,000 split."""
    data = mnist1d_paper(seed) if name == "mnist1d" else load_dataset(name, seed=seed,
                                                                      noise=noise)
    X_test = np.concatenate([data.X_val, data.X_test]).astype(np.float64)
    y_test = np.concatenate([data.y_val, data.y_test])
    available = data.observations
    if not 1 <= n_train <= available:
        raise DataError(f"{name}: --n-train must be between 1 and the {available:,} training "
                        f"rows it has; received {n_train:,}")
    X_train = data.X_train[:n_train].astype(np.float64)
    y_train = data.y_train[:n_train]
    if data.task == "classification":
        eye = np.eye(data.n_outputs)
        return Arrays(data.name, data.task, X_train, eye[y_train], y_train, X_test,
                      eye[y_test], y_test, data.description)
    return Arrays(data.name, data.task, X_train, y_train.astype(np.float64), None, X_test,
                  y_test.astype(np.float64), None, data.description)


def mnist1d_paper(seed: int) -> Dataset:
    """MNIST-1D as its paper trains on it: ``make_dataset``'s own 4,000 training and 1,000
    test signals (not the lab's 70/15/15 split), standardized with training statistics.
    Validation is the test set: the study selects nothing on it."""
    raw = mnist1d_raw(seed)
    X, X_test = raw["x"].astype(np.float32), raw["x_test"].astype(np.float32)
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[std == 0] = 1.0
    X, X_test = (X - mean) / std, (X_test - mean) / std
    y, y_test = np.asarray(raw["y"], np.int64), np.asarray(raw["y_test"], np.int64)
    return Dataset("mnist1d", "classification", X, y, X_test, y_test, X_test, y_test,
                   int(y.max()) + 1, [f"x{i}" for i in range(X.shape[1])],
                   f"MNIST-1D (Greydanus 2020), the paper's split: {len(y):,} training and "
                   f"{len(y_test):,} test signals of {X.shape[1]} points, 10 classes")


