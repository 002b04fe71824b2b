"""Message length of a quantized vector: entropy bounds, a real arithmetic-coding round trip,
and each added part (codebook, counts, grids, choices, prefix)."""

import math

import numpy as np
import pytest
from scipy import stats

from paramlab.errors import DataError
from paramlab.lab.science.coding import (
    CODEBOOK_BITS,
    arithmetic_decode,
    arithmetic_encode,
    message_length,
    quantize,
    sequence_code_bits,
)


def test_quantize_returns_a_sorted_float16_codebook_near_the_values() -> None:
    theta = np.random.default_rng(0).standard_normal(400)
    codebook, indices = quantize(theta, 6, seed=0)
    assert codebook.shape == (6,) and np.all(np.diff(codebook) > 0)
    assert np.array_equal(codebook.astype(np.float16).astype(np.float64), codebook)
    means = np.array([theta[indices == k].mean() for k in range(6)])
    assert codebook == pytest.approx(means, rel=2e-3, abs=1e-4)  # k-means fixed point, f16
    nearest = np.abs(theta[:, None] - codebook[None, :]).argmin(axis=1)
    assert np.mean(nearest == indices) > 0.98  # k-means labels, up to float16 rounding


def test_quantize_recovers_well_separated_levels_and_is_seeded() -> None:
    rng = np.random.default_rng(1)
    theta = rng.choice([-3.0, 0.5, 2.0], size=300) + 0.01 * rng.standard_normal(300)
    codebook, _ = quantize(theta, 3, seed=0)
    assert codebook == pytest.approx([-3.0, 0.5, 2.0], abs=0.01)
    assert np.array_equal(quantize(theta, 3, 4)[1], quantize(theta, 3, 4)[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arithmetic_code_is_within_two_bits_of_the_entropy_and_round_trips(seed: int) -> None:
    rng = np.random.default_rng(seed)
    indices = rng.choice(5, size=600, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    counts = np.bincount(indices, minlength=5)
    entropy_bits = len(indices) * stats.entropy(counts, base=2)
    bits = arithmetic_encode(indices, counts)
    assert entropy_bits <= len(bits) < entropy_bits + 2
    assert np.array_equal(arithmetic_decode(bits, counts, len(indices)), indices)
    assert sequence_code_bits(counts) in (len(bits), len(bits) + 1)  # never below


def test_code_length_at_exact_powers_of_two() -> None:
    indices = np.array([0, 1, 2, 3] * 4)  # uniform: exactly 2 bits a symbol
    counts = np.bincount(indices)
    assert len(arithmetic_encode(indices, counts)) == 33
    assert sequence_code_bits(counts) in (33, 34)
    assert sequence_code_bits([7]) == 1  # one level: nothing but the final bit


def test_message_length_adds_each_documented_part() -> None:
    indices = np.repeat(np.arange(4), [50, 30, 15, 5])
    length = message_length(indices, 4, dims_grid_size=8, levels_grid_size=4,
                            other_choices={"seed": 5})
    assert length.symbols == sequence_code_bits([50, 30, 15, 5])
    assert length.counts == 4 * math.ceil(math.log2(101))  # counts range over 0..100
    assert length.codebook == 4 * CODEBOOK_BITS
    assert length.grids == pytest.approx(3 + 2)
    assert length.choices == pytest.approx(math.log2(5))
    body = length.total - length.prefix
    assert length.prefix == pytest.approx(2 * math.log2(body))
    assert length.total > 100 * stats.entropy([50, 30, 15, 5], base=2)


@pytest.mark.parametrize(("call", "words"), [
    (lambda: quantize(np.array([1.0, 2.0]), 3, 0), "levels"),
    (lambda: quantize(np.array([[1.0, 2.0]]), 1, 0), "1-D"),
    (lambda: quantize(np.array([1e6, 2.0]), 1, 0), "float16"),
    (lambda: message_length(np.array([0, 4]), 4, 2, 2), r"\[0, 4\)"),
    (lambda: message_length(np.array([0.5]), 4, 2, 2), "integer"),
    (lambda: message_length(np.array([0, 1]), 2, 0, 2), "d grid"),
    (lambda: sequence_code_bits([0, 0]), "not all zero"),
    (lambda: arithmetic_encode(np.array([0, 1]), [2, 0]), "positive for every level"),
])
def test_bad_input_is_one_line(call, words: str) -> None:
    with pytest.raises(DataError, match=words) as caught:
        call()
    assert "\n" not in str(caught.value)
