"""Random labels (Zhang et al. 2017) measured: a network that fits pure noise, generalizing
only when the labels mean something; the label draw fixed once; verdicts both ways."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from paramlab.cli import main
from paramlab.lab import runner
from paramlab.lab.data import DataConfig, load_dataset
from paramlab.lab.engine import MLPArch, TrainConfig, train_models
from paramlab.lab.experiments import random_labels as study
from paramlab.lab.report import random_labels as report
from paramlab.lab.science import random_labels as rl


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    """500 digits, 64-512-10, Adam: clean labels and 100 % random labels."""
    config = study.RandomLabelsConfig(DataConfig("digits"),
                                   TrainConfig(epochs=100, batch_size=32, lr=1e-3),
                                   hidden=(512,), label_noise=(0.0, 1.0), n_train=500)
    outcome = runner.run(study.EXPERIMENT, config, tmp_path_factory.mktemp("rl") / "run")
    return sorted(outcome.store.rows(), key=lambda r: r["label_noise"])


def test_fits_random_labels_but_generalizes_only_on_real_ones(
        measured: list[dict[str, object]]) -> None:
    clean, noise = measured
    assert noise["label_noise"] == 1.0 and noise["labels_changed"] > 400  # ~90 % of 500
    assert noise["n_train"] == clean["n_train"] == 500
    assert noise["train_accuracy"] >= 0.99
    assert abs(noise["test_accuracy"] - 0.1) <= 0.05  # chance on 10 classes
    assert clean["train_accuracy"] >= 0.99 and clean["test_accuracy"] >= 0.85
    assert noise["epochs_to_fit"] is not None and clean["epochs_to_fit"] is not None
    assert noise["epochs_to_fit"] > clean["epochs_to_fit"]  # noise takes longer to memorize
    assert noise["params"] == clean["params"] == 64 * 512 + 512 + 512 * 10 + 10


def test_recorded_fit_epoch_is_where_training_accuracy_reaches_one() -> None:
    """The engine's per-epoch training accuracy: trained for the recorded epoch the model
    fits every label, one epoch fewer it does not (checked on independent runs)."""
    data = rl.with_labels(load_dataset("digits"), 150, 1.0, seed=0)
    arch = MLPArch(64, (128,), 10)
    train = TrainConfig(epochs=300, batch_size=32, lr=3e-3, track_train_accuracy=True)
    (tracked,) = train_models([arch], data, train, [5])
    epoch = rl.fit_epoch(tracked.history)
    assert epoch is not None and epoch > 2
    before, at = (train_models([arch], data, dataclasses.replace(train, epochs=e), [5])[0]
                  for e in (epoch - 1, epoch))
    assert before.train_metric < 1.0 and at.train_metric == 1.0


def test_label_draw_is_fixed_nested_and_uniform() -> None:
    y = np.arange(1000) % 10
    levels = {f: rl.noisy_labels(y, 10, f, seed=3) for f in (0.0, 0.2, 0.5, 1.0)}
    assert np.array_equal(levels[0.0], y)
    assert np.array_equal(rl.noisy_labels(y, 10, 0.5, seed=3), levels[0.5])  # never redrawn
    changed = {f: set(np.flatnonzero(v != y)) for f, v in levels.items()}
    assert changed[0.2] <= changed[0.5] <= changed[1.0]  # nested
    assert abs(len(changed[1.0]) - 900) < 60  # a uniform class is the true one 1 time in 10
    assert not np.array_equal(rl.noisy_labels(y, 10, 0.5, seed=4), levels[0.5])
    counts = np.bincount(levels[1.0], minlength=10)
    assert counts.min() > 60 and counts.max() < 140


def _rows(train: list[float], test: list[float], fit: list[int | None]) -> list[dict]:
    noise = [0.0, 0.5, 1.0]
    return [{"label_noise": f, "repeat": 0, "model": "64-512-10", "params": 38_410,
             "observations": 500, "chance": 0.1, "labels_changed": round(450 * f),
             "train_metric": a, "test_metric": b, "epochs_to_fit": e}
            for f, a, b, e in zip(noise, train, test, fit, strict=True)]


def test_sentences_follow_the_numbers_both_ways() -> None:
    zhang = report.random_label_sentences(_rows([1.0, 1.0, 1.0], [0.95, 0.55, 0.11], [5, 20, 40]))
    other = report.random_label_sentences(_rows([1.0, 0.8, 0.4], [0.95, 0.93, 0.9],
                                            [5, None, None]))
    assert any("It fit every one of them" in s for s in zhang)
    assert any("It did not fit them all" in s and "40.0% at 100% noise" in s for s in other)
    assert any("learned nothing that transfers" in s for s in zhang)
    assert any("did not lower test accuracy much" in s for s in other)
    assert any("takes longer, the more of it there is" in s for s in zhang)
    assert any("more noise did not take longer" in s and "50%: never" in s for s in other)
    assert any("85.4 per label memorized" in s for s in zhang)
    tied = report.random_label_sentences(_rows([1.0, 1.0, 1.0], [0.95, 0.55, 0.11], [5, 40, 40]))
    assert any("took longer overall, though not longer at every step" in s for s in tied)
    assert not any("the more of it there is" in s for s in tied)
    assert any("fitting them took" in s for s in other)


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--label-noise", "0,1.5"], "--label-noise values must be in [0.0, 1.0]; received 1.5"),
    (["--label-noise", "-0.1"], "--label-noise values must be in [0.0, 1.0]"),
    (["--label-noise", ""], "--label-noise needs at least one value"),
    (["--hidden", ""], "--hidden needs at least one value"),
    (["--n-train", "99999"], "exceeds the 1,257 training rows of digits"),
    (["--dropout", "0.5"], "omit --dropout and --patience"),
    (["--data", "synthetic", "--n-samples", "100"], "needs a classification data set"),
])
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            argv: list[str], fragment: str) -> None:
    code = main(["run", "random-labels", *argv, "--epochs", "1", "--out", str(tmp_path / "o"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err
