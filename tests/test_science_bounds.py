"""PAC-Bayes and Occam bounds: closed forms, monotonicity, coverage by simulation, and the
reference implementation's numbers (activatedgeek/tight-pac-bayes)."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from paramlab.errors import DataError
from paramlab.lab.science.bounds import (
    catoni_bound,
    default_tau,
    kl_bernoulli,
    kl_inverse_upper,
    occam_bound,
    regression_error,
)


def test_kl_bernoulli_matches_scipy_entropy() -> None:
    for q, p in [(0.1, 0.3), (0.5, 0.5), (0.0, 0.2), (1.0, 0.7), (0.9, 0.05)]:
        assert kl_bernoulli(q, p) == pytest.approx(stats.entropy([q, 1 - q], [p, 1 - p]))
    assert kl_bernoulli(0.1, 0.0) == math.inf


@pytest.mark.parametrize("budget", [1e-4, 0.01, 0.3, 2.0])
def test_kl_inverse_at_zero_error_is_the_closed_form(budget: float) -> None:
    assert kl_inverse_upper(0.0, budget) == pytest.approx(1 - math.exp(-budget), rel=1e-12)


def test_kl_inverse_solves_the_equation_and_errs_on_the_safe_side() -> None:
    for error, budget in [(0.05, 0.01), (0.3, 0.2), (0.7, 0.05)]:
        upper = kl_inverse_upper(error, budget)
        assert upper > error
        assert kl_bernoulli(error, upper) == pytest.approx(budget, rel=1e-9)
        assert kl_bernoulli(error, upper) >= budget  # never below the exact inverse
    assert 0.4 <= kl_inverse_upper(0.4, 0.0) < 0.4 + 1e-8  # kl is flat (quadratic) there
    assert kl_inverse_upper(0.2, 50.0) == 1.0


def test_kl_inverse_is_monotonic_in_budget_and_in_error() -> None:
    budgets = np.linspace(0.001, 1.0, 25)
    by_budget = [kl_inverse_upper(0.1, b) for b in budgets]
    assert all(a < b for a, b in itertools.pairwise(by_budget))
    errors = np.linspace(0.0, 0.9, 25)
    by_error = [kl_inverse_upper(e, 0.05) for e in errors]
    assert all(a < b for a, b in itertools.pairwise(by_error))


def test_occam_bound_covers_the_true_error_in_all_but_delta_of_draws() -> None:
    """A fixed classifier of true error p scored on 2,000 independent training sets of n
    points: the bound may fail (fall below p) on at most δ of them; the tolerance is the
    binomial 99.9 % quantile of 2,000 draws at rate δ. Dropping ln(1/δ) from the budget
    (δ → 1) must fail far more often, so the check can fail."""
    p, n, delta, draws = 0.1, 200, 0.05, 2000
    errors = np.random.default_rng(0).binomial(n, p, size=draws) / n
    bound_of = {e: occam_bound(e, 0.0, n, delta) for e in np.unique(errors)}
    failures = sum(bound_of[e] < p for e in errors)
    assert failures <= stats.binom.ppf(0.999, draws, delta)
    loose_of = {e: occam_bound(e, 0.0, n, 0.999) for e in np.unique(errors)}
    assert sum(loose_of[e] < p for e in errors) > 4 * draws * delta


def test_catoni_bound_covers_the_true_error_too() -> None:
    p, n, delta, draws = 0.2, 300, 0.05, 2000
    errors = np.random.default_rng(1).binomial(n, p, size=draws) / n
    bound_of = {e: catoni_bound(e, 8.0, n, delta) for e in np.unique(errors)}
    assert sum(bound_of[e] < p for e in errors) <= stats.binom.ppf(0.999, draws, delta)


# (train error, divergence in nats, n) → pac_bayes_bound_opt(divergence, train_error, n)
# from tight-pac-bayes 09d838d pactl/bounds/get_pac_bounds.py, run with scipy 1.17.1 and
# epsilon = 0.05; the first row is their tests/TestBounds.py input.
REFERENCE = [
    (1 - 0.710693, 1724.0, 30000, 0.4560203599999249),
    (0.0, 100 * math.log(2), 1000, 0.09077736913831583),
    (0.05, 5000 * math.log(2), 50000, 0.1732156513275549),
    (0.2, 20.0, 500, 0.39833232605346225),
]


@pytest.mark.parametrize(("error", "nats", "n", "expected"), REFERENCE)
def test_catoni_bound_matches_the_reference_implementation(
        error: float, nats: float, n: int, expected: float) -> None:
    assert catoni_bound(error, nats / math.log(2), n, 0.05) == pytest.approx(expected,
                                                                             rel=1e-7)


def test_bounds_tighten_with_more_data_and_loosen_with_longer_messages() -> None:
    assert occam_bound(0.1, 500, 20_000, 0.05) < occam_bound(0.1, 500, 5_000, 0.05)
    assert catoni_bound(0.1, 500, 20_000, 0.05) < catoni_bound(0.1, 500, 5_000, 0.05)
    assert occam_bound(0.1, 2_000, 10_000, 0.05) > occam_bound(0.1, 500, 10_000, 0.05)
    assert catoni_bound(0.1, 2_000, 10_000, 0.05) > catoni_bound(0.1, 500, 10_000, 0.05)


def test_regression_error_counts_rows_beyond_tau() -> None:
    target = np.array([0.0, 1.0, 2.0, 3.0])
    pred = np.array([0.1, 1.6, 2.0, 2.0])
    assert regression_error(pred, target, 0.5) == 0.5
    assert regression_error(pred[:, None], target[:, None], 0.05) == 0.75
    assert default_tau(np.array([1.0, 3.0])) == 0.5  # std 1 → τ = 0.5


@pytest.mark.parametrize(("call", "words"), [
    (lambda: occam_bound(0.1, 10, 100, 0.0), "delta"),
    (lambda: occam_bound(0.1, 10, 100, 1.0), "delta"),
    (lambda: catoni_bound(0.1, 10, 0, 0.05), r"n \(training examples\)"),
    (lambda: occam_bound(1.2, 10, 100, 0.05), "train_error"),
    (lambda: catoni_bound(-0.1, 10, 100, 0.05), "train_error"),
    (lambda: occam_bound(0.1, -1, 100, 0.05), "message_bits"),
    (lambda: regression_error(np.zeros(3), np.zeros(3), 0.0), "tau"),
    (lambda: regression_error(np.zeros(3), np.zeros(4), 1.0), "shape"),
    (lambda: default_tau(np.ones(5)), "standard deviation"),
])
def test_bad_input_is_one_line_naming_the_field(call, words: str) -> None:
    with pytest.raises(DataError, match=words) as caught:
        call()
    assert "\n" not in str(caught.value)
