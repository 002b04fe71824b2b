"""Double descent beyond the linear model: random-features regression peaks where the
number of features reaches the number of training rows; an MLP width sweep with label noise
peaks near its interpolation threshold; the verdicts say so, or say they do not."""

from pathlib import Path

import numpy as np
import pytest
import torch

from paramlab.lab import runner
from paramlab.lab.data import DataConfig
from paramlab.lab.data.double_descent import mnist1d_paper
from paramlab.lab.engine import TrainConfig
from paramlab.lab.experiments.double_descent import (
    EXPERIMENT,
    DoubleDescentConfig,
    WidthAnalysis,
    parse_counts,
    resolved,
    small_mlp_config,
    width_analysis,
)
from paramlab.lab.report import double_descent as dd_report
from paramlab.lab.science.label_noise import with_label_noise


def _run(config: DoubleDescentConfig, out: Path) -> WidthAnalysis:
    analysis = runner.run(EXPERIMENT, config, out).analysis
    assert isinstance(analysis, WidthAnalysis)
    return analysis


@pytest.mark.parametrize(("data", "kind"), [("digits", "relu"), ("digits", "fourier"),
                                            ("synthetic", "relu")])
def test_random_features_peak_where_features_reach_training_rows(
        data: str, kind: str, tmp_path: Path) -> None:
    n = 200
    config = DoubleDescentConfig(model="random-features", data=DataConfig(data),
                                 features_kind=kind, n_train=(n,), repeats=2,
                                 features=parse_counts("20..2000:41", ""))
    analysis = _run(config, tmp_path)
    peak = analysis.peak
    assert n / 1.5 <= peak.width <= 1.5 * n, analysis.curve
    assert analysis.peak_near_threshold and analysis.prominent
    wide = analysis.curve[-1]
    assert wide.train_loss < 1e-12  # min-norm with N ≫ n interpolates
    metric = analysis.metric
    assert getattr(wide, metric) < 0.5 * getattr(peak, metric)  # and descends again


def test_mlp_width_sweep_with_label_noise_peaks_near_its_interpolation_threshold(
        tmp_path: Path) -> None:
    """Deep double descent on MNIST-1D (Greydanus & Kobak's figure, at CI size: the study's
    smallest setting that shows it — see ``small_mlp_config``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these small models gain nothing from a second thread, and on a
    try:  # shared machine a spinning one makes the sweep several times slower
        analysis = _run(small_mlp_config(), tmp_path)
    finally:
        torch.set_num_threads(threads)
    threshold, peak = analysis.threshold, analysis.peak
    assert threshold is not None, analysis.curve  # the widest networks fit every label
    assert threshold / 2 <= peak.width <= 2 * threshold, analysis.curve
    assert peak.test_error is not None and analysis.left_min is not None
    assert analysis.right_min is not None
    assert peak.test_error - analysis.left_min >= 0.03, analysis.curve
    assert peak.test_error - analysis.right_min >= 0.03, analysis.curve


def test_label_noise_is_drawn_once_and_touches_training_labels_only() -> None:
    clean = mnist1d_paper(0)
    noisy, flipped = with_label_noise(clean, 0.15, seed=3, n_train=1000)
    again, _ = with_label_noise(clean, 0.15, seed=3, n_train=1000)
    assert flipped == 150 and int(np.sum(noisy.y_train != clean.y_train[:1000])) == 150
    assert np.array_equal(noisy.y_train, again.y_train)
    assert np.array_equal(noisy.y_test, clean.y_test)
    assert clean.observations == 4000 and len(clean.y_test) == 1000  # the paper's split


# ------------------------------------------------------------------ verdicts, both ways


def _curve(errors: list[float], train: list[float]) -> list[dict[str, object]]:
    return [{"width": 2**i, "n_train": 1000, "params": 100 * 2**i, "train_loss": t,
             "test_loss": e, "train_error": t, "test_error": e, "repeat": 0}
            for i, (e, t) in enumerate(zip(errors, train, strict=True))]


CONFIG = resolved(DoubleDescentConfig(model="mlp", data=DataConfig("mnist1d"),
                                      label_noise=0.15, train=TrainConfig(epochs=100),
                                      repeats=1))


def test_mlp_verdict_follows_the_numbers() -> None:
    peaked = width_analysis(
        _curve([0.6, 0.45, 0.40, 0.52, 0.41, 0.35], [0.5, 0.3, 0.05, 0.0, 0.0, 0.0]), CONFIG)
    text = " ".join(dd_report.mlp_sentences(peaked))
    assert peaked.threshold == 8 and peaked.peak.width == 8
    assert "first reaches zero at width 8" in text and "That is deep double descent" in text
    flat = width_analysis(
        _curve([0.6, 0.5, 0.45, 0.44, 0.43, 0.42], [0.5, 0.3, 0.05, 0.01, 0.01, 0.01]), CONFIG)
    text = " ".join(dd_report.mlp_sentences(flat))
    assert "No width reached zero training error" in text
    assert "no clear peak" in text and "deep double descent" not in text


def test_random_features_verdict_follows_the_numbers() -> None:
    config = resolved(DoubleDescentConfig(model="random-features"))
    rows = _curve([0.2, 0.1, 0.7, 0.08, 0.05, 0.04], [0.1, 0.05, 0.0, 0.0, 0.0, 0.0])
    for row in rows:
        row["n_train"] = 4
    at = width_analysis(rows, config)
    assert "at the interpolation threshold N = n" in " ".join(dd_report.rf_sentences(at))
    rows = _curve([0.7, 0.1, 0.09, 0.08, 0.05, 0.04], [0.1, 0.05, 0.0, 0.0, 0.0, 0.0])
    for row in rows:
        row["n_train"] = 16
    away = width_analysis(rows, config)
    assert "far from the interpolation threshold" in " ".join(dd_report.rf_sentences(away))
