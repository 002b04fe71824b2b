"""Random projections from a d-dimensional subspace into a network's D parameters.

Subspace training (Li, Farkhoor, Liu, Yosinski, "Measuring the Intrinsic Dimension of
Objective Landscapes", ICLR 2018, arXiv 1804.08838) trains θ = θ₀ + P·θ_d with P a fixed
random D × d matrix whose columns have unit norm. P is a function of (kind, D, d, seed) alone
and is never stored: it is regenerated on demand, deterministically on a CPU, so a θ_d (or a
quantized θ_d) is a model. The kinds:

* ``dense``: Gaussian entries, each column divided by its norm (Li et al.'s ``dense``);
* ``sparse``: round(√D) non-zeros per column at distinct random rows, each ±1/√k — unit norm
  by construction. Li et al. draw scikit-learn's ``SparseRandomProjection`` (density 1/√D,
  the "very sparse" projection of Li, Hastie, Church 2006) and normalize; a fixed count
  per column instead of a binomial one keeps the columns exactly unit norm;
* ``fastfood``: Le, Sarlós, Smola, "Fastfood — Approximating Kernel Expansions in
  Loglinear Time" (ICML 2013): each block of L = 2^⌈log₂ d⌉ rows is H·G·Π·H·B with H the
  (unnormalized) Walsh–Hadamard matrix, B random signs, Π a random permutation and G
  Gaussian; ⌈D / L⌉ blocks are stacked as Le et al. do, and the last is cut at row D.
  Li et al. (``tf_fastfood_transform`` in uber-research/intrinsic-dimension) use one block
  of 2^⌈log₂ D⌉ rows and divide by its *expected* norm; here each block is divided by its
  exact column norm √(L·‖G‖²) (every column of H·G·Π·H·B has that norm, since H·B·e_j is a
  ±1 vector), and the cut block's column norms are computed once (d·L·log L work), so every
  column has norm 1 exactly. A product costs O(D log d);
* ``identity``: P = I (d = D), for tests: subspace training is then ordinary training.

Every projection here acts on a *group* of K models of one kind and one D at once, with
vectors laid out (K, m, width): θ_d is zero-padded to the group's ``width`` and the padded
coordinates have zero columns, so their gradient is exactly 0 and an optimizer leaves them
at 0 (the argument of :mod:`.stack`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from paramlab.errors import ParamlabError

PROJECTIONS = ("dense", "sparse", "fastfood", "identity")
_STREAM = 0x5EED_D1  # tags the projection's random stream apart from the initialization's


@dataclass(frozen=True)
class ProjectionSpec:
    """Everything a projection is drawn from: regenerating it gives the same matrix."""

    kind: str
    D: int  # the network's parameters
    d: int  # the subspace's dimension
    seed: int

    def validate(self) -> None:
        if self.kind not in PROJECTIONS:
            raise ParamlabError(f"projection must be one of {', '.join(PROJECTIONS)}; "
                                f"received {self.kind!r}")
        if not 1 <= self.d <= self.D:
            raise ParamlabError(f"subspace dimension d must be in [1, D = {self.D}]; "
                                f"received d = {self.d}")
        if self.kind == "identity" and self.d != self.D:
            raise ParamlabError(f"the identity projection needs d = D = {self.D}; "
                                f"received d = {self.d}")

    @property
    def block(self) -> int:
        """Fastfood's block length: the least power of two ≥ d."""
        return 1 << (self.d - 1).bit_length()

    def generator(self) -> torch.Generator:
        """A CPU generator for this projection alone: seeded from (seed, a fixed tag), so its
        stream is independent of the initialization drawn from ``seed``."""
        state = np.random.SeedSequence([self.seed, _STREAM]).generate_state(2, np.uint64)
        return torch.Generator().manual_seed(int(state[0]) >> 1)


FACTOR = 32  # the widest Hadamard factor multiplied at once


@functools.cache
def _sylvester(size: int) -> torch.Tensor:
    """H_size, built as H_2n = [[H_n, H_n], [H_n, −H_n]]."""
    h = torch.ones(1, 1)
    while h.shape[0] < size:
        h = torch.cat((torch.cat((h, h), 1), torch.cat((h, -h), 1)), 0)
    return h


def hadamard(x: torch.Tensor) -> torch.Tensor:
    """The unnormalized Walsh–Hadamard transform (Sylvester order) along the last dimension,
    whose length L is a power of two. H is symmetric and H·H = L·I.

    H_L = H_a ⊗ H_b ⊗ … for L = a·b·…, so with x viewed as (…, a, b, …) the transform is
    one small matrix product along each factor's axis. Each product is taken along the last
    axis, as one GEMM over every row, and that axis is then rotated to the front; after one
    rotation per factor the axes are back in order. Measured at one thread on
    (8, 195, 1,024): 12 ms against 83 ms for log₂ L butterfly passes over memory.
    (The factors' order does not matter: the Kronecker factors of H_L commute as axes.)
    """
    length, lead = x.shape[-1], x.shape[:-1]
    rows = x.numel() // length
    for size in _factors(length):
        product = x.reshape(-1, size) @ _sylvester(size).to(x)
        x = product.view(rows, length // size, size).mT.contiguous()
    return x.reshape(*lead, length)


def _factors(length: int) -> list[int]:
    """L as the fewest powers of two of at most ``FACTOR``, as even as possible: a product
    with a factor of 2 or 4 runs several times slower per element than one of 16 or 32
    (measured: 128 = 32 · 4 took 30 ms where 16 · 8 takes 5 on 1.6 M values)."""
    bits = length.bit_length() - 1
    count = max(1, -(-bits // (FACTOR.bit_length() - 1)))
    return [1 << (bits // count + (i < bits % count)) for i in range(count)] if bits else []


class GroupProjection:
    """P for each of a group's K models (one kind, one D), applied to all of them at once."""

    width: int  # the padded length of every θ_d in the group

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """(K, m, width) → (K, m, D): P·x for m vectors of each model."""
        raise NotImplementedError

    def transpose(self, g: torch.Tensor) -> torch.Tensor:
        """(K, m, D) → (K, m, width): Pᵀ·g; zero at each model's padded coordinates."""
        raise NotImplementedError


def group_projection(specs: list[ProjectionSpec], device: torch.device) -> GroupProjection:
    """The projections of one group's models, drawn from their specs."""
    for spec in specs:
        spec.validate()
    kinds = {(s.kind, s.D) for s in specs}
    if len(kinds) != 1:
        raise ValueError(f"a group shares one projection kind and D; received {kinds}")
    kind = specs[0].kind
    if kind == "identity":
        return _Identity(specs[0].D)
    if kind == "dense":
        return _Dense(specs, device)
    if kind == "sparse":
        return _Sparse(specs, device)
    return _Fastfood(specs, device)


def projection_matrix(spec: ProjectionSpec) -> torch.Tensor:
    """P itself, (D, d), built by projecting the d unit vectors (for tests and small d)."""
    projection = group_projection([spec], torch.device("cpu"))
    eye = torch.eye(spec.d, projection.width)
    return projection.apply(eye.unsqueeze(0))[0].T.contiguous()


class _Identity(GroupProjection):
    def __init__(self, D: int) -> None:
        self.width = D

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def transpose(self, g: torch.Tensor) -> torch.Tensor:
        return g


def _dense(spec: ProjectionSpec) -> torch.Tensor:
    matrix = torch.randn(spec.D, spec.d, generator=spec.generator())
    return matrix / matrix.norm(dim=0, keepdim=True)


class _Dense(GroupProjection):
    """(K, D, width) matrices, zero columns beyond each model's d: one batched product."""

    def __init__(self, specs: list[ProjectionSpec], device: torch.device) -> None:
        self.width = max(s.d for s in specs)
        self.matrices = torch.zeros(len(specs), specs[0].D, self.width)
        for k, spec in enumerate(specs):
            self.matrices[k, :, : spec.d] = _dense(spec)
        self.matrices = self.matrices.to(device)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        return torch.bmm(x, self.matrices.mT)

    def transpose(self, g: torch.Tensor) -> torch.Tensor:
        return torch.bmm(g, self.matrices)


def _sparse_rows(spec: ProjectionSpec, generator: torch.Generator) -> torch.Tensor:
    """(d, k) distinct row indices per column, k = round(√D): duplicates are redrawn."""
    k = max(1, round(math.sqrt(spec.D)))
    rows = torch.randint(spec.D, (spec.d, k), generator=generator)
    while True:
        rows = rows.sort(dim=1).values
        repeated = torch.zeros_like(rows, dtype=torch.bool)
        repeated[:, 1:] = rows[:, 1:] == rows[:, :-1]
        count = int(repeated.sum())
        if not count:
            return rows
        rows[repeated] = torch.randint(spec.D, (count,), generator=generator)


class _Sparse(GroupProjection):
    """Each column's k rows and values as (K, width, k) arrays (zero values in padded
    columns): P·x is one scatter-add, Pᵀ·g one gather and a sum over k."""

    def __init__(self, specs: list[ProjectionSpec], device: torch.device) -> None:
        self.width, self.D = max(s.d for s in specs), specs[0].D
        k = max(1, round(math.sqrt(self.D)))
        self.rows = torch.zeros(len(specs), self.width, k, dtype=torch.long)
        self.values = torch.zeros(len(specs), self.width, k)
        for index, spec in enumerate(specs):
            generator = spec.generator()
            self.rows[index, : spec.d] = _sparse_rows(spec, generator)
            signs = torch.randint(2, (spec.d, k), generator=generator) * 2.0 - 1.0
            self.values[index, : spec.d] = signs / math.sqrt(k)
        self.rows, self.values = self.rows.to(device), self.values.to(device)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        K, m, width = x.shape
        terms = (x.unsqueeze(-1) * self.values.unsqueeze(1)).view(K, m, -1)
        index = self.rows.view(K, 1, -1).expand(K, m, -1)
        return x.new_zeros(K, m, self.D).scatter_add_(-1, index, terms)

    def transpose(self, g: torch.Tensor) -> torch.Tensor:
        K, m, _ = g.shape
        index = self.rows.view(K, 1, -1).expand(K, m, -1)
        picked = g.gather(-1, index).view(K, m, self.width, -1)
        return (picked * self.values.unsqueeze(1)).sum(dim=-1)


@dataclass
class _Blocks:
    """Fastfood blocks with leading dimensions (…, blocks, L): signs, permutation and its
    inverse, Gaussian diagonal times the block's normalizer."""

    signs: torch.Tensor
    perm: torch.Tensor
    inverse: torch.Tensor
    gauss: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(…, m, L) → (…, m, blocks, L): every block applied to every vector."""
        y = hadamard(x.unsqueeze(-2) * self.signs.unsqueeze(-3))
        y = y.gather(-1, self.perm.unsqueeze(-3).expand_as(y))
        return hadamard(y * self.gauss.unsqueeze(-3))

    def backward(self, g: torch.Tensor) -> torch.Tensor:
        """(…, m, blocks, L) → (…, m, L): the transpose of ``forward``."""
        y = hadamard(g) * self.gauss.unsqueeze(-3)
        y = y.gather(-1, self.inverse.unsqueeze(-3).expand_as(y))
        return (hadamard(y) * self.signs.unsqueeze(-3)).sum(dim=-2)


def _fastfood(spec: ProjectionSpec) -> tuple[_Blocks, torch.Tensor]:
    """One model's blocks and its (L,) column scale (zero beyond d)."""
    generator, length = spec.generator(), spec.block
    count = -(-spec.D // length)
    signs = torch.randint(2, (count, length), generator=generator) * 2.0 - 1.0
    perm = torch.rand(count, length, generator=generator).argsort(dim=-1)
    gauss = torch.randn(count, length, generator=generator)
    gauss = gauss / (length * gauss.square().sum(dim=-1, keepdim=True)).sqrt()
    blocks = _Blocks(signs, perm, perm.argsort(dim=-1), gauss)
    norms = torch.full((spec.d,), float(spec.D // length))  # each full block adds exactly 1
    cut = spec.D % length
    if cut:
        last = _Blocks(signs[-1:], perm[-1:], blocks.inverse[-1:], gauss[-1:])
        columns = last.forward(torch.eye(spec.d, length))[:, 0, :cut]
        norms += columns.square().sum(dim=-1)
    scale = torch.zeros(length)
    scale[: spec.d] = norms.rsqrt()
    return blocks, scale


class _Fastfood(GroupProjection):
    """K models' blocks stacked (K, blocks, L); a group shares L and D (so d's power of two)."""

    def __init__(self, specs: list[ProjectionSpec], device: torch.device) -> None:
        if len({s.block for s in specs}) != 1:
            raise ValueError("a fastfood group shares one block length")
        self.width, self.D = specs[0].block, specs[0].D
        drawn = [_fastfood(spec) for spec in specs]
        self.blocks = _Blocks(*(torch.stack([getattr(b, name) for b, _ in drawn]).to(device)
                                for name in ("signs", "perm", "inverse", "gauss")))
        self.scale = torch.stack([s for _, s in drawn]).unsqueeze(1).to(device)  # (K, 1, L)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        y = self.blocks.forward(x * self.scale)
        return y.flatten(-2)[..., : self.D]

    def transpose(self, g: torch.Tensor) -> torch.Tensor:
        k, m, _ = g.shape
        count = self.blocks.signs.shape[-2]
        padded = torch.nn.functional.pad(g, (0, count * self.width - self.D))
        return self.blocks.backward(padded.view(k, m, count, self.width)) * self.scale
