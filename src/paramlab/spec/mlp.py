"""The MLP shorthand of the tutorials: ``784-10-10-3`` = 784 inputs, then Dense widths."""

from __future__ import annotations

import re

from paramlab.errors import SpecError
from paramlab.graph import Call, ModelSpec
from paramlab.layers.base import LayerSpec

_MLP = re.compile(r"\s*\d+(\s*-\s*\d+)+\s*")


def looks_like_mlp(text: str) -> bool:
    return _MLP.fullmatch(text) is not None


def parse_mlp(text: str) -> ModelSpec:
    """Input of the first width, then one Dense (with bias) per following width."""
    widths: list[int] = []
    for match in re.finditer(r"\d+", text):
        width = int(match.group())
        if width <= 0:
            raise SpecError(
                f"layer widths must be positive integers; received {width}", text, match.start()
            )
        widths.append(width)
    calls = [Call(LayerSpec("InputLayer", ((widths[0],),)))]
    calls += [Call(LayerSpec("Dense", (w,))) for w in widths[1:]]
    return ModelSpec(calls, name="sequential", source=text, origin="mlp shorthand")
