"""``paramlab run prune``: the rounds prune what Frankle & Carbin's rule prunes (checked on the
stored weights with NumPy, not with our pruning code), tickets rewind to θ₀ and controls do
not, a killed run resumes each point once, bad options are one-line errors, and the report's
sentences flip with the numbers. The MNIST proof (784-300-100-10 keeps ≤ 20 %) is
``benchmarks/proof_prune.py``; its measured output is in docs/lab.md."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from paramlab.cli import main
from paramlab.errors import ParamlabError
from paramlab.lab import runner
from paramlab.lab.data import DataConfig
from paramlab.lab.engine import TrainConfig
from paramlab.lab.engine.stack import init_weights
from paramlab.lab.experiments.prune import (
    CONTROL_SEED,
    EXPERIMENT,
    PruneAnalysis,
    PruneConfig,
    PrunePoint,
    masks_key,
)
from paramlab.lab.report.prune import prune_sentences
from paramlab.lab.store import RunStore

CONFIG = PruneConfig("64-16-10", rounds=2, data=DataConfig("digits"),
                     train=TrainConfig(epochs=2, batch_size=64, lr=3e-3))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> runner.RunOutcome:
    return runner.run(EXPERIMENT, CONFIG, tmp_path_factory.mktemp("prune") / "run")


def _masks(store: RunStore, round_: int) -> list[np.ndarray]:
    arrays = store.load_arrays(masks_key(0, round_))
    return [arrays[f"m{i}"] for i in range(len(arrays))]


def test_each_round_prunes_the_smallest_kept_weights_globally_and_the_output_at_half(
        run: runner.RunOutcome) -> None:
    store = run.store
    before = [np.ones((64, 16)), np.ones((16, 10))]
    for round_, trained_id in ((1, "dense-s00-r000"), (2, "ticket-s00-r001")):
        trained = store.load_weights(trained_id).weights[::2]
        masks = _masks(store, round_)
        hidden_before, out_before = int(before[0].sum()), int(before[1].sum())
        # the paper's counts: 20 % of the kept hidden weights, 10 % of the output layer's
        assert int(masks[0].sum()) == hidden_before - math.ceil(0.2 * hidden_before)
        assert int(masks[1].sum()) == out_before - math.ceil(0.1 * out_before)
        for w, old, new in zip(trained, before, masks, strict=True):
            assert not np.any(new > old)  # a pruned weight stays pruned
            removed = np.abs(w[(old == 1) & (new == 0)])
            survived = np.abs(w[new == 1])
            assert removed.max() <= survived.min()  # by magnitude, within each ranking
        before = masks
    rows = {r["model_id"]: r for r in store.rows()}
    assert rows["ticket-s00-r002"]["kept"] == int(sum(m.sum() for m in before))
    assert rows["ticket-s00-r002"]["kept_fraction"] == pytest.approx(
        rows["ticket-s00-r002"]["kept"] / (64 * 16 + 16 * 10))


def test_tickets_rewind_to_theta0_and_controls_start_elsewhere(run: runner.RunOutcome) -> None:
    """A ticket trained for 0 steps would be θ₀ ⊙ mask: trained weights stay nearer to θ₀
    than to the control's initialization, and pruned entries are exactly zero."""
    store = run.store
    theta0 = [t.numpy() for t in init_weights(_arch(), CONFIG.seed)]
    other = [t.numpy() for t in init_weights(_arch(), CONFIG.seed + CONTROL_SEED)]
    ticket = store.load_weights("ticket-s00-r001").weights
    masks = _masks(store, 1)
    for layer, mask in enumerate(masks):
        w = ticket[2 * layer]
        assert np.all(w[mask == 0] == 0)
        kept = mask == 1
        assert (np.linalg.norm(w[kept] - theta0[2 * layer][kept])
                < np.linalg.norm(w[kept] - other[2 * layer][kept]))
    rows = {r["model_id"]: r for r in store.rows()}
    assert rows["control-s00-r001"]["kept"] == rows["ticket-s00-r001"]["kept"]
    assert rows["control-s00-r001"]["test_loss"] != rows["ticket-s00-r001"]["test_loss"]


def _arch():  # type: ignore[no-untyped-def]
    from paramlab.lab.engine import MLPArch

    return MLPArch(64, (16,), 10)


def test_analysis_reads_the_curve_and_history_has_test_accuracy(run: runner.RunOutcome) -> None:
    analysis = run.analysis
    assert isinstance(analysis, PruneAnalysis)
    rows = run.store.rows()
    dense = next(r for r in rows if r["model_id"] == "dense-s00-r000")
    assert analysis.dense_accuracy == dense["test_accuracy"]
    assert [p.round for p in analysis.curve] == [0, 1, 2]
    fractions = [p.kept_fraction for p in analysis.curve]
    assert fractions == sorted(fractions, reverse=True) and fractions[0] == 1
    matching = [p.kept_fraction for p in analysis.curve
                if p.ticket_accuracy >= analysis.dense_accuracy - 0.01]
    assert analysis.kept_fraction == min(matching)
    history = run.store.history()["ticket-s00-r001"]
    assert len(history) == 2 and 0 <= history[-1]["test_accuracy"] <= 1
    ticket = next(r for r in rows if r["model_id"] == "ticket-s00-r001")
    assert history[-1]["test_accuracy"] == pytest.approx(ticket["test_accuracy"])


def test_a_killed_run_resumes_each_point_once_to_the_same_numbers(
        run: runner.RunOutcome, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(run.store.path, folder)
    with RunStore.open(folder).connect() as db:  # killed during round 2, after round 1
        for table in ("models", "epochs"):  # a row and its epochs commit together
            db.execute(f"DELETE FROM {table} WHERE model_id LIKE '%-r002'")
    again = runner.run(EXPERIMENT, CONFIG, folder)
    assert (again.trained, again.skipped) == (2, 3)
    before = {r["model_id"]: r["test_loss"] for r in run.store.rows()}
    after = {r["model_id"]: r["test_loss"] for r in again.store.rows()}
    assert after == pytest.approx(before)


@pytest.mark.parametrize(("changes", "message"), [
    ({"rounds": 0}, r"^rounds must be at least 1; received 0$"),
    ({"rate": 1.0}, r"^rate must be in \(0, 1\); received 1.0$"),
    ({"output_rate": -0.1}, r"^output_rate must be in \[0, 1\); received -0.1$"),
    ({"within": -1.0}, r"^within must be percentage points"),
    ({"seeds": 0}, r"^seeds must be at least 1"),
    ({"data": DataConfig("synthetic", n_samples=100)}, r"needs a classification data set"),
    ({"spec": "64-16-3"}, r"does not fit the data"),
])
def test_bad_options_are_one_line_errors(changes: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ParamlabError, match=message):
        runner.run(EXPERIMENT, dataclasses.replace(CONFIG, **changes), tmp_path / "bad")


def test_cli_bad_rate_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "prune", "64-16-10", "--data", "digits", "--rate", "1.5",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--rate must be in (0, 1); received 1.5" in err and "\n" not in err


# ------------------------------------------------------------------ sentences


def _analysis(**changes: object) -> PruneAnalysis:
    curve = (PrunePoint(0, 1.0, 0.95, 0.95, 0.95, None, 1.0),
             PrunePoint(1, 0.5, 0.948, 0.947, 0.949, 0.93, 1.0),
             PrunePoint(2, 0.1, 0.90, 0.90, 0.90, 0.85, 1.0))
    base = PruneAnalysis(spec="784-300-100-10", params=266_610, weights=266_200,
                         observations=3500, n_test=10_000, seeds=2, rate=0.2, output_rate=0.1,
                         within=1.0, dense_accuracy=0.95, curve=curve, kept_fraction=0.5,
                         ticket_accuracy=0.948, control_accuracy=0.93,
                         sampling_error=float(np.sqrt(0.95 * 0.05 / 10_000)))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_sentences_flip_with_the_kept_fraction() -> None:
    kept = prune_sentences(_analysis())[0]
    assert "down to 50.0% of its weights" in kept and "still more than the 3,500" in kept
    tiny = prune_sentences(_analysis(kept_fraction=0.01, ticket_accuracy=0.945))[0]
    assert "down to 1.0%" in tiny and "no more than the 3,500 observations" in tiny
    never = prune_sentences(_analysis(kept_fraction=1.0, ticket_accuracy=0.95,
                                      control_accuracy=None))
    assert "never stayed within 1 point" in never[0] and "best pruned ticket" in never[0]
    assert "no fraction at which" in never[1]


def test_sentences_flip_with_the_control() -> None:
    worse = prune_sentences(_analysis())[1]
    assert "1.8 points below the rewound ticket" in worse and "outside the 1-point" in worse
    close = prune_sentences(_analysis(control_accuracy=0.945))[1]
    assert "below the rewound ticket, yet still within 1 point" in close
    better = prune_sentences(_analysis(control_accuracy=0.96))[1]
    assert "1.2 points above the rewound ticket" in better and "no winning ticket" in better


def test_sentences_flip_with_the_test_set_noise() -> None:
    assert "not an artifact" in prune_sentences(_analysis())[2]
    small = _analysis(n_test=300, sampling_error=float(np.sqrt(0.95 * 0.05 / 300)))
    assert "as noisy as the test set is small" in prune_sentences(small)[2]


def test_the_full_demo_prunes_the_network_the_capacity_studies_share() -> None:
    from paramlab.lab.experiments import get
    from paramlab.lab.runner import CAPACITY_DEMO_DATA, CAPACITY_DEMO_SPEC

    full = EXPERIMENT.demo("full", {})
    assert isinstance(full, PruneConfig) and full.spec == CAPACITY_DEMO_SPEC
    assert full.data.data == CAPACITY_DEMO_DATA and 0.8**full.rounds <= 0.2
    assert EXPERIMENT.demo("default", {}) is None and EXPERIMENT.demo("quick", {}) is None
    effective = get("effective-dimension").demo("full", {})
    assert CAPACITY_DEMO_SPEC in [c.spec for c in effective]
