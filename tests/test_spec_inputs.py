"""Every way to write a spec gives the same model: shorthand, DSL, YAML and JSON files.

Counts are checked against Keras built from the same description (tests/keras_builder.py).
"""

import json
from pathlib import Path

import pytest

import paramlab
from paramlab.errors import ConfigError, SpecError
from paramlab.spec import parse

pytest.importorskip("keras")
from keras_builder import build_keras

RESIDUAL = """
x = input(8, 8, 4)
y = x > conv2d(4, 3, padding="same") > batch_normalization > relu
y = y > conv2d(4, 3, padding="same") > batch_normalization
[x, y] > add > relu > global_average_pooling2d > dense(10)
"""


def keras_counts(spec: str) -> tuple[int, int, int]:
    model, _ = build_keras(parse(spec))
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return model.count_params(), trainable, model.count_params() - trainable


def our_counts(spec: str) -> tuple[int, int, int]:
    s = paramlab.count(spec)
    return s.total, s.trainable, s.non_trainable


@pytest.mark.parametrize(
    "spec",
    [
        "input(40) > dense(64, activation=relu) * 3 > dense(1)",
        "input(12, 8) > (lstm(6, return_sequences=true) > dropout(0.2)) * 2 > dense(1)",
        "input(50) > embedding(1000, 16) > bidirectional(lstm(8)) > dense(2)",
        "input(8) > dense(4, trainable=false) > dense(2, name='head')",
        RESIDUAL,
        "a = input(5); b = input(3); [a, b] > concatenate > dense(2)",
    ],
)
def test_dsl_matches_keras(spec: str) -> None:
    assert our_counts(spec) == keras_counts(spec)


def test_repetition_makes_distinct_layers() -> None:
    summary = paramlab.count("input(10) > (dense(5) > dropout(0.1)) * 3")
    names = [row.name for row in summary.layers]
    assert names == ["dense", "dropout", "dense_1", "dropout_1", "dense_2", "dropout_2"]
    assert [row.params for row in summary.layers if row.type == "Dense"] == [55, 30, 30]


def test_residual_summary_shows_connections() -> None:
    summary = paramlab.count(RESIDUAL)
    add = next(row for row in summary.layers if row.type == "Add")
    assert add.connected_to == ["input_layer[0][0]", "batch_normalization_1[0][0]"]
    assert "Connected to" in str(summary)


def test_yaml_and_json_files_equal_the_dsl(tmp_path: Path) -> None:
    layer_list = {
        "name": "cnn",
        "input": [28, 28, 1],
        "layers": [
            {"conv2d": {"filters": 10, "kernel_size": 3, "padding": "same"}},
            {"type": "conv2d", "filters": 10, "kernel_size": 3, "padding": "same"},
            "flatten",
            {"dense": 3},
        ],
    }
    (tmp_path / "cnn.json").write_text(json.dumps(layer_list))
    yaml = pytest.importorskip("yaml")
    (tmp_path / "cnn.yaml").write_text(yaml.safe_dump(layer_list))
    for name in ("cnn.json", "cnn.yaml"):
        summary = paramlab.count(str(tmp_path / name))
        assert summary.total == 24_533  # seeds/004
        assert summary.name == "cnn"


def test_yaml_graph_with_named_inputs_and_repeat(tmp_path: Path) -> None:
    text = """
inputs: {x: [6]}
layers:
  - {type: dense, units: 6, name: y, inputs: [x]}
  - {type: add, inputs: [x, y]}
  - {type: dense, units: 4, repeat: 2}
"""
    (tmp_path / "g.yaml").write_text(text)
    summary = paramlab.count(str(tmp_path / "g.yaml"))
    assert summary.total == 42 + 28 + 20


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON at line 1"),
        ("[1, 2]", "found a list"),
        ('{"foo": 1}', "not a model description"),
        ('{"input": [4], "layers": []}', "'layers' must be a non-empty list"),
        ('{"input": [4], "layers": [{"a": 1, "b": 2}]}', "layers[0]"),
    ],
)
def test_bad_files_name_the_file(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        paramlab.count(str(path))
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("spec", "column"),
    [
        ("input(4) > dense(2) > ", 22),
        ("input(4) > dense(2) >> dense(1)", 21),
        ("input(4) > @", 11),
        ("[a, b] > add", 1),
    ],
)
def test_syntax_errors_carry_the_column(spec: str, column: int) -> None:
    with pytest.raises(SpecError) as info:
        parse(spec)
    assert info.value.column == column
