"""Keras model JSON counted from the JSON alone equals Keras' own count of the live model.

Real models are built here (keras.applications with weights=None and small functional models
with shared layers, nested models, multi-output layers and frozen layers); the JSON goes
through paramlab, which never imports Keras for it.
"""

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import paramlab

keras = pytest.importorskip("keras")


def keras_counts(model: Any) -> tuple[int, int, int]:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return model.count_params(), trainable, model.count_params() - trainable


def our_counts(summary: paramlab.Summary) -> tuple[int, int, int]:
    return summary.total, summary.trainable, summary.non_trainable


def count_json(model: Any) -> paramlab.Summary:
    return paramlab.count(json.loads(model.to_json()), other_convention=False)


def assert_layers_match(summary: paramlab.Summary, model: Any) -> None:
    """Each Keras layer's count (trainable and not) equals the sum of its rows here; a nested
    model's rows are prefixed with its name, and a shared layer's later calls add 0."""
    total: dict[str, int] = defaultdict(int)
    trainable: dict[str, int] = defaultdict(int)
    for row in summary.layers:
        total[row.name.split("/")[0]] += row.params
        trainable[row.name.split("/")[0]] += row.trainable
    for layer in model.layers:
        assert total[layer.name] == layer.count_params(), layer.name
        keras_trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
        assert trainable[layer.name] == keras_trainable, layer.name


@pytest.mark.parametrize("name", ["ResNet50", "MobileNetV2", "DenseNet121", "EfficientNetB0"])
def test_applications_from_json_and_archive(name: str, tmp_path: Path) -> None:
    model = getattr(keras.applications, name)(weights=None)
    summary = count_json(model)
    assert our_counts(summary) == keras_counts(model)
    assert_layers_match(summary, model)
    by_name = {layer.name: layer for layer in model.layers}
    for row in summary.layers:  # one row per layer: no application shares a layer
        assert row.output_shape == tuple(by_name[row.name].output.shape[1:]), row.name
    path = tmp_path / f"{name}.keras"
    model.save(path)
    from_archive = paramlab.count(str(path), other_convention=False)
    assert our_counts(from_archive) == keras_counts(model)
    keras.backend.clear_session()


def small_functional() -> Any:
    x = keras.Input((8,), name="x")
    shared = keras.layers.Dense(8, name="shared")
    twice = shared(shared(x))  # one layer, two calls: its weights exist once
    merged = keras.layers.Add()([x, twice])
    inner = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(3), keras.layers.BatchNormalization()],
        name="inner",
    )
    _, state_h, _ = keras.layers.LSTM(4, return_state=True)(keras.layers.Reshape((2, 4))(merged))
    frozen = keras.layers.Dense(2, name="frozen")
    frozen.trainable = False
    return keras.Model(x, [inner(merged), frozen(state_h)])


def test_shared_nested_multi_output_and_frozen_layers() -> None:
    model = small_functional()
    summary = count_json(model)
    assert our_counts(summary) == keras_counts(model)
    shared_rows = [row for row in summary.layers if row.name == "shared"]
    assert [row.params for row in shared_rows] == [72, 0]
    assert shared_rows[1].shared
    assert any(row.name == "inner/dense" for row in summary.layers)
    frozen = next(row for row in summary.layers if row.name == "frozen")
    assert (frozen.trainable, frozen.non_trainable) == (0, 10)


def sequential_with_input() -> Any:
    return keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(10, 3, padding="same"),
        keras.layers.BatchNormalization(), keras.layers.Flatten(), keras.layers.Dense(3),
    ])


def sequential_in_sequential() -> Any:
    inner = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)], name="inner")
    return keras.Sequential([keras.Input((3,)), inner, keras.layers.Dense(1)])


def nested_model_called_twice() -> Any:
    """A siamese encoder: one nested Functional applied to two inputs owns its weights once."""
    x = keras.Input((6,))
    encoder = keras.Model(x, keras.layers.Dense(4)(keras.layers.Dense(5)(x)), name="encoder")
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    merged = keras.layers.Concatenate()([encoder(a), encoder(b)])
    return keras.Model([a, b], keras.layers.Dense(1)(merged))


def nested_second_output() -> Any:
    """Only output 1 of a two-output nested model is used: tensor_index must be honoured."""
    x = keras.Input((4,))
    two = keras.Model(x, [keras.layers.Dense(3)(x), keras.layers.Dense(5)(x)], name="two")
    y = keras.Input((4,), name="y")
    _, second = two(y)
    return keras.Model(y, keras.layers.Dense(2, name="head")(second))


def shared_layer_out_of_order() -> Any:
    """Node 0 of 'shared' takes a later layer's output, node 1 the model input."""
    x = keras.Input((4,), name="x")
    shared = keras.layers.Dense(4, name="shared")
    first = shared(keras.layers.Dense(4, name="pre")(x))
    second = shared(x)
    return keras.Model(x, keras.layers.Subtract()([first, second]))


def wrappers() -> Any:
    layers = keras.layers
    return keras.Sequential([
        keras.Input((10, 8)),
        layers.Bidirectional(layers.LSTM(5, return_sequences=True)),
        layers.TimeDistributed(layers.Dense(3)),
        layers.Bidirectional(layers.GRU(4), backward_layer=layers.GRU(6, go_backwards=True)),
    ])


def attention_keywords() -> Any:
    """MultiHeadAttention called with key= before value= (kwargs order ≠ call order) and a
    gated head; an LSTM with initial_state= tensors; Attention with a mask keyword."""
    q = keras.Input((5, 8), name="q")
    v = keras.Input((7, 6), name="v")
    k = keras.Input((7, 3), name="k")
    h = keras.Input((4,), name="h")
    layers = keras.layers
    gated = layers.MultiHeadAttention(2, 4, use_gate=True, name="gated")(q, key=k, value=v)
    plain = layers.MultiHeadAttention(3, 2, name="plain")(query=q, value=v)
    seq = layers.LSTM(4, return_sequences=True, name="lstm")(q, initial_state=[h, h])
    att = layers.Attention(name="att")([seq, seq], mask=[None, None])
    out = layers.Concatenate()([gated, plain, att])
    return keras.Model([q, v, k, h], out)


def frozen_nested_model() -> Any:
    inner = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()],
        name="frozen_block",
    )
    inner.trainable = False
    x = keras.Input((4,))
    return keras.Model(x, keras.layers.Dense(1)(inner(x)))


SMALL_MODELS = [sequential_with_input, sequential_in_sequential, nested_model_called_twice,
                nested_second_output, shared_layer_out_of_order, wrappers, attention_keywords,
                frozen_nested_model, small_functional]


@pytest.mark.parametrize("build", SMALL_MODELS, ids=lambda f: f.__name__)
def test_small_models_layer_by_layer(build: Any) -> None:
    model = build()
    summary = count_json(model)
    assert our_counts(summary) == keras_counts(model)
    assert_layers_match(summary, model)


def test_shared_calls_follow_node_indices() -> None:
    summary = count_json(shared_layer_out_of_order())
    shared = [row for row in summary.layers if row.name == "shared"]
    assert [(row.params, row.shared, row.connected_to) for row in shared] == [
        (20, False, ["pre[0][0]"]), (0, True, ["x[0][0]"])]
    subtract = next(row for row in summary.layers if row.type == "Subtract")
    assert subtract.connected_to == ["shared[0][0]", "shared[1][0]"]


def test_nested_model_called_twice_counts_once() -> None:
    summary = count_json(nested_model_called_twice())
    encoder = [row for row in summary.layers if row.name.startswith("encoder/")]
    assert [(row.params, row.shared) for row in encoder] == [
        (35, False), (24, False), (0, True), (0, True)]  # (6 + 1) × 5, (5 + 1) × 4, shared


def test_trainable_is_read_per_layer_as_keras_loads_it() -> None:
    """A nested model marked trainable: false whose layer configs say trainable: true (a
    hand-edited file): Keras' loader keeps those layers trainable, and so does paramlab."""
    model = frozen_nested_model()
    data = json.loads(model.to_json())
    block = next(layer for layer in data["config"]["layers"]
                 if layer["class_name"] == "Sequential")
    for layer in block["config"]["layers"]:
        layer["config"]["trainable"] = True
    reloaded = keras.models.model_from_json(json.dumps(data))
    assert our_counts(paramlab.count(data, other_convention=False)) == keras_counts(reloaded)
    assert keras_counts(reloaded)[2] == 6  # only BatchNormalization's moving statistics


def test_keras_archive_without_keras(tmp_path: Path) -> None:
    """The .keras file is read in a subprocess where importing keras is made impossible."""
    model = small_functional()
    path = tmp_path / "model.keras"
    model.save(path)
    code = (
        "import sys; sys.modules['keras'] = None; sys.modules['torch'] = None\n"
        "import paramlab\n"
        f"s = paramlab.count({str(path)!r})\n"
        "print(s.total, s.trainable, s.non_trainable)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert tuple(map(int, out.stdout.split())) == keras_counts(model)


def test_sequential_json_with_build_config_only() -> None:
    model = keras.Sequential([keras.layers.Dense(10), keras.layers.Dense(3)])
    model.build((None, 784))
    summary = count_json(model)
    assert summary.total == 7_850 + 33  # (784 + 1) × 10 + (10 + 1) × 3


def test_keras2_format() -> None:
    """The Keras 2 (tf.keras) layout: batch_input_shape and list-style inbound nodes."""
    config = {
        "class_name": "Functional",
        "config": {
            "name": "model",
            "layers": [
                {"class_name": "InputLayer", "name": "input_1",
                 "config": {"batch_input_shape": [None, 5], "name": "input_1"},
                 "inbound_nodes": []},
                {"class_name": "Dense", "name": "dense",
                 "config": {"name": "dense", "units": 8, "use_bias": True,
                            "kernel_initializer": {"class_name": "GlorotUniform",
                                                   "config": {"seed": None}}},
                 "inbound_nodes": [[["input_1", 0, 0, {}]]]},
                {"class_name": "Dense", "name": "dense_1",
                 "config": {"name": "dense_1", "units": 3},
                 "inbound_nodes": [[["dense", 0, 0, {}]]]},
            ],
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["dense_1", 0, 0]],
        },
    }
    keras_model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8),
                                    keras.layers.Dense(3)])
    assert paramlab.count(config).total == keras_model.count_params() == 75


def test_keras2_sequential_with_batch_input_shape() -> None:
    """tf.keras writes a Sequential without an InputLayer, the shape on the first layer."""
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "Conv1D", "config": {"name": "conv1d", "batch_input_shape": [None, 20, 3],
                                            "filters": 4, "kernel_size": [3], "strides": [1],
                                            "padding": "valid", "use_bias": True}},
        {"class_name": "GlobalMaxPooling1D", "config": {"name": "pool"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 2, "trainable": False}},
    ]}}
    layers = keras.layers
    frozen = layers.Dense(2)
    frozen.trainable = False
    model = keras.Sequential([keras.Input((20, 3)), layers.Conv1D(4, 3),
                              layers.GlobalMaxPooling1D(), frozen])
    assert our_counts(paramlab.count(config, other_convention=False)) == keras_counts(model)


def test_keras2_tensor_keyword_arguments() -> None:
    """tf.keras writes a call's tensor keywords as [layer, node, tensor] in the node's dict."""
    def input_layer(name: str, shape: list[Any]) -> dict[str, Any]:
        return {"class_name": "InputLayer", "name": name, "inbound_nodes": [],
                "config": {"name": name, "batch_input_shape": shape}}

    config = {"class_name": "Functional", "config": {
        "name": "model",
        "layers": [
            input_layer("q", [None, 5, 8]), input_layer("v", [None, 7, 6]),
            {"class_name": "MultiHeadAttention", "name": "mha",
             "config": {"name": "mha", "num_heads": 2, "key_dim": 4},
             "inbound_nodes": [[["q", 0, 0, {"value": ["v", 0, 0]}]]]},
        ],
        "input_layers": [["q", 0, 0], ["v", 0, 0]],
        "output_layers": [["mha", 0, 0]],
    }}
    q, v = keras.Input((5, 8)), keras.Input((7, 6))
    model = keras.Model([q, v], keras.layers.MultiHeadAttention(2, 4)(q, v))
    assert our_counts(paramlab.count(config, other_convention=False)) == keras_counts(model)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Dense", "config": {"name": "d", "units": 3}}]}},
         "no input shape"),
        ({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
            {"class_name": "MyCustomLayer", "config": {"name": "custom"}}]}},
         "layer 'custom' is a MyCustomLayer, which paramlab has no rule for"),
        ({"class_name": "Functional", "config": {"layers": [
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 3},
             "inbound_nodes": [[["ghost", 0, 0, {}]]]}],
            "input_layers": [], "output_layers": [["d", 0, 0]]}},
         "cannot connect layers d"),
        ({"class_name": "Dense", "config": {"units": 3}}, "not a Keras model"),
    ],
)
def test_bad_keras_json(tmp_path: Path, config: dict[str, Any], fragment: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    with pytest.raises(paramlab.ParamlabError) as info:
        paramlab.count(str(path))
    assert fragment in str(info.value)
    assert str(path) in str(info.value)
