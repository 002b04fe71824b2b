"""Regularization picks one solution among many: weight decay, dropout and early stopping.

Two halves. *Networks*: one-hidden-layer MLPs of several widths on the seed-style regression,
each trained without regularization and with every weight decay, every dropout rate and early
stopping (the batched engine; one regularizer changed at a time, the same initialization per
width), so validation loss can be read against parameter count for each setting.

*Linear models*, where the theory is exact. Ridge with penalty λ spends fewer parameters than
it has: its effective degrees of freedom, the trace of the hat matrix X(XᵀX + λI)⁻¹Xᵀ, are
df(λ) = Σ dᵢ²/(dᵢ² + λ) (dᵢ the singular values of X; Hastie, Tibshirani & Friedman, *ESL*
§3.4.1) — rank(X) at λ = 0, falling to 0 as λ → ∞. Dropout on a linear model with keep
probability q (features multiplied by δⱼ/q, δⱼ ~ Bernoulli(q)) has expected loss
E‖y − X(δ⊙β)/q‖² = ‖y − Xβ‖² + ((1 − q)/q)·Σⱼ‖Xⱼ‖²βⱼ² (Wager, Wang & Liang 2013; Srivastava
et al. 2014 §9.1): a ridge penalty scaled by each feature column's energy. Its minimizer is the
generalized ridge solution (XᵀX + ((1 − q)/q)·diag(XᵀX))⁻¹Xᵀy. The study computes that
minimizer twice — from the exact expectation (the mask's first and second moments) with a
generic optimizer, and from the formula — and checks it a third way with SGD on random masks.
"""

from __future__ import annotations

import numpy as np


def degrees_of_freedom(singular: np.ndarray, lam: float) -> float:
    """df(λ) = Σ dᵢ²/(dᵢ² + λ); at λ = 0 the count of non-zero singular values (the rank)."""
    d2 = singular[singular > singular.max() * max(singular.shape) * np.finfo(float).eps] ** 2
    return float(np.sum(d2 / (d2 + lam)))


def ridge_fit(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """argmin ‖y − Xβ‖² + λ‖β‖² (λ = 0: the minimum-norm least-squares fit)."""
    if lam == 0:
        return np.asarray(np.linalg.lstsq(X, y, rcond=None)[0])
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


def generalized_ridge(X: np.ndarray, y: np.ndarray, keep: float) -> np.ndarray:
    """(XᵀX + ((1 − q)/q)·diag(XᵀX))⁻¹Xᵀy: the minimizer of the dropout penalty's formula."""
    gram = X.T @ X
    return np.linalg.solve(gram + (1 - keep) / keep * np.diag(np.diag(gram)), X.T @ y)


def expected_dropout_loss(beta: np.ndarray, X: np.ndarray, y: np.ndarray,
                          keep: float) -> tuple[float, np.ndarray]:
    """E‖y − X(δ⊙β)/q‖² over δⱼ ~ Bernoulli(q) independent, and its gradient in β.

    Exact, from the mask's moments alone: with D = diag(δ)/q, E[D] = I and
    E[D A D]ⱼₖ = Aⱼₖ for j ≠ k, Aⱼⱼ/q on the diagonal. So the expectation is
    ‖y‖² − 2yᵀXβ + βᵀMβ with M = XᵀX off the diagonal and diag(XᵀX)/q on it.
    """
    gram = X.T @ X
    moment = gram + (1 / keep - 1) * np.diag(np.diag(gram))
    xty = X.T @ y
    value = float(y @ y - 2 * xty @ beta + beta @ moment @ beta)
    return value, 2 * (moment @ beta - xty)


def minimize_expected_dropout_loss(X: np.ndarray, y: np.ndarray, keep: float) -> np.ndarray:
    """The minimizer of the exact expected dropout loss by a generic optimizer (L-BFGS),
    independent of the generalized-ridge formula."""
    from scipy.optimize import minimize

    scale = 1.0 / X.shape[0]

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = expected_dropout_loss(beta, X, y, keep)
        return value * scale, gradient * scale

    result = minimize(objective, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-13, "ftol": 0.0, "maxiter": 10_000})
    return np.asarray(result.x)


def dropout_sgd(X: np.ndarray, y: np.ndarray, keep: float, epochs: int, seed: int,
                batch: int = 128) -> np.ndarray:
    """Minibatch SGD on the dropout loss with a fresh mask per row and step, iterates
    averaged over the second half (Polyak–Ruppert): a Monte-Carlo estimate of the expected
    loss's minimizer."""
    rng = np.random.default_rng(seed)
    n, p = X.shape
    gram = X.T @ X
    curvature = np.linalg.eigvalsh(gram + (1 / keep - 1) * np.diag(np.diag(gram)))[-1] / n
    lr = 0.2 / float(curvature)  # well inside the stable range of the expected loss
    beta, total, counted = np.zeros(p), np.zeros(p), 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        for begin in range(0, n, batch):
            rows = order[begin: begin + batch]
            masked = X[rows] * (rng.random((len(rows), p)) < keep) / keep
            beta -= lr * masked.T @ (masked @ beta - y[rows]) / len(rows)
            if epoch >= epochs // 2:
                total += beta
                counted += 1
    return total / counted


def dropout_hat_trace(X: np.ndarray, keep: float) -> float:
    """Effective degrees of freedom of dropout's generalized ridge: the trace of
    (XᵀX + ((1 − q)/q)·diag(XᵀX))⁻¹XᵀX."""
    gram = X.T @ X
    penalty = (1 - keep) / keep * np.diag(np.diag(gram))
    return float(np.trace(np.linalg.solve(gram + penalty, gram)))
