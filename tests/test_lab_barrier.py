"""Loss barriers between refits and identification: exact alignment of a permuted copy, the
barrier along raw and aligned paths, alignment never worse than none, least squares refits
that agree (and, under-determined, do not), and verdicts that follow the numbers."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from paramlab.cli import main
from paramlab.lab.report.refit import barrier_sentence, identification_sentence
from paramlab.lab.science import landscape
from paramlab.lab.science.alignment import align, flat, relative_distance
from paramlab.lab.science.barriers import BarrierPath, BarrierSummary, barrier_paths, summarize
from paramlab.lab.science.hessian import mlp_output
from paramlab.lab.science.identification import (
    Identification,
    identification,
    least_squares_refits,
)


def random_mlp(rng: np.random.Generator, widths: list[int]) -> list[np.ndarray]:
    out = []
    for a, b in itertools.pairwise(widths):
        out += [rng.standard_normal((a, b)) / np.sqrt(a), rng.standard_normal(b)]
    return out


def relabelled(weights: list[np.ndarray], rng: np.random.Generator,
               flip: bool = False) -> list[np.ndarray]:
    """The same function: every hidden layer's units shuffled (and, for tanh, sign-flipped)."""
    out = [w.copy() for w in weights]
    for layer in range(len(out) // 2 - 1):
        units = out[2 * layer].shape[1]
        perm = rng.permutation(units)
        sign = rng.choice([-1.0, 1.0], units) if flip else np.ones(units)
        out[2 * layer] = out[2 * layer][:, perm] * sign
        out[2 * layer + 1] = out[2 * layer + 1][perm] * sign
        out[2 * layer + 2] = out[2 * layer + 2][perm, :] * sign[:, None]
    return out


def test_a_permuted_copy_aligns_exactly_and_only_the_raw_path_has_a_barrier() -> None:
    rng = np.random.default_rng(0)
    net = random_mlp(rng, [5, 16, 12, 1])
    copy = relabelled(net, rng)
    x = rng.standard_normal((400, 5))
    y = mlp_output([torch.tensor(w) for w in net], torch.tensor(x), "relu").numpy()
    ts = np.linspace(0, 1, 11)
    aligned = align(net, copy)
    assert relative_distance(flat(net), flat(aligned)) == 0.0
    along_aligned = landscape.path_losses(net, aligned, x, y, ts, loss="mse",
                                          activation="relu")
    along_raw = landscape.path_losses(net, copy, x, y, ts, loss="mse", activation="relu")
    assert along_raw[0] == pytest.approx(0, abs=1e-20)  # both ends fit exactly
    assert along_raw[-1] == pytest.approx(0, abs=1e-20)
    assert landscape.barrier(ts, along_aligned) < 1e-20
    assert landscape.barrier(ts, along_raw) > 0.3 * float(np.var(y))  # a large barrier


def test_a_sign_flipped_tanh_copy_aligns_exactly_with_signs() -> None:
    rng = np.random.default_rng(1)
    net = random_mlp(rng, [4, 10, 7, 2])
    copy = relabelled(net, rng, flip=True)
    assert relative_distance(flat(net), flat(align(net, copy, signs=True))) < 1e-15
    assert relative_distance(flat(net), flat(align(net, copy))) > 0.1  # permutations alone


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), width=st.integers(2, 9), signs=st.booleans())
def test_alignment_never_increases_the_distance(seed: int, width: int, signs: bool) -> None:
    """Two unrelated networks: matching can only bring them closer (or leave them)."""
    rng = np.random.default_rng(seed)
    a, b = random_mlp(rng, [3, width, width + 1, 2]), random_mlp(rng, [3, width, width + 1, 2])
    raw = relative_distance(flat(a), flat(b))
    assert relative_distance(flat(a), flat(align(a, b, signs))) <= raw + 1e-12


def test_least_squares_refits_agree_when_identified_and_not_when_under_determined() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 8))
    y = x @ rng.standard_normal((8, 1)) + 0.1 * rng.standard_normal((300, 1))
    fits = least_squares_refits(x, y, [0, 1, 2])
    for a, b in itertools.combinations(fits, 2):
        assert relative_distance(flat(a), flat(b)) < 1e-6
    exact = np.linalg.lstsq(np.hstack([x, np.ones((300, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(flat(fits[0]), exact.ravel(), atol=1e-6)
    wide = rng.standard_normal((20, 50))  # 51 parameters, 20 observations
    loose = least_squares_refits(wide, rng.standard_normal((20, 1)), [0, 1])
    assert relative_distance(flat(loose[0]), flat(loose[1])) > 0.1


def test_barrier_paths_of_a_relabelled_copy_rise_raw_and_stay_flat_aligned() -> None:
    """A network and a permuted copy of itself, each a perfect fit of the teacher's data:
    the raw path between them climbs, the aligned one is the network itself all the way."""
    rng = np.random.default_rng(4)
    net = random_mlp(rng, [3, 8, 1])
    x = rng.standard_normal((200, 3))
    y = mlp_output([torch.tensor(w) for w in net], torch.tensor(x), "relu").numpy()
    summary = barrier_paths([net, relabelled(net, rng)], (x, y), (x[:50], y[:50]), 5,
                            loss="mse", activation="relu")
    raw, aligned = summary.pairs
    assert (raw.pair, raw.aligned, aligned.aligned) == ("0-1", False, True)
    assert summary.ts == (0.0, 0.25, 0.5, 0.75, 1.0) and len(raw.train) == 5
    assert raw.barrier > 0.1 * float(np.var(y)) and raw.distance > 0.3
    assert aligned.barrier < 1e-20 and aligned.distance == 0.0
    assert summary.raw_barrier == raw.barrier and summary.aligned_barrier == aligned.barrier
    assert summary.end_loss == pytest.approx(0, abs=1e-20)


def _summary(raw: float, aligned: float) -> BarrierSummary:
    paths = tuple(BarrierPath("0-1", a, 1.0, b, b, (0.1, 0.1 + b, 0.1), (0.2, 0.2, 0.2))
                  for a, b in ((False, raw), (True, aligned)))
    return summarize((0.0, 0.5, 1.0), paths)


def test_barrier_summary_averages_raw_and_aligned_paths_apart() -> None:
    summary = summarize((0.0, 1.0), (
        BarrierPath("0-1", False, 1.0, 0.4, 0.5, (1.0, 3.0), (0.0, 0.0)),
        BarrierPath("0-2", False, 1.0, 0.2, 0.1, (2.0, 2.0), (0.0, 0.0)),
        BarrierPath("0-1", True, 0.5, 0.0, 0.05, (1.0, 3.0), (0.0, 0.0))))
    assert summary.raw_barrier == pytest.approx(0.3)
    assert summary.raw_test_barrier == pytest.approx(0.3)
    assert summary.aligned_barrier == 0.0 and summary.aligned_test_barrier == 0.05
    assert summary.end_loss == pytest.approx((1 + 3 + 2 + 2 + 1 + 3) / 6)


def test_least_squares_is_identified_with_the_n_eff_of_its_normal_matrix() -> None:
    """OLS's summed-loss Hessian Σ ½‖f(x) − y‖² is AᵀA with A = [X 1]: N_eff from its own
    eigenvalues, and refits that agree."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((120, 6))
    y = x @ rng.standard_normal((6, 1)) + 0.1 * rng.standard_normal((120, 1))
    fits = least_squares_refits(x, y, [0, 1, 2])
    entry = identification("ordinary least squares", fits, x, y, activation="relu", z=2.0,
                           top_k=5, seed=0)
    design = np.hstack([x, np.ones((120, 1))])
    eigenvalues = np.linalg.eigvalsh(design.T @ design)
    assert entry.params == 7 and entry.observations == 120 and entry.n_eff_method == "exact"
    assert entry.n_eff == pytest.approx(float(np.sum(eigenvalues / (eigenvalues + 2.0))))
    assert entry.smallest_eigenvalue == pytest.approx(eigenvalues[0])
    assert entry.aligned_distance < 1e-6 and entry.identified


def test_barrier_sentence_follows_the_numbers() -> None:
    copies = barrier_sentence(_summary(0.3, 0.01))
    assert "different basins of equal height: the raw path rises by 0.3" in copies
    assert "relabelled copies" in copies
    distinct = barrier_sentence(_summary(0.3, 0.25))
    assert "still 0.25" in distinct and "more than a relabelling" in distinct
    assert barrier_sentence(_summary(0.001, 0.0)).startswith(
        "The refits sit in one basin")


def _entry(distance: float, n_eff: float, smallest: float | None) -> Identification:
    return Identification("ordinary least squares", 41, 13000, 1.0, distance, n_eff, "exact",
                          None, 40, "exact", 41, 9000.0, smallest, 0, None, 0, None)


def test_identification_sentence_follows_the_numbers() -> None:
    yes = identification_sentence(_entry(1e-12, 40.99, 9000.0))
    assert "identified: the data determine its parameters" in yes and "smallest 9e+03" in yes
    spread = identification_sentence(_entry(0.8, 40.99, 9000.0))
    flat_directions = identification_sentence(_entry(1e-12, 12.0, 1e-4))
    for no in (spread, flat_directions):
        assert "not identified" in no


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--seeds", "1"], "--seeds must be at least 2 to compare refits (a pair at least)"),
    (["--barrier", "--barrier-points", "2"], "--barrier-points must be at least 3"),
    (["--contrast", "--z", "0"], "--z must be a positive number"),
    (["--contrast", "--data", "digits"], "--contrast fits ordinary least squares"),
])
def test_bad_refit_options_are_one_line_and_exit_2(argv: list[str], fragment: str,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    spec = "64-4-10" if "digits" in argv else "40-4-1"
    code = main(["run", "refit", spec, *argv, "--epochs", "1", "--n-samples", "200",
                 "--quiet", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err


def test_polished_refits_of_a_single_tanh_unit_land_on_the_same_weights() -> None:
    """One tanh unit, 300 observations from a teacher of the same form: from three random
    starts, full-batch L-BFGS reaches one minimum up to the unit's sign."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 5))
    y = 2.0 * np.tanh(x @ rng.standard_normal((5, 1)) + 0.3) + 0.1 * rng.standard_normal(
        (300, 1))
    fits = [landscape.polish(random_mlp(np.random.default_rng(s), [5, 1, 1]), x, y,
                             loss="mse", activation="tanh") for s in range(3)]
    for other in fits[1:]:
        assert relative_distance(flat(fits[0]), flat(align(fits[0], other, signs=True))) < 1e-5
