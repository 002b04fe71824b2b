"""``--fit 24GiB``: the largest context, the largest batch or the least-compressed format
that fits a memory budget, with the terms that decided it.

Pure search over monotone costs: each question is a cost function of one integer (tokens,
sequences) or a short list of formats, and a budget in bytes. Serving holds the weights and
the KV cache; training costs come from a callable (:data:`TrainingCost`), so a finer model of
per-GPU training memory can replace the default one (:mod:`paramlab.memory`'s ZeRO
accounting) without touching the search. Runtime overheads (CUDA context, allocator
fragmentation, compute buffers) are not modelled and are named in every answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from paramlab.errors import ConfigError

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_BUDGET = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?(?:e[0-9]+)?)\s*([a-z]*)\s*$", re.I)
SEARCH_CAP = 1 << 24  # tokens or sequences: the search stops here when nothing else does
OVERHEAD_NOTE = ("Not included: the runtime's own memory (CUDA context, compute buffers, "
                 "allocator fragmentation), often 0.5–2 GB; leave that much headroom.")

# (batch size, context) → the named terms of one training step's memory, in bytes
TrainingCost = Callable[[int, int], tuple[tuple[str, int], ...]]


def parse_budget(text: str | int) -> int:
    """``24GiB`` (2³⁰), ``24GB`` (10⁹), ``24e9`` or ``24000000000`` → bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        match = _BUDGET.match(str(text))
        if match is None or match.group(2).lower() not in _UNITS:
            raise ConfigError(f"--fit expects a size such as 24GiB, 24GB or 24e9; received "
                              f"{text!r} (units: {', '.join(u for u in _UNITS if u)})")
        value, unit = float(match.group(1).replace(",", "").replace("_", "")), match.group(2)
    budget = int(value * _UNITS[unit.lower()])
    if budget <= 0:
        raise ConfigError(f"--fit expects a positive size; received {text!r}")
    return budget


@dataclass(frozen=True)
class FitAnswer:
    """One question answered: the value found (None: nothing fits) and the bytes of each
    term at that value, with the sentence saying which term stopped the search."""

    question: str
    value: int | str | None
    terms: tuple[tuple[str, int], ...]
    budget: int
    decided_by: str

    @property
    def total(self) -> int:
        return sum(size for _, size in self.terms)

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "value": self.value, "total": self.total,
                "budget": self.budget, "terms": dict(self.terms), "decided_by": self.decided_by}


def largest(cost: Callable[[int], int], budget: int, cap: int) -> int:
    """The largest n in [1, cap] with cost(n) ≤ budget (cost non-decreasing), 0 if none."""
    if cost(1) > budget:
        return 0
    lo, hi = 1, cap
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if cost(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def largest_value(question: str, unit: str, terms: Callable[[int], tuple[tuple[str, int], ...]],
                  budget: int, cap: int, cap_reason: str) -> FitAnswer:
    """Search one integer (tokens, sequences) and say which term decided."""

    def cost(n: int) -> int:
        return sum(size for _, size in terms(n))

    best = largest(cost, budget, cap)
    if best == 0:
        first = terms(1)
        return FitAnswer(question, None, first, budget,
                         f"nothing fits: at 1 {unit} the total is {cost(1):,} bytes, over "
                         f"the budget by {cost(1) - budget:,} ({_biggest(first)})")
    found = terms(best)
    if best == cap:
        why = f"{cap_reason} ({cap:,}); the budget itself would allow more"
    else:
        step = cost(best + 1) - cost(best)
        why = (f"one more {unit} adds {step:,} bytes of {_growing(terms, best)} and would "
               f"exceed the budget ({budget - cost(best):,} bytes left)")
    return FitAnswer(question, best, found, budget, why)


def least_compressed(candidates: Sequence[tuple[str, tuple[tuple[str, int], ...]]],
                     budget: int) -> FitAnswer:
    """The first candidate (ordered from most to fewest bytes) whose terms fit."""
    ordered = sorted(candidates, key=lambda c: -sum(s for _, s in c[1]))
    for index, (name, terms) in enumerate(ordered):
        total = sum(size for _, size in terms)
        if total <= budget:
            if index == 0:
                why = f"the largest format tried fits ({budget - total:,} bytes left)"
            else:
                above, above_terms = ordered[index - 1]
                over = sum(s for _, s in above_terms) - budget
                why = (f"{above} is over the budget by {over:,} bytes "
                       f"({_biggest(above_terms)}); {name} leaves {budget - total:,}")
            return FitAnswer("least-compressed format", name, terms, budget, why)
    name, terms = ordered[-1]
    over = sum(s for _, s in terms) - budget
    return FitAnswer("least-compressed format", None, terms, budget,
                     f"nothing fits: even {name} is over the budget by {over:,} bytes "
                     f"({_biggest(terms)})")


def _biggest(terms: tuple[tuple[str, int], ...]) -> str:
    name, size = max(terms, key=lambda t: t[1])
    return f"{name} alone is {size:,} bytes"


def _growing(terms: Callable[[int], tuple[tuple[str, int], ...]], n: int) -> str:
    now, later = dict(terms(n)), dict(terms(n + 1))
    grown = [name for name in later if later[name] > now.get(name, 0)]
    return " and ".join(grown) if grown else "nothing"
