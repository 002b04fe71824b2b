"""The four-point polynomial against its theory: a line of exact fits, the pseudo-inverse's
minimum-norm member, gradient descent from zero landing on it, ridge tending to it."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from paramlab.cli import main
from paramlab.lab.experiments.polynomial import PolynomialAnalysis, PolynomialConfig
from paramlab.lab.report import polynomial as report
from paramlab.lab.science import polynomial as poly

POINT_SETS = [
    ((-1.0, -0.4, 0.3, 1.0), (0.5, -0.3, 0.8, -0.2)),
    ((0.0, 10.0, 20.0, 35.0), (3.0, -1.0, 4.0, 1.5)),  # far from [-1, 1]: the scaling matters
    ((2.0, 2.1, 2.5, 3.0), (1.0, 1.0, 0.0, -2.0)),
]


def _values(c: np.ndarray, x: tuple[float, ...]) -> np.ndarray:
    """The polynomial evaluated with numpy's own Polynomial, not the study's Vandermonde."""
    xs = np.asarray(x)
    return np.polynomial.Polynomial(c)(poly.scale(xs, xs))


@pytest.mark.parametrize(("x", "y"), POINT_SETS)
def test_every_member_interpolates_and_members_differ(x: tuple[float, ...],
                                                      y: tuple[float, ...]) -> None:
    config = PolynomialConfig(x=x, y=y, family=(-100.0, -3.0, -0.5, 0.5, 3.0, 100.0))
    solved = config.solve()
    members = [f.coefficients for f in solved.fits if f.model in ("min-norm", "cubic",
                                                                  "family")]
    assert len(members) == 8
    for c in members:
        assert np.max(np.abs(_values(c, x) - np.asarray(y))) <= 1e-9 * max(1, np.abs(c).max())
    middle = (np.asarray(x)[1:] + np.asarray(x)[:-1]) / 2  # between the points they differ
    off = {tuple(np.round(np.polynomial.Polynomial(c)(poly.scale(middle, np.asarray(x))), 9))
           for c in members}
    assert len(off) == len(members)
    cubic = next(f.coefficients for f in solved.fits if f.fit_id == "cubic")
    assert abs(cubic[4]) < 1e-12  # the cubic interpolant is one member of the line
    assert sorted(np.polynomial.polynomial.polyroots(solved.null_direction).real) == \
        pytest.approx(sorted(solved.u), abs=1e-9)


@pytest.mark.parametrize(("x", "y"), POINT_SETS)
def test_min_norm_is_numpys_least_squares_and_orthogonal_to_the_null_line(
        x: tuple[float, ...], y: tuple[float, ...]) -> None:
    solved = PolynomialConfig(x=x, y=y).solve()
    V = np.vander(solved.u, 5, increasing=True)
    lstsq = np.linalg.lstsq(V, np.asarray(y), rcond=None)[0]  # LAPACK's minimum-norm solve
    assert solved.min_norm == pytest.approx(lstsq, abs=1e-10)
    assert abs(solved.min_norm @ solved.null_direction) < 1e-10
    assert int(np.sum(solved.singular_values > 1e-12)) == 4


@pytest.mark.parametrize(("x", "y"), POINT_SETS)
def test_gradient_descent_from_zero_lands_on_the_min_norm_fit(
        x: tuple[float, ...], y: tuple[float, ...]) -> None:
    u = poly.scale(np.asarray(x), np.asarray(x))
    V = poly.vandermonde(u)
    singular = np.linalg.svd(V, compute_uv=False)
    lr = 1 / singular[0] ** 2
    steps = int(np.ceil(np.log(1e-12) / np.log(1 - lr * singular[-1] ** 2)))  # 1e-12 contraction
    best = np.linalg.lstsq(V, np.asarray(y), rcond=None)[0]
    descended, _ = poly.gradient_descent(V, np.asarray(y), lr, steps)
    assert np.linalg.norm(descended - best) <= 1e-6
    # the part along the null direction never moves: started off it, descent keeps it
    n = poly.null_direction(u)
    elsewhere, _ = poly.gradient_descent(V, np.asarray(y), lr, steps, start=2.0 * n)
    assert np.linalg.norm(elsewhere - (best + 2.0 * n)) <= 1e-6


def test_ridge_matches_sklearn_and_tends_to_min_norm() -> None:
    x, y = POINT_SETS[0]
    V = poly.vandermonde(poly.scale(np.asarray(x), np.asarray(x)))
    best = np.linalg.lstsq(V, np.asarray(y), rcond=None)[0]
    distances = []
    for lam in (1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8):
        c = poly.ridge(V, np.asarray(y), lam)
        oracle = Ridge(alpha=lam, fit_intercept=False, solver="svd").fit(V, y).coef_
        assert c == pytest.approx(oracle, abs=1e-8)
        distances.append(np.linalg.norm(c - best))
    assert all(b < a for a, b in itertools.pairwise(distances))
    assert distances[-1] < 1e-6


def test_run_reports_landing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "polynomial", "--out", str(tmp_path / "p"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["model_id"]: r for r in data["models"]}
    assert rows["gradient-descent"]["distance_to_min_norm"] <= 1e-6
    assert all(r["max_residual"] <= 1e-9 for r in rows.values() if r["model"] != "ridge")
    sentences = report.polynomial_sentences(data["models"], PolynomialAnalysis.from_json(
        json.loads((tmp_path / "p" / "analysis.json").read_text())))
    assert any("it landed on it" in s for s in sentences)
    assert any("ridge tends to the minimum-norm interpolant" in s for s in sentences)


def _rows(gd: float, residual: float, ridge_distances: list[float]) -> list[dict[str, object]]:
    base = {"params": 5, "n_train": 4, "norm": 1.0, "ridge": None, "steps": None, "t": 0.0,
            "max_residual": residual, "distance_to_min_norm": 0.0}
    rows = [{**base, "model_id": "min-norm", "model": "min-norm"},
            {**base, "model_id": "cubic", "model": "cubic", "t": -0.1},
            {**base, "model_id": "gradient-descent", "model": "gradient-descent",
             "steps": 10, "distance_to_min_norm": gd},
            {**base, "model_id": "family-t=+1", "model": "family", "t": 1.0}]
    rows += [{**base, "model_id": f"ridge-{lam}", "model": "ridge", "ridge": lam,
              "distance_to_min_norm": d, "max_residual": d}
             for lam, d in zip((1.0, 0.01, 1e-6), ridge_distances, strict=True)]
    return rows


ANALYSIS = PolynomialAnalysis(
    x=(-1.0, -0.4, 0.3, 1.0), y=(0.5, -0.3, 0.8, -0.2), u=(-1.0, -0.4, 0.3, 1.0),
    singular_values=(2.6, 2.0, 1.0, 0.3), rank=4, null_direction=(0.0,) * 5,
    min_norm=(0.0,) * 5, lr=0.14, steps=10, descent_distance=((1, 1.0),),
    converge_steps=900.0)


def test_sentences_follow_the_numbers_both_ways() -> None:
    good = report.polynomial_sentences(_rows(1e-12, 1e-15, [2.0, 0.3, 3e-5]), ANALYSIS)
    bad = report.polynomial_sentences(_rows(0.4, 1e-3, [2.0, 2.5, 0.8]), ANALYSIS)
    assert any("passes through all four points" in s for s in good)
    assert any("do not all fit" in s for s in bad)
    assert any("it landed on it" in s for s in good)
    assert any("has not landed on it (about 900 steps" in s for s in bad)
    assert not any("it landed on it" in s for s in bad)
    assert any("ridge tends to" in s for s in good) and not any("ridge tends to" in s
                                                               for s in bad)


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--ridge", "0.1,-1"], "--ridge values must be in [0.0"),
    (["--ridge", ""], "--ridge needs at least one value"),
    (["--family", ""], "--family needs at least one value"),
    (["--x", "1,2,3"], "exactly 4 values"),
    (["--x", "1,2,2,3"], "must be distinct"),
    (["--steps", "0"], "--steps must be at least 1"),
    (["--lr", "0.3"], "must be below 2/σ_max² = 0.2839"),
])
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            argv: list[str], fragment: str) -> None:
    assert main(["run", "polynomial", *argv, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
