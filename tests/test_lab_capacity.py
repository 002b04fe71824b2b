"""The report section "How many parameters the data actually use": it opens a folder holding
two or more capacity studies of one network, reads each study's numbers (effective-dimension
prune, intrinsic-dimension and generalization-bound run here on the digits; the last two read
through their typed analyses), names the studies that did not run, and every sentence flips
with its numbers."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from paramlab import count
from paramlab.lab import runner
from paramlab.lab.data import DataConfig
from paramlab.lab.engine import TrainConfig
from paramlab.lab.experiments import get
from paramlab.lab.experiments.effective_dimension import EffectiveDimensionConfig
from paramlab.lab.experiments.generalization_bound import (
    GeneralizationBoundAnalysis,
    GeneralizationBoundConfig,
)
from paramlab.lab.experiments.intrinsic_dimension import IntrinsicDimensionConfig
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


@pytest.fixture(scope="module")
def every_study(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder with real runs of the intrinsic dimension and the bound added (tiny grids:
    the section's reading is under test, not the science)."""
    out = tmp_path_factory.mktemp("every") / "f"
    shutil.copytree(folder, out)
    runner.run(get("intrinsic-dimension"), IntrinsicDimensionConfig(
        SPEC, dims=(4, 64), seeds=1, data=DIGITS, train=TRAIN), out / "id")
    runner.run(get("generalization-bound"), GeneralizationBoundConfig(
        SPEC, dims=(4, 8), levels=(2, 3), data=DIGITS, train=TRAIN), out / "gb")
    return out


def _fake_run(path: Path, experiment: str, analysis: dict[str, object],
              spec: str = SPEC) -> RunStore:
    """A run folder holding only a config and an analysis.json."""
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


def test_every_study_is_read_through_its_analysis(every_study: Path, tmp_path: Path) -> None:
    stores = [RunStore.open(every_study / name) for name in ("ed", "prune", "id", "gb")]
    drawn = section(stores, tmp_path)
    assert drawn is not None and drawn.plots[0].exists()
    text = " ".join(drawn.sentences)
    n_eff = RunStore.open(every_study / "ed").rows()[0]["n_eff"]
    assert f"N_eff (Hessian effective dimensionality, z = 1): {n_eff:,.0f}" in text
    intrinsic = get("intrinsic-dimension").read_analysis(stores[2])
    d_int = intrinsic.d_int90["true"]  # type: ignore[union-attr]
    name = "d_int90 (random-subspace directions reaching 90 % of the full model's test " \
           "accuracy, true labels)"
    assert (f"{name}: {d_int:,}" if d_int is not None else f"{name}: not reached") in text
    bound = get("generalization-bound").read_analysis(stores[3])
    assert isinstance(bound, GeneralizationBoundAnalysis)
    assert f"at most {bound.bound:.1%}; measured: {bound.test_error:.1%}" in text
    assert f"trivial {1 - 1 / 10:.1%} of chance (1 − 1/10)" in text
    assert ("vacuous here" in text) == bound.vacuous
    assert f"{bound.message_bits:,.0f} bits" in text and "Not run in this folder" not in text
    # one study is not a comparison: no section
    assert section(stores[:1], tmp_path) is None
    # and the whole page renders with all four
    page = build_report(every_study).read_text()
    head = page.index("How many parameters the data actually use")
    assert head < page.index(f"Intrinsic dimension of {SPEC}")
    assert head < page.index(f"A certified bound for {SPEC}")


def test_a_different_network_is_said_to_be_different(folder: Path, tmp_path: Path) -> None:
    stores = [RunStore.open(folder / "ed"),
              _fake_run(tmp_path / "other", "prune",
                        RunStore.open(folder / "prune").read_json("analysis.json"),
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


def _bound(value: float, tau: float | None = None) -> GeneralizationBoundAnalysis:
    return GeneralizationBoundAnalysis(
        SPEC, 10_000, "classification", "0-1 error" if tau is None else "τ-error", tau, 100,
        5, value, value, 10_000.0, 0.05, 0.1, 0.02, 5_000, 500, 0.05, 0.9,
        "chance (1 − 1/10)" if tau is None else "predicting the training mean", value >= 0.9,
        12)


def test_the_bound_sentence_flips_between_vacuous_and_not() -> None:
    bits = Measure("generalization-bound", "bound: message bits", "bits", 10_000.0, SPEC, "d")
    lines = capacity_sentences(_capacity(bound=_bound(0.95), measures=(bits,)))
    assert "1 bits per raw parameter, 2 bits per observation" in lines[1]
    assert "not below the trivial 90.0% of chance (1 − 1/10): vacuous here" in lines[2]
    lines = capacity_sentences(_capacity(bound=_bound(0.4), measures=(bits,)))
    assert "at most 40.0%" in lines[2] and "non-vacuous certificate" in lines[2]
    assert "outnumber" in lines[2] and "gets wrong" in lines[2]
    regression = capacity_sentences(_capacity(bound=_bound(0.4, 0.5), measures=(bits,)))[2]
    assert "|ŷ − y| > τ = 0.5" in regression and "predicting the training mean" in regression
    assert "gets wrong" not in regression
    assert "data-dependent prior" not in lines[2]
    informed = dataclasses.replace(_bound(0.4), n_prior=2_500, prior_test_error=0.12)
    line = capacity_sentences(_capacity(bound=informed, measures=(bits,)))[2]
    assert "first trained on 2,500 rows; the bound is over the other 5,000" in line
