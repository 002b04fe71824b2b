"""Test helper: build a paramlab ModelSpec in real Keras, layer for layer.

Our DSL uses Keras' own class names and arguments, so the translation is generic: each
``LayerSpec`` becomes ``getattr(keras.layers, canonical_name)(*args, **kwargs)`` and the
calls are wired with the functional API. Keras is then the oracle for every number.
"""

from __future__ import annotations

from typing import Any

from paramlab.graph import ModelSpec, TensorRef, build_graph
from paramlab.layers.base import LayerSpec, get_layer_type


def keras_layer(spec: LayerSpec, layer_name: str | None = None) -> Any:
    import keras

    name = get_layer_type(spec.type).name
    args = [keras_value(a) for a in spec.args]
    kwargs = {k: keras_value(v) for k, v in spec.kwargs.items()}
    if name == "InputLayer":
        shape = args[0] if args else kwargs.pop("shape")
        return ("input", tuple(shape), layer_name)
    layer = getattr(keras.layers, name)(*args, name=layer_name or spec.name, **kwargs)
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
    names = [node.name for node in build_graph(model).nodes]  # our automatic names
    for call, name in zip(model.calls, names, strict=True):
        spec = call.layer
        built = keras_layer(spec, name)
        if isinstance(built, tuple):
            tensor = keras.Input(shape=built[1], name=name)
            inputs.append(tensor)
            outs = [tensor]
        else:
            refs = call.inputs if call.inputs is not None else [last]
            args = [tensors[r] for r in refs]  # type: ignore[index]
            if isinstance(built, (keras.layers.MultiHeadAttention,
                                  keras.layers.GroupQueryAttention)):
                # query, value[, key]; our one-input form is self-attention
                result = built(*args) if len(args) > 1 else built(args[0], args[0])
            else:
                result = built(args if len(args) > 1 else args[0])
            outs = list(result) if isinstance(result, (list, tuple)) else [result]
            layers[name] = built
        for i, out in enumerate(outs):
            tensors[TensorRef(name, 0, i)] = out
        last = TensorRef(name, 0, 0)
    assert last is not None
    return keras.Model(inputs, tensors[last]), layers
