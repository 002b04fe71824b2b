"""Keras model JSON counted from the JSON alone equals Keras' own count of the live model.

Real models are built here (keras.applications with weights=None and small functional models
with shared layers, nested models, multi-output layers and frozen layers); the JSON goes
through paramlab, which never imports Keras for it.
"""

import json
import subprocess
import sys
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


@pytest.mark.parametrize("name", ["ResNet50", "MobileNetV2", "DenseNet121", "EfficientNetB0"])
def test_applications_from_json(name: str) -> None:
    model = getattr(keras.applications, name)(weights=None)
    summary = count_json(model)
    assert our_counts(summary) == keras_counts(model)
    by_name = {layer.name: layer for layer in model.layers}
    for row in summary.layers:
        assert row.params == by_name[row.name].count_params(), row.name
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


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "Dense", "config": {"name": "d", "units": 3}}]}},
         "no input shape"),
        ({"class_name": "Sequential", "config": {"layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
            {"class_name": "MyCustomLayer", "config": {"name": "custom"}}]}},
         "unknown layer 'MyCustomLayer'"),
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
