"""Lottery-ticket magnitude pruning: rates per round, global ranking over hidden layers, the
output layer at half the rate, and the smallest matching fraction."""

import math

import numpy as np
import pytest

from paramlab.errors import DataError
from paramlab.lab.science.pruning import (
    OUTPUT_RATE,
    kept_fraction,
    prune_round,
    smallest_kept_within,
)


def _layers(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((30, 20)), 3 * rng.standard_normal((20, 10)),
            rng.standard_normal((10, 4))]


def test_after_k_rounds_hidden_keep_0_8_to_the_k_and_output_0_9_to_the_k() -> None:
    weights = _layers()
    masks = [np.ones_like(w) for w in weights]
    hidden, output = 30 * 20 + 20 * 10, 10 * 4
    for k in range(1, 8):
        masks = prune_round(weights, masks)
        kept_hidden = sum(int(m.sum()) for m in masks[:-1])
        assert abs(kept_hidden - hidden * 0.8 ** k) <= k
        assert abs(int(masks[-1].sum()) - output * 0.9 ** k) <= k
        assert kept_fraction(k) == pytest.approx(0.8 ** k)
        assert kept_fraction(k, OUTPUT_RATE) == pytest.approx(0.9 ** k)


def test_each_round_prunes_exactly_the_rounded_up_count() -> None:
    weights = _layers(1)
    masks = [np.ones_like(w) for w in weights]
    before = sum(int(m.sum()) for m in masks[:-1])
    after = sum(int(m.sum()) for m in prune_round(weights, masks)[:-1])
    assert before - after == math.ceil(0.2 * before)


def test_ranking_is_global_across_hidden_layers() -> None:
    """The second layer's weights are 3× larger, so a global ranking prunes it less than
    the first; a per-layer ranking would prune both by 20 %."""
    weights = _layers(2)
    masks = prune_round(weights, [np.ones_like(w) for w in weights])
    first, second = 1 - masks[0].mean(), 1 - masks[1].mean()
    assert second < 0.1 < 0.2 < first
    pairs = list(zip(weights[:2], masks[:2], strict=True))
    pruned = np.concatenate([np.abs(w)[m == 0] for w, m in pairs])
    kept = np.concatenate([np.abs(w)[m == 1] for w, m in pairs])
    assert pruned.max() <= kept.min()


def test_pruned_weights_stay_pruned_and_inputs_are_untouched() -> None:
    weights = _layers(3)
    masks = [np.ones_like(w) for w in weights]
    masks[0][0, :] = 0  # the largest weights of a row, already pruned earlier
    weights[0][0, :] = 100.0
    copies = [m.copy() for m in masks]
    new = prune_round(weights, masks)
    assert all(np.array_equal(a, b) for a, b in zip(masks, copies, strict=True))
    assert (new[0][0, :] == 0).all()
    assert ((new[0] <= masks[0]).all() and (new[2] <= masks[2]).all())


def test_output_rate_zero_follows_open_lth_lenet() -> None:
    weights = _layers()
    masks = prune_round(weights, [np.ones_like(w) for w in weights], output_rate=0.0)
    assert masks[-1].all()


def test_smallest_kept_within() -> None:
    fractions = [1.0, 0.8, 0.64, 0.51, 0.41, 0.33]
    accuracies = [0.95, 0.955, 0.952, 0.945, 0.939, 0.90]
    assert smallest_kept_within(fractions, accuracies, 0.95) == 0.51
    assert smallest_kept_within(fractions, accuracies, 0.95, points=2.0) == 0.41
    assert smallest_kept_within(fractions, accuracies, 0.99) is None


@pytest.mark.parametrize(("call", "words"), [
    (lambda: prune_round([np.ones(3)], [np.ones(3)]), ">= 2"),
    (lambda: prune_round([np.ones(3), np.ones(2)], [np.ones(3), np.ones(3)]), "layer 1"),
    (lambda: prune_round([np.ones(3), np.ones(2)], [np.full(3, 0.5), np.ones(2)]), "0 and 1"),
    (lambda: prune_round([np.ones(3), np.ones(2)], [np.ones(3), np.ones(2)], 1.0), "rate"),
    (lambda: prune_round([np.array([np.nan]), np.ones(2)], [np.ones(1), np.ones(2)]), "NaN"),
    (lambda: smallest_kept_within([1.0], [95.0], 0.95), "percentages"),
    (lambda: smallest_kept_within([1.0, 0.5], [0.9], 0.9), "one length"),
])
def test_bad_input_is_one_line(call, words: str) -> None:
    with pytest.raises(DataError, match=words) as caught:
        call()
    assert "\n" not in str(caught.value)
