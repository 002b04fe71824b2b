"""Refit analysis: permutation alignment and distances, checked on constructed cases; a run
through the runner; a run folder written before the migration still resumes and reports."""

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from paramlab import fields
from paramlab.lab import runner
from paramlab.lab.experiments.refit import EXPERIMENT, RefitAnalysis, RefitConfig
from paramlab.lab.report import build_report
from paramlab.lab.science.alignment import (
    align,
    compare_refits,
    cosine,
    flat,
    relative_distance,
)

OLD_RUN = Path(__file__).parent / "data" / "old_runs" / "refit"


def random_mlp(rng: np.random.Generator, widths: list[int]) -> list[np.ndarray]:
    out = []
    for a, b in itertools.pairwise(widths):
        out += [rng.standard_normal((a, b)), rng.standard_normal(b)]
    return out


def permuted(weights: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The same function with every hidden layer's units shuffled."""
    out = [w.copy() for w in weights]
    for layer in range(len(out) // 2 - 1):
        p = rng.permutation(out[2 * layer].shape[1])
        out[2 * layer], out[2 * layer + 1] = out[2 * layer][:, p], out[2 * layer + 1][p]
        out[2 * layer + 2] = out[2 * layer + 2][p, :]
    return out


def forward(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    for layer in range(len(weights) // 2):
        x = x @ weights[2 * layer] + weights[2 * layer + 1]
        if layer < len(weights) // 2 - 1:
            x = np.maximum(x, 0)
    return x


def test_alignment_undoes_a_permutation_exactly() -> None:
    rng = np.random.default_rng(0)
    net = random_mlp(rng, [6, 12, 9, 2])
    shuffled = permuted(net, rng)
    x = rng.standard_normal((5, 6))
    np.testing.assert_allclose(forward(net, x), forward(shuffled, x))  # same function
    assert relative_distance(flat(net), flat(shuffled)) > 0.5  # yet different weights
    restored = align(net, shuffled)
    assert relative_distance(flat(net), flat(restored)) == 0.0
    np.testing.assert_allclose(forward(restored, x), forward(net, x))


def test_distances_of_identical_and_opposite_vectors() -> None:
    v = np.arange(1.0, 6.0)
    assert relative_distance(v, v) == 0.0 and cosine(v, v) == 1.0
    assert relative_distance(v, -v) == 2.0 and cosine(v, -v) == -1.0


def test_comparison_of_functionally_identical_refits() -> None:
    """Permuted copies: raw weights differ, aligned weights and predictions do not."""
    rng = np.random.default_rng(1)
    net = random_mlp(rng, [4, 8, 1])
    refits = [net, permuted(net, rng), permuted(net, rng)]
    x = rng.standard_normal((30, 4))
    pairs = compare_refits(refits, [forward(w, x) for w in refits], 1.0)
    assert [(p.i, p.j) for p in pairs] == [(0, 1), (0, 2), (1, 2)]
    for pair in pairs:
        assert pair.distance > 0.3
        assert pair.aligned_distance < 1e-12 and pair.aligned_cosine == pytest.approx(1.0)
        assert pair.prediction_difference < 1e-12


def _config(**changes: object) -> RefitConfig:
    config = RefitConfig("40-4-1", seeds=3)
    config.data.n_samples = 200
    config.train.epochs = 2
    for name, value in changes.items():
        setattr(config, name, value)
    return config


def test_a_run_analyzes_its_refits_from_the_stored_weights(tmp_path: Path) -> None:
    outcome = runner.run(EXPERIMENT, _config(), tmp_path / "r")
    analysis = outcome.analysis
    assert isinstance(analysis, RefitAnalysis) and outcome.trained == 3
    rows = {r["model_id"]: r for r in outcome.store.rows()}
    assert analysis.val_losses == tuple(rows[f"refit-00{k}"]["val_loss"] for k in range(3))
    assert analysis.val_loss_spread == pytest.approx(
        (max(analysis.val_losses) - min(analysis.val_losses)) / analysis.val_loss_mean)
    assert analysis.params == 40 * 4 + 4 + 4 + 1 and len(analysis.pairs) == 3
    assert analysis.aligned_distance <= analysis.weight_distance + 1e-12
    stored = json.loads((tmp_path / "r" / "analysis.json").read_text())
    assert "barrier" not in stored and "contrast" not in stored  # as before: not asked for
    assert RefitAnalysis.from_json(stored) == analysis


@pytest.mark.parametrize(("changes", "message"), [
    ({"seeds": 1}, "seeds must be at least 2"),
    ({"barrier_points": 2}, "barrier_points must be at least 3"),
    ({"z": 0.0}, "z must be a positive number"),
])
def test_python_callers_see_the_field_name(changes: dict[str, object], message: str,
                                           tmp_path: Path) -> None:
    with pytest.raises(fields.OptionError, match=message):
        runner.run(EXPERIMENT, _config(**changes), tmp_path / "r")


def test_a_run_folder_written_before_the_migration_resumes_and_reports(
        tmp_path: Path) -> None:
    """Made by the pre-#21 code (refit 40-2-1 --seeds 2 --barrier --barrier-points 3
    --barrier-rows 10 --epochs 1 --n-samples 60): nothing is trained again, the analysis
    recomputed from its weights equals the one it stored, and its report renders."""
    run = shutil.copytree(OLD_RUN, tmp_path / "old")
    old = json.loads((run / "analysis.json").read_text())
    stored = RefitAnalysis.from_json(old)  # the old file reads back, typed
    assert stored.barrier is not None and stored.barrier.pairs[1].aligned
    values = {k: v for k, v in json.loads((run / "config.json").read_text())[
        "experiment_config"].items() if k != "experiment"}
    outcome = runner.run(EXPERIMENT, fields.from_dict(RefitConfig, values), run)
    assert (outcome.trained, outcome.skipped) == (0, 2)
    again = json.loads((run / "analysis.json").read_text())
    assert list(again) == list(old)
    assert again["aligned_distance"] == pytest.approx(old["aligned_distance"], rel=1e-9)
    assert again["barrier"]["raw_barrier"] == pytest.approx(old["barrier"]["raw_barrier"],
                                                            rel=1e-9, abs=1e-12)
    assert (run / "paths.csv").read_text() == (OLD_RUN / "paths.csv").read_text()
    page = build_report(run).read_text()
    assert "Refits: 40-2-1 with 2 seeds" in page
