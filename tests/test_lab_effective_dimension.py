"""The effective-dimension experiment: bad input, labels of what was computed, verdicts that
follow the numbers, resume without retraining, and a run folder written before the migration
that still resumes and reports."""

import itertools
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from paramlab import fields
from paramlab.cli import main
from paramlab.lab import executors, runner
from paramlab.lab.data import DataConfig
from paramlab.lab.engine import TrainConfig
from paramlab.lab.experiments import effective_dimension as ed
from paramlab.lab.report import build_report
from paramlab.lab.report import effective_dimension as ed_report
from paramlab.lab.science import hessian

OLD_RUN = Path(__file__).parent / "data" / "old_runs" / "effective-dimension"

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
    # ten nodes spanning [0, 2]: resolution 2 / (2·10) = 0.1, fine enough for z = 1
    nodes, weights = np.zeros((1, 10)), np.zeros((1, 10))
    nodes[0, 0], weights[0, :2] = 2.0, (0.01, 0.99)
    rest = hessian.Quadrature(nodes, weights, 1000)
    both = hessian.Spectrum(top, exact=False, size=1000, hvps=60, rest=rest).summary(1.0)
    assert both["n_eff_method"] == "top-k + SLQ" and both["slq_resolution"] == 0.1
    assert both["n_eff"] == pytest.approx(alone["n_eff"] + 1000 * 0.01 * 2 / 3)
    assert both["eigenvalues_above_z"] == 3 + 10 and both["above_z_method"] == "SLQ estimate"
    # two nodes over the same span: resolution 0.5, too coarse for z = 1 — the lower bound
    coarse = hessian.Quadrature(np.array([[2.0, 0.0]]), np.array([[0.01, 0.99]]), 1000)
    rough = hessian.Spectrum(top, exact=False, size=1000, hvps=60, rest=coarse).summary(1.0)
    assert rough["n_eff_method"] == "top-k lower bound" and rough["slq_resolution"] == 0.5
    assert rough["n_eff"] == alone["n_eff"] and rough["above_z_method"] == "lower bound"
    assert rough["trace"] == pytest.approx(62 + 1000 * 0.01 * 2)  # smooth: SLQ still serves
    below = hessian.Spectrum(np.array([5.0, 0.5]), exact=False, size=100, hvps=1).summary(1.0)
    assert below["above_z_method"] == "exact"  # λ_k < z: every one above z was found


def _row(width: int, params: int, n_eff: float) -> dict[str, object]:
    return {"model_id": f"w{width}", "width": width, "params": params, "observations": 1000,
            "seed": 0, "spec": f"40-{width}-{width}-1", "n_eff": n_eff,
            "n_eff_method": "exact", "n_eff_lower_bound": None, "eigenvalues_above_z": 10,
            "above_z_method": "exact", "eigenvalues_computed": params}


def test_width_verdict_follows_the_numbers() -> None:
    analysis = ed.EffectiveDimensionAnalysis(hessian.convention(), 1.0, 1000)
    flat = ed_report.sentences([_row(4, 200, 100.0), _row(64, 7000, 180.0)], analysis)
    assert "summed training loss" in flat[0]
    assert any("N_eff levels off" in s and "stays below the 1,000 observations" in s
               for s in flat)
    bounded = [_row(4, 200, 100.0), _row(64, 7000, 100.0) | {
        "n_eff_method": "top-k lower bound", "eigenvalues_computed": 100}]
    capped = ed_report.sentences(bounded, analysis)  # N_eff ≤ k = 100: flat by construction
    assert not any("levels off —" in s for s in capped)
    assert any("does not show that it levels off" in s for s in capped)
    assert any("at least" in s and "this run does not say" in s for s in capped)
    growing = ed_report.sentences([_row(4, 200, 100.0), _row(64, 7000, 3000.0)], analysis)
    assert not any("levels off" in s for s in growing)
    assert any("keeps pace with the parameter count" in s for s in growing)


def test_a_run_killed_after_training_resumes_without_retraining(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ed.EffectiveDimensionConfig(
        "40-3-1", widths=(2, 3), data=DataConfig("synthetic", n_samples=200),
        train=TrainConfig(epochs=1))
    first = runner.run(ed.EXPERIMENT, config, tmp_path / "run")
    assert first.trained == 2
    rows = {r["model_id"]: r for r in first.store.rows()}
    with sqlite3.connect(tmp_path / "run" / "store.sqlite") as db:  # as if killed after
        db.execute("UPDATE models SET n_eff = NULL WHERE model_id = ?",  # training, before
                   ("ed-40-3-1-s0",))  # its Hessian was filled in

    def no_training(todo: list[object], *args: object, **kwargs: object) -> list[object]:
        assert not todo, "trained again although the weights were saved"
        return []

    monkeypatch.setattr(executors, "run_plan", no_training)
    again = runner.run(ed.EXPERIMENT, config, tmp_path / "run")
    assert (again.trained, again.skipped) == (1, 1)
    redone = {r["model_id"]: r for r in again.store.rows()}["ed-40-3-1-s0"]
    assert redone["n_eff"] == pytest.approx(rows["ed-40-3-1-s0"]["n_eff"], rel=1e-9)
    assert redone["params"] == 40 * 3 + 3 + 3 + 1
    assert len(again.store.rows()) == 2  # one row per model, as before
    assert len(again.store.history()["ed-40-3-1-s0"]) == 1  # its training epoch, kept


def test_python_callers_see_the_field_name(tmp_path: Path) -> None:
    config = ed.EffectiveDimensionConfig("40-3-1", top_k=0)
    with pytest.raises(fields.OptionError, match=r"^top_k must be at least 1"):
        runner.run(ed.EXPERIMENT, config, tmp_path / "run")


def test_a_run_folder_written_before_the_migration_resumes_and_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Made by the pre-#21 code (effective-dimension 40-2-1 --widths 1,2 --epochs 1
    --n-samples 60): nothing is trained or measured again, and its report renders."""
    run = shutil.copytree(OLD_RUN, tmp_path / "old")
    old = json.loads((run / "analysis.json").read_text())
    values = {k: v for k, v in json.loads((run / "config.json").read_text())[
        "experiment_config"].items() if k != "experiment"}

    def no_hessian(*args: object, **kwargs: object) -> None:
        raise AssertionError("measured again although the spectrum was recorded")

    monkeypatch.setattr(hessian, "measure", no_hessian)
    outcome = runner.run(ed.EXPERIMENT, fields.from_dict(ed.EffectiveDimensionConfig, values),
                         run)
    assert (outcome.trained, outcome.skipped) == (0, 2)
    assert json.loads((run / "analysis.json").read_text()) == old
    assert ed.EXPERIMENT.read_analysis(outcome.store) == ed.EffectiveDimensionAnalysis(**old)
    page = build_report(run).read_text()
    assert "Effective dimensionality: 2 Hessian spectra" in page
    assert "From width 1 to 2 the raw parameter count grows" in page


def test_slq_completes_n_eff_only_where_its_nodes_resolve_z() -> None:
    """An over-parameterized ReLU net (1,111 parameters, 50 rows): 701 Hessian eigenvalues
    are 0. SLQ smears that mass onto nodes near 0, so for small z its N_eff is far too high
    (z = 0.1: 361 against the exact 192). Where the summary uses SLQ it is within 10 % of the
    exact value; elsewhere it reports the top-k lower bound, which is below the exact one."""
    rng = np.random.default_rng(3)
    weights: list[np.ndarray] = []
    for a, b in itertools.pairwise([4, 30, 30, 1]):
        weights += [rng.standard_normal((a, b)) / np.sqrt(a), 0.3 * rng.standard_normal(b)]
    x, y = rng.standard_normal((50, 4)), rng.standard_normal((50, 1))
    exact = np.linalg.eigvalsh(hessian.dense_hessian(hessian.HessianOperator(weights, x, y)))
    spectrum = hessian.measure(weights, x, y, loss="mse", activation="relu", top_k=10,
                               exact_max=0, probes=8, steps=48)
    assert spectrum.rest is not None
    raw = hessian.n_eff(spectrum.eigenvalues, 0.1) + spectrum.rest.trace(
        lambda t: hessian.n_eff_terms(t, 0.1))
    assert raw > 1.5 * hessian.n_eff(exact, 0.1)  # why the threshold exists
    methods = set()
    for z in (0.1, 1.0, 100.0, 300.0):
        summary, truth = spectrum.summary(z), hessian.n_eff(exact, z)
        methods.add(summary["n_eff_method"])
        if summary["n_eff_method"] == "top-k + SLQ":
            assert summary["n_eff"] == pytest.approx(truth, rel=0.1)
        else:
            assert summary["n_eff"] <= truth
    assert methods == {"top-k + SLQ", "top-k lower bound"}
