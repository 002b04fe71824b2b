"""The Hessian machinery against theory: the linear model's closed form (XᵀX and the ridge
degrees of freedom), PyTorch's own dense Hessian, the exact eigendecomposition, and Gauss
quadrature's exactness and Hutchinson's variance for SLQ."""

import itertools

import numpy as np
import pytest
import torch

from paramlab.errors import ParamlabError
from paramlab.lab.science import hessian


def random_mlp(rng: np.random.Generator, widths: list[int]) -> list[np.ndarray]:
    out = []
    for a, b in itertools.pairwise(widths):
        out += [rng.standard_normal((a, b)) / np.sqrt(a), 0.3 * rng.standard_normal(b)]
    return out


def torch_hessian(weights: list[np.ndarray], x: np.ndarray, y: np.ndarray, loss: str,
                  activation: str) -> np.ndarray:
    """PyTorch's dense Hessian of the summed loss, over the flat weight vector."""
    flat = torch.cat([torch.tensor(w).reshape(-1) for w in weights])
    xt, yt = torch.tensor(x), torch.tensor(y)

    def f(theta: torch.Tensor) -> torch.Tensor:
        params, start = [], 0
        for w in weights:
            params.append(theta[start: start + w.size].reshape(w.shape))
            start += w.size
        out = hessian.mlp_output(params, xt, activation)
        if loss == "mse":
            return 0.5 * ((out - yt) ** 2).sum()
        return torch.nn.functional.cross_entropy(out, yt, reduction="sum")

    return torch.func.hessian(f)(flat).numpy()


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_linear_regression_hessian_is_xtx_and_n_eff_is_the_ridge_df(reduction: str) -> None:
    """A linear model (no hidden layer): under the summed loss ½Σ(xᵢw + b − yᵢ)² the Hessian
    is XᵀX (X with a column of ones for b), under the mean loss XᵀX/n; N_eff(z) is then the
    ridge degrees of freedom Σ d²/(d² + λ) with λ = z (sum) or λ = n·z (mean)."""
    rng = np.random.default_rng(0)
    n, p = 150, 6
    x = rng.standard_normal((n, p)) * np.arange(1, p + 1)  # unequal singular values
    y = rng.standard_normal((n, 1))
    weights = [rng.standard_normal((p, 1)), rng.standard_normal(1)]
    op = hessian.HessianOperator(weights, x, y, reduction=reduction)
    design = np.hstack([x, np.ones((n, 1))])
    expected = design.T @ design / (1 if reduction == "sum" else n)
    v = rng.standard_normal((p + 1, 3))
    np.testing.assert_allclose(op.matmat(v), expected @ v, rtol=1e-10)  # the HVP path
    d = np.linalg.svd(design, compute_uv=False)
    eigenvalues = hessian.top_eigenpairs(op.matmat, op.size, p + 1, block=2, tol=1e-10).values
    for z in (0.1, 1.0, 30.0):
        lam = z if reduction == "sum" else n * z
        ridge_df = float(np.sum(d**2 / (d**2 + lam)))
        assert hessian.n_eff(eigenvalues, z) == pytest.approx(ridge_df, rel=1e-9)


def random_problem(rng: np.random.Generator, widths: list[int], rows: int,
                   loss: str) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights, continuous inputs (no ReLU sits exactly at a kink) and targets."""
    outputs = widths[-1]
    x = rng.standard_normal((rows, widths[0]))
    y = rng.integers(0, outputs, rows) if loss == "cross_entropy" else rng.standard_normal(
        (rows, outputs))
    return random_mlp(rng, widths), x, y


@pytest.mark.parametrize(("loss", "activation", "widths"), [
    ("mse", "tanh", [4, 7, 5, 2]), ("cross_entropy", "tanh", [4, 7, 5, 3]),
    ("mse", "relu", [4, 6, 5, 4, 2])])  # three hidden layers: the R-operator too
def test_r_operator_dense_hessian_equals_pytorchs(loss: str, activation: str,
                                                  widths: list[int]) -> None:
    rng = np.random.default_rng(1)
    weights, x, y = random_problem(rng, widths, 40, loss)
    op = hessian.HessianOperator(weights, x, y, loss=loss, activation=activation,
                                 rows_per_chunk=16)  # three row chunks, summed
    assert op.method == "r-operator"
    expected = torch_hessian(weights, x, y, loss, activation)
    np.testing.assert_allclose(hessian.dense_hessian(op), expected, atol=1e-10 * abs(
        expected).max())


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize(("loss", "outputs"), [("mse", 2), ("cross_entropy", 3)])
def test_relu_split_dense_hessian_equals_pytorchs(loss: str, outputs: int,
                                                  reduction: str) -> None:
    """Two ReLU hidden layers take the Gauss–Newton + residual path; its whole Hessian is
    PyTorch's, over several row chunks and under either reduction."""
    rng = np.random.default_rng(7)
    weights, x, y = random_problem(rng, [4, 7, 5, outputs], 40, loss)
    op = hessian.HessianOperator(weights, x, y, loss=loss, reduction=reduction,
                                 rows_per_chunk=16)
    assert op.method == "relu-split"
    expected = torch_hessian(weights, x, y, loss, "relu") / (1 if reduction == "sum" else 40)
    np.testing.assert_allclose(hessian.dense_hessian(op), expected, atol=1e-10 * abs(
        expected).max())


@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float32, 1e-5),
                                                  (torch.float64, 1e-10)])
@pytest.mark.parametrize(("loss", "outputs"), [("mse", 1), ("cross_entropy", 3)])
def test_relu_split_equals_the_r_operator_on_a_seed_like_net(
        loss: str, outputs: int, dtype: torch.dtype, tolerance: float) -> None:
    """The seed's 40-256-256-1 shape at a quarter of the width and 500 rows, a block of
    random vectors: both exact paths agree to rounding in either precision."""
    rng = np.random.default_rng(8)
    weights, x, y = random_problem(rng, [40, 64, 64, outputs], 500, loss)
    v = rng.standard_normal((sum(w.size for w in weights), 6))
    products = [hessian.HessianOperator(weights, x, y, loss=loss, dtype=dtype,
                                        rows_per_chunk=200, method=method).matmat(v)
                for method in ("relu-split", "r-operator")]
    error = np.linalg.norm(products[0] - products[1], axis=0)
    assert np.all(error <= tolerance * np.linalg.norm(products[1], axis=0))


def test_method_must_be_known_and_fit_the_net() -> None:
    rng = np.random.default_rng(9)
    weights, x, y = random_problem(rng, [3, 4, 4, 1], 10, "mse")
    with pytest.raises(ParamlabError, match="'relu-split' needs a ReLU MLP with exactly two"):
        hessian.HessianOperator(weights, x, y, activation="tanh", method="relu-split")
    with pytest.raises(ParamlabError, match="method must be 'auto', 'r-operator' or"):
        hessian.HessianOperator(weights, x, y, method="vmap")


def test_block_lanczos_over_hvps_finds_the_top_eigenvalues_of_a_small_mlp() -> None:
    rng = np.random.default_rng(2)
    weights = random_mlp(rng, [4, 8, 6, 1])  # 101 parameters, indefinite Hessian
    x, y = rng.standard_normal((80, 4)), rng.standard_normal((80, 1))
    op = hessian.HessianOperator(weights, x, y)
    exact = np.linalg.eigvalsh(torch_hessian(weights, x, y, "mse", "relu"))[::-1]
    pairs = hessian.top_eigenpairs(op.matmat, op.size, 10, block=8, tol=1e-9)
    assert pairs.converged
    np.testing.assert_allclose(pairs.values, exact[:10], rtol=1e-7, atol=1e-9 * exact[0])
    assert pairs.vectors is not None  # and they are eigenvectors: ‖Hu − λu‖ small
    residual = op.matmat(pairs.vectors) - pairs.vectors * pairs.values
    assert np.linalg.norm(residual, axis=0).max() < 1e-6 * exact[0]


def test_thick_restarts_and_arpack_agree_with_the_eigendecomposition() -> None:
    """A dense symmetric matrix with a decaying, indefinite spectrum; a small ``max_dim``
    forces several restarts. ARPACK (the benchmark's anchor) at the same tolerance too."""
    rng = np.random.default_rng(6)
    q, _ = np.linalg.qr(rng.standard_normal((300, 300)))
    lam = np.concatenate([100.0 * 0.9 ** np.arange(250), -np.linspace(0.1, 5, 50)])
    h = (q * lam) @ q.T
    exact = np.sort(lam)[::-1]
    pairs = hessian.top_eigenpairs(lambda v: h @ v, 300, 20, block=4, tol=1e-9, max_dim=36)
    assert pairs.converged
    np.testing.assert_allclose(pairs.values, exact[:20], rtol=1e-8)
    from scipy.sparse.linalg import aslinearoperator

    np.testing.assert_allclose(hessian.eigsh_top(aslinearoperator(h), 20, tol=1e-9),
                               exact[:20], rtol=1e-8)


def test_slq_is_gauss_quadrature_exact_for_low_degree_polynomials() -> None:
    """On a diagonal operator Rademacher probes see the exact trace, so with m Lanczos steps
    the estimate of tr Hʲ is exact for every j ≤ 2m − 1 — and not beyond."""
    d = np.linspace(0.5, 4.0, 30) ** 2
    quadrature = hessian.slq(lambda v: d[:, None] * v, 30, probes=3, steps=2)
    for power in (1, 2, 3):
        assert quadrature.trace(lambda t, j=power: t**j) == pytest.approx(
            float(np.sum(d**power)), rel=1e-10)
    assert abs(quadrature.trace(lambda t: t**4) - np.sum(d**4)) > 1e-3 * np.sum(d**4)


def test_slq_trace_and_n_eff_agree_with_the_exact_values_within_hutchinson_error() -> None:
    """On a small MLP the estimates fall within 4 standard errors of the exact values; the
    standard error is Hutchinson's, from the exact matrix: √(2 Σ_{i≠j} g(H)ᵢⱼ² / probes)."""
    rng = np.random.default_rng(3)
    weights = random_mlp(rng, [4, 10, 1])  # 61 parameters
    x, y = rng.standard_normal((200, 4)), rng.standard_normal((200, 1))
    op = hessian.HessianOperator(weights, x, y)
    h = hessian.dense_hessian(op)
    lam, u = np.linalg.eigh(h)
    probes = 40
    quadrature = hessian.slq(lambda v: h @ v, op.size, probes=probes, steps=30, seed=5)

    def within(estimate: float, matrix: np.ndarray) -> None:
        off = matrix - np.diag(np.diag(matrix))
        sigma = np.sqrt(2 * np.sum(off**2) / probes)
        assert abs(estimate - np.trace(matrix)) < 4 * sigma

    within(quadrature.trace(lambda t: t), h)
    terms = np.clip(lam, 0, None) / (np.clip(lam, 0, None) + 1.0)
    within(quadrature.trace(lambda t: hessian.n_eff_terms(t, 1.0)), (u * terms) @ u.T)
    assert hessian.n_eff(lam, 1.0) == pytest.approx(float(terms.sum()))


def test_deflation_removes_the_top_eigenpairs() -> None:
    rng = np.random.default_rng(4)
    weights = random_mlp(rng, [3, 8, 1])
    x, y = rng.standard_normal((60, 3)), rng.standard_normal((60, 1))
    op = hessian.HessianOperator(weights, x, y)
    exact = np.linalg.eigvalsh(hessian.dense_hessian(op))[::-1]
    pairs = hessian.top_eigenpairs(op.matmat, op.size, 5, block=3, tol=1e-10)
    rest = hessian.deflated(op.matmat, pairs)
    remaining = np.linalg.eigvalsh(rest(np.eye(op.size)))[::-1]
    np.testing.assert_allclose(np.sort(remaining)[::-1][: op.size - 5],
                               np.sort(np.concatenate([exact[5:], np.zeros(5)]))[::-1][
                                   : op.size - 5], atol=1e-8 * exact[0])


def test_n_eff_counts_large_eigenvalues_as_one_and_negative_ones_as_zero() -> None:
    assert hessian.n_eff(np.array([1e9, 1.0, 1e-9, -5.0]), 1.0) == pytest.approx(1.5, abs=1e-8)


@pytest.mark.parametrize("z", [0, -1.0, float("nan"), float("inf")])
def test_z_must_be_positive_and_finite(z: float) -> None:
    with pytest.raises(ParamlabError, match="z must be a positive number"):
        hessian.check_z(z)
