"""Every way to describe an architecture, turned into a :class:`~paramlab.graph.ModelSpec`.

:func:`parse` decides what a string is: a file (by extension and content), a zoo name, the
MLP shorthand, or the one-line DSL.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from paramlab.errors import SpecError
from paramlab.graph import ModelSpec
from paramlab.spec.dsl import parse_dsl
from paramlab.spec.mlp import looks_like_mlp, parse_mlp

__all__ = ["parse", "parse_dsl", "parse_mlp"]

_FILE_SUFFIXES = (".json", ".yaml", ".yml", ".keras", ".onnx")


def parse(source: str) -> ModelSpec:
    """Parse a spec string or a path to a spec file."""
    text = source.strip()
    if not text:
        raise SpecError("the spec is empty; try 784-10-10-3 or input(784) > dense(10)")
    if text.lower().endswith(_FILE_SUFFIXES) or (
        "\n" not in text and len(text) < 4096 and _is_file(text)
    ):
        from paramlab.spec.files import parse_file

        return parse_file(Path(text))
    return dataclasses.replace(_parse_text(source))  # the cached object stays the cache's


def _zoo_model(name: str) -> ModelSpec | None:
    """The zoo entry called ``name``, parsed; ``None`` if there is none."""
    from paramlab.zoo import find_entry

    entry = find_entry(name)
    if entry is None:
        return None
    # A renamed copy: parse() memoizes by text, so renaming its result in place would hand
    # the zoo name to every later parse of the same DSL text.
    return dataclasses.replace(_parse_text(entry.spec), name=entry.name,
                               origin=f"zoo: {entry.reference}")


@functools.lru_cache(maxsize=256)
def _parse_text(source: str) -> ModelSpec:
    """Spec text → ModelSpec, memoized: counting never mutates a ModelSpec, and parsing is
    most of the time of a repeated count (a sweep counts the same spec many times)."""
    text = source.strip()
    if looks_like_mlp(text):
        return parse_mlp(text)
    zoo_model = _zoo_model(text)
    if zoo_model is not None:
        return zoo_model
    try:
        return parse_dsl(source)
    except SpecError as exc:
        from paramlab.zoo import suggest_model

        model = suggest_model(text)
        if model is None:
            raise
        raise SpecError(f"unknown layer or model {text!r}; did you mean the zoo model "
                        f"{model!r}?", exc.text, exc.column) from None


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:
        return False
