"""Recurrent, attention and embedding rules against the real frameworks.

Every number here comes from building the layer in Keras 3 (torch backend) or PyTorch:
output shapes (every output of ``return_state``), weight shapes in Keras' order, trainable
and non-trainable counts; MACs from ``torch.utils.flop_counter`` on an eager Keras call
(``unroll=True`` so Keras' RNN loop computes each step once; ``dropout>0`` so MultiHeadAttention
takes its einsum path instead of a fused kernel the counter cannot see); the torch convention
from ``torch.nn.RNN/LSTM/GRU`` parameter names and shapes.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramlab
from paramlab.errors import ParamlabError, ShapeError, SpecError
from paramlab.layers.base import Context, LayerResult, LayerSpec, Shape, apply_layer

keras = pytest.importorskip("keras")
from keras_builder import build_keras, keras_layer  # noqa: E402

torch = pytest.importorskip("torch")
L = keras.layers

def examples(n: int) -> settings:
    """Deterministic, deadline-free runs: Keras builds are slow and timing-dependent."""
    return settings(
        max_examples=n, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# ----------------------------------------------------------------------------- helpers


def ours(
    layer: str, shapes: list[Shape], *args: Any, convention: str = "keras", **kwargs: Any
) -> LayerResult:
    spec = LayerSpec(layer, args, kwargs)
    return apply_layer(spec, shapes, Context(convention=convention))[2]  # type: ignore[arg-type]


def outputs(result: LayerResult) -> list[Shape]:
    out = result.output_shape
    return list(out) if out and isinstance(out[0], tuple) else [out]  # type: ignore[list-item]


def keras_facts(
    layer: Any, shapes: list[Shape], *, as_list: bool = False, batch: int | None = None
) -> tuple[list[Shape], list[tuple[tuple[int, ...], bool]]]:
    """Call ``layer`` on symbolic inputs.

    Returns the output shapes without the batch axis and [(weight shape, trainable)].
    """
    tensors = [keras.Input(shape=s, batch_size=batch) for s in shapes]
    out = layer(tensors) if as_list else layer(*tensors)
    outs = out if isinstance(out, (list, tuple)) else [out]
    return (
        [tuple(o.shape[1:]) for o in outs],
        [(tuple(w.shape), w.trainable) for w in layer.weights],
    )


def our_weights(result: LayerResult) -> list[tuple[tuple[int, ...], bool]]:
    return [(w.shape, w.trainable) for w in result.weights]


def assert_matches_keras(result: LayerResult, layer: Any, shapes: list[Shape], **kw: Any) -> None:
    k_out, k_weights = keras_facts(layer, shapes, **kw)
    assert outputs(result) == k_out
    assert our_weights(result) == k_weights
    trainable = sum(w.size for w in result.weights if w.trainable)
    assert trainable == sum(int(w.numpy().size) for w in layer.trainable_weights)
    assert sum(w.size for w in result.weights) == layer.count_params()


def flop_counter_macs(layer: Any, shapes: list[tuple[int, ...]], as_list: bool = False) -> int:
    """MACs of one eager forward pass of a Keras layer, as torch's FlopCounterMode sees them."""
    from torch.utils.flop_counter import FlopCounterMode

    xs = [torch.rand((1, *s)) for s in shapes]

    def call() -> Any:
        return layer(xs) if as_list else layer(*xs)

    call()  # build outside the counter
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        call()
    return counter.get_total_flops() // 2


# ----------------------------------------------------------------------------- RNN


@st.composite
def rnn_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any], Shape, int | None]:
    kind = draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
    steps = draw(st.one_of(st.none(), st.integers(1, 6)))
    kwargs: dict[str, Any] = {
        "units": draw(st.integers(1, 12)),
        "use_bias": draw(st.booleans()),
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
        "dropout": draw(st.sampled_from([0.0, 0.25])),
    }
    if steps is not None:
        kwargs["unroll"] = draw(st.booleans())
    if kind == "GRU":
        kwargs["reset_after"] = draw(st.booleans())
    batch = None
    if draw(st.booleans()):
        kwargs["stateful"], batch = True, 2
    return kind, kwargs, (steps, draw(st.integers(1, 12))), batch


@examples(60)
@given(rnn_cases())
def test_rnn_matches_keras(case: tuple[str, dict[str, Any], Shape, int | None]) -> None:
    kind, kwargs, shape, batch = case
    result = ours(kind, [shape], **kwargs)
    assert_matches_keras(result, getattr(L, kind)(**kwargs), [shape], batch=batch)


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}),
     ("LSTM", {"use_bias": False, "return_sequences": True})],
)
def test_rnn_macs_match_flop_counter(kind: str, kwargs: dict[str, Any]) -> None:
    result = ours(kind, [(5, 3)], 8, **kwargs)
    assert result.macs == flop_counter_macs(getattr(L, kind)(8, unroll=True, **kwargs), [(5, 3)])


def test_rnn_formulas() -> None:
    assert ours("LSTM", [(10, 32)], 64).formula == "4 × ((32 + 64 + 1) × 64) = 24,832"
    assert ours("GRU", [(10, 32)], 64).formula == "3 × ((32 + 64 + 2) × 64) = 18,816"
    gru_v1 = ours("GRU", [(10, 32)], 64, reset_after=False)
    assert gru_v1.formula == "3 × ((32 + 64 + 1) × 64) = 18,624"
    assert ours("SimpleRNN", [(10, 32)], 64).formula == "(32 + 64 + 1) × 64 = 6,208"
    no_bias = ours("LSTM", [(10, 32)], 64, use_bias=False)
    assert no_bias.formula == "4 × ((32 + 64) × 64) = 24,576"
    torch_lstm = ours("LSTM", [(10, 32)], 64, convention="torch")
    assert torch_lstm.formula == "4 × ((32 + 64 + 2) × 64) = 25,088"


# ----------------------------------------------------------------------------- torch


@examples(40)
@given(
    kind=st.sampled_from(["RNN", "LSTM", "GRU"]),
    units=st.integers(1, 10),
    features=st.integers(1, 10),
    bias=st.booleans(),
    bidirectional=st.booleans(),
    reset_after=st.booleans(),
)
def test_torch_convention_matches_torch_modules(
    kind: str, units: int, features: int, bias: bool, bidirectional: bool, reset_after: bool
) -> None:
    """Names, shapes and totals of torch.nn.RNN/LSTM/GRU (single layer, batch_first)."""
    module = getattr(torch.nn, kind)(features, units, bias=bias, batch_first=True,
                                     bidirectional=bidirectional)
    keras_kind = "SimpleRNN" if kind == "RNN" else kind
    extra = {"reset_after": reset_after} if kind == "GRU" else {}
    inner = LayerSpec(keras_kind, (units,), {"use_bias": bias, **extra})
    if bidirectional:
        result = ours("Bidirectional", [(7, features)], inner, convention="torch")
    else:
        result = ours(keras_kind, [(7, features)], units, convention="torch", use_bias=bias,
                      **extra)
    expected = [(name, tuple(p.shape)) for name, p in module.named_parameters()]
    assert [(w.name, w.shape) for w in result.weights] == expected
    assert sum(w.size for w in result.weights) == sum(p.numel() for p in module.parameters())


def test_torch_notes_explain_the_second_bias() -> None:
    lstm = ours("LSTM", [(5, 32)], 64, convention="torch")
    assert "bias_ih_l0 and bias_hh_l0" in lstm.note and "256 more" in lstm.note
    assert ours("LSTM", [(5, 32)], 64).note == ""  # Keras' own count needs no remark
    assert "counts agree" in ours("GRU", [(5, 32)], 64, convention="torch").note
    v1 = ours("GRU", [(5, 32)], 64, reset_after=False, convention="torch")
    assert "no such variant" in v1.note
    assert sum(w.size for w in v1.weights) == sum(
        p.numel() for p in torch.nn.GRU(32, 64).parameters()
    )


# ----------------------------------------------------------------------------- wrappers


@st.composite
def bidirectional_cases(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
    kind = draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
    common = {
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
        "use_bias": draw(st.booleans()),
    }
    inner = {"kind": kind, "units": draw(st.integers(1, 8)), **common}
    backward = None
    if draw(st.booleans()):
        # Keras' symbolic shapes reuse the forward layer's, so keep units (and, with
        # return_state, the number of states) equal; differing units are tested eagerly.
        b_kind = kind if common["return_state"] else draw(st.sampled_from(["LSTM", "GRU"]))
        backward = {"kind": b_kind, "units": inner["units"], **common, "go_backwards": True}
    merge = draw(st.sampled_from(["concat", "sum", "mul", "ave", None]))
    return inner, backward, merge


def _rnn_spec(cfg: dict[str, Any]) -> LayerSpec:
    kwargs = {k: v for k, v in cfg.items() if k not in ("kind", "units")}
    return LayerSpec(cfg["kind"], (cfg["units"],), kwargs)


def _rnn_keras(cfg: dict[str, Any]) -> Any:
    kwargs = {k: v for k, v in cfg.items() if k not in ("kind", "units")}
    return getattr(L, cfg["kind"])(cfg["units"], **kwargs)


@examples(50)
@given(bidirectional_cases(), st.one_of(st.none(), st.integers(1, 5)), st.integers(1, 6))
def test_bidirectional_matches_keras(
    case: tuple[dict[str, Any], dict[str, Any] | None, Any], steps: int | None, features: int
) -> None:
    inner, backward, merge = case
    kwargs: dict[str, Any] = {"merge_mode": merge}
    k_kwargs = dict(kwargs)
    if backward is not None:
        kwargs["backward_layer"] = _rnn_spec(backward)
        k_kwargs["backward_layer"] = _rnn_keras(backward)
    shape = (steps, features)
    result = ours("Bidirectional", [shape], _rnn_spec(inner), **kwargs)
    assert_matches_keras(result, L.Bidirectional(_rnn_keras(inner), **k_kwargs), [shape])


def test_bidirectional_backward_layer_of_other_width_runs_in_keras() -> None:
    """Keras' symbolic shape doubles the forward width; the real output is 8 + 4."""
    layer = L.Bidirectional(L.LSTM(8), backward_layer=L.GRU(4, go_backwards=True))
    real = layer(torch.rand(2, 5, 3))
    result = ours("Bidirectional", [(5, 3)], LayerSpec("LSTM", (8,)),
                  backward_layer=LayerSpec("GRU", (4,), {"go_backwards": True}))
    assert result.output_shape == tuple(real.shape[1:]) == (12,)
    assert sum(w.size for w in result.weights) == layer.count_params()
    with pytest.raises(ShapeError, match="merge_mode='sum' needs equal outputs"):
        ours("Bidirectional", [(5, 3)], LayerSpec("LSTM", (8,)), merge_mode="sum",
             backward_layer=LayerSpec("GRU", (4,), {"go_backwards": True}))


@pytest.mark.parametrize(
    ("inner", "backward", "message"),
    [
        (LayerSpec("LSTM", (4,), {"go_backwards": True}), None, "different go_backwards"),
        (LayerSpec("LSTM", (4,)), LayerSpec("LSTM", (4,)), "different go_backwards"),
        (LayerSpec("LSTM", (4,)), LayerSpec("LSTM", (4,), {"go_backwards": True,
                                                             "return_sequences": True}),
         "same return_sequences"),
        (LayerSpec("Dense", (4,)), None, "wraps a recurrent layer"),
    ],
)
def test_bidirectional_rejects_what_keras_rejects(
    inner: LayerSpec, backward: LayerSpec | None, message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        ours("Bidirectional", [(5, 3)], inner, backward_layer=backward)
    with pytest.raises((ValueError, TypeError)):
        k_back = keras_layer(backward) if backward is not None else None
        L.Bidirectional(keras_layer(inner), backward_layer=k_back)(keras.Input((5, 3)))


@pytest.mark.parametrize(
    ("inner", "shape"),
    [
        (LayerSpec("Dense", (4,)), (5, 3)),
        (LayerSpec("Dense", (4,), {"use_bias": False}), (None, 2, 3)),
        (LayerSpec("Conv2D", (4, 3)), (5, 8, 8, 3)),
        (LayerSpec("LSTM", (6,), {"return_sequences": True}), (4, 5, 3)),
        (LayerSpec("Bidirectional", (LayerSpec("GRU", (3,)),)), (4, 5, 2)),
        (LayerSpec("Embedding", (50, 8)), (4, 6)),
    ],
)
def test_time_distributed_matches_keras(inner: LayerSpec, shape: Shape) -> None:
    result = ours("TimeDistributed", [shape], inner)
    assert_matches_keras(result, L.TimeDistributed(keras_layer(inner)), [shape])
    inner_macs = apply_layer(inner, [shape[1:]], Context())[2].macs
    assert result.macs == (shape[0] or 1) * inner_macs


def test_time_distributed_macs_match_flop_counter() -> None:
    result = ours("TimeDistributed", [(5, 8, 8, 3)], LayerSpec("Conv2D", (4, 3)))
    layer = L.TimeDistributed(L.Conv2D(4, 3))
    assert result.macs == flop_counter_macs(layer, [(5, 8, 8, 3)])


# ----------------------------------------------------------------------------- ConvLSTM


@st.composite
def conv_lstm_cases(draw: st.DrawFn) -> tuple[int, dict[str, Any], Shape]:
    rank = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilated = draw(st.booleans())
    strides = (1,) * rank if dilated else tuple(draw(st.integers(1, 2)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank)) if dilated else (1,) * rank
    spatial = tuple(
        draw(st.integers((k - 1) * d + 1, (k - 1) * d + 4))
        for k, d in zip(kernel, dilation, strict=True)
    )
    channels = draw(st.integers(1, 4))
    first = draw(st.booleans())
    kwargs = {
        "filters": draw(st.integers(1, 4)),
        "kernel_size": kernel,
        "strides": strides,
        "dilation_rate": dilation,
        "padding": draw(st.sampled_from(["valid", "same"])),
        "use_bias": draw(st.booleans()),
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
        "data_format": "channels_first" if first else "channels_last",
    }
    step = (channels, *spatial) if first else (*spatial, channels)
    return rank, kwargs, (draw(st.one_of(st.none(), st.integers(1, 3))), *step)


@examples(50)
@given(conv_lstm_cases())
def test_conv_lstm_matches_keras(case: tuple[int, dict[str, Any], Shape]) -> None:
    rank, kwargs, shape = case
    result = ours(f"ConvLSTM{rank}D", [shape], **kwargs)
    assert_matches_keras(result, getattr(L, f"ConvLSTM{rank}D")(**kwargs), [shape])


@pytest.mark.parametrize(
    ("rank", "kwargs", "shape"),
    [
        (1, {"padding": "same", "strides": 2}, (4, 8, 3)),
        (2, {}, (3, 7, 6, 2)),
        (2, {"dilation_rate": 2, "use_bias": False}, (2, 9, 9, 3)),
        (3, {"padding": "same"}, (2, 4, 4, 4, 2)),
    ],
)
def test_conv_lstm_macs_match_flop_counter(
    rank: int, kwargs: dict[str, Any], shape: tuple[int, ...]
) -> None:
    result = ours(f"ConvLSTM{rank}D", [shape], 4, 3, **kwargs)
    layer = getattr(L, f"ConvLSTM{rank}D")(4, 3, unroll=True, **kwargs)
    assert result.macs == flop_counter_macs(layer, [shape])


def test_conv_lstm_formula() -> None:
    result = ours("ConvLSTM2D", [(5, 8, 8, 3)], 4, 3)
    assert result.formula == "4 × ((3 × 3 × 3 + 3 × 3 × 4 + 1) × 4) = 1,024"


# ----------------------------------------------------------------------------- attention


@st.composite
def mha_cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[Shape]]:
    kwargs: dict[str, Any] = {
        "num_heads": draw(st.integers(1, 4)),
        "key_dim": draw(st.integers(1, 8)),
        "value_dim": draw(st.one_of(st.none(), st.integers(1, 8))),
        "use_bias": draw(st.booleans()),
        "use_gate": draw(st.booleans()),
        "output_shape": draw(st.sampled_from([None, 5, (2, 3)])),
    }
    n_inputs = draw(st.integers(1, 3))
    length = st.one_of(st.none(), st.integers(1, 6))
    dims = st.integers(1, 9)
    if draw(st.booleans()):  # rank-3 inputs (e.g. images) with attention_axes
        axes = draw(st.sampled_from([None, 1, 2, (1, 2), -2]))
        kwargs["attention_axes"] = axes
        shared = draw(st.integers(1, 4))
        shared_axis = {1: 2, 2: 1, -2: 2}.get(axes)  # the axis attention is not applied to

        def shape() -> Shape:
            lengths = [draw(length), draw(length)]
            if shared_axis is not None:
                lengths[shared_axis - 1] = shared
            return (*lengths, draw(dims))
    else:

        def shape() -> Shape:
            return (draw(length), draw(dims))

    query, value = shape(), shape()
    key = (*value[:-1], draw(dims))
    return kwargs, [query, value, key][:n_inputs]


@examples(60)
@given(mha_cases())
def test_multi_head_attention_matches_keras(case: tuple[dict[str, Any], list[Shape]]) -> None:
    kwargs, shapes = case
    result = ours("MultiHeadAttention", shapes, **kwargs)
    layer = L.MultiHeadAttention(**kwargs)
    keras_shapes = shapes if len(shapes) > 1 else shapes * 2  # self-attention: mha(x, x)
    assert_matches_keras(result, layer, keras_shapes)


@pytest.mark.parametrize(
    ("kwargs", "shapes"),
    [
        ({}, [(5, 6), (7, 3)]),
        ({"value_dim": 3, "use_gate": True, "output_shape": (2, 5)}, [(5, 6), (7, 3), (7, 9)]),
        ({"attention_axes": (2,)}, [(5, 4, 6), (5, 7, 3)]),
        ({"attention_axes": (1, 2), "use_bias": False}, [(3, 4, 6), (2, 5, 6)]),
        ({"num_heads": 4}, [(6, 16)]),
    ],
)
def test_multi_head_attention_macs_match_flop_counter(
    kwargs: dict[str, Any], shapes: list[tuple[int, ...]]
) -> None:
    """Projections plus QKᵀ and scores·V; dropout>0 keeps Keras off the fused kernel."""
    kwargs = {"num_heads": 2, "key_dim": 4, **kwargs}
    result = ours("MultiHeadAttention", shapes, **kwargs)
    layer = L.MultiHeadAttention(dropout=0.1, **kwargs)
    assert result.macs == flop_counter_macs(layer, shapes if len(shapes) > 1 else shapes * 2)


def test_multi_head_attention_formula() -> None:
    result = ours("MultiHeadAttention", [(10, 64)], 8, 8)
    assert result.formula == (
        "query (64 + 1) × 8 × 8 + key (64 + 1) × 8 × 8 + value (64 + 1) × 8 × 8"
        " + output (64 + 1) × 64 = 16,640"
    )


@pytest.mark.parametrize(
    ("layer", "kwargs", "shapes"),
    [
        ("Attention", {}, [(5, 6), (7, 6)]),
        ("Attention", {"use_scale": True}, [(5, 6), (7, 3), (7, 6)]),
        ("Attention", {"score_mode": "concat", "use_scale": True}, [(5, 6), (7, 6)]),
        ("Attention", {}, [(4, 5, 6), (4, 7, 6)]),
        ("AdditiveAttention", {}, [(5, 6), (7, 6)]),
        ("AdditiveAttention", {"use_scale": False}, [(5, 6), (7, 2), (7, 6)]),
    ],
)
def test_dot_product_attention_layers_match_keras(
    layer: str, kwargs: dict[str, Any], shapes: list[tuple[int, ...]]
) -> None:
    result = ours(layer, shapes, **kwargs)
    assert_matches_keras(result, getattr(L, layer)(**kwargs), shapes, as_list=True)
    eager = getattr(L, layer)(**kwargs)
    assert result.macs == flop_counter_macs(eager, shapes, as_list=True)


# ----------------------------------------------------------------------------- embedding


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((5,), {}),
        ((None,), {"mask_zero": True}),
        ((3, 4), {}),
        ((), {}),
        ((7,), {"lora_rank": 2}),
    ],
)
def test_embedding_matches_keras(shape: Shape, kwargs: dict[str, Any]) -> None:
    result = ours("Embedding", [shape], 100, 8, **kwargs)
    assert_matches_keras(result, L.Embedding(100, 8, **kwargs), [shape])
    assert result.macs == 0


def test_embedding_formula_and_deprecated_input_length() -> None:
    result = ours("Embedding", [(50,)], 1000, 16, input_length=50)
    assert result.formula == "1,000 × 16 = 16,000"
    assert result.output_shape == (50, 16)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("layer", "args", "kwargs", "shapes", "message"),
    [
        ("LSTM", (4,), {}, [(7,)], "expects inputs of rank 3"),
        ("GRU", (4,), {}, [(5, 3, 2)], "expects inputs of rank 3"),
        ("LSTM", (4,), {}, [(5, None)], "needs a known last axis"),
        ("ConvLSTM2D", (4, 5), {}, [(5, 4, 4, 3)], "does not fit"),
        ("ConvLSTM2D", (4, 3), {}, [(5, 8, 3)], "expects inputs of rank 5"),
        ("TimeDistributed", (LayerSpec("Dense", (3,)),), {}, [(4,)], "rank 3 or more"),
        ("MultiHeadAttention", (2, 4), {}, [(5, 6), (7, 3), (8, 3)], "value and key"),
        ("MultiHeadAttention", (2, 4), {}, [(6,), (6,)], "sequence"),
    ],
)
def test_impossible_inputs_raise_shape_error_as_keras_fails(
    layer: str, args: tuple[Any, ...], kwargs: dict[str, Any], shapes: list[Shape], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        ours(layer, shapes, *args, **kwargs)
    built = keras_layer(LayerSpec(layer, args, kwargs))
    # Keras' symbolic call accepts a rank-1 query; the real computation then fails.
    eager = layer == "MultiHeadAttention" and len(shapes[0]) == 1
    tensors = [torch.rand(2, *s) if eager else keras.Input(s) for s in shapes]
    with pytest.raises(Exception):  # noqa: B017 - ValueError, or a backend error when run
        built(*tensors)


def test_attention_rejects_unequal_query_and_key_features() -> None:
    with pytest.raises(ShapeError, match="must be equal"):
        ours("Attention", [(5, 6), (7, 3)])
    with pytest.raises(Exception):  # noqa: B017 - Keras fails when it runs
        L.Attention()([torch.rand(1, 5, 6), torch.rand(1, 7, 3)])


def test_flash_attention_with_dropout_is_an_argument_error() -> None:
    with pytest.raises(SpecError, match="flash_attention"):
        ours("MultiHeadAttention", [(5, 6)], 2, 4, dropout=0.1, flash_attention=True)
    with pytest.raises(ValueError):
        L.MultiHeadAttention(2, 4, dropout=0.1, flash_attention=True)


# ----------------------------------------------------------------------------- end to end


@pytest.mark.parametrize(
    "spec",
    [
        "input(50) > embedding(1000, 16) > bidirectional(lstm(8)) > dense(2)",
        "input(20, 8) > (lstm(32, return_sequences=true) > dropout(0.2)) * 2 > gru(4)",
        "input(10, 6) > multi_head_attention(2, 8) > time_distributed(dense(3)) > simple_rnn(5)",
        # output 2 of an LSTM with return_state is its cell state c
        "x = input(5, 3); s = x > lstm(4, return_state=true); s.2 > dense(2)",
        "x = input(5, 3); b = x > bidirectional(gru(4, return_state=true), merge_mode=none)"
        "; b.1 > dense(2)",
    ],
)
def test_models_match_keras(spec: str) -> None:
    summary = paramlab.count(spec)
    model, _ = build_keras(paramlab.counting.to_model_spec(spec))
    assert summary.total == model.count_params()
    assert summary.layers[-1].output_shape == tuple(model.output.shape[1:])


def test_errors_name_the_layer() -> None:
    with pytest.raises(ParamlabError, match="lstm"):
        paramlab.count("input(7) > lstm(4)")


def test_keras_json_of_a_mixed_model_counts_as_keras() -> None:
    """Every argument Keras 3 serializes for these layers is understood, layer by layer."""
    import json

    x, img, ids = keras.Input((6, 5)), keras.Input((3, 8, 8, 2)), keras.Input((6,))
    e = L.Embedding(100, 5)(ids)
    h = L.Bidirectional(
        L.LSTM(4, return_sequences=True),
        backward_layer=L.LSTM(4, return_sequences=True, go_backwards=True),
    )(x)
    h = L.Bidirectional(L.GRU(3, return_sequences=True, reset_after=False), merge_mode="sum")(h)
    a = L.MultiHeadAttention(2, 4, use_gate=True, sliding_window=3, output_shape=5)(h, e)
    a = L.Attention(use_scale=True)([a, e])
    a = L.AdditiveAttention()([a, a])
    t = L.TimeDistributed(L.Dense(3))(a)
    c = L.ConvLSTM2D(2, 3, return_state=True)(img)
    model = keras.Model([x, img, ids], [L.SimpleRNN(2)(t), c[1]])
    summary = paramlab.count(json.loads(model.to_json()))
    assert summary.total == model.count_params()
    ours_by_name = {row.name: (row.params, row.output_shape) for row in summary.layers}
    for layer in model.layers:
        out = layer.output
        shapes = [tuple(o.shape[1:]) for o in out] if isinstance(out, (list, tuple)) else None
        expected_shape = tuple(shapes) if shapes else tuple(out.shape[1:])
        assert ours_by_name[layer.name] == (layer.count_params(), expected_shape), layer.name


def test_explain_shows_the_torch_bias_note() -> None:
    from paramlab.render.explain import render_explain

    text = render_explain(paramlab.count("input(10, 32) > lstm(64)", convention="torch"))
    assert "   Note: PyTorch's nn.LSTM keeps two bias vectors" in text
    assert "Note:" not in render_explain(paramlab.count("input(10, 32) > lstm(64)"))
