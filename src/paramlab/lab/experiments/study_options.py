"""Options of the "why it still works" studies (random labels, regularization, polynomial),
each declared once: comma-separated lists of numbers, and the checks every study applies to
them. A list is parsed as typed; its *values* are checked by the study's config (so a config
built in Python, as the demo does, is checked exactly like a command line)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from paramlab.errors import ParamlabError


def float_list(text: str) -> tuple[float, ...]:
    """``0,0.2,0.5`` as a tuple of floats (``""`` is the empty tuple, refused later by the
    config with a message that names the option)."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 0,0.5,1; received {text!r}") from None


def int_list(text: str) -> tuple[int, ...]:
    """``64,512`` as a tuple of integers."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 64,512; received {text!r}") from None


def check_list(option: str, values: Sequence[float], *, low: float | None = None,
               high: float | None = None, low_open: bool = False) -> None:
    """Refuse an empty list or a value outside [low, high] (``low_open``: (low, high])."""
    if not values:
        raise ParamlabError(f"{option} needs at least one value; received an empty list")
    for value in values:
        below = low is not None and (value <= low if low_open else value < low)
        if below or (high is not None and value > high):
            bracket = "(" if low_open else "["
            raise ParamlabError(f"{option} values must be in {bracket}{low}, "
                                f"{'∞' if high is None else high}]; received {value:g}")


def add_ridge(p: argparse.ArgumentParser, default: Sequence[float]) -> None:
    p.add_argument("--ridge", type=float_list, default=tuple(default), metavar="λ,…",
                   help="ridge penalties λ ≥ 0, comma-separated (default "
                   f"{','.join(f'{v:g}' for v in default)})")
