"""Data sets: shapes, determinism, standardization from the training split, clear errors."""

from pathlib import Path

import numpy as np
import pytest

from paramlab.errors import DataError
from paramlab.lab.data import load_dataset


def test_synthetic_is_the_seed_shape() -> None:
    data = load_dataset("synthetic")
    assert data.X_train.shape == (13_000, 40)  # the seed: ~13k observations, 40 features
    assert data.y_train.shape == (13_000, 1)
    assert data.task == "regression" and data.n_outputs == 1


def test_generators_are_deterministic_per_seed() -> None:
    a, b = load_dataset("friedman", seed=3), load_dataset("friedman", seed=3)
    c = load_dataset("friedman", seed=4)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.X_train, c.X_train)


def test_standardization_uses_training_statistics_only() -> None:
    data = load_dataset("linear", n_samples=2000)
    assert np.allclose(data.X_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(data.X_train.std(axis=0), 1, atol=1e-4)
    assert not np.allclose(data.X_val.mean(axis=0), 0, atol=1e-5)  # not refitted on val


@pytest.mark.parametrize(("name", "task", "features", "classes"), [
    ("digits", "classification", 64, 10), ("diabetes", "regression", 10, None),
    ("mnist1d", "classification", 40, 10), ("friedman", "regression", 10, None),
])
def test_shipped_data(name: str, task: str, features: int, classes: int | None) -> None:
    data = load_dataset(name)
    assert (data.task, data.n_features, data.n_classes) == (task, features, classes)


def test_mnist1d_leaves_numpy_global_state_alone() -> None:
    from paramlab.lab.data.generators import mnist1d_raw

    mnist1d_raw.cache_clear()  # make_dataset must really run here, not come from the cache
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    load_dataset("mnist1d")
    assert np.random.random() == expected


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_target_and_classification(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{i * 2.5},{i % 3}" for i in range(40))
    path = write_csv(tmp_path / "d.csv", "a,b,label\n" + rows)
    data = load_dataset(str(path), target="label")
    assert data.task == "classification" and data.n_classes == 3 and data.n_features == 2


@pytest.mark.parametrize(("text", "target", "fragment"), [
    ("a,b,y\n1,2,3\n4,nan,6\n7,8,9\n1,1,1\n2,2,2\n", "y", "column 'b' has missing, NaN or "
     "infinite values in rows 3"),
    ("a,b,y\n1,2,3\n4,5,6\n", "z", "no target column 'z'; columns are a, b, y"),
    ("a,b,y\n1,2,3\n4,5,6\n", "y", "too few to split"),
    ("a,b,y\n1,red,3\n4,blue,6\n7,8,9\n", "y", "non-numeric values in column(s) 'b' (rows 2, 3)"),
])
def test_bad_files(tmp_path: Path, text: str, target: str, fragment: str) -> None:
    path = write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(DataError) as info:
        load_dataset(str(path), target=target)
    assert str(path) in str(info.value) or "bad" in str(info.value)
    assert fragment in str(info.value)


def test_npy_with_inf(tmp_path: Path) -> None:
    array = np.ones((20, 3))
    array[7, 1] = np.inf
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(DataError, match=r"column '1' .* rows 9"):
        load_dataset(str(tmp_path / "x.npy"), target="2")
