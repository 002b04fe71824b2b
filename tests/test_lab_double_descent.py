"""Double descent, linear model: the measurement against the theory it must match.

The closed forms are checked against random-matrix facts computed independently here
(eigenvalues of a large Wishart matrix, NumPy's pseudo-inverse), the measured risks against
the exact finite-n formula and the optimal-ridge closed form, and the verdict sentences
both ways with hand-made numbers.
"""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from paramlab.cli import main
from paramlab.fields import parse_grid
from paramlab.lab import runner
from paramlab.lab.blas import one_blas_thread
from paramlab.lab.console import shown_columns
from paramlab.lab.data import DataConfig
from paramlab.lab.experiments import get
from paramlab.lab.experiments.double_descent import (
    EXPERIMENT,
    DoubleDescentConfig,
    LinearAnalysis,
    linear_analysis,
    resolved,
)
from paramlab.lab.report import double_descent as dd_report
from paramlab.lab.science import dd_theory
from paramlab.lab.science.dd_fits import prefix_fits, prefix_fits_many
from paramlab.lab.store import RunStore


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_marchenko_pastur_stieltjes_matches_a_large_wishart_spectrum(gamma: float) -> None:
    n = 400
    p = round(gamma * n)
    X = np.random.default_rng(1).standard_normal((n, p))
    with one_blas_thread():
        small = np.linalg.eigvalsh(X @ X.T / n if p > n else X.T @ X / n)
    spectrum = np.concatenate([small, np.zeros(max(0, p - n))])  # XᵀX/n is p × p
    for lam in (0.1, 1.0):
        m, dm = dd_theory.mp_stieltjes(gamma, lam)
        assert m == pytest.approx(np.mean(1 / (spectrum + lam)), rel=0.02)
        assert dm == pytest.approx(np.mean(1 / (spectrum + lam) ** 2), rel=0.03)


def test_ridge_limit_reduces_to_min_norm_and_is_minimized_at_lambda_star() -> None:
    for gamma in (0.3, 0.8, 1.5, 4.0):
        tiny = dd_theory.asymptotic_ridge_risk(gamma, 1e-7, 1.0, 0.25)
        assert tiny == pytest.approx(dd_theory.asymptotic_min_norm_risk(gamma, 1.0, 0.25),
                                     rel=1e-3)
        star = dd_theory.optimal_ridge_penalty(gamma, 1.0, 0.25)
        best = dd_theory.optimal_ridge_risk(gamma, 1.0, 0.25)
        assert best == pytest.approx(dd_theory.asymptotic_ridge_risk(gamma, star, 1.0, 0.25))
        for other in (star / 3, star * 3):
            assert dd_theory.asymptotic_ridge_risk(gamma, other, 1.0, 0.25) > best


def test_prefix_fits_are_the_pseudo_inverse_and_the_ridge_solution() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 90)), rng.standard_normal(30)
    sizes = [3, 29, 30, 31, 90]
    for k, fit in prefix_fits(X, sizes, lambda k: y, lambda k: 0.0):
        assert np.allclose(fit, np.linalg.pinv(X[:, :k]) @ y, rtol=1e-7, atol=1e-9)
    for k, fit in prefix_fits(X, sizes, lambda k: y, lambda k: 0.1):
        X_k = X[:, :k]
        assert np.allclose(fit, np.linalg.solve(X_k.T @ X_k + 30 * 0.1 * np.eye(k), X_k.T @ y))
    tall, targets = rng.standard_normal((90, 30)), rng.standard_normal(90)
    for k, fit in prefix_fits(tall, sizes, lambda k: targets[:k], lambda k: 0.0, "samples"):
        assert np.allclose(fit, np.linalg.pinv(tall[:k]) @ targets[:k], rtol=1e-7, atol=1e-9)


def test_prefix_fits_read_predictions_and_distance_from_the_gram_as_numpy_computes_them(
        ) -> None:
    """Both sides of the threshold, both sweeps: the training predictions and ‖β̂ − β‖² each
    fit reports (from the Gram matrix in the dual form) equal the ones numpy computes from
    β̂ = pinv(X_k) y itself."""
    rng = np.random.default_rng(1)
    for along, X in (("features", rng.standard_normal((30, 90))),
                     ("samples", rng.standard_normal((90, 30)))):
        Y = rng.standard_normal((90, 3))

        def targets(k: int, Y: np.ndarray = Y, along: str = along) -> np.ndarray:
            return Y[:k] if along == "samples" else Y[:30]

        for k, (fit,) in prefix_fits_many(X, [5, 29, 30, 31, 90], targets, [lambda k: 0.0],
                                          along):
            X_k = X[:k] if along == "samples" else X[:, :k]
            y = targets(k)
            beta_hat = np.linalg.pinv(X_k) @ y
            beta = rng.standard_normal(X_k.shape[1])
            np.testing.assert_allclose(fit.train_predictions(), X_k @ beta_hat, atol=1e-8)
            expected = np.mean(np.sum((beta_hat - beta[:, None]) ** 2, axis=0))
            assert fit.squared_distance(beta) == pytest.approx(expected, rel=1e-8)


def _curve(config: DoubleDescentConfig, out: Path) -> LinearAnalysis:
    outcome = runner.run(EXPERIMENT, config, out)
    assert isinstance(outcome.analysis, LinearAnalysis)
    return outcome.analysis


def _check_against_theory(analysis: LinearAnalysis) -> None:
    curve = analysis.curve
    away = [pt for pt in curve if abs(pt.gamma - 1) > 0.25]
    assert len(away) > 60
    for pt in away:  # the exact finite-n expected risk, at every point away from the peak
        assert pt.risk == pytest.approx(pt.theory, rel=0.10), pt
    peak = max(curve, key=lambda pt: pt.risk)
    assert peak.p == peak.n
    for pt in curve:  # optimally tuned ridge: its closed form, everywhere, and no peak
        assert pt.tuned == pytest.approx(pt.tuned_theory, rel=0.10), pt
    tuned = [pt.tuned for pt in curve]
    assert max(tuned[1:-1]) <= max(tuned[0], tuned[-1]) * 1.02
    assert not analysis.tuned_has_peak and analysis.peak_at_threshold


def test_model_wise_min_norm_risk_follows_the_exact_formula(tmp_path: Path) -> None:
    analysis = _curve(DoubleDescentConfig(), tmp_path)  # n = 200, p = 20 … 2,000, 20 draws
    _check_against_theory(analysis)
    rows = RunStore.open(tmp_path).rows()
    assert len(rows) == 101 * 20
    over = [r for r in rows if r["features"] > r["n_train"]]
    assert max(r["train_loss"] for r in over) < 1e-20  # interpolates: p > n fits exactly


def test_sample_wise_sweep_shows_more_data_hurting(tmp_path: Path) -> None:
    config = DoubleDescentConfig(sweep="samples", features=(100,), repeats=12)
    analysis = _curve(config, tmp_path)  # p = 100, n = 10 … 1,000
    _check_against_theory(analysis)
    by_n = sorted(analysis.curve, key=lambda pt: pt.n)
    at_half = next(pt for pt in by_n if pt.n >= 50)
    assert at_half.risk < next(pt for pt in by_n if pt.n >= 90).risk


def test_ridge_flattens_the_peak_and_follows_its_limit(tmp_path: Path) -> None:
    config = DoubleDescentConfig(ridge=0.05, repeats=6, features=parse_grid(
        "40..1000:30", ""), n_train=(200,))
    analysis = _curve(config, tmp_path)
    for pt in analysis.curve:
        assert pt.theory is None  # the finite-n formula is for min-norm only
        assert pt.risk == pytest.approx(pt.asymptotic, rel=0.10), pt
    assert max(pt.risk for pt in analysis.curve) < 2.0


def test_counts_lists_and_ranges() -> None:
    assert parse_grid("2,4,8", "--widths") == (2, 4, 8)
    widths = parse_grid("2..300:19", "--widths")
    assert widths[0] == 2 and widths[-1] == 300 and len(widths) == 19
    assert 200 in resolved(DoubleDescentConfig()).features  # lands on p = n exactly


@pytest.mark.parametrize(("argv", "message"), [
    (["--ridge", "-1"], "--ridge must be a number ≥ 0"),
    (["--model", "mlp", "--widths", ""], "--widths: needs at least one positive integer"),
    (["--model", "mlp", "--widths", "4,x"], "--widths: expected a list such as 2,4,8"),
    (["--model", "mlp", "--label-noise", "1.5"], "--label-noise must be a share in [0, 1]"),
    (["--features", "10..10000000000:3"], "a 200 × 10,000,000,000 design needs about 14,901"),
    (["--sweep", "samples", "--model", "mlp"], "--sweep samples is for the linear model"),
])
def test_bad_options_are_one_line_errors(argv: list[str], message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", "double-descent", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()  # refused before anything was written or allocated


# ------------------------------------------------------------------ verdicts, both ways


def _point(gamma: float, risk: float, theory: float | None, tuned: float,
           tuned_off: float = 1.0) -> dict:
    return {"p": round(100 * gamma), "n": 100, "gamma": gamma, "repeats": 5, "risk": risk,
            "train_loss": 0.0, "theory": theory, "asymptotic": theory, "tuned": tuned,
            "tuned_theory": tuned * tuned_off}


def _analysis(points: list[dict]) -> LinearAnalysis:
    config = resolved(DoubleDescentConfig(repeats=5, data=DataConfig("auto", noise=0.5)))
    rows = [{"features": pt["p"], "n_train": pt["n"], "test_risk": pt["risk"],
             "train_loss": 0.0, "theory_risk": pt["theory"],
             "theory_risk_asymptotic": pt["asymptotic"], "optimal_ridge_risk": pt["tuned"],
             "optimal_ridge_theory": pt["tuned_theory"]} for pt in points]
    analysis = linear_analysis(rows, config)
    return LinearAnalysis.from_json(json.loads(json.dumps(analysis.to_json())))


def test_linear_verdicts_follow_the_numbers() -> None:
    double = _analysis([_point(0.2, 0.06, 0.062, 0.05), _point(0.5, 0.25, 0.25, 0.2),
                        _point(1.0, 80.0, None, 0.4), _point(2.0, 0.75, 0.76, 0.6),
                        _point(5.0, 0.85, 0.85, 0.8)])
    text = " ".join(dd_report.linear_sentences(double))
    assert "peaks at the interpolation threshold p = n" in text
    assert "descends again" in text and "is within" in text and "has no peak" in text
    assert "not having more parameters than observations that ruins" in text

    monotone = _analysis([_point(0.2, 0.9, 0.062, 0.05), _point(0.5, 0.6, 0.25, 0.9),
                          _point(1.0, 0.5, None, 0.4), _point(2.0, 0.4, 0.76, 0.6),
                          _point(5.0, 0.3, 0.85, 0.3, tuned_off=0.5)])
    text = " ".join(dd_report.linear_sentences(monotone))
    assert "not at the interpolation threshold" in text
    assert "no second descent" in text and "deviates from" in text
    assert "still has a peak" in text and "does not support" in text
    assert "has no peak" not in text and "is within" not in text


def test_config_round_trips_with_its_resolved_defaults() -> None:
    config = resolved(DoubleDescentConfig(model="mlp"))
    assert config.widths == parse_grid("2..300:19", "") and config.label_noise == 0.15
    assert config.train.optimizer == "sgd" and config.train.epochs == 500
    assert config.n_train == (4000,) and config.data.data == "mnist1d"
    assert json.loads(json.dumps(dataclasses.asdict(config)))["widths"][0] == 2
    assert math.isclose(resolved(DoubleDescentConfig()).noise_std, 0.5)


def test_full_demo_runs_each_study_into_its_own_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from paramlab.lab import demo
    from paramlab.lab.experiments import double_descent

    full = double_descent.demo_config("full", {})
    assert isinstance(full, list)
    assert [c.model for c in full] == ["linear", "random-features", "mlp"]
    assert isinstance(double_descent.demo_config("quick", {}), DoubleDescentConfig)
    tiny = [DoubleDescentConfig(repeats=2, n_train=(20,), features=parse_grid("4..60:8", "")),
            DoubleDescentConfig(model="random-features", repeats=1, n_train=(50,),
                                features=parse_grid("10..200:9", ""))]
    experiment = dataclasses.replace(EXPERIMENT,
                                     demo=lambda level, earlier: tiny)
    monkeypatch.setattr(demo, "registry", lambda: [experiment])
    page = demo.demo(tmp_path, level="full", quiet=True).read_text()
    assert {p.name for p in tmp_path.iterdir()} >= {"double-descent", "double-descent-2"}
    assert page.count('src="data:image/png;base64,') == 2
    assert "Double descent: random features on digits" in page


def test_the_console_table_drops_the_columns_a_study_left_blank() -> None:
    """An MLP width sweep has no linear theory, a linear sweep no widths: each table shows
    its own columns."""
    experiment = get("double-descent")
    mlp = [{"model_id": "m", "width": 8, "params": 490, "n_train": 4000, "train_loss": 1.5,
            "test_loss": 1.4, "test_risk": None, "theory_risk": None, "train_error": 0.5,
            "test_error": 0.54}]
    linear = [{"model_id": "l", "width": None, "params": 20, "n_train": 200,
               "train_loss": 0.2, "test_loss": 0.28, "test_risk": 0.03, "theory_risk": 0.028,
               "train_error": None, "test_error": None}]
    assert shown_columns(experiment, mlp) == ["model_id", "width", "params", "n_train",
                                              "train_loss", "test_loss", "train_error",
                                              "test_error"]
    assert shown_columns(experiment, linear) == ["model_id", "params", "n_train", "train_loss",
                                                 "test_loss", "test_risk", "theory_risk"]


# ------------------------------------------------------------------ science on arrays


def test_most_prominent_peak_is_the_local_maximum_standing_highest_on_both_sides() -> None:
    from paramlab.lab.science.peaks import most_prominent_peak

    # underfitting narrow networks make index 0 the global maximum; the peak is index 3
    assert most_prominent_peak([0.9, 0.4, 0.35, 0.6, 0.3, 0.2]) == 3
    # two bumps: 0.2 above both sides beats 0.1 above its left side
    assert most_prominent_peak([0.5, 0.4, 0.5, 0.45, 0.65, 0.3]) == 4
    assert most_prominent_peak([0.9, 0.5, 0.3]) == 0  # monotone: the largest value


def test_gaussian_draw_is_isotropic_and_the_same_for_the_same_seed_and_repeat() -> None:
    from paramlab.lab.science.dd_fits import gaussian_draw

    draw = gaussian_draw(2000, 50, seed=3, repeat=1, noise_draws=4)
    again = gaussian_draw(2000, 50, seed=3, repeat=1, noise_draws=4)
    other = gaussian_draw(2000, 50, seed=3, repeat=2, noise_draws=4)
    assert np.array_equal(draw.X, again.X) and not np.array_equal(draw.X, other.X)
    assert draw.noise.shape == (2000, 4) and draw.direction.shape == (50,)
    with one_blas_thread():  # E[XᵀX/n] = I
        np.testing.assert_allclose(draw.X.T @ draw.X / 2000, np.eye(50), atol=0.12)


def test_python_callers_see_the_field_name_in_validation_errors(tmp_path: Path) -> None:
    from paramlab.fields import OptionError

    with pytest.raises(OptionError, match=r"^ridge must be a number ≥ 0"):
        runner.run(EXPERIMENT, DoubleDescentConfig(ridge=-1.0), tmp_path / "run")
    with pytest.raises(OptionError, match=r"^n_train takes one value in a features sweep"):
        runner.run(EXPERIMENT, DoubleDescentConfig(n_train=(10, 20)), tmp_path / "run")
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ run folders of old


OLD_RUNS = Path(__file__).parent / "data" / "old_runs"


def _old_run(name: str, tmp_path: Path) -> tuple[Path, dict]:
    """A run folder as the code before the runner wrote it (``paramlab run double-descent``
    at commit 0671b3e: its config.json, analysis.json and results.csv, kept in
    tests/data/old_runs), its store rebuilt from results.csv with the study's columns."""
    import csv
    import shutil

    from paramlab.lab.experiments.double_descent import COLUMNS

    folder = tmp_path / name
    shutil.copytree(OLD_RUNS / name, folder)
    config = json.loads((folder / "config.json").read_text())["experiment_config"]
    kinds = {c.name: c.kind for c in COLUMNS}
    with (folder / "results.csv").open() as handle:
        rows = [{k: None if v == "" else kinds[k](v) for k, v in row.items()}
                for row in csv.DictReader(handle)]
    RunStore.create_or_resume(folder, config, COLUMNS).record_many([(r, []) for r in rows])
    return folder, json.loads((folder / "analysis.json").read_text())


@pytest.mark.parametrize(("name", "config"), [
    ("double-descent-lin", DoubleDescentConfig(features=parse_grid("4..40:5", ""),
                                               n_train=(10,), repeats=2, noise_draws=2)),
    ("double-descent-rf", DoubleDescentConfig(model="random-features", n_train=(20,),
                                              features=parse_grid("5..80:5", ""),
                                              repeats=1)),
])
def test_a_run_folder_of_the_old_code_reports_and_resumes(
        name: str, config: DoubleDescentConfig, tmp_path: Path) -> None:
    from paramlab.lab.report import build_report

    folder, old_analysis = _old_run(name, tmp_path)
    analysis = EXPERIMENT.read_analysis(RunStore.open(folder))  # the old analysis.json, typed
    assert analysis is not None and _as_json(analysis.to_json()) == old_analysis
    page = build_report(folder).read_text()
    assert "Double descent: " in page and 'src="data:image/png;base64,' in page
    # the same command line resumes it: nothing recomputed, the same analysis
    outcome = runner.run(EXPERIMENT, config, folder)
    assert (outcome.trained, outcome.skipped) == (0, len(RunStore.open(folder).rows()))
    assert outcome.analysis is not None and _as_json(outcome.analysis.to_json()) == old_analysis
    # a repeat lost before it was committed is computed again, to the same numbers
    with RunStore.open(folder).connect() as db:
        db.execute("DELETE FROM models WHERE model_id LIKE '%-r000'")
    again = runner.run(EXPERIMENT, config, folder)
    assert again.trained > 0 and again.analysis is not None
    assert _close(again.analysis.to_json(), old_analysis)


def _as_json(value: object) -> object:
    return json.loads(json.dumps(value))


def _close(new: object, old: object) -> bool:
    """JSON values equal up to float rounding of recomputed means."""
    new = _as_json(new)
    if isinstance(old, dict):
        return isinstance(new, dict) and new.keys() == old.keys() and all(
            _close(new[k], old[k]) for k in old)
    if isinstance(old, list):
        return isinstance(new, list) and len(new) == len(old) and all(
            _close(a, b) for a, b in zip(new, old, strict=True))
    if isinstance(old, float) and isinstance(new, float):
        return math.isclose(new, old, rel_tol=1e-9, abs_tol=1e-12)
    return new == old


def test_linear_sweep_points_are_the_pseudo_inverse_fits_of_one_draw() -> None:
    """Each point's risk and training loss as NumPy computes them from pinv(X_k) y on the
    same draw, and the exact theory beside it (finite-n formula, λ* = σ²γ/r²)."""
    from paramlab.lab.science.dd_fits import gaussian_draw
    from paramlab.lab.science.dd_sweeps import linear_sweep

    sizes, n, sigma = (10, 25, 60), 30, 0.5
    points = linear_sweep("features", sizes, n, signal=2.0, noise_std=sigma, ridge=0.0,
                          seed=4, repeat=1, noise_draws=3)
    draw = gaussian_draw(n, sizes[-1], 4, 1, 3)
    for k, pt in zip(sizes, points, strict=True):
        beta = math.sqrt(2.0) * draw.direction[:k] / np.linalg.norm(draw.direction[:k])
        y = (draw.X[:, :k] @ beta)[:, None] + sigma * draw.noise
        beta_hat = np.linalg.pinv(draw.X[:, :k]) @ y
        assert (pt.p, pt.n) == (k, n)
        assert pt.risk == pytest.approx(np.mean(np.sum((beta_hat - beta[:, None]) ** 2, 0)))
        assert pt.train_loss == pytest.approx(np.mean((draw.X[:, :k] @ beta_hat - y) ** 2),
                                              abs=1e-12)
        assert pt.theory_risk == dd_theory.finite_risk(k, n, 2.0, sigma**2)
        assert pt.optimal_ridge == pytest.approx(sigma**2 * (k / n) / 2.0)


def test_random_feature_sweep_scores_are_min_norm_fits_of_the_first_features() -> None:
    from paramlab.lab.data.double_descent import Arrays
    from paramlab.lab.science.dd_fits import random_feature_map
    from paramlab.lab.science.dd_sweeps import random_feature_sweep

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 40)
    arrays = Arrays("toy", "classification", rng.standard_normal((40, 5)), np.eye(3)[labels],
                    labels, rng.standard_normal((20, 5)), np.eye(3)[labels[:20]],
                    labels[:20], "")
    sweep = list(random_feature_sweep(arrays, "relu", (10, 80), 0.0,
                                      np.random.default_rng(1)))
    phi = random_feature_map("relu", 5, 80, np.random.default_rng(1))
    train, test = phi(arrays.X_train), phi(arrays.X_test)
    for k, train_scores, test_scores in sweep:
        coef = np.linalg.pinv(train[:, :k]) @ arrays.y_train
        assert train_scores.loss == pytest.approx(
            np.mean((train[:, :k] @ coef - arrays.y_train) ** 2), abs=1e-10)
        predicted = (test[:, :k] @ coef).argmax(axis=1)
        assert test_scores.accuracy == pytest.approx(np.mean(predicted == arrays.labels_test))
    assert sweep[-1][1].loss < 1e-12 and sweep[-1][1].accuracy == 1.0  # 80 features > 40 rows
