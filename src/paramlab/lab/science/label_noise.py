"""Training-label noise: a fixed share of the training labels replaced by another class,
drawn once from a seed (the deep double-descent setting of Nakkiran et al. 2019, "Deep Double
Descent", arXiv 1912.02292, and of the MNIST-1D paper's width sweep)."""

from __future__ import annotations

import numpy as np

from paramlab.errors import DataError
from paramlab.lab.data import Dataset


def with_label_noise(data: Dataset, fraction: float, seed: int, n_train: int | None = None
                     ) -> tuple[Dataset, int]:
    """The data set with a share ``fraction`` of its *training* labels replaced by a
    different class, drawn uniformly (so exactly that share is wrong); validation and test
    labels stay clean. Drawn once from ``seed``: the same for every width of a sweep.
    ``n_train`` keeps only the first rows of the training split. Returns (data, flipped)."""
    if data.task != "classification":
        raise DataError(f"{data.name}: label noise needs a classification data set")
    n = data.observations if n_train is None else n_train
    if not 1 <= n <= data.observations:
        raise DataError(f"{data.name}: --n-train must be between 1 and the "
                        f"{data.observations:,} training rows it has; received {n:,}")
    rng = np.random.default_rng([seed, 15])
    y = data.y_train[:n].copy()
    flipped = round(fraction * n)
    rows = rng.permutation(n)[:flipped]
    classes = data.n_outputs
    y[rows] = (y[rows] + rng.integers(1, classes, size=flipped)) % classes
    noisy = Dataset(data.name, data.task, data.X_train[:n], y, data.X_val, data.y_val,
                    data.X_test, data.y_test, data.n_classes, data.feature_names,
                    data.description)
    return noisy, flipped
