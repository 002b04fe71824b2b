"""Peaks of a measured curve: where a test error stands highest above both of its sides.

Narrow networks underfit, so the deep double-descent peak is a *local*, not a global, maximum
of test error (Nakkiran et al. 2019, "Deep Double Descent", arXiv 1912.02292): the peak a
study reports is the inner point that stands highest above the lowest value on each side.
"""

from __future__ import annotations

from collections.abc import Sequence


def most_prominent_peak(values: Sequence[float]) -> int:
    """The index of the inner point standing highest above the lowest value on *each* side
    of it (the smaller of its two heights); the index of the largest value when no inner
    point stands above both sides."""
    def height(i: int) -> float:
        return min(values[i] - min(values[:i]), values[i] - min(values[i + 1:]))

    inner = [i for i in range(1, len(values) - 1) if height(i) > 0]
    if inner:
        return max(inner, key=height)
    return max(range(len(values)), key=lambda i: values[i])
