"""The effective-dimension experiment: bad input, labels of what was computed, verdicts that
follow the numbers, and resume without retraining."""

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from paramlab.cli import main
from paramlab.lab import hessian
from paramlab.lab.engine import TrainConfig
from paramlab.lab.experiments import effective_dimension as ed
from paramlab.lab.experiments.common import DataConfig

TINY = ["--epochs", "1", "--n-samples", "200", "--quiet"]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["40-4-1", "--z", "0"], "--z must be a positive number"),
    (["40-4-1", "--z", "-2"], "--z must be a positive number"),
    (["39-4-1"], "does not fit the data: it has 40 features"),
    (["40-4-relu-1"], "needs an MLP shorthand"),
    (["40-1", "--widths", "4,8"], "--widths needs a spec with hidden layers"),
    (["40-4-1", "--seeds", "0"], "--seeds must be at least 1"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], fragment: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "effective-dimension", *argv, *TINY, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_top_k_alone_is_labelled_a_lower_bound_and_slq_completes_it() -> None:
    top = np.array([50.0, 9.0, 3.0])
    alone = hessian.Spectrum(top, exact=False, size=1000, hvps=30).summary(1.0)
    assert alone["n_eff_method"] == "top-k lower bound"
    assert alone["n_eff"] == alone["n_eff_lower_bound"] == pytest.approx(
        50 / 51 + 9 / 10 + 3 / 4)
    assert alone["above_z_method"] == "lower bound"  # λ_k = 3 > z: more may lie above z
    rest = hessian.Quadrature(np.array([[2.0, 0.0]]), np.array([[0.01, 0.99]]), 1000)
    both = hessian.Spectrum(top, exact=False, size=1000, hvps=60, rest=rest).summary(1.0)
    assert both["n_eff_method"] == "top-k + SLQ"
    assert both["n_eff"] == pytest.approx(alone["n_eff"] + 1000 * 0.01 * 2 / 3)
    assert both["eigenvalues_above_z"] == 3 + 10 and both["above_z_method"] == "SLQ estimate"
    below = hessian.Spectrum(np.array([5.0, 0.5]), exact=False, size=100, hvps=1).summary(1.0)
    assert below["above_z_method"] == "exact"  # λ_k < z: every one above z was found


def _row(width: int, params: int, n_eff: float) -> dict[str, object]:
    return {"model_id": f"w{width}", "width": width, "params": params, "observations": 1000,
            "seed": 0, "spec": f"40-{width}-{width}-1", "n_eff": n_eff,
            "n_eff_method": "exact", "n_eff_lower_bound": None, "eigenvalues_above_z": 10,
            "above_z_method": "exact", "eigenvalues_computed": params}


def test_width_verdict_follows_the_numbers() -> None:
    analysis = {"z": 1.0, "convention": hessian.convention()}
    flat = ed.sentences([_row(4, 200, 100.0), _row(64, 7000, 180.0)], analysis)
    assert "summed training loss" in flat[0]
    assert any("N_eff levels off" in s and "stays below the 1,000 observations" in s
               for s in flat)
    growing = ed.sentences([_row(4, 200, 100.0), _row(64, 7000, 3000.0)], analysis)
    assert not any("levels off" in s for s in growing)
    assert any("keeps pace with the parameter count" in s for s in growing)


def test_a_run_killed_after_training_resumes_without_retraining(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ed.EffectiveDimensionConfig(
        "40-3-1", widths=(2, 3), data=DataConfig("synthetic", n_samples=200),
        train=TrainConfig(epochs=1))
    first = ed.run(config, tmp_path / "run")
    assert first.trained == 2
    rows = {r["model_id"]: r for r in first.store.rows()}
    with sqlite3.connect(tmp_path / "run" / "store.sqlite") as db:  # as if killed before
        for table in ("models", "epochs"):  # its Hessian was recorded (one transaction)
            db.execute(f"DELETE FROM {table} WHERE model_id = ?", ("ed-40-3-1-s0",))

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained again although the weights were saved")

    monkeypatch.setattr(ed, "train_models", no_training)
    again = ed.run(config, tmp_path / "run")
    assert (again.trained, again.skipped) == (1, 1)
    redone = {r["model_id"]: r for r in again.store.rows()}["ed-40-3-1-s0"]
    assert redone["n_eff"] == pytest.approx(rows["ed-40-3-1-s0"]["n_eff"], rel=1e-9)
    assert redone["params"] == 40 * 3 + 3 + 3 + 1
