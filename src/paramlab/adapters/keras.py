"""Live Keras models: one row per layer from the model's own weights (``--depth`` expands
nested models), shared layers counted once. For a model *description* without Keras, see
:mod:`paramlab.spec.keras_json`."""

from __future__ import annotations

import math
from typing import Any

from paramlab.errors import ParamlabError
from paramlab.layers.base import Weight, fmt
from paramlab.summary import LayerRow, Summary


def count_keras_model(model: Any, convention: str | None, options: Any) -> Summary:
    convention = convention or "keras"
    if not getattr(model, "built", True):
        raise ParamlabError(f"Keras model {model.name!r} is not built: call model.build(shape) "
                            "or give it an Input first")
    depth = getattr(options, "depth", None) or 1
    rows: list[LayerRow] = []
    seen: set[int] = set()
    for layer in model.layers:
        _visit(layer, "", 1, depth, convention, seen, rows)
    return Summary(model.name, rows, convention, origin="keras model")


def _visit(layer: Any, prefix: str, level: int, depth: int, convention: str, seen: set[int],
           rows: list[LayerRow]) -> None:
    name = f"{prefix}{layer.name}"
    if hasattr(layer, "layers") and layer.layers and level < depth and id(layer) not in seen:
        seen.add(id(layer))
        for sub in layer.layers:
            _visit(sub, f"{name}/", level + 1, depth, convention, seen, rows)
        return
    shared = id(layer) in seen
    seen.add(id(layer))
    weights = [] if shared else _weights(layer, convention)
    trainable = sum(math.prod(w.shape) for w in weights if w.trainable and not w.statistic)
    frozen = sum(math.prod(w.shape) for w in weights if not w.trainable and not w.statistic)
    buffers = sum(math.prod(w.shape) for w in weights if w.statistic)
    parts = [f"{w.name} {' × '.join(map(str, w.shape)) or '1'}" for w in weights
             if not w.statistic]
    formula = "shared layer: counted once" if shared else (
        " + ".join(parts) + f" = {fmt(trainable + frozen)}" if parts else "")
    rows.append(LayerRow(name=name, type=type(layer).__name__, output_shape=_shape(layer),
                         params=trainable + frozen, trainable=trainable, non_trainable=frozen,
                         buffers=buffers, formula=formula, macs=0, shared=shared,
                         weights=weights, depth=level - 1))


def _weights(layer: Any, convention: str) -> list[Weight]:
    out = []
    trainable_ids = {id(w) for w in layer.trainable_weights}
    for w in layer.weights:
        short = w.path.rsplit("/", 1)[-1] if hasattr(w, "path") else w.name
        statistic = convention == "torch" and short.startswith("moving_")
        out.append(Weight(short, tuple(int(d) for d in w.shape), id(w) in trainable_ids,
                          statistic))
    return out


def _shape(layer: Any) -> Any:
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return ()
    if isinstance(output, (list, tuple)):
        return tuple(tuple(d for d in o.shape[1:]) for o in output)
    return tuple(output.shape[1:])
