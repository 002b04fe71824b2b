"""Live Keras models counted from their own weights: equal to count_params(), shared layers
once, nested models expandable, BatchNorm statistics under either convention."""

import pytest

import paramlab

keras = pytest.importorskip("keras")


def nested_model() -> "keras.Model":
    inner = keras.Sequential([keras.Input((8,)), keras.layers.Dense(6),
                              keras.layers.BatchNormalization()], name="inner")
    x = keras.Input((8,))
    shared = keras.layers.Dense(8, name="shared")
    y = shared(shared(x))
    return keras.Model(x, keras.layers.Dense(2)(inner(y)))


def test_live_model_equals_count_params() -> None:
    model = nested_model()
    summary = paramlab.count(model)
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert (summary.total, summary.trainable) == (model.count_params(), trainable)
    assert summary.convention == "keras"


def test_nested_expansion_and_torch_convention() -> None:
    model = nested_model()
    flat = paramlab.count(model)
    expanded = paramlab.count(model, depth=2)
    assert "inner" in [row.name for row in flat.layers]
    assert any(row.name.startswith("inner/batch_normalization") for row in expanded.layers)
    assert expanded.total == flat.total
    torch_view = paramlab.count(model, convention="torch")
    assert torch_view.total == flat.total - 12 and torch_view.buffers == 12  # 2 × 6 stats


def test_unbuilt_model_is_a_clear_error() -> None:
    model = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(paramlab.ParamlabError, match="not built"):
        paramlab.count(model)
