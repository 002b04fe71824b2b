"""Live Keras models: one row per layer, from the model's own variables.

This is the path for a model object already built in memory (a saved ``.keras`` config is
read by the spec path without Keras). Numbers come from the variables' shapes, so they are
Keras' own; the table adds what ``model.summary()`` does not say:

* Nested models are one row by default; ``options.depth`` = N expands N levels, their
  layers indented under a row for the nested model.
* A variable reachable twice (a layer shared between the outer model and a nested one) is
  counted once, at its first place; a layer called several times is one row, marked.
* ``trainable`` is Keras' answer (``model.trainable_weights``), so frozen layers and frozen
  parents are non-trainable. Statistics (BatchNormalization moving mean/variance: variables
  Keras creates with ``trainable=False`` in a trainable layer) are non-trainable parameters
  under the ``keras`` convention and buffers under ``torch``.
"""

from __future__ import annotations

from typing import Any

from paramlab.errors import ConfigError
from paramlab.layers.base import Shape, Weight, fmt
from paramlab.summary import LayerRow, Summary, row_counts

STATISTIC_NAMES = {"moving_mean", "moving_variance", "mean", "variance", "count"}


def count_keras_model(model: Any, convention: str | None, options: Any) -> Summary:
    """Rows for ``model.layers`` (nested models expanded to ``options.depth``)."""
    convention = convention or "keras"
    if not model.built:
        raise ConfigError(
            f"Keras model {model.name!r} is not built, so it has no weights yet: call it on "
            "data or model.build(input_shape) first, or give it a keras.Input"
        )
    depth = getattr(options, "depth", None) or 0
    trainable_ids = {id(v) for v in model.trainable_weights}
    seen: dict[int, str] = {}
    rows: list[LayerRow] = []
    _walk(model, "", 0, depth, (convention, trainable_ids, seen), rows)
    summary = Summary(model.name, rows, convention, origin="keras.Model")
    if getattr(options, "_other_of", None) is None:
        other = "torch" if convention == "keras" else "keras"
        summary.other_factory = lambda: count_keras_model(model, other, _Other(depth))
    return summary


class _Other:
    """Options for the recount under the other convention."""

    _other_of = True

    def __init__(self, depth: int) -> None:
        self.depth = depth


def _walk(model: Any, prefix: str, level: int, depth: int,
          state: tuple[str, set[int], dict[int, str]], rows: list[LayerRow]) -> None:
    """Rows for ``model.layers``; nested layers are named ``inner/dense``. A functional model
    also lists its op nodes (``x + y``, ``keras.ops.*``: no weights), as ``model.summary()``
    does, from ``model.operations``."""
    for layer in getattr(model, "operations", None) or model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        expand = _is_model(layer) and level < depth
        rows.append(_row(layer, prefix, level, *state, expanded=expand))
        if expand:
            _walk(layer, f"{prefix}{layer.name}/", level + 1, depth, state, rows)


def _is_model(layer: Any) -> bool:
    return any(cls.__name__ in ("Functional", "Sequential", "Model")
               for cls in type(layer).__mro__) and hasattr(layer, "layers")


def _row(layer: Any, prefix: str, level: int, convention: str, trainable_ids: set[int],
         seen: dict[int, str], expanded: bool) -> LayerRow:
    weights: list[Weight] = []
    shared_with: list[str] = []
    for variable in [] if expanded else getattr(layer, "weights", []):  # ops have none
        key = id(variable)
        if key in seen:
            if seen[key] not in shared_with:
                shared_with.append(seen[key])
            continue
        seen[key] = prefix + layer.name
        weights.append(_weight(layer, variable, trainable_ids))
    trainable, non_trainable, buffers = row_counts(weights, convention)
    formula = _formula(weights, convention)
    if shared_with:
        formula = f"shares weights with {', '.join(shared_with)}; counted once" + (
            f"; {formula}" if formula else "")
    calls = len(getattr(layer, "_inbound_nodes", []) or [])
    note = f"called {calls} times; weights counted once" if calls > 1 else ""
    return LayerRow(
        name=prefix + layer.name,
        type=type(layer).__name__,
        output_shape=_output_shape(layer),
        params=trainable + non_trainable,
        trainable=trainable,
        non_trainable=non_trainable,
        buffers=buffers,
        formula=formula + (f" ({note})" if note else ""),
        macs=0,
        shared=bool(shared_with) and not weights,
        note=note,
        weights=weights,
        depth=level,
    )


def _weight(layer: Any, variable: Any, trainable_ids: set[int]) -> Weight:
    name = variable.path if hasattr(variable, "path") else variable.name
    short = name.rsplit("/", 1)[-1]
    statistic = (layer.trainable and not variable.trainable) or (
        short in STATISTIC_NAMES and not variable.trainable)
    return Weight(name, tuple(int(d) for d in variable.shape),
                  trainable=id(variable) in trainable_ids and not statistic, statistic=statistic)


def _formula(weights: list[Weight], convention: str) -> str:
    """``kernel 784 × 10 + bias 10 = 7,850``: the variables' shapes, summed."""
    params = [w for w in weights if not w.statistic]
    stats = [w for w in weights if w.statistic]
    text = ""
    if params:
        terms = " + ".join(
            f"{w.name.rsplit('/', 1)[-1]} {' × '.join(fmt(d) for d in w.shape) or '1'}"
            for w in params
        )
        text = f"{terms} = {fmt(sum(w.size for w in params))}"
    frozen = sum(w.size for w in params if not w.trainable)
    if frozen:
        text += f" (frozen: {fmt(frozen)} non-trainable)"
    if stats:
        size = fmt(sum(w.size for w in stats))
        extra = f"+ {size} moving statistics (non-trainable)" if convention == "keras" else (
            f"buffers {size} (moving statistics)")
        text = f"{text}; {extra}" if text else extra
    return text


def _output_shape(layer: Any) -> Shape | tuple[Shape, ...]:
    """Without the batch axis; () when the layer was never called symbolically."""
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return ()
    if isinstance(output, (list, tuple)):
        return tuple(_shape(t) for t in output)
    return _shape(output)


def _shape(tensor: Any) -> Shape:
    return tuple(None if d is None else int(d) for d in tuple(tensor.shape)[1:])
