"""`paramlab run` and `paramlab report` from the command line: outputs and clean errors."""

import json
from pathlib import Path

import pytest

import paramlab
from paramlab.cli import main
from paramlab.lab.data import load_dataset


def test_sweep_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "sweep", "--models", "3", "--epochs", "2", "--n-samples", "400",
                 "--width", "8..64", "--out", str(tmp_path / "s"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["trained"] == 3
    # Independently of the engine: the counter's total for each spec, and the training rows
    # of the data set the sweep used (synthetic, 400 samples, data seed 0, the default split).
    dataset = load_dataset("synthetic", seed=0, n_samples=400)
    for row in data["models"]:
        widths = [int(w) for w in row["spec"].split("-")]
        assert (widths[0], widths[-1]) == (dataset.n_features, dataset.n_outputs)
        params = paramlab.count(row["spec"]).total
        assert (row["params"], row["observations"]) == (params, dataset.observations)
        assert row["params_per_observation"] == pytest.approx(params / dataset.observations)
    for name in ("config.json", "environment.json", "results.csv", "store.sqlite"):
        assert (tmp_path / "s" / name).exists()


def test_refit_reports_spread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "refit", "10-32-16-1", "--seeds", "3", "--data", "friedman",
                 "--n-samples", "300", "--epochs", "3", "--out", str(tmp_path / "r"),
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "weight distance" in out
    analysis = json.loads((tmp_path / "r" / "analysis.json").read_text())
    assert analysis["weight_distance"] > analysis["val_loss_spread"]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["run", "sweep", "--data", "nowhere.csv"], "no such file"),
    (["run", "sweep", "--depth", "3..1"], "--depth must be MIN..MAX"),
    (["run", "sweep", "--models", "0"], "--models must be at least 1"),
    (["run", "sweep", "--lr", "-1"], "lr must be positive"),
    (["run", "refit", "5-8-1", "--n-samples", "100"], "does not fit the data: it has 40 "
     "features"),
    (["run", "refit", "40-8-1", "--seeds", "1"], "at least 2"),
    (["report", "/nonexistent"], "no such run folder"),
])
def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           argv: list[str], fragment: str) -> None:
    code = main([*argv, *(["--out", str(tmp_path / "o"), "--quiet"] if argv[0] == "run"
                          else [])])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err and "Traceback" not in err
