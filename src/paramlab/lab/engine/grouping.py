"""Which models train together: a cost model of padded work against per-step overhead.

Only models of one depth share a stack. (A shallower ReLU net could ride in a deeper stack
behind frozen identity layers exactly — relu(h) = h for h ≥ 0, and the extra derivative mask
h > 0 equals the one already applied — but not with tanh or dropout, and the identity's square
product is pure padding; the engine keeps depths apart.) Within a depth, a group's training
step costs a fixed overhead (Python and kernel launches, the same for one model or
sixty-four) plus its padded arithmetic and optimizer traffic. Merging two groups saves one
overhead and pays for the padding; the engine merges while that pays.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from paramlab.lab.engine.config import MLPArch
from paramlab.lab.engine.stack import padded_widths


def macs(widths: tuple[int, ...]) -> int:
    """Multiply-adds per row of an MLP with these layer widths."""
    return sum(a * b for a, b in itertools.pairwise(widths))


def parameters(widths: tuple[int, ...]) -> int:
    """Weights and biases of an MLP with these layer widths."""
    return sum(a * b + b for a, b in itertools.pairwise(widths))


@dataclass(frozen=True)
class StepCost:
    """Seconds of one training step of a stack, from figures of a 2-core x86 CPU.

    The figures only rank groupings; they need not be exact. ``overhead`` is the Python and
    dispatch cost of one step (about 30 kernels and the optimizer call), ``per_layer`` what
    each further layer adds; ``mac`` is one multiply-add of the forward pass (the backward
    doubles it) at the rate batched products reach; ``param`` is one stacked parameter's
    optimizer traffic (weight, gradient and two moments read, three written).
    """

    overhead: float = 120e-6
    per_layer: float = 40e-6
    mac: float = 1 / 60e9
    param: float = 28 / 25e9

    def step(self, archs: list[MLPArch], rows: int) -> float:
        widths = padded_widths(archs)
        layers = len(widths) - 1
        work = len(archs) * (3 * rows * macs(widths) * self.mac + parameters(widths) * self.param)
        return self.overhead + layers * self.per_layer + work


def group_archs(archs: list[MLPArch], max_group: int = 64, batch_size: int = 32,
                cost: StepCost | None = None) -> list[list[int]]:
    """Indices of models to train together; deterministic for given architectures.

    Per depth, models sorted by size start as their own groups (identical architectures
    together); neighbouring groups then merge, the best saving first, while merging makes the
    estimated step cheaper than stepping the two apart and the group stays ≤ ``max_group``.
    """
    cost = cost or StepCost()
    by_depth: dict[int, list[int]] = {}
    for index, arch in enumerate(archs):
        by_depth.setdefault(len(arch.hidden), []).append(index)
    groups: list[list[int]] = []
    for depth in sorted(by_depth):
        members = sorted(by_depth[depth], key=lambda i: (macs(archs[i].widths), archs[i].widths))
        runs = [list(g) for _, g in itertools.groupby(members, key=lambda i: archs[i].widths)]
        groups += _merge(runs, archs, max_group, batch_size, cost)
    return groups


def _merge(runs: list[list[int]], archs: list[MLPArch], max_group: int, rows: int,
           cost: StepCost) -> list[list[int]]:
    """Greedy agglomeration of neighbouring groups by the largest estimated saving."""
    def seconds(group: list[int]) -> float:
        return cost.step([archs[i] for i in group], rows)

    groups = [chunk for run in runs for chunk in _chunks(run, max_group)]
    while len(groups) > 1:
        savings = [seconds(a) + seconds(b) - seconds(a + b) if len(a) + len(b) <= max_group
                   else -1.0 for a, b in itertools.pairwise(groups)]
        best = max(range(len(savings)), key=savings.__getitem__)
        if savings[best] <= 0:
            break
        groups[best: best + 2] = [groups[best] + groups[best + 1]]
    return groups


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i: i + size] for i in range(0, len(items), size)]
