"""Live Keras models: one row per layer, from the model's own variables.

This is the path for a model object already built in memory (a saved ``.keras`` config is
read by the spec path without Keras). Numbers come from the variables' shapes, so they are
Keras' own; the table adds what ``model.summary()`` does not say:

* Nested models are one row by default; ``options.depth`` = N expands N levels, their
  layers indented under a row for the nested model.
* A variable reachable twice (a layer shared between the outer model and a nested one) is
  counted once, at its first place; a layer called several times is one row, marked.
* ``trainable`` is Keras' answer (``model.trainable_weights``), so frozen layers and frozen
  parents are non-trainable. Statistics — the variables PyTorch would keep as buffers:
  BatchNormalization's moving mean/variance, Normalization's mean/variance/count, spectral
  normalization's power-iteration vector — are non-trainable parameters under the ``keras``
  convention and buffers under ``torch``. They are known by name: a trainable layer can hold
  other non-trainable variables that are frozen *parameters* (a LoRA-enabled Dense freezes its
  kernel), which stay parameters under both conventions.
"""

from __future__ import annotations

from typing import Any

from paramlab.errors import ConfigError
from paramlab.layers.base import Shape, Weight, fmt
from paramlab.options import CountOptions
from paramlab.summary import LayerRow, Summary, make_row

STATISTIC_NAMES = {"moving_mean", "moving_variance", "mean", "variance", "count", "vector_u"}


def count_keras_model(model: Any, convention: str | None, options: CountOptions | None) -> Summary:
    """Rows for ``model.layers`` (nested models expanded to ``options.depth``)."""
    options = options or CountOptions()
    convention = convention or "keras"
    if not model.built:
        raise ConfigError(
            f"Keras model {model.name!r} is not built, so it has no weights yet: call it on "
            "data or model.build(input_shape) first, or give it a keras.Input"
        )
    depth = options.depth or 0
    trainable_ids = {id(v) for v in model.trainable_weights}
    seen: dict[int, str] = {}
    rows: list[LayerRow] = []
    _walk(model, "", 0, depth, (convention, trainable_ids, seen), rows)
    summary = Summary(model.name, rows, convention, origin="keras.Model")
    if options.other_convention:
        other = "torch" if convention == "keras" else "keras"
        recount = options.replace(other_convention=False)
        summary.other_factory = lambda: count_keras_model(model, other, recount)
    return summary


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
        weights.append(_weight(variable, trainable_ids))
    formula = _formula(weights, convention)
    if shared_with:
        formula = f"shares weights with {', '.join(shared_with)}; counted once" + (
            f"; {formula}" if formula else "")
    calls = len(getattr(layer, "_inbound_nodes", []) or [])
    note = f"called {calls} times; weights counted once" if calls > 1 else ""
    return make_row(
        prefix + layer.name, type(layer).__name__, weights, convention,
        output_shape=_output_shape(layer), formula=formula + (f" ({note})" if note else ""),
        shared=bool(shared_with) and not weights, note=note, depth=level,
    )


def _weight(variable: Any, trainable_ids: set[int]) -> Weight:
    name = variable.path if hasattr(variable, "path") else variable.name
    short = name.rsplit("/", 1)[-1]
    statistic = short in STATISTIC_NAMES and not variable.trainable
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
