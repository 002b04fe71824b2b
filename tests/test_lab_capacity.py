"""The report section "How many parameters the data actually use": it opens a folder holding
two or more capacity studies of one network, reads each study's numbers (effective-dimension
and prune run here; intrinsic-dimension and generalization-bound read by the analysis.json
keys issue #22 names), names the studies that did not run, and every sentence flips with its
numbers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from paramlab import count
from paramlab.lab import runner
from paramlab.lab.data import DataConfig
from paramlab.lab.engine import TrainConfig
from paramlab.lab.experiments import get
from paramlab.lab.experiments.effective_dimension import EffectiveDimensionConfig
from paramlab.lab.experiments.prune import PruneConfig
from paramlab.lab.report import build_report
from paramlab.lab.report.capacity import Capacity, Measure, capacity_sentences, section
from paramlab.lab.store import Column, RunStore

SPEC = "64-16-10"
DIGITS = DataConfig("digits")
TRAIN = TrainConfig(epochs=2, batch_size=64, lr=3e-3)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo-style folder: effective-dimension and prune of one network on digits."""
    out = tmp_path_factory.mktemp("capacity")
    runner.run(get("effective-dimension"),
               EffectiveDimensionConfig(SPEC, data=DIGITS, train=TRAIN), out / "ed")
    runner.run(get("prune"), PruneConfig(SPEC, rounds=2, data=DIGITS, train=TRAIN),
               out / "prune")
    return out


def _fake_run(path: Path, experiment: str, analysis: dict[str, object],
              spec: str = SPEC) -> RunStore:
    """A run folder of a study another branch implements, as its analysis.json keys."""
    store = RunStore.create_or_resume(
        path, {"experiment": experiment, "spec": spec, "data": {"data": "digits"}},
        (Column("model_id", str),))
    store.write_json("analysis.json", analysis)
    return store


def test_the_page_opens_with_the_side_by_side_section_and_names_what_is_missing(
        folder: Path) -> None:
    page = build_report(folder).read_text()
    head = page.index("How many parameters the data actually use")
    assert head < page.index("Pruning: how many of its weights")
    params = count(SPEC).total
    assert f"{SPEC} on digits has {params:,} parameters for 1,257 training" in page
    assert "Not run in this folder: intrinsic-dimension, generalization-bound" in page
    assert "did not all measure the same network" not in page


def test_every_study_is_read_by_its_keys(folder: Path, tmp_path: Path) -> None:
    stores = [RunStore.open(folder / "ed"), RunStore.open(folder / "prune"),
              _fake_run(tmp_path / "id", "intrinsic-dimension",
                        {"d_int90": {"true": {"d_int90": 300}, "shuffled": {"d_int90": 1000}},
                         "n_train": 1257}),
              _fake_run(tmp_path / "gb", "generalization-bound",
                        {"bound": 0.31, "catoni_bound": 0.29, "message_bits": 2400.0,
                         "train_error": 0.05, "test_error": 0.08, "n_train": 1257,
                         "delta": 0.05, "trivial_bound": 0.9})]
    drawn = section(stores, tmp_path)
    assert drawn is not None and drawn.plots[0].exists()
    text = " ".join(drawn.sentences)
    n_eff = RunStore.open(folder / "ed").rows()[0]["n_eff"]
    assert f"N_eff (Hessian effective dimensionality, z = 1): {n_eff:,.0f}" in text
    assert "d_int90 (random-subspace directions reaching 90 % of the full model, true " \
           "labels): 300" in text
    assert "at most 31.0%; measured: 8.0% — below the trivial 90.0%" in text
    assert "2,400 bits" in text and "Not run in this folder" not in text
    # one study is not a comparison: no section
    assert section(stores[:1], tmp_path) is None


def test_a_different_network_is_said_to_be_different(folder: Path, tmp_path: Path) -> None:
    stores = [RunStore.open(folder / "prune"),
              _fake_run(tmp_path / "id", "intrinsic-dimension", {"d_int90": 40},
                        spec="64-32-10")]
    drawn = section(stores, tmp_path)
    assert drawn is not None
    assert "did not all measure the same network" in " ".join(drawn.sentences)


# ------------------------------------------------------------------ sentences, both ways


def _capacity(**changes: object) -> Capacity:
    measures = (Measure("effective-dimension", "N_eff", "N_eff (Hessian)", 300.0, SPEC, "d"),
                Measure("prune", "pruned: weights kept", "weights kept", 2000.0, SPEC, "d"))
    base = Capacity(SPEC, "digits", 10_000, 5_000, measures, ("generalization-bound",),
                    None)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_count_sentence_flips_with_the_ratio() -> None:
    assert "2.0 parameters per observation" in capacity_sentences(_capacity())[0]
    fewer = capacity_sentences(_capacity(params=1_000))[0]
    assert "fewer parameters than observations (0.20 per observation)" in fewer


def test_the_measures_and_the_summary_flip_with_the_observations() -> None:
    lines = capacity_sentences(_capacity())
    assert "N_eff (Hessian): 300 — 3.00% of the raw count, fewer than the 5,000" in lines[1]
    assert lines[3].startswith("Every measure (2) counts fewer than the 5,000 observations, "
                               "although the raw count exceeds them")
    split = capacity_sentences(_capacity(observations=1_000))
    assert "no fewer than the 1,000 observations" in split[2]
    assert split[3].startswith("1 of 2 measures (N_eff) count fewer") and "disagree" in split[3]
    none = capacity_sentences(_capacity(observations=100))
    assert none[3].startswith("No measure counts fewer than the 100 observations")


def test_a_measure_not_reached_and_a_missing_study_are_said() -> None:
    unreached = Measure("prune", "pruned: weights kept", "weights kept", None, SPEC, "d",
                        "no pruned ticket matched the dense accuracy")
    lines = capacity_sentences(_capacity(measures=(unreached,)))
    assert "weights kept: not reached (no pruned ticket matched" in lines[1]
    assert "No measure of capacity reached a value" in lines[2]
    assert "Not run in this folder: generalization-bound" in lines[-1]


def test_the_bound_sentence_flips_between_vacuous_and_not() -> None:
    bound = {"bound": 0.95, "test_error": 0.1, "delta": 0.05, "trivial_bound": 0.9,
             "message_bits": 10_000.0}
    bits = Measure("generalization-bound", "bound: message bits", "bits", 10_000.0, SPEC, "d")
    lines = capacity_sentences(_capacity(bound=bound, measures=(bits,)))
    assert "1 bits per raw parameter, 2 bits per observation" in lines[1]
    assert "not below the trivial 90.0%: vacuous here" in lines[2]
    lines = capacity_sentences(_capacity(bound={**bound, "bound": 0.4}, measures=(bits,)))
    assert "at most 40.0%" in lines[2] and "non-vacuous certificate" in lines[2]
