"""Generalization bounds for a compressed network (Lotfi, Finzi, Kapoor, Potapczynski,
Goldblum, Wilson, "PAC-Bayes Compression Bounds So Tight That They Can Explain
Generalization", NeurIPS 2022, arXiv 2211.13609; reference code activatedgeek/tight-pac-bayes
at 09d838d, ``pactl/bounds/get_pac_bounds.py``).

Both bounds take the *message length* l in bits of the quantized parameters (see
``science.coding``): a prefix-free code gives the hypothesis prior mass 2^-l, so the
complexity term is l·ln 2 nats. Errors are 0-1 error rates in [0, 1].
"""

from __future__ import annotations

import math

import numpy as np

from paramlab.errors import DataError

_BISECTION_STEPS = 200  # halves [ê, 1] far past float precision; the upper end is returned


def _check_error(value: float, name: str = "train_error") -> float:
    if not 0.0 <= value <= 1.0:
        raise DataError(f"{name} must be an error rate in [0, 1]; received {value}")
    return float(value)


def _check_delta(delta: float) -> float:
    if not 0.0 < delta < 1.0:
        raise DataError(f"delta (the bound's failure probability) must be in (0, 1); "
                        f"received {delta}")
    return float(delta)


def _check_n(n: int) -> int:
    if n < 1:
        raise DataError(f"n (training examples) must be at least 1; received {n}")
    return int(n)


def _check_bits(bits: float) -> float:
    if not bits >= 0.0:
        raise DataError(f"message_bits must be a length in bits >= 0; received {bits}")
    return float(bits)


def kl_bernoulli(q: float, p: float) -> float:
    """kl(q ‖ p) = q ln(q/p) + (1−q) ln((1−q)/(1−p)) in nats, with 0·ln 0 = 0.

    The divergence between Bernoulli(q) and Bernoulli(p) (Langford 2005, "Tutorial on
    Practical Prediction Theory for Classification", JMLR 6); +inf where p puts no
    mass on an outcome q has.
    """
    q, p = _check_error(q, "q"), _check_error(p, "p")
    total = 0.0
    for mine, theirs in ((q, p), (1.0 - q, 1.0 - p)):
        if mine > 0.0:
            if theirs == 0.0:
                return math.inf
            total += mine * math.log(mine / theirs)
    return max(total, 0.0)  # rounding can leave -1e-17 at q == p


def kl_inverse_upper(train_error: float, budget: float) -> float:
    """The largest e with kl(ê ‖ e) ≤ budget: the upper end of Langford's kl bound.

    Bisection on [ê, 1], where kl(ê ‖ ·) increases; the upper end is returned, so rounding
    never makes the bound optimistic (it exceeds the exact inverse by ~1e-15, or by up to
    ~1e-8 at a budget near 0, where kl is quadratic and rounds to 0). Closed form to check
    against: ê = 0 gives 1 − exp(−budget).
    """
    low = _check_error(train_error)
    if not budget >= 0.0:
        raise DataError(f"budget (kl divergence allowed, nats) must be >= 0; received {budget}")
    high = 1.0
    if kl_bernoulli(low, high) <= budget:
        return 1.0
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if kl_bernoulli(train_error, middle) <= budget:
            low = middle
        else:
            high = middle
    return high


def occam_bound(train_error: float, message_bits: float, n: int, delta: float) -> float:
    """Langford's (2005, Sec. 4) Occam's razor bound on the true error, in its kl form.

    With probability >= 1 − δ over n i.i.d. examples, every hypothesis with a prefix-free
    code of l bits has true error <= kl⁻¹(ê, (l·ln 2 + ln(1/δ)) / n).
    """
    _check_error(train_error)
    budget = (_check_bits(message_bits) * math.log(2) + math.log(1 / _check_delta(delta))) \
        / _check_n(n)
    return kl_inverse_upper(train_error, budget)


def catoni_bound(train_error: float, message_bits: float, n: int, delta: float,
                 alpha: float = 1e-4) -> float:
    """Lotfi et al.'s optimized Catoni bound, exactly as ``pac_bayes_bound_opt`` computes it.

    Catoni's bound (Catoni 2007, *PAC-Bayesian Supervised Classification*, Ch. 1), in the
    form the reference code evaluates, for a fixed γ > 0 with C = γ/n:
    error <= (1 − exp(−C·q)) / (1 − exp(−C)), q = ê + (KL + ln(1/δ))/γ. The reference code
    writes γ = e^g, minimizes over g with ``scipy.optimize.minimize_scalar`` (Brent, bracket
    (0, 4 + ln n)) and pays for the choice with a union bound over a geometric grid of
    ratio 1 + α: q = ê + ((1 + α)/γ)·(KL − ln δ + 2 ln(2 + g / ln(1 + α))). Here KL =
    message_bits·ln 2. Their ``eval_acc_and_bound`` uses this for train error <= 0.5 and the
    unpaid-for ``compute_catoni_bound`` above it; we always use this one, which is valid.
    A value >= 1 is vacuous (it is returned as computed, to match the reference).
    """
    from scipy import optimize

    error = _check_error(train_error)
    divergence = _check_bits(message_bits) * math.log(2)
    size = _check_n(n)
    log_delta = math.log(_check_delta(delta))
    inv_log_alpha = 1 / math.log1p(alpha)

    def bound(g: float) -> float:
        gamma = math.exp(g)
        q = error + ((1 + alpha) / gamma) * (
            divergence - log_delta + 2 * math.log(2 + g * inv_log_alpha))
        rate = gamma / size
        return float(np.expm1(-rate * q) / np.expm1(-rate))

    return float(optimize.minimize_scalar(bound, (0, 4 + math.log(size))).fun)


def regression_error(pred: np.ndarray, target: np.ndarray, tau: float) -> float:
    """The 0-1 error a regression is bounded with: the fraction with |pred − target| > τ.

    Lotfi et al. bound classification error; turning a regressor into a 0-1 loss at a
    tolerance τ makes the same bounds apply. Each row is one example, wrong when any of
    its outputs misses by more than τ.
    """
    pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
    if pred.shape != target.shape:
        raise DataError(f"pred and target must have one shape; received {pred.shape} and "
                        f"{target.shape}")
    if not tau > 0:
        raise DataError(f"tau (the error tolerance) must be > 0; received {tau}")
    if pred.size == 0:
        raise DataError("pred and target are empty; need at least one row")
    wrong = np.abs(pred - target) > tau
    rows = wrong.reshape(wrong.shape[0], -1).any(axis=1) if wrong.ndim > 1 else wrong
    return float(rows.mean())


def default_tau(y_train: np.ndarray) -> float:
    """τ = half the training target's standard deviation (population, ddof 0): our choice,
    fixed before seeing any fit, so it costs no bits; errors beyond it count as wrong."""
    spread = float(np.std(np.asarray(y_train, dtype=float)))
    if not spread > 0:
        raise DataError(f"the training target has standard deviation {spread}; a tolerance "
                        "τ = std/2 needs a target that varies")
    return spread / 2


__all__ = ["catoni_bound", "default_tau", "kl_bernoulli", "kl_inverse_upper", "occam_bound",
           "regression_error"]
