"""Weights of refits compared, raw and after *permutation alignment*.

The hidden units of an MLP can be reordered without changing the function, so two refits may
differ only by such a relabelling. :func:`align` matches each refit's hidden units to a
reference's, layer by layer, with the Hungarian algorithm on the similarity of their weights
(Ainsworth et al. 2023, "Git Re-Basin", weight matching), the permutation then applied to the
next layer's inputs. What distance remains after alignment is real disagreement.

Weights are ``[W1, b1, W2, b2, …]`` with W of shape (fan_in, fan_out), the engine's layout.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Weights = Sequence[np.ndarray]
Matching = list[tuple[np.ndarray, np.ndarray]]  # per hidden layer: (permutation, signs)


def align(reference: Weights, other: Weights, signs: bool = False) -> list[np.ndarray]:
    """``other`` with its hidden units permuted (and, with ``signs``, sign-flipped: the
    symmetry of odd activations such as tanh) to best match ``reference``.

    A forward pass matches each layer's units on their incoming weights; then coordinate
    ascent (Git Re-Basin's weight matching) re-solves one layer at a time on incoming *and*
    outgoing weights. Starting from the better of that pass and no permutation at all, each
    step can only raise ⟨reference, aligned⟩: the aligned distance is never larger than the
    raw one. The function ``other`` computes is unchanged.
    """
    layers = len(other) // 2 - 1  # hidden layers; the output units are not interchangeable
    identity = [(np.arange(other[2 * k].shape[1]), np.ones(other[2 * k].shape[1]))
                for k in range(layers)]
    forward = _forward_matching(reference, other, signs)
    best = max((identity, forward), key=lambda m: _agreement(reference, other, m))
    score = _agreement(reference, other, best)
    for _ in range(10):  # sweeps; usually 1–3
        changed = False
        for layer in range(layers):
            trial = [*best[:layer], _match_layer(reference, other, best, layer, signs),
                     *best[layer + 1:]]
            trial_score = _agreement(reference, other, trial)
            if trial_score > score + 1e-12 * abs(score):
                best, score, changed = trial, trial_score, True
        if not changed:
            break
    return _permute(other, best)


def _permute(weights: Weights, matching: Matching) -> list[np.ndarray]:
    """Aligned unit a of layer l is sign[a] × unit perm[a] of ``weights``."""
    out = [w.copy() for w in weights]
    for layer, (perm, sign) in enumerate(matching):
        out[2 * layer] = out[2 * layer][:, perm] * sign
        out[2 * layer + 1] = out[2 * layer + 1][perm] * sign
        out[2 * layer + 2] = out[2 * layer + 2][perm, :] * sign[:, None]
    return out


def _agreement(reference: Weights, other: Weights, matching: Matching) -> float:
    return float(flat(reference) @ flat(_permute(other, matching)))


def _assign(similarity: np.ndarray, signs: bool) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import linear_sum_assignment

    _, perm = linear_sum_assignment(np.abs(similarity) if signs else similarity,
                                    maximize=True)
    picked = similarity[np.arange(len(perm)), perm]
    return perm, np.where(picked < 0, -1.0, 1.0) if signs else np.ones(len(perm))


def _forward_matching(reference: Weights, other: Weights, signs: bool) -> Matching:
    """Layer by layer on incoming weights and bias, each after the previous layer's match."""
    matching: Matching = []
    current = [w.copy() for w in other]
    for layer in range(len(other) // 2 - 1):
        ref_units = np.vstack([reference[2 * layer], reference[2 * layer + 1][None, :]])
        units = np.vstack([current[2 * layer], current[2 * layer + 1][None, :]])
        matching.append(_assign(ref_units.T @ units, signs))
        current = _permute(other, matching)
    return matching


def _match_layer(reference: Weights, other: Weights, matching: Matching, layer: int,
                 signs: bool) -> tuple[np.ndarray, np.ndarray]:
    """The best matching of one layer's units given every other layer's."""
    units = other[2 * layer].shape[1]
    free = [*matching[:layer], (np.arange(units), np.ones(units)), *matching[layer + 1:]]
    current = _permute(other, free)
    ref_in = np.vstack([reference[2 * layer], reference[2 * layer + 1][None, :]])
    cur_in = np.vstack([current[2 * layer], current[2 * layer + 1][None, :]])
    similarity = ref_in.T @ cur_in + reference[2 * layer + 2] @ current[2 * layer + 2].T
    return _assign(similarity, signs)


def flat(weights: Weights) -> np.ndarray:
    """Every weight in one float64 vector."""
    return np.concatenate([w.ravel() for w in weights]).astype(np.float64)


def relative_distance(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ relative to the mean of ‖a‖ and ‖b‖ (0: identical; ≈1.4: unrelated vectors
    of equal size, orthogonal)."""
    scale = (np.linalg.norm(a) + np.linalg.norm(b)) / 2
    return float(np.linalg.norm(a - b) / scale) if scale else 0.0


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity (1.0 for two zero vectors: nothing tells them apart)."""
    denominator = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denominator) if denominator else 1.0


@dataclass(frozen=True)
class PairComparison:
    """Two refits i < j compared: weights raw and aligned, and their test predictions."""

    i: int
    j: int
    distance: float  # relative L2, raw
    cosine: float
    aligned_distance: float  # both aligned to refit 0, hence to each other through it
    aligned_cosine: float
    prediction_difference: float  # RMS difference of test predictions / std(y)


def compare_refits(weights: Sequence[Weights], predictions: Sequence[np.ndarray],
                   target_std: float, signs: bool = False) -> tuple[PairComparison, ...]:
    """Every pair of refits compared, each aligned to the first (the reference)."""
    reference = weights[0]
    aligned = [list(reference)] + [align(reference, w, signs) for w in weights[1:]]
    pairs = []
    for i, j in itertools.combinations(range(len(weights)), 2):
        raw_i, raw_j = flat(weights[i]), flat(weights[j])
        al_i, al_j = flat(aligned[i]), flat(aligned[j])
        rms = float(np.sqrt(np.mean((predictions[i] - predictions[j]) ** 2)))
        pairs.append(PairComparison(
            i, j, relative_distance(raw_i, raw_j), cosine(raw_i, raw_j),
            relative_distance(al_i, al_j), cosine(al_i, al_j),
            rms / target_std if target_std else rms))
    return tuple(pairs)


def mean_aligned_distance(fits: Sequence[Weights], signs: bool) -> float:
    """The mean relative distance between fits, each aligned to the first."""
    aligned = [list(fits[0])] + [align(fits[0], f, signs) for f in fits[1:]]
    return float(np.mean([relative_distance(flat(a), flat(b))
                          for a, b in itertools.combinations(aligned, 2)]))


__all__ = ["PairComparison", "align", "compare_refits", "cosine", "flat",
           "mean_aligned_distance", "relative_distance"]
