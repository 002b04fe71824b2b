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
  Gaussian; ⌊D / L⌋ whole blocks are stacked as Le et al. do, and the D mod L rows left
  (the tail) are sparse columns: k non-zeros each at distinct random rows (k = √ of the
  tail's rows, at most (whole blocks)·log₂ L), each ±√(tail rows / (L·k)). Li et al.
  (``tf_fastfood_transform`` in uber-research/intrinsic-dimension) use one block of
  2^⌈log₂ D⌉ rows, cut, and divide by its *expected* norm; here each whole block is divided
  by its exact column norm √(L·‖G‖²) (every column of H·G·Π·H·B has that norm, since H·B·e_j
  is a ±1 vector) and the tail's columns have norm √(tail rows / L) by construction, so
  after one factor √(L/D) every column has norm 1 exactly, and every entry variance 1/D. (A
  last block cut at row D has column norms that must be computed, d·L·log L work: 63 s for
  d = 51,795 on 199,210 parameters.) A product costs O(D log d);
* ``identity``: P = I (d = D), for tests: subspace training is then ordinary training.

Every projection here acts on a *group* of K models of one kind and one D at once, with
vectors laid out (K, m, width): θ_d is zero-padded to the group's ``width`` and the padded
coordinates have zero columns, so their gradient is exactly 0 and an optimizer leaves them
at 0 (the argument of :mod:`.stack`).
"""

from __future__ import annotations

import functools
import math
import warnings
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
    rotation per factor the axes are back in order. Measured at one thread (shared 2-core VM) on
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


def _sparse_rows(height: int, d: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """(d, k) distinct row indices in [0, height) per column: duplicates are redrawn."""
    rows = torch.randint(height, (d, k), generator=generator)
    while True:
        rows = rows.sort(dim=1).values
        repeated = torch.zeros_like(rows, dtype=torch.bool)
        repeated[:, 1:] = rows[:, 1:] == rows[:, :-1]
        count = int(repeated.sum())
        if not count:
            return rows
        rows[repeated] = torch.randint(height, (count,), generator=generator)


CHUNK_TERMS = 1 << 18  # a chunk's working set: 2¹⁸ terms, about a core's L2 cache


def _chunks(sizes: list[int]) -> list[slice]:
    """Consecutive models in runs whose summed ``sizes`` stay within :data:`CHUNK_TERMS`
    (a model larger than that alone). A projection takes one chunk at a time: one product
    per chunk keeps per-call overhead low for small networks, and a chunk's intermediates
    stay in cache for large ones, where a whole group's did not (measured at one thread on
    D = 199,210, d = 800: the sparse apply took 0.61 ms alone, 1.20 ms per model in a group of
    8; 64-32-10 in a group of 32 spent a third of its step in per-model calls)."""
    out, begin, total = [], 0, 0
    for index, size in enumerate(sizes):
        if index > begin and total + size > CHUNK_TERMS:
            out.append(slice(begin, index))
            begin, total = index, 0
        total += size
    return [*out, slice(begin, len(sizes))]


class _SparseColumns(GroupProjection):
    """Columns of k non-zeros each, given as (models, width, k) rows and values (values 0
    past each model's d). Per chunk of models (:func:`_chunks`), P·x is one scatter-add of
    the chunk's live columns (padded ones left out: their terms would pile onto one address,
    a chain of dependent adds that ran 6× slower) into its outputs laid end to end, and Pᵀ·g
    one product with a block-diagonal CSR matrix (32-bit indices, empty rows for padded
    columns), which ran 2–7× faster than gathering each column's k entries and summing
    them."""

    def __init__(self, rows: torch.Tensor, values: torch.Tensor, dims: list[int], D: int,
                 device: torch.device) -> None:
        self.width, self.D = rows.shape[1], D
        k = rows.shape[2]
        self.chunks = _chunks([d * k for d in dims])
        self.live: list[torch.Tensor] = []  # the chunk's live columns in its (models·width)
        self.rows: list[torch.Tensor] = []  # (live, k), shifted by the model's i·D
        self.values: list[torch.Tensor] = []  # (live, k)
        self.transposed: list[torch.Tensor] = []  # the chunk's block-diagonal Pᵀ, CSR
        for chunk in self.chunks:
            live = torch.cat([torch.arange(d) + i * self.width
                              for i, d in enumerate(dims[chunk])])
            shifted = rows[chunk] + self.D * torch.arange(chunk.stop - chunk.start).view(-1, 1, 1)
            self.live.append(live.to(device))
            self.rows.append(shifted.view(-1, k)[live].to(device))
            self.values.append(values[chunk].view(-1, k)[live].to(device))
            self.transposed.append(_block_csr(self.rows[-1].cpu(), self.values[-1].cpu(),
                                              live, self.width, chunk.stop - chunk.start,
                                              self.D).to(device))

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        K, m, _ = x.shape
        out = x.new_zeros(K, m, self.D)
        for chunk, live, rows, values in zip(self.chunks, self.live, self.rows, self.values,
                                             strict=True):
            models = chunk.stop - chunk.start
            picked = x[chunk].transpose(0, 1).reshape(m, -1)[:, live]  # (m, live)
            terms = picked.unsqueeze(-1) * values  # (m, live, k)
            if m == 1:
                out[chunk].view(-1).scatter_add_(0, rows.view(-1), terms.view(-1))
                continue
            slots = self.D * models * torch.arange(m, device=x.device).view(-1, 1, 1)
            target = x.new_zeros(m * models * self.D)
            target.scatter_add_(0, (rows + slots).view(-1), terms.view(-1))
            out[chunk] = target.view(m, models, self.D).transpose(0, 1)
        return out

    def transpose(self, g: torch.Tensor) -> torch.Tensor:
        K, m, _ = g.shape
        out = g.new_empty(K, m, self.width)
        for chunk, matrix in zip(self.chunks, self.transposed, strict=True):
            models = chunk.stop - chunk.start
            if m == 1:
                torch.mv(matrix, g[chunk].reshape(-1), out=out[chunk].view(-1))
            else:
                product = matrix @ g[chunk].transpose(1, 2).reshape(models * self.D, m)
                out[chunk] = product.view(models, self.width, m).transpose(1, 2)
        return out


class _Sparse(_SparseColumns):
    """round(√D) non-zeros per column at distinct random rows, each ±1/√k."""

    def __init__(self, specs: list[ProjectionSpec], device: torch.device) -> None:
        width, D = max(s.d for s in specs), specs[0].D
        k = max(1, round(math.sqrt(D)))
        rows = torch.zeros(len(specs), width, k, dtype=torch.long)
        values = torch.zeros(len(specs), width, k)
        for index, spec in enumerate(specs):
            generator = spec.generator()
            rows[index, : spec.d] = _sparse_rows(spec.D, spec.d, k, generator)
            signs = torch.randint(2, (spec.d, k), generator=generator) * 2.0 - 1.0
            values[index, : spec.d] = signs / math.sqrt(k)
        super().__init__(rows, values, [s.d for s in specs], D, device)


def _block_csr(rows: torch.Tensor, values: torch.Tensor, live: torch.Tensor, width: int,
               models: int, D: int) -> torch.Tensor:
    """The chunk's Pᵀ side by side on the diagonal, (models·width, models·D) in CSR: row
    i·width + j holds model i's column j (its k rows, already shifted by i·D); rows of padded
    columns are empty."""
    k = rows.shape[1]
    counts = torch.zeros(models * width, dtype=torch.int32)
    counts[live] = k
    crow = torch.zeros(models * width + 1, dtype=torch.int32)
    crow[1:] = counts.cumsum(0, dtype=torch.int32)
    with warnings.catch_warnings():  # "sparse CSR support is in beta": mv on CSR is stable
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, rows.reshape(-1).int(), values.reshape(-1),
                                       (models * width, models * D))


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


def _tail_nonzeros(D: int, length: int) -> int:
    """Non-zeros per column in Fastfood's tail (the D mod L rows past the whole blocks): √ of
    its rows, as the sparse projection has, but at most (whole blocks)·log₂ L, so the tail
    costs no more than the blocks; √D when there is no whole block (L > D)."""
    whole, cut = divmod(D, length)
    root = max(1, round(math.sqrt(cut)))
    return root if not whole else max(1, min(root, whole * (length.bit_length() - 1)))


def _fastfood(spec: ProjectionSpec) -> tuple[_Blocks, torch.Tensor, torch.Tensor]:
    """One model's whole blocks, and its tail's (d, k) rows and values."""
    generator, length = spec.generator(), spec.block
    whole, cut = divmod(spec.D, length)
    signs = torch.randint(2, (whole, length), generator=generator) * 2.0 - 1.0
    perm = torch.rand(whole, length, generator=generator).argsort(dim=-1)
    gauss = torch.randn(whole, length, generator=generator)
    gauss = gauss / (length * gauss.square().sum(dim=-1, keepdim=True)).sqrt()
    k = _tail_nonzeros(spec.D, length)
    rows = (_sparse_rows(cut, spec.d, k, generator) if cut else
            torch.zeros(spec.d, k, dtype=torch.long))
    tail_signs = torch.randint(2, (spec.d, k), generator=generator) * 2.0 - 1.0
    # each whole block gives every column norm 1 and the tail √(cut/L): all scaled by √(L/D)
    values = tail_signs * math.sqrt(cut / (spec.D * k))
    return _Blocks(signs, perm, perm.argsort(dim=-1), gauss), rows, values


class _Fastfood(GroupProjection):
    """Each chunk's whole blocks stacked (models, blocks, L), then the tail's rows as sparse
    columns (:class:`_SparseColumns`); a group shares L and D (so d's power of two). Chunks
    as :func:`_chunks` explains (measured at one thread, D = 199,210, d = 800: apply
    1.35 ms and transpose 1.54 ms alone, 1.90 and 3.13 ms per model in a group of 8)."""

    def __init__(self, specs: list[ProjectionSpec], device: torch.device) -> None:
        if len({s.block for s in specs}) != 1:
            raise ValueError("a fastfood group shares one block length")
        self.width, self.D = specs[0].block, specs[0].D
        self.whole, cut = divmod(self.D, self.width)
        drawn = [_fastfood(spec) for spec in specs]
        self.chunks = _chunks([self.whole * self.width] * len(specs))
        self.blocks = [_Blocks(*(torch.stack([getattr(b, name) for b, _, _ in drawn[c]])
                                 .to(device) for name in ("signs", "perm", "inverse", "gauss")))
                       for c in self.chunks]
        scale = torch.zeros(len(specs), 1, self.width)
        k = _tail_nonzeros(self.D, self.width)
        rows = torch.zeros(len(specs), self.width, k, dtype=torch.long)
        values = torch.zeros(len(specs), self.width, k)
        for index, (spec, (_, tail_rows, tail_values)) in enumerate(zip(specs, drawn,
                                                                         strict=True)):
            scale[index, 0, : spec.d] = math.sqrt(self.width / self.D)
            rows[index, : spec.d], values[index, : spec.d] = tail_rows, tail_values
        self.scales = [scale[c].to(device) for c in self.chunks]
        self.tail = (_SparseColumns(rows, values, [s.d for s in specs], cut, device)
                     if cut else None)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        K, m, _ = x.shape
        out = x.new_empty(K, m, self.D)
        body = self.whole * self.width
        if self.whole:
            for chunk, blocks, scale in zip(self.chunks, self.blocks, self.scales,
                                            strict=True):
                out[chunk, :, :body] = blocks.forward(x[chunk] * scale).flatten(-2)
        if self.tail is not None:
            out[..., body:] = self.tail.apply(x)
        return out

    def transpose(self, g: torch.Tensor) -> torch.Tensor:
        K, m, _ = g.shape
        body = self.whole * self.width
        out = (self.tail.transpose(g[..., body:].contiguous()) if self.tail is not None
               else g.new_zeros(K, m, self.width))
        if self.whole:
            for chunk, blocks, scale in zip(self.chunks, self.blocks, self.scales,
                                            strict=True):
                shaped = g[chunk, :, :body].reshape(-1, m, self.whole, self.width)
                out[chunk] += blocks.backward(shaped) * scale
        return out
