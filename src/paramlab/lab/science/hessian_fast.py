"""Hessian-vector products for a ReLU MLP with exactly two hidden layers, at two products of
the size rows·w1·w2 per vector instead of the R-operator's six.

Why a second path: :class:`paramlab.lab.science.hessian.HessianOperator`'s R-operator (any depth,
any activation) multiplies the big middle layer six times per vector — Ra1·W2, a1·V2 and
g·V2ᵀ forward and back, a1ᵀ·Rg and Ra1ᵀ·g for the weights. Splitting the Hessian of
Σᵢ ℓ(fᵢ) as

    H = JᵀΛJ + R,   R = Σᵢ Σₒ gᵢₒ ∇²fᵢₒ   (g = ∂ℓ/∂f, Λ = ∂²ℓ/∂f²)

removes four of them when the hidden layers are ReLU: the masks s = 1[z > 0] are locally
constant, so f is multilinear in (W̃1, W̃2, W̃3) — each W̃ a weight matrix with its bias as an
extra row, fed an input with a column of ones — and R has only cross-layer blocks, each a
contraction of the rows into a tensor that does not depend on the vector:

    T_kpq  = Σᵢ x̃ᵢₖ s1ᵢₚ (s2 ⊙ g W3ᵀ)ᵢq          couples W̃1 and W2,
    Q̂_kpqo = W2_pq Σᵢ gᵢₒ x̃ᵢₖ s1ᵢₚ s2ᵢq           couples W̃1 and W3,
    P_pqo  = Σᵢ ã1ᵢₚ s2ᵢq gᵢₒ                      couples W̃2 and W3.

These are summed once per operator (Q costs rows·(d+1)·w1·w2·O multiply-adds and that many
numbers, hence the :data:`MAX_COUPLING` bound). What is left per vector is the Gauss–Newton
part, Jv = Σₗ Dₗ·(ãₗ₋₁ Ṽₗ) and Jᵀu = ãₗ₋₁ᵀ (u Dₗ), with each row's output sensitivities
D2 = s2·W3ᵀ and D1 = s1·(D2 W2ᵀ) kept from the forward pass: on the middle layer one product
forward (a1·V2) and one back (a1ᵀ·e2), each one wide GEMM over the whole block of vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

# (d+1)·w1·w2·O, the numbers in the coupling Q̂: above it the R-operator is used instead
# (5e7 numbers are 200 MB in float32, 400 MB in float64).
MAX_COUPLING = 5 * 10**7
_OUTER_BUDGET = 2**22  # numbers in the (rows, (d+1)·w1) intermediate that Q̂ is summed from


def times_each(a: torch.Tensor, v: torch.Tensor,
               out: torch.Tensor | None = None) -> torch.Tensor:
    """a @ vᵢ for every matrix vᵢ of the block v (b, m, k), as one (rows, b·k) product laid
    out (rows, b, k) — a is shared, so one wide GEMM beats b narrow ones. ``out``, if given,
    is a contiguous (rows, b·k) buffer to write into."""
    b, m, k = v.shape
    product = torch.matmul(a, v.permute(1, 0, 2).reshape(m, b * k), out=out)
    return product.view(a.shape[0], b, k)


def output_derivatives(out: torch.Tensor, y: torch.Tensor,
                       loss: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """∂ℓ/∂f per row, and what ∂²ℓ/∂f² is made of: None for ½‖f − y‖² (the identity), the
    softmax p for the cross-entropy (diag(p) − ppᵀ)."""
    if loss == "mse":
        return out - y, None
    p = torch.softmax(out, dim=1)
    g = p.clone()
    g[torch.arange(out.shape[0]), y] -= 1
    return g, p


def curvature_times(p: torch.Tensor | None, t: torch.Tensor) -> torch.Tensor:
    """∂²ℓ/∂f² · t per row, for t laid out (rows, b, outputs)."""
    if p is None:
        return t
    pt = p[:, None] * t
    return pt - p[:, None] * pt.sum(dim=2, keepdim=True)


def qualifies(shapes: Sequence[tuple[int, ...]], activation: str) -> bool:
    """Whether :class:`ReluTwoHidden` applies: ReLU, two hidden layers, Q̂ within bounds."""
    if activation != "relu" or len(shapes) != 6:
        return False
    (inputs, width1), (_, width2), (_, outputs) = shapes[0::2]
    return (inputs + 1) * width1 * width2 * outputs <= MAX_COUPLING


@dataclass
class _Rows:
    """One row chunk's forward state: each layer's input with a column of ones (x̃, ã1, ã2),
    the output sensitivities D1, D2 (rows, outputs, width) and the softmax (cross-entropy)."""

    inputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    d1: torch.Tensor
    d2: torch.Tensor
    p: torch.Tensor | None


class ReluTwoHidden:
    """H·V of Σᵢ ℓ(f(xᵢ)) for the MLP [W1, b1, W2, b2, W3, b3] with ReLU hidden layers, by the
    split of the module docstring. Keeps every chunk's forward state (about
    rows·((O+1)·(w1+w2) + d) numbers) and the couplings T, Q̂, P."""

    def __init__(self, params: Sequence[torch.Tensor],
                 chunks: Sequence[tuple[torch.Tensor, torch.Tensor]], loss: str):
        self.weights = [torch.cat([w, c[None]]) for w, c in zip(params[0::2], params[1::2],
                                                                 strict=True)]
        self.shapes = [tuple(w.shape) for w in self.weights]
        (inputs, width1), (_, width2), (_, outputs) = self.shapes
        dtype = params[0].dtype
        q = torch.zeros(inputs * width1, width2 * outputs, dtype=dtype)
        p = torch.zeros(width1 + 1, width2 * outputs, dtype=dtype)
        self.chunks: list[_Rows] = []
        step = max(1, _OUTER_BUDGET // (inputs * width1))
        for x, y in chunks:
            rows, s1, gs2 = self._forward(x, y, loss)
            self.chunks.append(rows)
            x1, a1, _ = rows.inputs
            p.addmm_(a1.T, gs2)
            for start in range(0, x.shape[0], step):
                outer = x1[start: start + step, :, None] * s1[start: start + step, None, :]
                q.addmm_(outer.reshape(-1, inputs * width1).T, gs2[start: start + step])
        w2, w3 = self.weights[1][:-1], self.weights[2][:-1]
        q4 = q.view(inputs, width1, width2, outputs)
        self.t = torch.einsum("kpqo,qo->pkq", q4, w3).contiguous()  # (w1, d+1, w2)
        self.q = q4.mul_(w2[None, :, :, None]).view(inputs * width1, width2 * outputs)
        self.p = p.view(width1 + 1, width2, outputs)
        self.p_by_unit = self.p.permute(1, 2, 0).contiguous()  # (w2, O, w1+1) for one bmm
        self._buffer = params[0].new_empty(0)

    def _forward(self, x: torch.Tensor, y: torch.Tensor,
                 loss: str) -> tuple[_Rows, torch.Tensor, torch.Tensor]:
        """A chunk's forward state, its first mask s1 and s2 ⊙ g (rows, w2·O) — the row
        factors the couplings are summed from."""
        w1, w2, w3 = self.weights
        ones = torch.ones(x.shape[0], 1, dtype=x.dtype)
        x1 = torch.cat([x, ones], dim=1)
        z1 = x1 @ w1
        a1 = torch.cat([torch.relu(z1), ones], dim=1)
        z2 = a1 @ w2
        a2 = torch.cat([torch.relu(z2), ones], dim=1)
        g, p = output_derivatives(a2 @ w3, y, loss)
        s1, s2 = (z1 > 0).to(x.dtype), (z2 > 0).to(x.dtype)
        d2 = s2[:, None, :] * w3[:-1].T[None]  # ∂f/∂z2 (rows, O, w2)
        d1 = s1[:, None, :] * (d2 @ w2[:-1].T)  # ∂f/∂z1 (rows, O, w1)
        gs2 = (s2[:, :, None] * g[:, None, :]).reshape(x.shape[0], -1)
        return _Rows((x1, a1, a2), d1, d2, p), s1, gs2

    def product(self, block: torch.Tensor) -> torch.Tensor:
        """H·v for each row v of ``block`` (b, P), flat in the order [W1, b1, W2, b2, W3, b3]
        — which is W̃1, W̃2, W̃3 row by row, so the pieces are views."""
        b = block.shape[0]
        pieces = torch.split(block, [m * k for m, k in self.shapes], dim=1)
        tangents = [v.view(b, m, k) for v, (m, k) in zip(pieces, self.shapes, strict=True)]
        first = block.new_zeros(b * self.shapes[0][0], self.shapes[0][1])  # (b·(d+1), w1)
        rest = [block.new_zeros(m, b * k) for m, k in self.shapes[1:]]
        buffer = self._workspace(b)
        for rows in self.chunks:
            self._add_gauss_newton(rows, tangents, first, rest, buffer)
        gauss_newton = [first.view(tangents[0].shape)] + [
            s.view(m, b, k).transpose(0, 1) for s, (m, k) in zip(rest, self.shapes[1:],
                                                                  strict=True)]
        out = [g + r for g, r in zip(gauss_newton, self._residual(*tangents), strict=True)]
        return torch.cat([h.reshape(b, -1) for h in out], dim=1)

    def _workspace(self, b: int) -> torch.Tensor:
        """A (rows, b·w2) buffer for the middle layer's tangents, kept from block to block:
        a fresh one this large costs its page faults every time."""
        shape = (max(chunk.d1.shape[0] for chunk in self.chunks), b * self.shapes[1][1])
        if self._buffer.shape != shape:
            self._buffer = self._buffer.new_empty(0)  # free the old one first
            self._buffer = self._buffer.new_empty(shape)
        return self._buffer

    @staticmethod
    def _add_gauss_newton(rows: _Rows, tangents: list[torch.Tensor], first: torch.Tensor,
                          rest: list[torch.Tensor], buffer: torch.Tensor) -> None:
        """Adds one chunk's JᵀΛJ·v to the sums: W̃1's laid out (b·(d+1), w1), W̃2's and W̃3's
        (m, b·k). The first layer is taken from its narrow input side, Σₚ (x̃Ṽ1)ₚ D1ₚ =
        Σₖ x̃ₖ (D1 Ṽ1ᵀ)ₖ, so its per-row tensors are (rows, O, b, d+1), not (rows, b, w1)."""
        x1, a1, a2 = rows.inputs
        v1, v2, v3 = tangents
        n, outputs, width1 = rows.d1.shape
        b, inputs = v1.shape[:2]
        d1 = rows.d1.reshape(n * outputs, width1)
        g1 = (d1 @ v1.permute(2, 0, 1).reshape(width1, b * inputs)).view(n, -1, inputs)
        t2 = times_each(a1, v2, buffer[:n])
        jv = times_each(a2, v3)
        jv.add_(torch.bmm(g1, x1[:, :, None]).view(n, outputs, b).transpose(1, 2))
        u = curvature_times(rows.p, jv.baddbmm_(t2, rows.d2.mT))
        outer = u.transpose(1, 2)[..., None] * x1[:, None, None, :]  # (rows, O, b, d+1)
        first.addmm_(outer.reshape(n * outputs, b * inputs).T, d1)
        # e2 = u·D2 per row; with one output an outer product, which a broadcast multiply
        # does several times faster than a batch of 1-deep products
        e2 = torch.mul(u, rows.d2, out=t2) if outputs == 1 else torch.bmm(u, rows.d2, out=t2)
        rest[0].addmm_(a1.T, e2.reshape(n, -1))
        rest[1].addmm_(a2.T, u.reshape(n, -1))

    def _residual(self, v1: torch.Tensor, v2: torch.Tensor,
                  v3: torch.Tensor) -> list[torch.Tensor]:
        """R·v from the couplings, laid out (b, m, k) per layer. The bias rows of W̃2 and W̃3
        are left out where their second derivative is zero (b2 with W̃1, b3 with all)."""
        b = v1.shape[0]
        w2v, w3v = v2[:, :-1], v3[:, :-1]
        r1 = (self.q @ w3v.reshape(b, -1).T).T.reshape(v1.shape)
        r1 += torch.bmm(w2v.transpose(0, 1), self.t.mT).permute(1, 2, 0)
        r2 = torch.einsum("pqo,bqo->bpq", self.p, w3v)
        by_unit = v1.permute(2, 0, 1).contiguous()  # bmm is slow on a strided batch
        r2[:, :-1] += torch.bmm(by_unit, self.t).transpose(0, 1)
        r3 = torch.zeros_like(v3)
        by_output_unit = v2.permute(2, 1, 0).contiguous()  # (w2, w1+1, b): a dense batch
        r3[:, :-1] = torch.bmm(self.p_by_unit, by_output_unit).permute(2, 0, 1) + (
            v1.reshape(b, -1) @ self.q).view(w3v.shape)
        return [r1, r2, r3]
