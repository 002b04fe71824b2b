"""The live-Keras adapter against Keras' own count_params, per layer and in total."""

from __future__ import annotations

import math

import pytest

keras = pytest.importorskip("keras")

import paramlab  # noqa: E402
from paramlab.adapters.keras import count_keras_model  # noqa: E402
from paramlab.options import CountOptions  # noqa: E402


def opts(depth: int | None = None) -> CountOptions:
    return CountOptions(depth=depth)


@pytest.fixture(scope="module")
def nested() -> keras.Model:
    inner = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
         keras.layers.Dense(8)], name="block",
    )
    shared = keras.layers.Dense(8, name="shared")
    inp = keras.Input((8,))
    x = shared(inner(inp))
    x = shared(x)  # the same layer called twice
    out = keras.layers.Dense(3, name="head")(x)
    model = keras.Model(inp, out, name="outer")
    model.get_layer("head").trainable = False
    return model


def test_totals_match_count_params(nested: keras.Model) -> None:
    summary = paramlab.count(nested)
    assert summary.total == nested.count_params()
    trainable = sum(math.prod(v.shape) for v in nested.trainable_weights)
    assert summary.trainable == trainable
    assert summary.non_trainable == nested.count_params() - trainable


def test_rows_match_layers(nested: keras.Model) -> None:
    summary = count_keras_model(nested, None, opts())
    rows = {row.name: row for row in summary.layers}
    assert set(rows) == {"block", "shared", "head"}
    for name, row in rows.items():
        assert row.params == nested.get_layer(name).count_params()
        assert row.output_shape == tuple(nested.get_layer(name).output.shape[1:])
    assert "called 2 times" in rows["shared"].formula
    assert rows["head"].trainable == 0 and rows["head"].non_trainable == 27
    assert rows["head"].formula.startswith("kernel 8 × 3 + bias 3 = 27")


def test_nested_model_expanded_on_request(nested: keras.Model) -> None:
    summary = count_keras_model(nested, None, opts(depth=1))
    names = [(row.name, row.depth) for row in summary.layers]
    inner = nested.get_layer("block")
    assert names[0] == ("block", 0) and summary.layers[0].params == 0
    assert [n for n, d in names if d == 1] == [f"block/{layer.name}" for layer in inner.layers]
    assert summary.total == nested.count_params()
    bn = next(r for r in summary.layers if r.type == "BatchNormalization")
    assert bn.params == inner.layers[1].count_params() == 64
    assert bn.non_trainable == 32


def test_torch_convention_makes_statistics_buffers(nested: keras.Model) -> None:
    summary = count_keras_model(nested, "torch", opts(depth=1))
    assert summary.buffers == 32
    assert summary.total == nested.count_params() - 32
    assert summary.other is not None and summary.other.total == nested.count_params()


def test_layer_shared_with_nested_model_counted_once() -> None:
    dense = keras.layers.Dense(4, name="tied")
    inner = keras.Sequential([keras.Input((4,)), dense], name="inner")
    inp = keras.Input((4,))
    model = keras.Model(inp, dense(inner(inp)), name="m")
    summary = count_keras_model(model, None, opts(depth=1))
    assert summary.total == model.count_params() == 20
    assert any("shares weights with" in row.formula for row in summary.layers)
