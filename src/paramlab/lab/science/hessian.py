"""The Hessian of an MLP's training loss at given weights, and what its spectrum says.

Convention (Maddox, Benton and Wilson 2020, "Rethinking parameter counting in deep models"):
the Hessian is that of the *summed* training loss, ``L(θ) = Σᵢ ℓ(f(xᵢ; θ), yᵢ)`` with
``ℓ = ½‖f − y‖²`` for regression (the Gaussian negative log-likelihood with σ = 1) and the
cross-entropy for classes. Under this convention a linear model's Hessian is ``XᵀX``; under the
*mean* convention (``reduction="mean"``, ``L/n``) it is ``XᵀX/n``. The effective dimensionality

    N_eff(z) = Σᵢ λᵢ / (λᵢ + z)

counts the directions the data determine: an eigenvalue far above ``z`` counts 1, one far below
counts 0. For a linear model under the summed convention it is exactly the ridge degrees of
freedom ``df(z) = Σ dᵢ² / (dᵢ² + z)`` (dᵢ the singular values of X); under the mean convention
``N_eff(z) = df(n·z)``. A negative eigenvalue (negative curvature: a direction the data do not
pin down) counts 0.

Every spectrum is read through Hessian-vector products, H·V for a block of vectors at once
(:class:`HessianOperator`; the vectors ride along the batch dimension, so each layer's
products are a few wide GEMMs shared by the block). Two exact ways to compute them:

* ``"r-operator"`` — Pearlmutter's R-operator written out for the MLP (any depth, relu or
  tanh): one forward pass, the tangent forward and the second-order backward; six products of
  the size rows·w·w' per vector on each inner layer;
* ``"relu-split"`` — for ReLU nets with exactly two hidden layers,
  :mod:`paramlab.lab.science.hessian_fast`: Gauss–Newton plus a residual that, with piecewise linear
  activations, reduces to couplings summed over the rows once; two such products per vector
  (5–7× faster on the seed's 40-256-256-1 net; the top eigenvalues of a large model take
  hundreds of products), after one pass of rows·(d+1)·w1·w2·outputs multiply-adds.

Three ways to the spectrum, by model size:

* :func:`dense_hessian` — the whole matrix, for a few thousand parameters (exact);
* :func:`top_eigenpairs` — the largest eigenvalues by thick-restart *block* Lanczos: every
  step multiplies the Hessian with a block of vectors at once, which shares the forward pass
  and turns matrix-vector into matrix-matrix products;
* :func:`slq` — stochastic Lanczos quadrature (Ubaru, Chen and Saad 2017; Ghorbani, Krishnan
  and Xiao 2019): the spectral density as Gauss quadrature nodes and weights, hence an
  estimate of ``tr g(H)`` for any ``g`` — the whole-spectrum N_eff of a large model, where
  its nodes resolve z (:meth:`Quadrature.resolution`; most of an over-parameterized net's
  eigenvalues are 0, and a coarse rule smears them onto nodes near 0, which λ/(λ + z)
  counts for a small z).

For ``eigsh`` wrap :meth:`HessianOperator.matmat` in a ``scipy.sparse.linalg.LinearOperator``
(``benchmarks/bench_hessian.py`` wraps its anchor, an autograd HVP, the same way).
This module knows nothing of the command line or the run store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from paramlab.errors import ParamlabError
from paramlab.fields import require
from paramlab.lab.blas import one_blas_thread
from paramlab.lab.science.hessian_fast import (
    MAX_COUPLING,
    ReluTwoHidden,
    curvature_times,
    output_derivatives,
    qualifies,
    times_each,
)

MatMat = Callable[[np.ndarray], np.ndarray]  # (P, b) float64 → (P, b) float64


def convention(reduction: str = "sum", loss: str = "mse") -> str:
    """The scaling in words, for every output that prints an N_eff."""
    per_row = "½‖f(x)−y‖²" if loss == "mse" else "cross-entropy"
    total = "Σᵢ" if reduction == "sum" else "(1/n)·Σᵢ"
    return f"Hessian of the {'summed' if reduction == 'sum' else 'mean'} training loss " \
           f"{total} {per_row}"


def mlp_output(params: Sequence[torch.Tensor], x: torch.Tensor, activation: str) -> torch.Tensor:
    """The network's output; ``params`` are [W1, b1, W2, b2, …], W as (fan_in, fan_out)."""
    act = torch.relu if activation == "relu" else torch.tanh
    layers = len(params) // 2
    h = x
    for layer in range(layers):
        h = h @ params[2 * layer] + params[2 * layer + 1]
        if layer < layers - 1:
            h = act(h)
    return h


def summed_loss(params: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                loss: str, activation: str) -> torch.Tensor:
    """Σᵢ ℓ(f(xᵢ), yᵢ) — the module docstring's convention."""
    out = mlp_output(params, x, activation)
    if loss == "mse":
        return 0.5 * (out - y).pow(2).sum()
    return F.cross_entropy(out, y, reduction="sum")


class HessianOperator:
    """H·V for blocks of vectors V, at fixed weights on fixed data.

    ``weights`` are [W1, b1, …] arrays (the engine's layout); vectors are flat in that order.
    Rows are processed in chunks of ``rows_per_chunk`` (the HVP is a sum over rows) and vectors
    in blocks of ``block``, which bounds memory. ``method`` (read back as :attr:`method`) is
    ``"auto"`` — ``"relu-split"`` where
    :func:`paramlab.lab.science.hessian_fast.qualifies` (ReLU, two hidden layers,
    (d+1)·w1·w2·outputs ≤ 5·10⁷), else ``"r-operator"`` — or either by name.
    """

    def __init__(self, weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, *,
                 loss: str = "mse", activation: str = "relu", reduction: str = "sum",
                 dtype: torch.dtype = torch.float64, block: int = 16,
                 rows_per_chunk: int = 4096, method: str = "auto"):
        if loss not in ("mse", "cross_entropy"):
            raise ParamlabError(f"loss must be 'mse' or 'cross_entropy'; received {loss!r}")
        if reduction not in ("sum", "mean"):
            raise ParamlabError(f"reduction must be 'sum' or 'mean'; received {reduction!r}")
        self.loss, self.activation, self.reduction = loss, activation, reduction
        self.dtype, self.block = dtype, block
        self.params = [torch.as_tensor(np.asarray(w), dtype=dtype) for w in weights]
        self.shapes = [tuple(p.shape) for p in self.params]
        self.sizes = [p.numel() for p in self.params]
        self.size = sum(self.sizes)
        self.rows = int(x.shape[0])
        xt = torch.as_tensor(np.asarray(x), dtype=dtype)
        yt = torch.as_tensor(np.asarray(y))
        yt = yt.long().reshape(-1) if loss == "cross_entropy" else yt.to(dtype).reshape(
            self.rows, -1)
        self.chunks = [(xt[i: i + rows_per_chunk], yt[i: i + rows_per_chunk])
                       for i in range(0, self.rows, rows_per_chunk)]
        self.matvecs = 0  # Hessian-vector products so far (a block of b counts b)
        self._method = self._choose(method)
        self._product: Callable[[torch.Tensor], torch.Tensor] = (
            ReluTwoHidden(self.params, self.chunks, loss).product
            if self._method == "relu-split" else self._rop_block)

    @property
    def method(self) -> str:
        """How the products are computed: ``"relu-split"`` or ``"r-operator"``."""
        return self._method

    def _choose(self, method: str) -> str:
        fits = qualifies(self.shapes, self.activation)
        if method == "auto":
            return "relu-split" if fits else "r-operator"
        if method == "r-operator" or (method == "relu-split" and fits):
            return method
        if method == "relu-split":
            raise ParamlabError(
                f"method 'relu-split' needs a ReLU MLP with exactly two hidden layers and "
                f"(d+1)·w1·w2·outputs ≤ {MAX_COUPLING:.0e}; received activation "
                f"{self.activation!r} and weight shapes {self.shapes}")
        raise ParamlabError(f"method must be 'auto', 'r-operator' or 'relu-split'; received "
                            f"{method!r}")

    def _scale(self) -> float:
        return 1.0 if self.reduction == "sum" else 1.0 / self.rows

    def _split(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """(b, P) → per-parameter (b, *shape) tangents."""
        pieces = torch.split(flat, self.sizes, dim=1)
        return [p.reshape(flat.shape[0], *s) for p, s in zip(pieces, self.shapes, strict=True)]

    def _rop_block(self, block: torch.Tensor) -> torch.Tensor:
        """Σ over row chunks of H·v for a block (b, P) of flat tangents, by Pearlmutter's
        R-operator
        written out for the MLP: one forward pass shared by the block, then each layer's
        tangent forward and second-order backward as a few wide matrix products (vectors ride
        along the batch dimension), so b vectors cost b times the arithmetic of one but far
        less than b times its overhead."""
        b = block.shape[0]
        tangents = self._split(block)
        parts: list[torch.Tensor] | None = None
        for x, y in self.chunks:
            chunk = self._rop_chunk(x, y, tangents, b)
            parts = chunk if parts is None else [p + c for p, c in zip(parts, chunk,
                                                                       strict=True)]
        assert parts is not None
        return torch.cat([p.reshape(b, -1) for p in parts], dim=1)

    def _rop_chunk(self, x: torch.Tensor, y: torch.Tensor, tangents: list[torch.Tensor],
                   b: int) -> list[torch.Tensor]:
        """H·v over one chunk of rows, activations laid out (rows, b, width)."""
        weights, biases = self.params[0::2], self.params[1::2]
        dweights, dbiases = tangents[0::2], tangents[1::2]
        layers = len(weights)
        inputs, slopes, curvatures = self._forward(x, weights, biases)
        rows = x.shape[0]
        # the tangent forward: Rz = Ra·W + a·V + c, Ra = σ'(z)·Rz
        r_inputs: list[torch.Tensor | None] = [None]
        r_pre: list[torch.Tensor] = []
        for layer in range(layers):
            rz = times_each(inputs[layer], dweights[layer]) + dbiases[layer][None]
            r_in = r_inputs[layer]
            if r_in is not None:
                rz = rz + (r_in.reshape(rows * b, -1) @ weights[layer]).view(rows, b, -1)
            r_pre.append(rz)
            if layer < layers - 1:
                r_inputs.append(rz * slopes[layer][:, None])
        # the gradient's backward (g) and its R-derivative (Rg), output to input
        g, softmax = output_derivatives(inputs[-1] @ weights[-1] + biases[-1], y, self.loss)
        rg = curvature_times(softmax, r_pre[-1])
        out: list[torch.Tensor] = [torch.empty(0)] * (2 * layers)
        for layer in reversed(range(layers)):
            width = weights[layer].shape[1]
            r_in = r_inputs[layer]
            rw = (inputs[layer].T @ rg.reshape(rows, b * width)).view(-1, b, width)
            if r_in is not None:
                rw = rw + (r_in.reshape(rows, -1).T @ g).view(b, -1, width).transpose(0, 1)
            out[2 * layer] = rw.transpose(0, 1)
            out[2 * layer + 1] = rg.sum(dim=0)
            if layer == 0:
                break
            rg_in = (rg.reshape(rows * b, width) @ weights[layer].T).view(rows, b, -1)
            rg_in = rg_in + times_each(g, dweights[layer].transpose(1, 2))
            g_in = g @ weights[layer].T
            rg = rg_in * slopes[layer - 1][:, None]
            curvature = curvatures[layer - 1]
            if curvature is not None:
                rg = rg + (g_in * curvature)[:, None] * r_pre[layer - 1]
            g = g_in * slopes[layer - 1]
        return out

    def _forward(self, x: torch.Tensor, weights: list[torch.Tensor],
                 biases: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor],
                                                      list[torch.Tensor | None]]:
        """Each layer's input, and each hidden layer's σ'(z) and σ''(z) (None for ReLU)."""
        inputs, slopes = [x], []
        curvatures: list[torch.Tensor | None] = []
        for w, c in zip(weights[:-1], biases[:-1], strict=True):
            z = inputs[-1] @ w + c
            if self.activation == "relu":
                inputs.append(torch.relu(z))
                slopes.append((z > 0).to(z.dtype))
                curvatures.append(None)
            else:
                a = torch.tanh(z)
                slope = 1 - a * a
                inputs.append(a)
                slopes.append(slope)
                curvatures.append(-2 * a * slope)
        return inputs, slopes, curvatures

    def matmat(self, vectors: np.ndarray) -> np.ndarray:
        """H @ V for V of shape (P, b) (or (P,)), computed in the operator's dtype."""
        single = vectors.ndim == 1
        v = np.asarray(vectors, dtype=np.float64).reshape(self.size, -1)
        out = np.empty_like(v)
        with torch.no_grad():
            for start in range(0, v.shape[1], self.block):
                block = torch.as_tensor(v[:, start: start + self.block].T.copy(),
                                        dtype=self.dtype)
                product = self._product(block)
                out[:, start: start + self.block] = product.T.double().numpy()
        self.matvecs += v.shape[1]
        out *= self._scale()
        return out[:, 0] if single else out


def dense_hessian(operator: HessianOperator, memory: int = 2**27) -> np.ndarray:
    """The whole Hessian (H applied to the identity), symmetrized; the identity goes in
    blocks as wide as ``memory`` bytes of activations allow (few, wide products)."""
    widest = max(s[-1] for s in operator.shapes)
    rows = max(x.shape[0] for x, _ in operator.chunks)
    saved = operator.block
    operator.block = max(saved, min(operator.size, memory // (8 * rows * widest)))
    try:
        h = operator.matmat(np.eye(operator.size))
    finally:
        operator.block = saved
    return np.asarray((h + h.T) / 2)


# ------------------------------------------------------------------ top eigenvalues


@dataclass
class Eigenpairs:
    """The largest eigenvalues (descending) and, where kept, their unit eigenvectors."""

    values: np.ndarray
    vectors: np.ndarray | None  # (P, k)
    matvecs: int
    converged: bool


def top_eigenpairs(matmat: MatMat, size: int, k: int, *, block: int = 8,
                   tol: float = 1e-4, max_dim: int | None = None, max_matvecs: int = 20_000,
                   seed: int = 0, dtype: torch.dtype = torch.float64) -> Eigenpairs:
    """The ``k`` largest eigenvalues of a symmetric operator by thick-restart block Lanczos.

    The basis Q grows a block at a time with full reorthogonalization, and the projected
    matrix T = QᵀHQ is built from the true products, so only the last block is "open":
    HQ − QT = R Eᵀ with R = Q_next·B. A Ritz pair (θ, Qs) has residual ‖B·s_last‖ without a
    further product. Converged when every one of the top ``k`` residuals is at most
    ``tol·|θ|`` (ARPACK's criterion, so ``eigsh`` at the same ``tol`` is comparable). When the
    basis reaches ``max_dim`` it restarts from the best ``k + block`` Ritz vectors plus the
    open block (Wu and Simon's thick restart), keeping the products it already paid for.

    The basis is held in ``dtype`` (float32 for float32 products: their own rounding is
    larger than the basis's) as rows of one preallocated torch tensor, and its projections
    run on PyTorch's thread pool, the one the Hessian products use: each step reads the whole
    basis four times, which at 76,545 × 232 costs as much as a product when numpy's BLAS
    threads contend with PyTorch's (numpy's BLAS runs on one thread meanwhile). T and its
    eigendecomposition stay in float64.

    Defaults, measured on the seed's 40-256-256-1 Hessian (top 100, tol 1e-3) with a basis of
    up to 3k + block vectors: blocks of 8 took 432 products, blocks of 4 took 396 but twice
    the steps (each step reads the whole basis four times), so 8 was faster overall; blocks
    of 16 with a 2k + 2·block basis took 608 (ARPACK, one vector at a time: 406).
    """
    with one_blas_thread():
        return _block_lanczos(matmat, size, k, block, tol, max_dim, max_matvecs, seed, dtype)


def _block_lanczos(matmat: MatMat, size: int, k: int, block: int, tol: float,
                   max_dim: int | None, max_matvecs: int, seed: int,
                   dtype: torch.dtype) -> Eigenpairs:
    """:func:`top_eigenpairs`' iteration."""
    k = min(k, size)
    block = max(1, min(block, size))
    max_dim = min(size, max(max_dim or 3 * k + block, k + 2 * block))
    rng = np.random.default_rng(seed)
    store = torch.empty((max_dim, size), dtype=dtype)  # basis vectors as rows
    fresh = torch.linalg.qr(torch.as_tensor(rng.standard_normal((size, block)),
                                            dtype=dtype))[0].T
    store[:block] = fresh
    dim = block
    t = np.zeros((0, 0))
    matvecs = 0
    while True:
        basis = store[:dim]
        products = torch.as_tensor(matmat(fresh.T.double().numpy()), dtype=dtype).T
        matvecs += fresh.shape[0]
        coefficients = basis @ products.T  # (dim, b): the new columns of T
        t = _extend(t, coefficients.double().numpy())
        residual = products - coefficients.T @ basis
        residual -= (basis @ residual.T).T @ basis  # twice is enough (Kahan–Parlett)
        theta, s = np.linalg.eigh(t)
        theta, s = theta[::-1].copy(), s[:, ::-1].copy()
        q, b = torch.linalg.qr(residual.T)
        wanted = min(k, len(theta))
        errors = np.linalg.norm(b.double().numpy() @ s[-fresh.shape[0]:, :wanted], axis=0)
        floor = np.finfo(float).eps * max(1.0, abs(theta[0]))
        done = wanted == k and bool(np.all(errors <= tol * np.maximum(abs(theta[:k]), floor)))
        full = dim >= size  # the whole space: Ritz values are eigenvalues
        if done or full or matvecs >= max_matvecs:
            ritz = torch.as_tensor(s[:, :k].T.copy(), dtype=dtype) @ basis
            return Eigenpairs(theta[:k].copy(), ritz.double().numpy().T, matvecs, done or full)
        nxt = _next_block(residual, q.T, basis, rng, floor)[: size - dim]
        if dim + nxt.shape[0] > max_dim:  # thick restart
            keep = min(k + block, max_dim - nxt.shape[0])
            store[:keep] = torch.as_tensor(s[:, :keep].T.copy(), dtype=dtype) @ basis
            t = np.diag(theta[:keep])
            dim = keep
        store[dim: dim + nxt.shape[0]] = nxt
        dim += nxt.shape[0]
        fresh = nxt


def _extend(t: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """T with the new block's columns (and, by symmetry, rows) appended."""
    old, new = t.shape[0], columns.shape[1]
    out = np.zeros((old + new, old + new))
    out[:old, :old] = t
    out[:, old:] = columns
    out[old:, :old] = columns[:old].T
    out[old:, old:] = (columns[old:] + columns[old:].T) / 2
    return out


def _next_block(residual: torch.Tensor, q: torch.Tensor, basis: torch.Tensor,
                rng: np.random.Generator, floor: float) -> torch.Tensor:
    """The next block of the basis (as rows): the residual's own orthonormal factor ``q``
    (the residual is already orthogonal to ``basis``) — unless directions collapsed (an
    invariant subspace was found): those are replaced by random ones, made orthonormal to
    ``basis``, so the basis keeps growing."""
    collapsed = torch.linalg.vector_norm(residual, dim=1) < 1e3 * floor
    if not bool(collapsed.any()):
        return q
    rows = residual.clone()
    rows[collapsed] = torch.as_tensor(
        rng.standard_normal((int(collapsed.sum()), rows.shape[1])), dtype=rows.dtype)
    for _ in range(2):
        rows = rows - (basis @ rows.T).T @ basis
    basis_next: torch.Tensor = torch.linalg.qr(rows.T)[0]
    return basis_next.T


def eigsh_top(operator: Any, k: int, tol: float = 1e-4) -> np.ndarray:
    """The ``k`` largest eigenvalues by ARPACK (``scipy.sparse.linalg.eigsh``), descending —
    one product at a time; the reference :func:`top_eigenpairs` is measured against."""
    from scipy.sparse.linalg import eigsh

    values = eigsh(operator, k=k, which="LA", tol=tol, return_eigenvectors=False)
    return np.sort(values)[::-1]


# ------------------------------------------------------------------ spectral density


RESOLVED = 10  # SLQ's N_eff(z) and count above z are used when z ≥ this × its resolution


@dataclass
class Quadrature:
    """Stochastic Lanczos quadrature: per probe, Gauss nodes θⱼ and weights τⱼ (Σⱼ τⱼ = 1)
    with vᵀg(H)v/‖v‖² ≈ Σⱼ τⱼ g(θⱼ); ``size`` · the mean over probes estimates tr g(H)."""

    nodes: np.ndarray  # (probes, steps)
    weights: np.ndarray  # (probes, steps)
    size: int

    def trace(self, g: Callable[[np.ndarray], np.ndarray]) -> float:
        return float(self.size * np.mean(np.sum(self.weights * g(self.nodes), axis=1)))

    def resolution(self) -> float:
        """How finely the rule sees the spectrum: its span over twice the nodes (an m-node
        Gauss rule is exact for polynomials of degree 2m − 1, which cannot bend on a finer
        scale). Functions that change on a scale below ~10× this — λ/(λ + z) for a small z,
        a count above z — are not resolved: the mass at λ = 0 of an over-parameterized
        net's Hessian is smeared onto nodes a resolution away from 0."""
        span = float(self.nodes.max() - self.nodes.min())
        return span / (2 * int(self.nodes.shape[1]))


def slq(matmat: MatMat, size: int, *, probes: int = 8, steps: int = 64,
        seed: int = 0) -> Quadrature:
    """Lanczos from ``probes`` Rademacher vectors at once (one block product per step, so the
    probes share each HVP's forward pass), with full reorthogonalization per probe."""
    steps = min(steps, size)
    rng = np.random.default_rng(seed)
    q = rng.choice([-1.0, 1.0], size=(size, probes)) / math.sqrt(size)
    basis = np.zeros((steps, size, probes))
    alpha, beta = np.zeros((probes, steps)), np.zeros((probes, steps))
    previous = np.zeros_like(q)
    used = steps
    for j in range(steps):
        basis[j] = q
        w = matmat(q)
        alpha[:, j] = np.einsum("ip,ip->p", q, w)
        w -= q * alpha[:, j] + previous * (beta[:, j - 1] if j else 0.0)
        for _ in range(2):  # full reorthogonalization, each probe against its own basis
            w -= np.einsum("jip,jp->ip", basis[: j + 1],
                           np.einsum("jip,ip->jp", basis[: j + 1], w))
        beta[:, j] = np.linalg.norm(w, axis=0)
        if j == steps - 1 or np.any(beta[:, j] < 1e-10 * max(1.0, np.abs(alpha).max())):
            used = j + 1  # an invariant subspace: the quadrature is already exact
            break
        previous, q = q, w / beta[:, j]
    nodes, weights = np.zeros((probes, used)), np.zeros((probes, used))
    for p in range(probes):
        tri = np.diag(alpha[p, :used]) + np.diag(beta[p, : used - 1], 1) + np.diag(
            beta[p, : used - 1], -1)
        theta, vectors = np.linalg.eigh(tri)
        nodes[p], weights[p] = theta, vectors[0] ** 2
    return Quadrature(nodes, weights, size)


# ------------------------------------------------------------------ effective dimension


def n_eff(eigenvalues: np.ndarray, z: float) -> float:
    """Σ λ/(λ + z) over the eigenvalues, negative ones counted as 0."""
    lam = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    return float(np.sum(lam / (lam + z)))


def n_eff_terms(nodes: np.ndarray, z: float) -> np.ndarray:
    """λ/(λ + z) element-wise (negative λ → 0): the function SLQ integrates."""
    lam = np.clip(nodes, 0.0, None)
    return np.asarray(lam / (lam + z))


def check_z(z: float, name: str = "z") -> None:
    """Refuse a z ≤ 0 (or not a number) as an :class:`~paramlab.fields.OptionError` of the
    config field ``name`` (the CLI names it as its flag)."""
    require(isinstance(z, int | float) and math.isfinite(z) and z > 0, name,
            f"must be a positive number (the prior precision of N_eff(z)); received {z!r}")


def deflated(matmat: MatMat, pairs: Eigenpairs) -> MatMat:
    """H − U Λ Uᵀ: the Hessian with its computed top eigenpairs removed, so SLQ spends its
    nodes on the rest of the spectrum (the removed eigenvalues become 0, which adds 0 to
    N_eff)."""
    assert pairs.vectors is not None
    u, lam = pairs.vectors, pairs.values

    def apply(v: np.ndarray) -> np.ndarray:
        return np.asarray(np.asarray(matmat(v)) - u @ (lam[:, None] * (u.T @ v)))

    return apply


# ------------------------------------------------------------------ one model's spectrum


@dataclass
class Spectrum:
    """What was computed of one Hessian's spectrum: every eigenvalue (``exact``), or the top
    k plus an SLQ of the deflated rest."""

    eigenvalues: np.ndarray  # all (exact) or the top k, descending
    exact: bool
    size: int
    hvps: int
    rest: Quadrature | None = None  # SLQ of the deflated Hessian (Lanczos only)

    def summary(self, z: float) -> dict[str, Any]:
        """N_eff(z) and the count above z, each labelled with how it was obtained."""
        lam = self.eigenvalues
        lower = n_eff(lam, z)
        out: dict[str, Any] = {
            "n_eff": lower, "n_eff_method": "exact" if self.exact else "top-k lower bound",
            "n_eff_lower_bound": None if self.exact else lower,
            "eigenvalues_above_z": int(np.sum(lam > z)), "above_z_method": "exact",
            "eigenvalues_computed": len(lam), "top_eigenvalue": float(lam[0]),
            "smallest_eigenvalue": float(lam[-1]) if self.exact else None,
            "negative_eigenvalues": int(np.sum(lam < 0)),
            "trace": float(lam.sum()) if self.exact else None, "hvps": self.hvps,
            "slq_resolution": None}
        if self.exact:
            return out
        complete = bool(lam[-1] <= z)  # every eigenvalue above z is among the top k
        if not complete:
            out["above_z_method"] = "lower bound"
        if self.rest is None:
            return out
        out["trace"] = float(lam.sum()) + self.rest.trace(lambda t: t)  # smooth: always
        out["slq_resolution"] = self.rest.resolution()
        if z >= RESOLVED * out["slq_resolution"]:
            out["n_eff"] = lower + self.rest.trace(lambda t: n_eff_terms(t, z))
            out["n_eff_method"] = "top-k + SLQ"
            if not complete:
                out["eigenvalues_above_z"] += round(
                    self.rest.trace(lambda t: (t > z).astype(float)))
                out["above_z_method"] = "SLQ estimate"
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"eigenvalues": self.eigenvalues}
        if self.rest is not None:
            out |= {"slq_nodes": self.rest.nodes, "slq_weights": self.rest.weights}
        return out


def measure(weights: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, *, loss: str,
            activation: str, top_k: int = 100, exact_max: int = 3000, probes: int = 4,
            steps: int = 48, tol: float = 1e-3, seed: int = 0) -> Spectrum:
    """The spectrum of the summed-loss Hessian: dense and exact (float64) up to ``exact_max``
    parameters; above, the top ``top_k`` by block Lanczos over float32 HVPs and — with
    ``probes`` > 0 — the rest by SLQ on the deflated Hessian."""
    size = sum(np.asarray(w).size for w in weights)
    exact = size <= max(exact_max, top_k)
    operator = HessianOperator(weights, x, y, loss=loss, activation=activation,
                               dtype=torch.float64 if exact else torch.float32)
    if exact:
        values = np.linalg.eigvalsh(dense_hessian(operator))[::-1].copy()
        return Spectrum(values, True, size, operator.matvecs)
    pairs = top_eigenpairs(operator.matmat, size, top_k, tol=tol, seed=seed,
                           dtype=operator.dtype)
    rest = None
    if probes:
        rest = slq(deflated(operator.matmat, pairs), size, probes=probes, steps=steps,
                   seed=seed)
    return Spectrum(pairs.values, False, size, operator.matvecs, rest)


__all__ = ["Eigenpairs", "HessianOperator", "Quadrature", "Spectrum", "check_z", "convention",
           "deflated", "dense_hessian", "eigsh_top", "measure", "mlp_output", "n_eff",
           "n_eff_terms", "slq", "summed_loss", "top_eigenpairs"]
