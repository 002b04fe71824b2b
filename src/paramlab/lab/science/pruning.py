"""Iterative magnitude pruning for lottery tickets (Frankle & Carbin, "The Lottery Ticket
Hypothesis", ICLR 2019, arXiv 1803.03635; reference code facebookresearch/open_lth at
2ce732f, ``pruning/sparse_global.py``).

Each round removes the smallest-magnitude ``rate`` of the weights still kept, ranked
*globally* across the hidden layers (open_lth's ``sparse_global``: one ranking over every
prunable tensor). The output layer is ranked on its own and pruned at half that rate, as the
paper does for its fully-connected networks ("connections to outputs are pruned at half the
rate", Sec. 2). open_lth's LeNet-300-100 instead leaves the output layer unpruned
(``pruning_layers_to_ignore='fc.weight'`` in ``models/mnist_lenet.py``); pass
``output_rate=0`` to follow it. Three further differences from open_lth, all so the rate is
exact: we prune ⌈rate · kept⌉ weights, where open_lth's threshold ``|w| > sorted[k]``
removes at least one more (and every tie at the threshold); open_lth's ``kept`` also counts
the ignored output layer, so its hidden layers lose a little more than ``rate``; and our
ties are broken by position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from paramlab.errors import DataError

HIDDEN_RATE = 0.2  # Frankle & Carbin's fully-connected rate, open_lth's pruning_fraction
OUTPUT_RATE = HIDDEN_RATE / 2  # the paper's output layer: half the rate


def _check(weights: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> None:
    if len(weights) < 2 or len(weights) != len(masks):
        raise DataError(f"need the same number (>= 2: hidden layers, then the output layer) "
                        f"of weights and masks; received {len(weights)} and {len(masks)}")
    for layer, (w, m) in enumerate(zip(weights, masks, strict=True)):
        if np.shape(w) != np.shape(m):
            raise DataError(f"layer {layer}: mask shape {np.shape(m)} differs from weight "
                            f"shape {np.shape(w)}")
        if not np.isin(m, (0, 1)).all():
            raise DataError(f"layer {layer}: a mask holds only 0 and 1")
        if not np.isfinite(w).all():
            raise DataError(f"layer {layer}: weights hold NaN or infinity; they cannot be "
                            "ranked by magnitude")


def _prune(weights: Sequence[np.ndarray], masks: Sequence[np.ndarray],
           rate: float) -> list[np.ndarray]:
    """New masks with ⌈rate · kept⌉ of the kept weights removed, ranked jointly by |w|."""
    kept = [np.flatnonzero(m) for m in masks]
    magnitudes = np.concatenate([np.abs(np.ravel(w))[k]
                                 for w, k in zip(weights, kept, strict=True)])
    doomed = np.argsort(magnitudes, kind="stable")[:math.ceil(rate * magnitudes.size)]
    out, start = [], 0
    for mask, k in zip(masks, kept, strict=True):
        local = doomed[(doomed >= start) & (doomed < start + k.size)] - start
        flat = np.ravel(np.array(mask, dtype=np.float32))  # a copy: never the caller's
        flat[k[local]] = 0
        out.append(flat.reshape(np.shape(mask)))
        start += k.size
    return out


def prune_round(weights: Sequence[np.ndarray], masks: Sequence[np.ndarray],
                rate: float = HIDDEN_RATE, output_rate: float | None = None,
                ) -> list[np.ndarray]:
    """One pruning round: new float32 0/1 masks, the last layer being the output layer.

    Hidden layers lose ⌈rate · kept⌉ weights ranked globally; the output layer loses
    ⌈output_rate · kept⌉ of its own (default rate / 2). Inputs are not modified.
    """
    _check(weights, masks)
    output_rate = rate / 2 if output_rate is None else output_rate
    for name, value in (("rate", rate), ("output_rate", output_rate)):
        if not 0.0 <= value < 1.0:
            raise DataError(f"{name} must be in [0, 1); received {value}")
    hidden = _prune(weights[:-1], masks[:-1], rate)
    return [*hidden, *_prune(weights[-1:], masks[-1:], output_rate)]


def kept_fraction(rounds: int, rate: float = HIDDEN_RATE) -> float:
    """(1 − rate)^rounds: the nominal fraction kept after ``rounds`` rounds (0.8^k for hidden
    layers, 0.9^k for the output layer); rounding up each round's count keeps at most
    ``rounds`` fewer weights than this fraction of the layer."""
    if rounds < 0:
        raise DataError(f"rounds must be >= 0; received {rounds}")
    return (1.0 - rate) ** rounds


def smallest_kept_within(fractions: Sequence[float], accuracies: Sequence[float],
                         dense_accuracy: float, points: float = 1.0) -> float | None:
    """The smallest kept fraction whose accuracy is within ``points`` percentage points of
    the dense network's: how far a ticket can be pruned and still match (Frankle & Carbin's
    "matching" subnetworks). Accuracies in [0, 1]; None when no fraction qualifies."""
    kept, scores = np.asarray(fractions, dtype=float), np.asarray(accuracies, dtype=float)
    if kept.shape != scores.shape or kept.ndim != 1 or kept.size == 0:
        raise DataError(f"fractions and accuracies must be two non-empty lists of one length; "
                        f"received {kept.shape} and {scores.shape}")
    if not ((kept > 0) & (kept <= 1)).all():
        raise DataError("fractions kept must lie in (0, 1]")
    if not ((scores >= 0) & (scores <= 1)).all() or not 0 <= dense_accuracy <= 1:
        raise DataError("accuracies (and dense_accuracy) must lie in [0, 1]; percentages "
                        "go to points, not here")
    if not points >= 0:
        raise DataError(f"points must be >= 0; received {points}")
    matching = kept[scores >= dense_accuracy - points / 100]
    return float(matching.min()) if matching.size else None


__all__ = ["HIDDEN_RATE", "OUTPUT_RATE", "kept_fraction", "prune_round",
           "smallest_kept_within"]
