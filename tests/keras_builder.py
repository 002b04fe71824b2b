"""Test helper: build a paramlab ModelSpec in real Keras, layer for layer.

Our DSL uses Keras' own class names and arguments, so the translation is generic: each
``LayerSpec`` becomes ``getattr(keras.layers, canonical_name)(*args, **kwargs)`` and the
calls are wired with the functional API. Keras is then the oracle for every number.
"""

from __future__ import annotations

from typing import Any

from paramlab.graph import ModelSpec, TensorRef
from paramlab.layers.base import LayerSpec, get_layer_type


def keras_layer(spec: LayerSpec) -> Any:
    import keras

    name = get_layer_type(spec.type).name
    args = [keras_value(a) for a in spec.args]
    kwargs = {k: keras_value(v) for k, v in spec.kwargs.items()}
    if name == "InputLayer":
        shape = args[0] if args else kwargs.pop("shape")
        return ("input", tuple(shape), spec.name)
    layer = getattr(keras.layers, name)(*args, name=spec.name, **kwargs)
    layer.trainable = spec.trainable
    return layer


def keras_value(value: Any) -> Any:
    if isinstance(value, LayerSpec):
        return keras_layer(value)
    return value


def build_keras(model: ModelSpec) -> tuple[Any, dict[str, Any]]:
    """The Keras model and a dict from our layer name to its output tensor."""
    import keras

    tensors: dict[TensorRef, Any] = {}
    layers: dict[str, Any] = {}
    inputs = []
    last: TensorRef | None = None
    for call in model.calls:
        spec = call.layer
        built = keras_layer(spec)
        assert spec.name is not None
        if isinstance(built, tuple):
            tensor = keras.Input(shape=built[1], name=spec.name)
            inputs.append(tensor)
            outs = [tensor]
        else:
            refs = call.inputs if call.inputs is not None else [last]
            args = [tensors[r] for r in refs]  # type: ignore[index]
            result = built(args if len(args) > 1 else args[0])
            outs = list(result) if isinstance(result, (list, tuple)) else [result]
            layers[spec.name] = built
        for i, out in enumerate(outs):
            tensors[TensorRef(spec.name, 0, i)] = out
        last = TensorRef(spec.name, 0, 0)
    consumed = {r for c in model.calls for r in (c.inputs or [])}
    outputs = [t for ref, t in tensors.items() if ref not in consumed and ref.index == 0]
    outputs = [tensors[last]] if last is not None else outputs  # type: ignore[index]
    return keras.Model(inputs, outputs), layers
