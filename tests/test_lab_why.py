"""`paramlab why`: the user's network on the user's data, end to end within a budget; its
errors in one line; its resume; and the answer's sentences, each checked in both
directions."""

import csv
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from paramlab.cli import main
from paramlab.lab.data import load_dataset
from paramlab.lab.experiments.generalization_bound import GeneralizationBoundAnalysis
from paramlab.lab.experiments.intrinsic_dimension import IntrinsicDimensionAnalysis, LabelResult
from paramlab.lab.experiments.refit import RefitAnalysis
from paramlab.lab.report import answer as demo_answer
from paramlab.lab.report import numbers
from paramlab.lab.report import why as why_report
from paramlab.lab.report.section import Section
from paramlab.lab.why import FEW_EPOCHS, Cost, WhyConfig, fit_budget, read_network, why

TINY = ["--n-samples", "300", "--epochs", "2", "--budget", "1", "--top-k", "5", "--quiet"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("why") / "w"
    said: list[str] = []
    config = WhyConfig("40-8-1")
    config.data.n_samples, config.train.epochs, config.budget, config.top_k = 300, 2, 1.0, 5
    why(config, out, quiet=True, say=said.append)
    return out, said


def test_why_counts_trains_measures_and_answers(tiny_run: tuple[Path, list[str]]) -> None:
    out, said = tiny_run
    record = json.loads((out / "why.json").read_text())
    # the count, against PyTorch's own parameters of the same network
    net = torch.nn.Sequential(torch.nn.Linear(40, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    assert record["params"] == sum(p.numel() for p in net.parameters())
    assert record["observations"] == load_dataset("synthetic", n_samples=300).observations
    for stage in ("refit", "effective-dimension", "intrinsic-dimension",
                  "generalization-bound"):
        assert (out / stage / "analysis.json").exists()
    page = (out / "report.html").read_text()
    assert page.index("<section id=summary>") < page.index("<section id=the-count")
    assert f"has exactly {record['params']:,} parameters" in page
    # the studies that are not in this paramlab are named, never filled in
    for stage in record["stages"]:
        if stage["status"] == "missing":
            assert f"{stage['experiment']}: " in page and "not measured" in page
    assert any(line.startswith("[1/") and "estimated" in line for line in said)


def test_why_resumes_without_training(tiny_run: tuple[Path, list[str]]) -> None:
    out, _ = tiny_run
    said: list[str] = []
    config = WhyConfig("40-8-1")
    config.data.n_samples, config.train.epochs, config.budget, config.top_k = 300, 2, 1.0, 5
    why(config, out, quiet=True, say=said.append)
    assert any(line.startswith("resuming") for line in said)
    done = [line for line in said if "already in the folder" in line]
    assert done and all(line.strip().startswith("0 computed") for line in done)


def test_why_refuses_another_request_in_the_same_folder(
        tiny_run: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = tiny_run
    code = main(["why", "40-16-1", *TINY, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "another request" in err and err.count("\n") == 1


def _csv(path: Path, rows: list[list[object]], header: list[str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("case", ["no target", "bad column", "non-numeric"])
def test_csv_errors_match_the_lab(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  case: str) -> None:
    rows: list[list[object]] = [[i, 2 * i, i % 3] for i in range(40)]
    if case == "non-numeric":
        rows[7][1] = "seven"
    path = _csv(tmp_path / "d.csv", rows, ["a", "b", "y"])
    target = [] if case == "no target" else ["--target", "nope" if case == "bad column" else "y"]
    args = ["--data", str(path), *target, "--quiet"]
    why_code = main(["why", "2-4-1", *args, "--out", str(tmp_path / "w")])
    why_err = capsys.readouterr().err
    run_code = main(["run", "refit", "2-4-1", *args, "--out", str(tmp_path / "r")])
    run_err = capsys.readouterr().err
    assert why_code == run_code == 2
    assert why_err == run_err and why_err.count("\n") == 1 and str(path) in why_err


@pytest.mark.parametrize(("spec", "fragment"), [
    ("input(40) > dense(8) > BatchNormalization > dense(1)", "Dense layers only"),
    ("input(40) > dense(8, activation='sigmoid') > dense(1)", "relu or tanh"),
    ("input(40) > dense(8, use_bias=False) > dense(1)", "has none (use_bias=False)"),
    ("5-8-1", "does not fit the data: it has 40 features"),
])
def test_other_networks_are_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str, fragment: str) -> None:
    code = main(["why", spec, *TINY, "--out", str(tmp_path / "w")])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err


def test_dsl_tanh_network_is_read_as_the_mlp_it_is() -> None:
    data = load_dataset("synthetic", n_samples=100)
    net = read_network("input(40) > dense(16, activation='tanh') > dense(1)", data)
    assert (net.arch.spec(), net.activation) == ("40-16-1", "tanh")
    torch_net = torch.nn.Sequential(torch.nn.Linear(40, 16), torch.nn.Tanh(),
                                    torch.nn.Linear(16, 1))
    assert net.params == sum(p.numel() for p in torch_net.parameters())
    assert [layer.params for layer in net.layers] == [656, 17]


# ------------------------------------------------------------------ the budget


def test_budget_scales_down_and_says_what() -> None:
    config = WhyConfig()
    slow = Cost(epoch=6.0, hvp=0.5, params=1_000_000, start=1.0)
    settings, notes = fit_budget(config, slow, 600.0)
    assert settings.epochs < config.train.epochs and settings.probes == 0
    assert any(note.startswith("epochs 20 → ") for note in notes)
    fast = Cost(epoch=0.01, hvp=0.001, params=1_000, start=0.1)
    same, none = fit_budget(config, fast, 600.0)
    assert none == [] and same.epochs == config.train.epochs and same.seeds == config.seeds
    hopeless = Cost(epoch=1e4, hvp=10.0, params=1_000_000)
    tiny, warned = fit_budget(config, hopeless, 60.0)
    assert tiny.epochs == 1 and tiny.seeds == 2 and "longer than asked" in warned[-1]
    assert not tiny.hessian and any("effective-dimension) is dropped" in n for n in warned)
    assert settings.hessian  # the first case still fits its Hessian study
    # a Hessian that cannot fit is dropped, and its time goes back to the refits' epochs
    heavy = Cost(epoch=10.0, hvp=10.0, params=1_000_000)
    kept, said = fit_budget(config, heavy, 600.0)
    assert not kept.hessian and kept.epochs == 20 and kept.seeds == 3
    assert len(said) == 3 and "top 10 eigenvalues" in said[0]
    assert all("is dropped" in note for note in said)


def test_budget_drops_the_subspace_studies_before_the_hessian() -> None:
    config = WhyConfig()
    fast = Cost(epoch=0.01, hvp=0.001, params=1_000, start=0.1)
    everything, notes = fit_budget(config, fast, 600.0)
    assert notes == [] and everything.intrinsic and everything.bound
    assert everything.subspace_seeds == 2
    # subspace models cost SUBSPACE_FACTOR model-epochs each: 5 d × 2 seeds for d_int90 and
    # 4 d for the bound outweigh 3 refits, so they go first, and their time returns to epochs
    middling = Cost(epoch=1.0, hvp=0.01, params=1_000_000, start=0.0)
    kept, said = fit_budget(config, middling, 150.0)
    assert kept.hessian and not kept.intrinsic and not kept.bound and kept.epochs == 20
    assert any(n.startswith("the intrinsic-dimension study is dropped") for n in said)
    assert any(n.startswith("the generalization-bound study is dropped") for n in said)
    # with a little more time the intrinsic dimension comes back, with one seed
    roomy, notes = fit_budget(config, middling, 300.0)
    assert roomy.intrinsic and roomy.subspace_seeds == 1 and not roomy.bound
    assert "intrinsic-dimension seeds 2 → 1" in notes and FEW_EPOCHS <= roomy.epochs < 20
    assert fit_budget(config, middling, 420.0)[0].bound
    # the seed's case (calibrated on 2 cores): no Hessian even at the top 10 eigenvalues, but
    # its time holds the bound, and with more of it the intrinsic dimension too
    seed = Cost(epoch=1.4, hvp=2.1, params=1_092_609, start=0.5, parallel=2)
    bound_only, _ = fit_budget(config, seed, 255.0)
    assert not bound_only.hessian and bound_only.bound and not bound_only.intrinsic
    both, _ = fit_budget(config, seed, 600.0)
    assert not both.hessian and both.bound and both.intrinsic and both.epochs >= FEW_EPOCHS


# ------------------------------------------------------------------ sentences, both ways


def _refit(spread: float, aligned: float) -> RefitAnalysis:
    return RefitAnalysis(val_losses=(0.3, 0.31), test_losses=(0.3, 0.3), val_loss_mean=0.3,
                         val_loss_spread=spread, weight_distance=1.3, weight_cosine=0.1,
                         aligned_distance=aligned, aligned_cosine=0.5,
                         prediction_difference=0.05, params=50_000, observations=1000,
                         pairs=())


def test_weights_claim_follows_the_refits() -> None:
    apart = why_report.weights_claim(_refit(0.02, 0.9))
    pinned = why_report.weights_claim(_refit(0.02, 0.05))
    unconverged = why_report.weights_claim(_refit(0.4, 0.9))
    assert apart.startswith("The data cannot pin every weight") and "90%" in apart
    assert pinned.startswith("Here the data do pin the weights down") and "5%" in pinned
    assert "do not agree on the loss" in unconverged and "cannot pin" not in unconverged


def _spectrum(method: str, n_eff: float) -> dict[str, object]:
    return {"params": 10_000, "n_eff": n_eff, "z": 1.0, "n_eff_method": method,
            "eigenvalues_computed": 50}


def test_directions_claim_calls_a_bound_a_bound() -> None:
    bound = why_report.directions_claim(_spectrum("top-k lower bound", 42.0))
    few = why_report.directions_claim(_spectrum("top-k + SLQ", 300.0))
    most = why_report.directions_claim(_spectrum("exact", 9000.0))
    assert "at least 42" in bound and "lower bound" in bound and "loss is flat" not in bound
    assert "≈ 300" in few and "flat" in few and "lower bound" not in few
    assert "most parameter directions" in most and "= 9,000" in most


def test_generalization_claim_follows_the_held_out_loss() -> None:
    good = why_report.generalization_claim([{"train_loss": 0.01, "val_loss": 0.2}], "regression")
    weak = why_report.generalization_claim([{"train_loss": 0.01, "val_loss": 0.9}], "regression")
    assert "carries over" in good and "80%" in good and "weak" not in good
    assert "weak" in weak and "carries over" not in weak
    assert all("not a guarantee" in s for s in (good, weak))


def _record(missing: bool, params: int = 337) -> why_report.WhyRecord:
    status = "missing" if missing else "ran"
    return why_report.WhyRecord(
        "40-8-1", "40-8-1", "relu", params, 420, "synthetic", "regression",
        (why_report.LayerCount("dense", "(40 + 1) × 8 = 328", 328),
         why_report.LayerCount("dense_1", "(8 + 1) × 1 = 9", 9)), 10.0, 1.0, 0.1, (), (),
        (why_report.StageRecord("generalization-bound", "a bound", status, reason="absent"),),
        {}, {})


def test_why_answer_changes_with_the_numbers() -> None:
    sections = {"count": Section("The count", []), "refit": Section("Refits", [])}
    rows = {"refit": [{"train_loss": 0.01, "val_loss": 0.2}]}
    few = why_report.answer(_record(False), sections, {"refit": _refit(0.02, 0.9)}, rows)
    sections["missing"] = why_report.missing_section(_record(True))  # type: ignore[assignment]
    many = why_report.answer(_record(True, 1_000_000), sections,
                             {"refit": _refit(0.02, 0.05)}, rows)
    assert "fewer parameters than observations" in few.claims[0].text
    assert "more parameters than observations" in many.claims[0].text
    assert "1,000,000" in many.question and "337" in few.question
    assert few.claims[1].text.startswith("The data cannot pin")
    assert many.claims[1].text.startswith("Here the data do pin")
    assert not any("Not measured" in c.text for c in few.claims)
    assert "generalization-bound" in many.claims[-1].text
    assert many.claims[-1].anchor == "not-measured-in-this-run"
    assert 3 <= len(few.claims) <= 5 and 3 <= len(many.claims) <= 5


def _intrinsic(d_int90: int | None, full: float = 0.8,
               note: str = "") -> IntrinsicDimensionAnalysis:
    result = LabelResult("true", "test R²", full, 0.9 * full, d_int90, None if d_int90 is None
                         else 40, (d_int90,), d_int90, d_int90, int(d_int90 is None), note)
    return IntrinsicDimensionAnalysis("40-8-1", 337, 420, "regression", "sparse",
                                      (10, 40, 100, 337), 1, 0.9, (result,),
                                      {"true": d_int90})


def _bound(value: float, trivial: float = 0.6) -> GeneralizationBoundAnalysis:
    return GeneralizationBoundAnalysis(
        "40-8-1", 337, "regression", "τ-error (|ŷ − y| > τ)", 0.5, 100, 5, value, value + 0.1,
        900.0, 0.1, 0.2, 0.03, 300, 60, 0.05, trivial, "predicting the training mean",
        value >= trivial, 16)


def test_intrinsic_claim_says_what_the_task_needs_or_that_it_was_not_reached() -> None:
    found = why_report.intrinsic_claim(_intrinsic(100))
    assert found.startswith("The task needs about 100 directions of the 337")
    assert "R²" in found and "90%" in found and "below, 40, does not" in found
    none = why_report.intrinsic_claim(_intrinsic(None))
    assert "needs about" not in none and "d up to 337" in none and "R²" in none
    flat = why_report.intrinsic_claim(_intrinsic(None, -0.2, "the full model's test R² is "
                                                 "-0.2 ≤ 0: nothing to reach 90 % of"))
    assert flat.startswith("How many directions the task needs is not measured")


def test_bound_claim_is_called_vacuous_when_it_does_not_beat_the_trivial_bound() -> None:
    useful = why_report.bound_claim(_bound(0.3))
    vacuous = why_report.bound_claim(_bound(0.7))
    assert "at most 30%" in useful and "non-vacuous" in useful and "vacuous —" not in useful
    assert "probability ≥ 95%" in useful and "τ = 0.5, half the training target" in useful
    assert "outnumber" in useful  # 337 parameters for 300 training rows
    assert vacuous.startswith("No useful test-error bound") and "at most 70%" in vacuous
    assert vacuous.endswith("vacuous.") and "non-vacuous" not in vacuous
    assert "τ = 0.5" in vacuous


def test_why_answer_claims_the_bound_and_d_int90_only_when_they_ran() -> None:
    sections = {name: Section(name, []) for name in
                ("count", "refit", "effective-dimension", "intrinsic-dimension",
                 "generalization-bound")}
    rows = {"refit": [{"train_loss": 0.01, "val_loss": 0.2}],
            "effective-dimension": [_spectrum("exact", 40.0)]}
    analyses = {"refit": _refit(0.02, 0.9), "intrinsic-dimension": _intrinsic(100),
                "generalization-bound": _bound(0.3)}
    ran = why_report.answer(_record(False), sections, analyses, rows)
    text = [c.text for c in ran.claims]
    assert len(text) == 4 and "at most 30%" in text[2] and "carries over" in text[2]
    assert "N_eff(1) = 40" in text[3] and "needs about 100 directions" in text[3]
    assert ran.claims[2].anchor == sections["generalization-bound"].anchor
    sections["missing"] = why_report.missing_section(_record(True))  # type: ignore[assignment]
    absent = why_report.answer(_record(True), sections, {"refit": _refit(0.02, 0.9)}, rows)
    said = " ".join(c.text for c in absent.claims)
    assert "at most" not in said and "needs about" not in said
    assert "no test-error bound is certified" in absent.claims[-1].text
    assert len(absent.claims) <= 5


def _sweep_row(params: int, train: float, val: float) -> dict[str, object]:
    return {"params": params, "observations": 1000, "spec": f"40-{params}-1",
            "train_loss": train, "val_loss": val}


def test_demo_answer_changes_with_the_numbers() -> None:
    sections = {"sweep": Section("Sweep", [])}
    good = demo_answer.demo_answer(sections, {}, {"sweep": [
        _sweep_row(100, 0.5, 0.6), _sweep_row(5000, 0.25, 0.3)]})
    bad = demo_answer.demo_answer(sections, {}, {"sweep": [
        _sweep_row(100, 0.5, 0.3), _sweep_row(5000, 0.01, 0.9)]})
    assert "generalize no worse" in good.claims[1].text
    assert "generalize worse" in bad.claims[1].text and "no worse" not in bad.claims[1].text
    assert "5,000 parameters" in good.claims[0].text and "5 per observation" in good.claims[0].text


def test_demo_answer_uses_the_subspace_claims_only_for_runs_present() -> None:
    sections = {name: Section(name, [], finding=f"{name} headline") for name in
                ("sweep", "intrinsic-dimension", "generalization-bound", "prune")}
    rows = {"sweep": [_sweep_row(100, 0.5, 0.6), _sweep_row(5000, 0.25, 0.3)]}
    both = demo_answer.demo_answer(sections, {"intrinsic-dimension": _intrinsic(100),
                                              "generalization-bound": _bound(0.7)}, rows)
    text = [c.text for c in both.claims]
    assert "needs about 100 directions" in text[2] and text[3].endswith("vacuous.")
    assert text[4] == "prune headline" and len(text) == 5
    none = demo_answer.demo_answer(sections, {}, rows)
    assert not any("needs about" in c.text or "at most" in c.text for c in none.claims)


# ------------------------------------------------------------------ numbers for people


def test_numbers_are_formatted_for_people() -> None:
    assert numbers.cell(11020) == "11,020" and numbers.cell(11020.0) == "11,020"
    assert numbers.number(5.83e-25) == "< 1e-12" and numbers.cell(5.83e-25) == "< 1e-12"
    assert numbers.number(0.012345) == "0.0123" and numbers.number(4210.4) == "4,210"
    assert numbers.number(3.2e-7) == "3.2 × 10⁻⁷" and numbers.number(None) == "—"
    assert numbers.percent(0.873) == "87%" and numbers.percent(0.005) == "0.5%"
    assert "e+" not in numbers.number(2.5e9) and "e-" not in numbers.number(1e-8)


# ------------------------------------------------------------------ the seed's sizes


@pytest.mark.slow
def test_why_on_13000_csv_rows_finishes_within_its_budget(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((13_000, 5))
    y = np.tanh(x @ rng.standard_normal(5)) + 0.1 * rng.standard_normal(13_000)
    path = _csv(tmp_path / "user.csv", np.column_stack([x, y]).tolist(),
                ["a", "b", "c", "d", "e", "target"])
    start = time.perf_counter()
    code = main(["why", "5-32-32-1", "--data", str(path), "--target", "target", "--budget",
                 "2", "--quiet", "--out", str(tmp_path / "w")])
    elapsed = time.perf_counter() - start
    assert code == 0 and (tmp_path / "w" / "report.html").exists()
    assert elapsed < 2 * 60, f"took {elapsed:.0f} s for a 2-minute budget"
