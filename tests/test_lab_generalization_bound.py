"""The generalization-bound study: bad options are one line and exit 2; the network that is
bounded is the QUANTIZED one (its errors recomputed with a plain PyTorch forward pass); the
bits and the bound are the science functions' on those errors; the verdict flips with the
numbers; and on the digits an MLP with more parameters than training examples gets a bound
below chance that is not below its measured test error (Lotfi et al. 2022)."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from paramlab.cli import main
from paramlab.lab import runner
from paramlab.lab.data import DataConfig, load_dataset
from paramlab.lab.engine import (
    MLPArch,
    SubspaceModel,
    TrainConfig,
    full_weights,
    predict,
    train_models,
    train_subspace,
    unflatten,
)
from paramlab.lab.experiments import generalization_bound as gb
from paramlab.lab.report import generalization_bound as report
from paramlab.lab.science.bounds import default_tau, occam_bound
from paramlab.lab.science.coding import message_length, quantize

TINY = ["--data", "digits", "--dims", "2,4", "--epochs", "1", "--quiet"]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["64-4-10", "--dims", "2,5000"], "--dims must not exceed D = 310"),
    (["64-4-10", "--levels", "1,3"], "--levels values must be in [2, ∞]"),
    (["64-4-10", "--delta", "0"], "--delta must be in (0, 1)"),
    (["64-4-10", "--delta", "1"], "--delta must be in (0, 1)"),
    (["64-4-10", "--tau", "0.5"], "--tau applies to regression only"),
    (["10-4-1", "--data", "diabetes", "--tau", "0"], "--tau must be > 0"),
    (["10-4-1", "--data", "diabetes", "--tau", "-1"], "--tau must be > 0"),
    (["64-4-10", "--prior-fraction", "1"], "--prior-fraction must be in [0, 1)"),
    (["64-4-10", "--prior-fraction", "-0.5"], "--prior-fraction must be in [0, 1)"),
    (["64-4-10", "--prior-fraction", "0.0001"],
     "--prior-fraction gives the prior no row of the 1,257 training rows"),
    (["64-4-10", "--prior-fraction", "0.999"],
     "--prior-fraction leaves 1 of the 1,257 training rows for the bound"),
])
def test_bad_options_are_one_line_and_exit_2(argv: list[str], fragment: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "generalization-bound", *TINY, *argv, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_regression_without_a_default_tau_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "flat.csv"
    rows = "\n".join(f"{i},{i % 7},1.0" for i in range(40))
    table.write_text(f"a,b,y\n{rows}\n")
    config = gb.GeneralizationBoundConfig("2-4-1", dims=(2,), levels=(2,),
                                          data=DataConfig(str(table), target="y"))
    with pytest.raises(Exception, match="tau is needed: no default applies"):
        runner.run(gb.EXPERIMENT, config, tmp_path / "o")


def test_predict_is_the_network_pytorch_computes() -> None:
    arch = MLPArch(5, (7, 3), 2)
    rng = np.random.default_rng(0)
    weights = unflatten(arch, rng.normal(size=arch.params()).astype(np.float32))
    x = rng.normal(size=(11, 5)).astype(np.float32)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3),
                              torch.nn.Tanh(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        for layer, (w, b) in zip(net[::2], zip(weights[::2], weights[1::2], strict=True),
                                 strict=True):
            layer.weight.copy_(torch.as_tensor(w.T))
            layer.bias.copy_(torch.as_tensor(b))
        expected = net(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(predict(arch, weights, x, "tanh"), expected, rtol=1e-5,
                               atol=1e-6)


def test_the_bounded_network_is_the_quantized_one() -> None:
    """Recompute one row independently: quantize θ_d, a PyTorch forward pass of θ₀ + P·q,
    its training error, the bits and the Occam bound."""
    data = load_dataset("digits", seed=0)
    arch = MLPArch(64, (16,), 10)
    model = SubspaceModel(arch, 40, 3, "dense")
    config = gb.GeneralizationBoundConfig("64-16-10", dims=(40, 80), levels=(3, 5), seed=3,
                                          data=DataConfig("digits"),
                                          train=TrainConfig(epochs=3, batch_size=64, lr=1e-2))
    (result,) = train_subspace([model], data, config.train, workers=1)
    assert result.theta_d is not None
    row = gb.bound_row(config, data, arch, model, result.theta_d, 3, None)
    codebook, indices = quantize(result.theta_d, 3, 3)
    assert len(np.unique(codebook[indices])) == 3  # three levels, not the float vector
    w = unflatten(arch, full_weights(model, codebook[indices]))
    hidden = torch.relu(torch.as_tensor(data.X_train) @ torch.as_tensor(w[0]) +
                        torch.as_tensor(w[1]))
    logits = hidden @ torch.as_tensor(w[2]) + torch.as_tensor(w[3])
    train_error = float((logits.argmax(1).numpy() != data.y_train).mean())
    assert row["train_error"] == pytest.approx(train_error, abs=1 / data.observations)
    bits = message_length(indices, 3, 2, 2).total
    assert row["message_bits"] == pytest.approx(bits)
    assert row["occam_bound"] == pytest.approx(
        occam_bound(row["train_error"], bits, data.observations, 0.05))


def _analysis(bound: float, test_error: float, tau: float | None = None
              ) -> gb.GeneralizationBoundAnalysis:
    return gb.GeneralizationBoundAnalysis(
        "64-32-10", 2410, "classification", "0-1 error", tau, 200, 5, bound, bound + 0.02,
        900.0, 0.05, test_error, 0.03, 1257, 270, 0.05, 0.9, "chance (1 − 1/10)", bound >= 0.9,
        20)


def test_a_data_dependent_prior_is_trained_on_its_rows_and_the_bound_on_the_others(
        tmp_path: Path) -> None:
    """The prior's rows and the bound's are disjoint and together every training row; the
    stored prior is the network trained on exactly its rows (not on all of them); every
    bound row counts only the bound's n; a resumed run trains nothing again."""
    config = gb.GeneralizationBoundConfig(
        "64-16-10", dims=(8, 32), levels=(3,), prior_fraction=0.4, data=DataConfig("digits"),
        train=TrainConfig(epochs=3, batch_size=64, lr=1e-2))
    outcome = runner.run(gb.EXPERIMENT, config, tmp_path / "o")
    analysis = outcome.analysis
    assert isinstance(analysis, gb.GeneralizationBoundAnalysis)
    data = config.data.load()
    rows = gb.split(config, data)
    assert rows.prior is not None
    seen = {r.tobytes() for r in rows.prior.X_train}
    assert not seen & {r.tobytes() for r in rows.bound.X_train}
    assert rows.prior.observations + rows.bound.observations == data.observations == 1257
    assert (analysis.n_prior, analysis.n_train) == (503, 754)
    assert {r["observations"] for r in outcome.store.rows()} == {754}
    stored = outcome.store.load_weights(gb.PRIOR_ID).weights
    arch = MLPArch(64, (16,), 10)
    for subset, same in ((rows.prior, True), (data, False)):
        (alone,) = train_models([arch], subset, config.train, [config.seed],
                                keep_weights=True, workers=1)
        assert alone.weights is not None
        assert all(np.array_equal(a, b) for a, b in zip(alone.weights, stored,
                                                        strict=True)) is same
    assert analysis.prior_test_error == pytest.approx(gb.errors(
        arch, stored, data, "relu", None)[1])
    again = runner.run(gb.EXPERIMENT, config, tmp_path / "o")
    assert again.trained == 0 and again.analysis == analysis


def test_with_a_prior_the_default_tau_comes_from_the_prior_rows_alone() -> None:
    """The bound's rows must not choose their own loss: τ's default (half the target's
    standard deviation) is the prior rows' then, and all rows' without a prior."""
    plain = gb.GeneralizationBoundConfig("40-8-1", data=DataConfig("synthetic",
                                                                   n_samples=300))
    informed = dataclasses.replace(plain, prior_fraction=0.3)
    data = plain.data.load()
    prior = gb.split(informed, data).prior
    assert prior is not None
    assert gb.resolve_tau(plain, gb.split(plain, data)) == pytest.approx(
        default_tau(data.y_train))
    tau = gb.resolve_tau(informed, gb.split(informed, data))
    assert tau == pytest.approx(default_tau(prior.y_train))
    assert tau != pytest.approx(default_tau(data.y_train))


def test_the_prior_sentence_appears_only_with_a_prior() -> None:
    plain = report.sentences(_analysis(0.4, 0.1))
    assert not any("data-dependent" in line for line in plain)
    with_prior = report.sentences(dataclasses.replace(_analysis(0.4, 0.1), n_prior=600,
                                                      prior_test_error=0.12))
    (line,) = [line for line in with_prior if "data-dependent" in line]
    assert "trained on 600 other training rows" in line and "12.0% 0-1 error" in line
    assert "n = 1,257 rows that prior never saw, not over all 1,857" in line


def test_verdict_flips_between_vacuous_and_not() -> None:
    good, bad = _analysis(0.4, 0.1), _analysis(0.95, 0.1)
    assert "non-vacuous: 40.0% is below the trivial bound (chance (1 − 1/10): 90.0%" in \
        report.verdict(good)
    assert "vacuous: 95.0% is no better than" in report.verdict(bad)
    assert "non-vacuous" not in report.verdict(bad)


def test_every_number_names_the_loss_and_a_bound_below_the_test_error_is_flagged() -> None:
    fine = report.sentences(_analysis(0.4, 0.1))
    assert all("0-1 error" in line for line in fine[1:])
    assert not any("Warning" in line for line in fine)
    assert any("Warning" in line for line in report.sentences(_analysis(0.1, 0.4)))
    regression = report.sentences(_analysis(0.4, 0.1, tau=0.5))
    assert all("|ŷ − y| > τ = 0.5" in line for line in regression[1:])


def test_a_regression_bounds_the_tau_error_with_the_default_tau(tmp_path: Path) -> None:
    config = gb.GeneralizationBoundConfig(
        "40-8-1", dims=(4, 16), levels=(2, 3),
        data=DataConfig("synthetic", n_samples=300), train=TrainConfig(epochs=2))
    outcome = runner.run(gb.EXPERIMENT, config, tmp_path / "o")
    analysis = outcome.analysis
    assert isinstance(analysis, gb.GeneralizationBoundAnalysis)
    data = config.data.load()
    assert analysis.tau == pytest.approx(default_tau(data.y_train))
    mean_error = float(np.mean(np.abs(data.y_test - data.y_train.mean()) > analysis.tau))
    assert analysis.trivial == pytest.approx(mean_error)
    assert analysis.bound == min(r["occam_bound"] for r in outcome.store.rows())
    assert {"bound", "catoni_bound", "message_bits", "train_error", "test_error", "n_train",
            "delta"} <= set(outcome.store.read_json("analysis.json"))


@pytest.mark.slow
def test_digits_bound_is_below_chance_and_not_below_the_test_error(tmp_path: Path) -> None:
    """More parameters (2,410) than training examples (1,257), and still a certified error
    well below chance that the measured test error does not beat by more than its noise."""
    analysis = runner.run(gb.EXPERIMENT, gb.demo_small(), tmp_path / "o").analysis
    assert isinstance(analysis, gb.GeneralizationBoundAnalysis)
    assert analysis.params > analysis.n_train
    # measured 0.542 (Catoni 0.551) at d = 320, L = 5 against a test error of 0.085
    assert analysis.bound < 0.6 < analysis.trivial and not analysis.vacuous
    assert analysis.bound >= analysis.test_error - analysis.test_sampling_error


@pytest.mark.slow
def test_a_data_dependent_prior_tightens_the_digits_bound(tmp_path: Path) -> None:
    """Lotfi et al. (2022, their data-dependent priors) and Dziugaite et al. (AISTATS 2021):
    half the rows spent on the prior buy a much tighter bound on the other half, still not
    below the measured test error by more than its noise."""
    plain = runner.run(gb.EXPERIMENT, gb.demo_small(), tmp_path / "plain").analysis
    informed = runner.run(gb.EXPERIMENT, dataclasses.replace(gb.demo_small(),
                                                             prior_fraction=0.5),
                          tmp_path / "prior").analysis
    assert isinstance(plain, gb.GeneralizationBoundAnalysis)
    assert isinstance(informed, gb.GeneralizationBoundAnalysis)
    assert informed.n_train == 629 and informed.params > informed.n_train
    # measured 0.542 without a prior, 0.207 with one (test error 0.030)
    assert informed.bound < plain.bound - 0.15
    assert informed.bound >= informed.test_error - informed.test_sampling_error
