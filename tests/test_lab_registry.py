"""The experiment registry's contract, run over every registered experiment: the CLI, the
store, the report and the demo find each one through it, and each keeps its promises (its
declared columns are the results' columns, a rerun resumes, its report section renders)."""

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from paramlab.cli import main
from paramlab.errors import ParamlabError
from paramlab.fields import from_dict
from paramlab.lab.experiments import get, registry
from paramlab.lab.experiments.refit import RefitAnalysis
from paramlab.lab.report import build_report, module_for, section
from paramlab.lab.report import refit as refit_report
from paramlab.lab.report import sweep as sweep_report
from paramlab.lab.runner import Experiment
from paramlab.lab.store import RunStore

EXPERIMENTS = registry()


def test_names_are_unique_and_sweep_and_refit_are_registered() -> None:
    names = [e.name for e in EXPERIMENTS]
    assert len(names) == len(set(names))
    assert {"sweep", "refit"} <= set(names)
    with pytest.raises(ParamlabError, match="unknown experiment 'nope'; known: sweep"):
        get("nope")


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_config_is_a_dataclass_that_rejects_unknown_keys(experiment: Experiment) -> None:
    config = experiment.config()
    assert dataclasses.is_dataclass(config)
    values = json.loads(json.dumps(dataclasses.asdict(config)))
    assert from_dict(experiment.config, values) == config  # a saved config reads back
    with pytest.raises(ParamlabError, match=r"unknown .* key"):
        from_dict(experiment.config, {**values, "learning_rate_typo": 1})


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_example_run_writes_its_declared_columns_resumes_and_reports(
        experiment: Experiment, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / experiment.name
    argv = ["run", experiment.name, *experiment.example, "--out", str(out), "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["trained"] > 0 and first["skipped"] == 0
    with (out / "results.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header == experiment.column_names()
    assert main(argv) == 0  # the same command again: everything already there
    again = json.loads(capsys.readouterr().out)
    assert again["trained"] == 0 and again["skipped"] == first["trained"]
    page = build_report(out).read_text()
    drawn = section(RunStore.open(out), out / "plots")
    assert drawn.title in page and drawn.sentences


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_each_experiment_has_a_report_module(experiment: Experiment) -> None:
    module = module_for(experiment)
    assert callable(module.section)


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "sweep", "--modelz", "3"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --modelz" in capsys.readouterr().err


# ------------------------------------------------------------------ verdicts, both ways


def _row(params: int, train: float, val: float) -> dict[str, object]:
    return {"params": params, "observations": 1000, "spec": f"40-{params}-1",
            "train_loss": train, "val_loss": val}


def test_sweep_verdict_follows_the_medians() -> None:
    config = {"data": {"data": "synthetic"}}
    good = sweep_report.sweep_sentences([_row(100, 0.5, 0.6), _row(5000, 0.25, 0.3)], config)
    bad = sweep_report.sweep_sentences([_row(100, 0.5, 0.3), _row(5000, 0.01, 0.9)], config)
    assert any("did not by itself ruin generalization" in s for s in good)
    assert not any("did not by itself ruin" in s for s in bad)
    assert any("did generalize worse" in s for s in bad)
    assert any("memorizing" in s for s in bad) and not any("memorizing" in s for s in good)


def _analysis(spread: float, aligned: float) -> RefitAnalysis:
    return RefitAnalysis(val_losses=(0.3,), test_losses=(0.3,), val_loss_mean=0.3,
                         val_loss_spread=spread, weight_distance=max(aligned, 1.2),
                         weight_cosine=0.1, aligned_distance=aligned, aligned_cosine=0.5,
                         prediction_difference=0.05, params=50_000, observations=1000,
                         pairs=())


def test_refit_verdict_follows_the_distances() -> None:
    rows = [{"spec": "40-512-1", "observations": 1000, "params": 50_000}] * 3
    apart = refit_report.refit_sentences(_analysis(0.02, 0.9), rows)
    close = refit_report.refit_sentences(_analysis(0.02, 0.01), rows)
    unconverged = refit_report.refit_sentences(_analysis(0.5, 0.9), rows)
    assert "far apart" in apart[2] and "seed answer, measured" in apart[-1]
    assert "close" in close[2] and "pin the weights down" in close[-1]
    assert "do not even agree on the loss" in unconverged[-1]
