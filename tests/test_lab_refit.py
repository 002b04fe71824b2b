"""Refit analysis: permutation alignment and distances, checked on constructed cases."""

import itertools

import numpy as np

from paramlab.lab.experiments.refit import align, analyze, cosine, flat, relative_distance


def random_mlp(rng: np.random.Generator, widths: list[int]) -> list[np.ndarray]:
    out = []
    for a, b in itertools.pairwise(widths):
        out += [rng.standard_normal((a, b)), rng.standard_normal(b)]
    return out


def permuted(weights: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The same function with every hidden layer's units shuffled."""
    out = [w.copy() for w in weights]
    for layer in range(len(out) // 2 - 1):
        p = rng.permutation(out[2 * layer].shape[1])
        out[2 * layer], out[2 * layer + 1] = out[2 * layer][:, p], out[2 * layer + 1][p]
        out[2 * layer + 2] = out[2 * layer + 2][p, :]
    return out


def forward(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    for layer in range(len(weights) // 2):
        x = x @ weights[2 * layer] + weights[2 * layer + 1]
        if layer < len(weights) // 2 - 1:
            x = np.maximum(x, 0)
    return x


def test_alignment_undoes_a_permutation_exactly() -> None:
    rng = np.random.default_rng(0)
    net = random_mlp(rng, [6, 12, 9, 2])
    shuffled = permuted(net, rng)
    x = rng.standard_normal((5, 6))
    np.testing.assert_allclose(forward(net, x), forward(shuffled, x))  # same function
    assert relative_distance(flat(net), flat(shuffled)) > 0.5  # yet different weights
    restored = align(net, shuffled)
    assert relative_distance(flat(net), flat(restored)) == 0.0
    np.testing.assert_allclose(forward(restored, x), forward(net, x))


def test_distances_of_identical_and_opposite_vectors() -> None:
    v = np.arange(1.0, 6.0)
    assert relative_distance(v, v) == 0.0 and cosine(v, v) == 1.0
    assert relative_distance(v, -v) == 2.0 and cosine(v, -v) == -1.0


def test_analysis_of_functionally_identical_refits() -> None:
    """Permuted copies: raw weights differ, aligned weights and predictions do not."""
    rng = np.random.default_rng(1)
    net = random_mlp(rng, [4, 8, 1])
    refits = [net, permuted(net, rng), permuted(net, rng)]
    x = rng.standard_normal((30, 4))
    predictions = [forward(w, x) for w in refits]
    result = analyze(refits, predictions, [0.5, 0.5, 0.5], [0.6, 0.6, 0.6], 1.0)
    assert result.val_loss_spread == 0.0
    assert result.weight_distance > 0.3
    assert result.aligned_distance < 1e-12
    assert result.prediction_difference < 1e-12
