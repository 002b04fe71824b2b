"""Closed forms for the risk of least squares on isotropic Gaussian features, drawn beside the
double-descent measurements (:mod:`paramlab.lab.experiments.double_descent`).

The setting every formula here assumes (Hastie, Montanari, Rosset & Tibshirani, "Surprises in
high-dimensional ridgeless least squares interpolation", arXiv 1903.08560, Ann. Statist. 2022):

* rows x ~ N(0, I_p), n of them; targets y = x·β + ε with ε ~ N(0, σ²) independent;
* β is independent of X with ‖β‖² = r² (drawn uniformly on that sphere);
* γ = p / n;
* ridge β̂_λ = argmin (1/n)‖y − Xβ‖² + λ‖β‖² = (XᵀX + nλI)⁻¹Xᵀy (scikit-learn's alpha is
  nλ); λ = 0 means the minimum-norm least-squares solution X⁺y;
* the *risk* is the excess test error E_x[(x·(β̂ − β))²] = ‖β̂ − β‖², i.e. the expected
  squared error on a fresh point *minus* the irreducible σ².

Nothing here imports numpy: the formulas are a few lines of arithmetic each.
"""

from __future__ import annotations

import math


def finite_risk(p: int, n: int, signal: float, noise_var: float) -> float | None:
    """The exact expected risk of min-norm least squares at finite n (expectation over X, ε).

    n ≥ p + 2: σ²·p/(n − p − 1) (unbiased OLS; E tr((XᵀX)⁻¹) of an inverse Wishart).
    p ≥ n + 2: r²(1 − n/p) + σ²·n/(p − n − 1) (the projection onto the row space keeps a
    share n/p of ‖β‖² in expectation; the variance is again an inverse-Wishart trace).
    ``None`` when |p − n| ≤ 1, where the expectation is infinite. (Hastie et al. 2022;
    Belkin, Hsu & Xu 2020, "Two models of double descent for weak features".)
    """
    if n >= p + 2:
        return noise_var * p / (n - p - 1)
    if p >= n + 2:
        return signal * (1 - n / p) + noise_var * n / (p - n - 1)
    return None


def asymptotic_min_norm_risk(gamma: float, signal: float, noise_var: float) -> float | None:
    """The limit n, p → ∞ with p/n → γ (Hastie et al. 2022, isotropic features):
    γ < 1: σ²γ/(1 − γ); γ > 1: r²(1 − 1/γ) + σ²/(γ − 1); ``None`` at γ = 1 (infinite)."""
    if gamma < 1:
        return noise_var * gamma / (1 - gamma)
    if gamma > 1:
        return signal * (1 - 1 / gamma) + noise_var / (gamma - 1)
    return None


def mp_stieltjes(gamma: float, lam: float) -> tuple[float, float]:
    """m(−λ) and m'(−λ) of the Marchenko–Pastur law with ratio γ (the limit spectrum of
    XᵀX/n, its point mass 1 − 1/γ at zero included when γ > 1), for λ > 0.

    m(z) = ∫ dF(s)/(s − z) solves γz·m² − (1 − γ − z)·m + 1 = 0; at z = −λ, with
    a = 1 − γ + λ: m = (√(a² + 4γλ) − a)/(2γλ), the root that is positive and → 1/λ as
    λ → ∞ (the Stieltjes transform Hastie et al. 2022 use for isotropic ridge).
    m'(z) = ∫ dF(s)/(s − z)², obtained by differentiating m(−λ) in λ (m'(−λ) = −dm/dλ).
    """
    a = 1 - gamma + lam
    root = math.sqrt(a * a + 4 * gamma * lam)
    m = (root - a) / (2 * gamma * lam)
    dm_dlam = ((a + 2 * gamma) / root - 1) / (2 * gamma * lam) - (root - a) / (
        2 * gamma * lam * lam)
    return m, -dm_dlam


def asymptotic_ridge_risk(gamma: float, lam: float, signal: float,
                          noise_var: float) -> float | None:
    """The limit risk of ridge with penalty λ (Hastie et al. 2022, isotropic ridge;
    Dobriban & Wager 2018, "High-dimensional asymptotics of prediction"):

        R(λ) = r²λ²·m'(−λ) + σ²γ·(m(−λ) − λ·m'(−λ)),

    bias (the first term) and variance (the second). λ = 0 is the min-norm formula."""
    if lam == 0:
        return asymptotic_min_norm_risk(gamma, signal, noise_var)
    m, dm = mp_stieltjes(gamma, lam)
    return signal * lam * lam * dm + noise_var * gamma * (m - lam * dm)


def optimal_ridge_penalty(gamma: float, signal: float, noise_var: float) -> float:
    """λ* = σ²γ/r², the risk-minimizing penalty (Hastie et al. 2022; Dobriban & Wager 2018;
    with β ~ N(0, r²/p·I) it is also the Bayes posterior mean at every finite n)."""
    return noise_var * gamma / signal


def optimal_ridge_risk(gamma: float, signal: float, noise_var: float) -> float:
    """The limit risk at λ*: R(λ*) = σ²γ·m(−λ*) (the bias and the m' part of the variance
    cancel when r²λ* = σ²γ). It increases with γ — optimally tuned ridge has no peak."""
    lam = optimal_ridge_penalty(gamma, signal, noise_var)
    if lam == 0:  # no noise: ridge with λ → 0 is min-norm, whose risk is then r²(1 − 1/γ)₊
        return signal * max(0.0, 1 - 1 / gamma)
    m, _ = mp_stieltjes(gamma, lam)
    return noise_var * gamma * m
