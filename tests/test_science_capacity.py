"""d_int90 on synthetic curves, the grid grammar, and epoch-wise double descent both ways."""

import numpy as np
import pytest

from paramlab.errors import DataError, ParamlabError
from paramlab.fields import MAX_GRID_COUNT, parse_grid
from paramlab.lab.science.capacity import intrinsic_dimension, second_descent

DIMS = [10, 50, 100, 200, 400, 800, 1600]


def _saturating(d: np.ndarray, scale: float) -> np.ndarray:
    """Accuracy 0.1 → 0.98 with d: 0.1 + 0.88·(1 − exp(−d/scale))."""
    return 0.1 + 0.88 * (1 - np.exp(-np.asarray(d, dtype=float) / scale))


def test_d_int90_is_the_first_grid_point_whose_mean_clears_the_threshold() -> None:
    """Three seeds whose curves cross 0.9 × 0.98 = 0.882 at different d: the mean crosses
    between 200 and 400 (d = scale·ln(0.88/0.098) ≈ 2.2·scale for the middle seed)."""
    scales = np.array([[80.0], [120.0], [200.0]])
    performance = _saturating(np.array(DIMS)[None, :], scales)
    result = intrinsic_dimension(DIMS, performance, full_performance=0.98)
    assert result.threshold == pytest.approx(0.882)
    assert (result.below, result.d_int90) == (200, 400)
    assert result.per_seed == (200, 400, 800)  # 2.2·80 = 176, 2.2·120 = 264, 2.2·200 = 439
    assert (result.seed_min, result.seed_median, result.seed_max) == (200, 400.0, 800)
    assert result.seeds_not_reached == 0


def test_the_threshold_is_strict_and_unreached_grids_give_none() -> None:
    flat = np.array([[0.5, 0.9, 0.95]])
    assert intrinsic_dimension([1, 2, 3], flat, 1.0).d_int90 == 3  # 0.9 is not above 0.9
    assert intrinsic_dimension([1, 2, 3], flat, 1.0).below == 2
    never = intrinsic_dimension([1, 2, 3], np.array([[0.1, 0.2, 0.3], [0.1, 0.2, 0.95]]), 1.0)
    assert never.d_int90 is None and never.below is None
    assert never.per_seed == (None, 3) and never.seeds_not_reached == 1
    assert never.seed_median == 3.0


def test_the_mean_not_the_best_seed_decides() -> None:
    performance = np.array([[0.95, 0.96], [0.2, 0.96]])  # one lucky seed at d = 10
    assert intrinsic_dimension([10, 20], performance, 1.0).d_int90 == 20
    assert intrinsic_dimension([10, 20], performance, 1.0).seed_min == 10


def test_grid_lists_and_geometric_ranges() -> None:
    assert parse_grid("1000,10,100,100") == (10, 100, 1000)
    assert parse_grid(" 7 ") == (7,)
    grid = parse_grid("10..1000:3")
    assert grid == (10, 100, 1000)
    dense = parse_grid("1..10:10")
    assert dense == tuple(range(1, 11))  # rounding would merge 1, 1, 2: stepped up instead
    assert len(parse_grid("2..300:19")) == 19 and parse_grid("2..300:19")[-1] == 300
    assert parse_grid("5..5:1") == (5,)


@pytest.mark.parametrize("text", ["", "10,x", "0,5", "-3", "100..10:3", "0..10:3", "1..10:0",
                                  f"1..10:{MAX_GRID_COUNT + 1}", "1..:3", "a..b"])
def test_bad_grids_are_one_line_errors_naming_the_option(text: str) -> None:
    with pytest.raises(ParamlabError, match=r"^--dims: ") as caught:
        parse_grid(text)
    assert "\n" not in str(caught.value)


def test_second_descent_is_found_in_a_rise_and_fall_curve() -> None:
    epochs = np.arange(1, 101)
    error = (0.3 * np.exp(-epochs / 5) + 0.1 + 0.08 * np.exp(-((epochs - 30) / 8) ** 2)
             - 0.0005 * np.clip(epochs - 30, 0, None))
    result = second_descent(epochs, error)
    assert result.second_descent
    assert 25 <= result.peak_epoch <= 35
    assert result.min_before_epoch < result.peak_epoch < result.min_after_epoch
    assert result.min_after < result.min_before  # descends below the first minimum too
    assert result.rise > 0.01 and result.drop > 0.01


def test_no_second_descent_in_a_falling_or_overfitting_curve() -> None:
    epochs = np.arange(1, 61)
    falling = 0.3 * np.exp(-epochs / 10) + 0.1
    assert not second_descent(epochs, falling).second_descent
    overfit = 0.3 * np.exp(-epochs / 5) + 0.1 + 0.002 * epochs  # rises and stays up
    result = second_descent(epochs, overfit)
    assert not result.second_descent and result.rise > 0.05 and result.drop == 0.0


def test_a_bump_within_the_margin_is_noise() -> None:
    error = [0.30, 0.20, 0.205, 0.19]
    assert not second_descent([1, 2, 3, 4], error).second_descent
    assert second_descent([1, 2, 3, 4], error, margin=0.001).second_descent


@pytest.mark.parametrize(("call", "words"), [
    (lambda: intrinsic_dimension([10, 5], np.ones((2, 2)), 1.0), "increasing"),
    (lambda: intrinsic_dimension([1, 2], np.ones((2, 3)), 1.0), r"seeds × dims"),
    (lambda: intrinsic_dimension([1, 2], np.array([[np.nan, 1.0]]), 1.0), "NaN"),
    (lambda: intrinsic_dimension([1, 2], np.ones((1, 2)), -1.0), "higher is better"),
    (lambda: second_descent([1, 2], [0.1, 0.2]), ">= 3"),
    (lambda: second_descent([1, 3, 2], [0.1, 0.2, 0.3]), "strictly increasing"),
])
def test_bad_input_is_one_line(call, words: str) -> None:
    with pytest.raises(DataError, match=words) as caught:
        call()
    assert "\n" not in str(caught.value)
