"""Regularization against theory: ridge's degrees of freedom are the hat matrix's trace,
dropout on a linear model is its data-dependent ridge, and weight decay acts on training."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize

from paramlab.cli import main
from paramlab.lab import runner
from paramlab.lab.data import DataConfig, load_dataset
from paramlab.lab.engine import MLPArch, TrainConfig, train_models
from paramlab.lab.experiments import regularization as study
from paramlab.lab.report import regularization as report
from paramlab.lab.science import regularization as reg


def _problem(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.3, 3.0, p)  # unequal column energies
    return X, X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n)


def _enumerated_expectation(beta: np.ndarray, X: np.ndarray, y: np.ndarray,
                            keep: float) -> float:
    """E‖y − X(δ⊙β)/q‖² by summing over all 2^p masks with their probabilities."""
    total = 0.0
    for mask in itertools.product((0, 1), repeat=X.shape[1]):
        delta = np.array(mask, float)
        weight = keep ** delta.sum() * (1 - keep) ** (len(delta) - delta.sum())
        total += weight * float(np.sum((y - X @ (delta * beta) / keep) ** 2))
    return total


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.2])
def test_dropout_is_ridge_the_two_linear_solutions_agree(keep: float) -> None:
    X, y = _problem(60, 6)
    beta = np.random.default_rng(1).standard_normal(6)
    # the study's moment formula is the exact expectation (checked against all 64 masks)
    value, _ = reg.expected_dropout_loss(beta, X, y, keep)
    assert value == pytest.approx(_enumerated_expectation(beta, X, y, keep), rel=1e-12)
    formula = reg.generalized_ridge(X, y, keep)
    # 1. a generic optimizer on the enumerated expectation, nothing of the study's in it
    enumerated = minimize(lambda b: _enumerated_expectation(b, X, y, keep) / 60,
                          np.zeros(6), method="BFGS", options={"gtol": 1e-10}).x
    assert np.max(np.abs(enumerated - formula)) < 1e-6
    # 2. the study's own optimizer on its exact expectation
    assert np.max(np.abs(reg.minimize_expected_dropout_loss(X, y, keep) - formula)) < 1e-6
    # and the formula is the penalty ((1 − q)/q)·Σ‖Xⱼ‖²βⱼ² made explicit: its gradient is 0
    penalty_gradient = 2 * (1 - keep) / keep * np.sum(X * X, axis=0) * formula
    assert np.max(np.abs(-2 * X.T @ (y - X @ formula) + penalty_gradient)) < 1e-8


def test_sgd_on_random_masks_approaches_the_ridge_solution() -> None:
    X, y = _problem(4000, 8, seed=3)
    formula = reg.generalized_ridge(X, y, 0.5)
    sgd = reg.dropout_sgd(X, y, 0.5, epochs=20, seed=0)
    plain = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.linalg.norm(sgd - formula) / np.linalg.norm(formula) < 0.05
    assert np.linalg.norm(plain - formula) > 5 * np.linalg.norm(sgd - formula)  # not OLS


@pytest.mark.parametrize(("n", "p"), [(50, 10), (20, 30)])  # full rank, and p > n
def test_df_is_the_hat_matrix_trace_and_runs_from_rank_to_zero(n: int, p: int) -> None:
    X, _ = _problem(n, p)
    singular = np.linalg.svd(X, compute_uv=False)
    for lam in (1e-3, 0.1, 1.0, 10.0, 1e3):
        hat = X @ np.linalg.solve(X.T @ X + lam * np.eye(p), X.T)
        assert reg.degrees_of_freedom(singular, lam) == pytest.approx(np.trace(hat), rel=1e-8)
    rank = np.linalg.matrix_rank(X)
    assert rank == min(n, p)
    assert reg.degrees_of_freedom(singular, 0.0) == pytest.approx(rank)
    assert reg.degrees_of_freedom(singular, 1e-9) == pytest.approx(rank, abs=1e-6)
    assert reg.degrees_of_freedom(singular, 1e12) < 1e-6
    values = [reg.degrees_of_freedom(singular, lam) for lam in np.geomspace(1e-3, 1e6, 30)]
    assert all(b < a for a, b in itertools.pairwise(values))


def test_heavy_weight_decay_raises_training_loss() -> None:
    data = load_dataset("synthetic", n_samples=300, seed=0)
    arch = MLPArch(40, (64,), 1)
    losses = {}
    for decay in (0.0, 0.3):
        config = TrainConfig(epochs=40, batch_size=32, weight_decay=decay)
        losses[decay] = train_models([arch], data, config, [0])[0].train_loss
    assert losses[0.3] > 2 * losses[0.0]


def test_run_records_every_setting_and_the_equivalence(tmp_path: Path) -> None:
    config = study.RegularizationConfig(
        DataConfig("synthetic", n_samples=400), TrainConfig(epochs=3, batch_size=64),
        widths=(4, 16), weight_decay=(0.1,), dropout=(0.5,), patience=1,
        ridge=(0.0, 100.0), sgd_epochs=40)
    outcome = runner.run(study.EXPERIMENT, config, tmp_path / "r")
    rows = {r["model_id"]: r for r in outcome.store.rows()}
    assert len(rows) == 4 * 2 + 2 + 1
    assert rows["mlp-weight-decay=0.1-w00016"]["weight_decay"] == 0.1
    assert rows["mlp-dropout=0.5-w00004"]["dropout"] == 0.5
    assert rows["ridge-0"]["df"] == pytest.approx(40)
    assert rows["ridge-100"]["df"] < 40
    assert rows["linear-dropout-0.5"]["dropout_ridge_gap"] < 1e-6
    sentences = report.regularization_sentences(list(rows.values()))
    assert any("Dropout on the linear model is ridge" in s for s in sentences)
    assert runner.run(study.EXPERIMENT, config, tmp_path / "r").trained == 0  # resumes


def _mlp(setting: str, val: float, **extra: object) -> dict[str, object]:
    return {"model": "mlp", "setting": setting, "width": 512, "spec": "40-512-1",
            "params": 21_505, "observations": 1_400, "train_loss": 0.05, "val_loss": val,
            "weight_decay": 0.0, "dropout": 0.0, "patience": None, "epochs": 40,
            "best_epoch": 40, **extra}


def _linear(best_df: float, gap: float, sgd: float) -> list[dict[str, object]]:
    ridge = [{"model": "ridge", "ridge": lam, "df": df, "params": 40, "observations": 1400,
              "val_loss": val} for lam, df, val in
             ((0.0, 40.0, 0.30), (100.0, best_df, 0.20), (1e6, 0.5, 0.9))]
    return [*ridge, {"model": "linear-dropout", "dropout": 0.5, "dropout_ridge_gap": gap,
                     "dropout_sgd_gap": sgd}]


def test_sentences_follow_the_numbers_both_ways() -> None:
    helped = [_mlp("none", 0.5), _mlp("weight-decay", 0.3, weight_decay=0.01),
              _mlp("dropout", 0.4, dropout=0.5),
              _mlp("early-stopping", 0.45, patience=3, epochs=12, best_epoch=9),
              *_linear(30.0, 1e-9, 0.02)]
    hurt = [_mlp("none", 0.3), _mlp("weight-decay", 0.5, weight_decay=0.01),
            _mlp("dropout", 0.4, dropout=0.5),
            _mlp("early-stopping", 0.45, patience=3, epochs=12, best_epoch=9),
            *_linear(39.5, 1e-3, 0.4)]
    good, bad = report.regularization_sentences(helped), report.regularization_sentences(hurt)
    for label in ("weight decay", "dropout", "early stopping"):
        assert any(s.startswith(f"With {label}") and "better than without" in s
                   and "no better" not in s for s in good)
        assert any(s.startswith(f"With {label}") and "no better than without" in s
                   for s in bad)
    assert any("fewer effective parameters than raw ones" in s for s in good)
    assert any("the raw count is the effective one" in s for s in bad)
    assert any("Dropout on the linear model is ridge" in s for s in good)
    assert any("does not confirm the equivalence" in s for s in bad)
    assert any("SGD with random masks lands within" in s for s in good)
    assert any("too few epochs" in s for s in bad)


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--ridge", "-1"], "--ridge values must be in [0.0"),
    (["--widths", ""], "--widths needs at least one value"),
    (["--dropouts", "1.0"], "--dropouts values must be in [0, 1)"),
    (["--weight-decays", "-0.1"], "--weight-decays values must be in [0.0"),
    (["--early-stopping", "0"], "--early-stopping must be at least 1"),
    (["--data", "digits"], "needs a regression with one target"),
])
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            argv: list[str], fragment: str) -> None:
    code = main(["run", "regularization", *argv, "--n-samples", "200", "--epochs", "1",
                 "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err
