"""The message length, in bits, of a quantized parameter vector θ_d: what a compression
bound (``science.bounds``) charges for the hypothesis.

Following Lotfi et al. (NeurIPS 2022, arXiv 2211.13609; tight-pac-bayes 09d838d,
``pactl/bounds/quantize_fns.py``): θ_d is quantized to L levels by 1-D k-means
(``get_kmeans_symbols_and_codebook``), the level indices are arithmetic-coded under their
*static empirical* distribution (``do_arithmetic_encoding``: ⌈n·H⌉ + 1 bits, the same length
their exact coder ``encode`` emits), and ``get_message_len`` adds the codebook (16-bit
levels) and the L counts. ``evaluate_idmodel`` then adds 2·log2(l) for a self-delimiting
message. We add what their code leaves to the caller: log2 of each pre-declared grid the
subspace dimension d and the level count L were chosen from, and log2 of the options of
any other choice made after seeing data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from paramlab.errors import DataError

CODEBOOK_BITS = 16  # each level stored as IEEE float16 (tight-pac-bayes codebook_dtype)
_FLOAT16_MAX = 65504.0


def quantize(theta: np.ndarray, levels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """1-D k-means codebook of ``levels`` values and each entry's level index.

    The codebook is rounded to float16 (what the message stores) and sorted ascending, so
    ``codebook[indices]`` is exactly the vector that must be evaluated. scikit-learn's
    ``KMeans`` (k-means++, 3 restarts, ``random_state=seed``), as the reference does, run
    with tol=0 until no label changes, so each level is the mean of its cell.
    """
    from sklearn.cluster import KMeans

    values = np.asarray(theta, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise DataError(f"theta must be a non-empty 1-D vector of finite numbers; received "
                        f"shape {values.shape}")
    if np.abs(values).max() > _FLOAT16_MAX:
        raise DataError(f"theta has |value| {np.abs(values).max():g} beyond float16's "
                        f"{_FLOAT16_MAX:g}; the 16-bit codebook cannot store it")
    distinct = np.unique(values).size
    if not 1 <= levels <= distinct:
        raise DataError(f"levels must be between 1 and the {distinct} distinct values of "
                        f"theta; received {levels}")
    fit = KMeans(n_clusters=levels, n_init=3, tol=0.0, random_state=seed).fit(values[:, None])
    centres = fit.cluster_centers_[:, 0]
    order = np.argsort(centres)
    rank = np.empty(levels, dtype=np.int64)
    rank[order] = np.arange(levels)
    codebook = centres[order].astype(np.float16).astype(np.float64)
    return codebook, rank[fit.labels_]


def _counts(indices: np.ndarray, levels: int) -> np.ndarray:
    symbols = np.asarray(indices)
    if symbols.ndim != 1 or symbols.size == 0 or not np.issubdtype(symbols.dtype, np.integer):
        raise DataError(f"indices must be a non-empty 1-D integer vector; received shape "
                        f"{symbols.shape}, dtype {symbols.dtype}")
    if symbols.min() < 0 or symbols.max() >= levels:
        raise DataError(f"indices must lie in [0, {levels}); received values "
                        f"{symbols.min()}..{symbols.max()}")
    return np.bincount(symbols, minlength=levels)


def sequence_code_bits(counts: Sequence[int] | np.ndarray) -> int:
    """⌈n·H⌉ + 1 bits: a static arithmetic (Shannon–Fano–Elias) code of a whole sequence
    under its empirical distribution (Cover & Thomas, *Elements of Information Theory*,
    2nd ed., Sec. 5.9: ⌈log2 1/p(x)⌉ + 1 < n·H + 2). Computed in floating point with a
    margin that can only add a bit, never remove one."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or not (c >= 0).all() or not (c > 0).any():
        raise DataError(f"counts must be a 1-D list of non-negative counts, not all zero; "
                        f"received {c.tolist()}")
    c = c[c > 0]
    if c.size == 1:
        return 1  # one symbol: the sequence has probability 1, only the final bit is sent
    n = c.sum()
    information = float(n * math.log2(n) - (c * np.log2(c)).sum())
    return math.ceil(information + 1e-9 * max(1.0, information)) + 1


def arithmetic_encode(indices: np.ndarray, counts: Sequence[int] | np.ndarray) -> list[int]:
    """Exact (big-integer) arithmetic coding of ``indices`` under the static model
    ``counts``: the midpoint of the sequence's interval truncated to ⌈log2 1/p⌉ + 1 bits,
    which lies inside the interval with all its extensions, so the code is prefix-free."""
    used = _counts(indices, len(counts))
    if np.any((used > 0) & (np.asarray(counts) <= 0)):
        raise DataError("counts must be positive for every level the indices use")
    cum, n = np.concatenate([[0], np.cumsum(counts)]).tolist(), int(np.sum(counts))
    low, width, denominator = 0, 1, 1  # interval [low, low + width) / denominator
    for symbol in np.asarray(indices).tolist():
        low = low * n + width * cum[symbol]
        width *= cum[symbol + 1] - cum[symbol]
        denominator *= n
    bits = _ceil_log2_ratio(denominator, width) + 1
    code = ((2 * low + width) << bits) // (2 * denominator)
    return [(code >> (bits - 1 - i)) & 1 for i in range(bits)]


def arithmetic_decode(bits: Sequence[int], counts: Sequence[int] | np.ndarray,
                      length: int) -> np.ndarray:
    """Invert :func:`arithmetic_encode`: ``length`` indices from the code bits."""
    cum, n = np.concatenate([[0], np.cumsum(counts)]).tolist(), int(np.sum(counts))
    code = int("".join(map(str, bits)) or "0", 2)
    scale = 1 << len(bits)
    low, width, denominator = 0, 1, 1
    out = []
    for _ in range(length):
        symbol = max(s for s in range(len(cum) - 1) if cum[s + 1] > cum[s]
                     and (low * n + width * cum[s]) * scale <= code * denominator * n)
        low = low * n + width * cum[symbol]
        width *= cum[symbol + 1] - cum[symbol]
        denominator *= n
        out.append(symbol)
    return np.asarray(out, dtype=np.int64)


def _ceil_log2_ratio(numerator: int, denominator: int) -> int:
    """⌈log2(numerator / denominator)⌉ for positive integers, exactly."""
    k = max(0, (numerator // denominator).bit_length() - 1)
    while denominator << k < numerator:
        k += 1
    return k


@dataclass(frozen=True)
class MessageLength:
    """Each part of the message, in bits; ``total`` is what a bound charges."""

    symbols: float  # the L-ary indices, static arithmetic code: ⌈d·H⌉ + 1
    counts: float  # the static model: L counts of ⌈log2(d + 1)⌉ bits each
    codebook: float  # L levels × CODEBOOK_BITS
    grids: float  # log2 |d grid| + log2 |L grid|, both declared before training
    choices: float  # log2 of the options of every other choice made after seeing data
    prefix: float  # 2·log2(l) for a self-delimiting message (tight-pac-bayes)

    @property
    def total(self) -> float:
        return (self.symbols + self.counts + self.codebook + self.grids + self.choices
                + self.prefix)


def message_length(indices: np.ndarray, levels: int, dims_grid_size: int,
                   levels_grid_size: int, other_choices: Mapping[str, int] | None = None,
                   ) -> MessageLength:
    """The message length of a quantized θ_d given its level indices.

    ``other_choices`` maps each further choice made after seeing data (which seed, which
    learning rate, …) to the number of options it had; each costs log2 of that. The counts
    cost ⌈log2(d + 1)⌉ bits each (a count ranges over 0..d), one more than the reference's
    ⌈log2 d⌉ only when d is a power of two.
    """
    counts = _counts(indices, levels)
    sizes = {"the d grid": dims_grid_size, "the L grid": levels_grid_size,
             **(other_choices or {})}
    for name, size in sizes.items():
        if size < 1:
            raise DataError(f"{name} must offer at least 1 option; received {size}")
    d = int(counts.sum())
    body = (sequence_code_bits(counts), levels * math.ceil(math.log2(d + 1)),
            levels * CODEBOOK_BITS,
            math.log2(dims_grid_size) + math.log2(levels_grid_size),
            sum(math.log2(size) for size in (other_choices or {}).values()))
    return MessageLength(*body, prefix=2 * math.log2(sum(body)))


__all__ = ["CODEBOOK_BITS", "MessageLength", "arithmetic_decode", "arithmetic_encode",
           "message_length", "quantize", "sequence_code_bits"]
