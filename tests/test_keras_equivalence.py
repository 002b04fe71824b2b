"""Property test: random valid architectures across every layer family, counted by paramlab
and built in real Keras 3, agree on every number — totals, trainable, non-trainable, and
per-layer counts and output shapes.

Architectures are drawn layer by layer: each step picks a layer that accepts the current
rank, with arguments drawn to fit the current shape; graphs add residual merges, two-branch
concatenations and several inputs.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from paramlab.counting import count
from paramlab.errors import ShapeError
from paramlab.graph import Call, Graph, ModelSpec, TensorRef
from paramlab.layers.base import Context, LayerSpec

keras = pytest.importorskip("keras")
from keras_builder import build_keras  # noqa: E402

EXAMPLES = 320


def L(kind: str, *args: Any, **kwargs: Any) -> LayerSpec:
    return LayerSpec(kind, args, kwargs)


# --------------------------------------------------------------------------- layer menus
# Each menu entry draws a layer for the current shape (without the batch axis).


def image_layer(draw: st.DrawFn, shape: tuple[int, ...]) -> LayerSpec:
    h, w, c = shape
    small = min(h, w)
    k = draw(st.integers(1, min(3, small)))
    pad = draw(st.sampled_from(["valid", "same"]))
    strides = draw(st.integers(1, 2))
    choice = draw(st.sampled_from([
        "conv", "conv_group", "conv_dilated", "transpose", "depthwise", "separable", "pool",
        "zeropad", "crop", "upsample", "bn", "ln", "gn", "prelu", "act", "drop", "dense",
        "unitnorm", "rescale", "convlstm_skip",
    ]))
    filters = draw(st.integers(1, 6))
    bias = draw(st.booleans())
    if choice == "conv":
        return L("Conv2D", filters, k, strides=strides, padding=pad, use_bias=bias)
    if choice == "conv_group":
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if c % g == 0]))
        return L("Conv2D", groups * filters, k, padding=pad, groups=groups)
    if choice == "conv_dilated" and small >= 5:
        return L("Conv2D", filters, 2, dilation_rate=2, padding=pad)
    if choice == "transpose":
        out_pad = draw(st.sampled_from([None, 0])) if strides == 1 else draw(
            st.sampled_from([None, 0, 1]))
        return L("Conv2DTranspose", filters, k, strides=strides, padding=pad,
                 output_padding=out_pad, use_bias=bias)
    if choice == "depthwise":
        return L("DepthwiseConv2D", k, strides=strides, padding=pad,
                 depth_multiplier=draw(st.integers(1, 2)), use_bias=bias)
    if choice == "separable":
        return L("SeparableConv2D", filters, k, padding=pad,
                 depth_multiplier=draw(st.integers(1, 2)), use_bias=bias)
    if choice == "pool" and small >= 2:
        kind = draw(st.sampled_from(["MaxPooling2D", "AveragePooling2D"]))
        return L(kind, 2, strides=draw(st.sampled_from([None, 1, 2])), padding=pad)
    if choice == "zeropad":
        return L("ZeroPadding2D", draw(st.sampled_from([1, (1, 2), ((0, 1), (2, 0))])))
    if choice == "crop" and small >= 3:
        return L("Cropping2D", draw(st.sampled_from([1, ((0, 1), (1, 0))])))
    if choice == "upsample" and max(h, w) <= 12:
        return L("UpSampling2D", draw(st.sampled_from([2, (1, 2)])))
    if choice == "bn":
        return L("BatchNormalization", center=draw(st.booleans()), scale=draw(st.booleans()))
    if choice == "ln":
        return L("LayerNormalization", axis=draw(st.sampled_from([-1, (1, 2, 3)])))
    if choice == "gn":
        groups = draw(st.sampled_from([g for g in (1, 2, c) if c % g == 0]))
        return L("GroupNormalization", groups=groups)
    if choice == "prelu":
        return L("PReLU", shared_axes=draw(st.sampled_from([None, (1, 2)])))
    if choice == "act":
        return draw(st.sampled_from([L("ReLU"), L("LeakyReLU"), L("ELU"), L("Softmax"),
                                     L("Activation", "tanh")]))
    if choice == "drop":
        return draw(st.sampled_from([L("Dropout", 0.2), L("SpatialDropout2D", 0.1),
                                     L("GaussianNoise", 0.1), L("GaussianDropout", 0.1)]))
    if choice == "dense":
        return L("Dense", filters)
    if choice == "unitnorm":
        return L("UnitNormalization")
    if choice == "rescale":
        return L("Rescaling", 1 / 255)
    return L("BatchNormalization")


def sequence_layer(draw: st.DrawFn, shape: tuple[int, ...]) -> LayerSpec:
    t, _f = shape
    k = draw(st.integers(1, min(3, t)))
    units = draw(st.integers(1, 6))
    bias = draw(st.booleans())
    seq = draw(st.booleans())
    choice = draw(st.sampled_from([
        "conv", "causal", "transpose", "depthwise", "separable", "pool", "zeropad", "crop",
        "upsample", "rnn", "lstm", "gru", "bidir", "timedist", "mha", "permute", "dense",
        "ln", "spatialdrop", "conv_lstm_skip",
    ]))
    if choice == "conv":
        return L("Conv1D", units, k, strides=draw(st.integers(1, 2)),
                 padding=draw(st.sampled_from(["valid", "same"])), use_bias=bias)
    if choice == "causal":
        return L("Conv1D", units, k, padding="causal", dilation_rate=draw(st.integers(1, 2)))
    if choice == "transpose":
        return L("Conv1DTranspose", units, k, strides=draw(st.integers(1, 2)),
                 padding=draw(st.sampled_from(["valid", "same"])))
    if choice == "depthwise":
        return L("DepthwiseConv1D", k, depth_multiplier=draw(st.integers(1, 2)))
    if choice == "separable":
        return L("SeparableConv1D", units, k, padding="same")
    if choice == "pool" and t >= 2:
        return L(draw(st.sampled_from(["MaxPooling1D", "AveragePooling1D"])), 2,
                 padding=draw(st.sampled_from(["valid", "same"])))
    if choice == "zeropad":
        return L("ZeroPadding1D", draw(st.sampled_from([1, (2, 0)])))
    if choice == "crop" and t >= 3:
        return L("Cropping1D", (1, 1))
    if choice == "upsample" and t <= 12:
        return L("UpSampling1D", 2)
    if choice == "rnn":
        return L("SimpleRNN", units, return_sequences=seq, use_bias=bias)
    if choice == "lstm":
        return L("LSTM", units, return_sequences=seq, use_bias=bias)
    if choice == "gru":
        return L("GRU", units, return_sequences=seq, reset_after=draw(st.booleans()),
                 use_bias=bias)
    if choice == "bidir":
        inner = L(draw(st.sampled_from(["LSTM", "GRU", "SimpleRNN"])), units,
                  return_sequences=seq)
        return L("Bidirectional", inner, merge_mode=draw(st.sampled_from(
            ["concat", "sum", "ave", "mul"])))
    if choice == "timedist":
        return L("TimeDistributed", L("Dense", units))
    if choice == "mha":
        return L("MultiHeadAttention", num_heads=draw(st.integers(1, 3)),
                 key_dim=draw(st.integers(1, 4)), use_bias=bias,
                 value_dim=draw(st.sampled_from([None, 3])))
    if choice == "permute":
        return L("Permute", (2, 1))
    if choice == "dense":
        return L("Dense", units)
    if choice == "ln":
        return L("LayerNormalization", center=bias)
    if choice == "spatialdrop":
        return L("SpatialDropout1D", 0.1)
    return L("LSTM", units, return_sequences=True)


def vector_layer(draw: st.DrawFn, shape: tuple[int, ...]) -> LayerSpec:
    (f,) = shape
    units = draw(st.integers(1, 12))
    choice = draw(st.sampled_from(["dense", "dense_nobias", "bn", "drop", "repeat",
                                   "reshape", "prelu", "frozen", "ln", "alpha", "norm"]))
    if choice == "dense":
        return L("Dense", units)
    if choice == "dense_nobias":
        return L("Dense", units, use_bias=False)
    if choice == "bn":
        return L("BatchNormalization")
    if choice == "drop":
        return L("Dropout", 0.5)
    if choice == "repeat":
        return L("RepeatVector", draw(st.integers(1, 4)))
    if choice == "reshape":
        return L("Reshape", (f, 1))
    if choice == "prelu":
        return L("PReLU")
    if choice == "frozen":
        spec = L("Dense", units)
        spec.trainable = False
        return spec
    if choice == "ln":
        return L("LayerNormalization")
    if choice == "norm":
        return L("Normalization")
    return L("AlphaDropout", 0.1)


def volume_layer(draw: st.DrawFn, shape: tuple[int, ...]) -> LayerSpec:
    choice = draw(st.sampled_from(["conv", "transpose", "pool", "zeropad", "crop",
                                   "upsample", "spatialdrop", "bn", "convlstm"]))
    filters = draw(st.integers(1, 3))
    small = min(shape[:3])
    if choice == "conv":
        return L("Conv3D", filters, draw(st.integers(1, min(2, small))),
                 padding=draw(st.sampled_from(["valid", "same"])))
    if choice == "transpose":
        return L("Conv3DTranspose", filters, 2, strides=draw(st.integers(1, 2)))
    if choice == "pool" and small >= 2:
        return L(draw(st.sampled_from(["MaxPooling3D", "AveragePooling3D"])), 2)
    if choice == "zeropad":
        return L("ZeroPadding3D", 1)
    if choice == "crop" and small >= 3:
        return L("Cropping3D", 1)
    if choice == "upsample" and max(shape[:3]) <= 6:
        return L("UpSampling3D", 2)
    if choice == "spatialdrop":
        return L("SpatialDropout3D", 0.1)
    if choice == "convlstm":  # read as (time, height, width, channels)
        return L("ConvLSTM2D", filters, draw(st.integers(1, min(2, *shape[1:3]))),
                 padding=draw(st.sampled_from(["valid", "same"])),
                 return_sequences=draw(st.booleans()))
    return L("BatchNormalization")


MENUS = {3: image_layer, 2: sequence_layer, 1: vector_layer, 4: volume_layer}
HEADS = {
    3: [L("Flatten"), L("GlobalAveragePooling2D"), L("GlobalMaxPooling2D")],
    2: [L("Flatten"), L("GlobalAveragePooling1D"), L("GlobalMaxPooling1D")],
    4: [L("Flatten"), L("GlobalAveragePooling3D"), L("GlobalMaxPooling3D")],
}


# --------------------------------------------------------------------------- strategies


def _try_add(graph: Graph, spec: LayerSpec, inputs: list[TensorRef]) -> bool:
    """Keep a drawn layer only if it fits; the menus draw fitting arguments almost always."""
    try:
        graph.add(spec, inputs)
    except ShapeError:
        return False  # Graph.add appends nothing when the rule raises
    return True


def _ref(graph: Graph) -> TensorRef:
    node = graph.nodes[-1]
    return TensorRef(node.name, node.call, 0)


def _shape(graph: Graph) -> tuple[int, ...]:
    return graph.nodes[-1].outputs[0]  # type: ignore[return-value]


@st.composite
def sequential_models(draw: st.DrawFn) -> ModelSpec:
    rank = draw(st.sampled_from([1, 2, 3, 3, 4]))
    start = {
        1: (draw(st.integers(1, 12)),),
        2: (draw(st.integers(2, 8)), draw(st.integers(1, 6))),
        3: (draw(st.integers(3, 10)), draw(st.integers(3, 10)), draw(st.integers(1, 4))),
        4: (draw(st.integers(2, 5)), draw(st.integers(2, 5)), draw(st.integers(2, 5)),
            draw(st.integers(1, 3))),
    }[rank]
    calls = [Call(LayerSpec("InputLayer", (start,), name="in0"))]
    if rank == 2 and draw(st.booleans()):  # token ids through an Embedding
        calls = [Call(LayerSpec("InputLayer", ((start[0],),), name="in0")),
                 Call(L("Embedding", draw(st.integers(2, 50)), draw(st.integers(1, 6))))]
    return _grow(draw, calls, steps=draw(st.integers(1, 6)))


def _grow(draw: st.DrawFn, calls: list[Call], steps: int) -> ModelSpec:
    graph = Graph("probe", Context())
    for call in calls:
        graph.add(call.layer, call.inputs)
    for index in range(steps):
        shape = _shape(graph)
        menu = MENUS.get(len(shape))
        if menu is None or any(d is None or d > 64 for d in shape):
            break
        spec = menu(draw, shape)  # type: ignore[arg-type]
        spec.name = f"l{index}"
        if _try_add(graph, spec, [_ref(graph)]):
            calls.append(Call(spec))
    shape = _shape(graph)
    if len(shape) in HEADS:
        head = draw(st.sampled_from(HEADS[len(shape)]))
        head = LayerSpec(head.type, head.args, dict(head.kwargs), name="head")
        if _try_add(graph, head, [_ref(graph)]):
            calls.append(Call(head))
    out = LayerSpec("Dense", (draw(st.integers(1, 5)),), name="out")
    calls.append(Call(out))
    return ModelSpec(calls, name="random")


@st.composite
def graph_models(draw: st.DrawFn) -> ModelSpec:
    """Residual merges, two-branch concatenations, Dot products and two inputs."""
    kind = draw(st.sampled_from(["residual", "concat", "dot", "two_inputs", "attention"]))
    c = draw(st.integers(1, 4))
    x = LayerSpec("InputLayer", ((draw(st.integers(3, 8)), draw(st.integers(3, 8)), c),),
                  name="x")
    if kind == "residual":
        y1 = L("Conv2D", c, draw(st.integers(1, 3)), padding="same")
        y1.name = "y1"
        y2 = L("BatchNormalization")
        y2.name = "y2"
        merge = L(draw(st.sampled_from(["Add", "Subtract", "Multiply", "Average", "Maximum",
                                         "Minimum"])))
        merge.name = "merge"
        calls = [Call(x), Call(y1, [TensorRef("x")]), Call(y2, [TensorRef("y1")]),
                 Call(merge, [TensorRef("x"), TensorRef("y2")]),
                 Call(LayerSpec("Flatten", name="flat"))]
    elif kind == "concat":
        a = L("Conv2D", draw(st.integers(1, 4)), 1)
        a.name = "a"
        b = L("Conv2D", draw(st.integers(1, 4)), 3, padding="same")
        b.name = "b"
        merge = L("Concatenate", axis=-1)
        merge.name = "merge"
        calls = [Call(x), Call(a, [TensorRef("x")]), Call(b, [TensorRef("x")]),
                 Call(merge, [TensorRef("a"), TensorRef("b")]),
                 Call(LayerSpec("GlobalAveragePooling2D", name="gap"))]
    elif kind == "dot":
        v = LayerSpec("InputLayer", ((draw(st.integers(2, 9)),),), name="v")
        d1 = L("Dense", 4)
        d1.name = "d1"
        d2 = L("Dense", 4)
        d2.name = "d2"
        dot = L("Dot", axes=1, normalize=draw(st.booleans()))
        dot.name = "dot"
        calls = [Call(v), Call(d1, [TensorRef("v")]), Call(d2, [TensorRef("v")]),
                 Call(dot, [TensorRef("d1"), TensorRef("d2")])]
    elif kind == "attention":
        f = draw(st.integers(1, 6))
        q = LayerSpec("InputLayer", ((draw(st.integers(1, 6)), f),), name="q")
        v = LayerSpec("InputLayer", ((draw(st.integers(1, 6)), f),), name="v")
        att = draw(st.sampled_from([
            L("Attention", use_scale=draw(st.booleans()),
              score_mode=draw(st.sampled_from(["dot", "concat"]))),
            L("AdditiveAttention", use_scale=draw(st.booleans())),
            L("MultiHeadAttention", num_heads=draw(st.integers(1, 3)),
              key_dim=draw(st.integers(1, 4)), use_bias=draw(st.booleans())),
        ]))
        att.name = "att"
        calls = [Call(q), Call(v), Call(att, [TensorRef("q"), TensorRef("v")])]
    else:
        a = LayerSpec("InputLayer", ((draw(st.integers(1, 9)),),), name="a")
        b = LayerSpec("InputLayer", ((draw(st.integers(1, 9)),),), name="b")
        da = L("Dense", draw(st.integers(1, 5)))
        da.name = "da"
        merge = L("Concatenate")
        merge.name = "merge"
        calls = [Call(a), Call(b), Call(da, [TensorRef("a")]),
                 Call(merge, [TensorRef("da"), TensorRef("b")])]
    return _grow(draw, calls, steps=draw(st.integers(0, 2)))


# --------------------------------------------------------------------------- the property


def _keras_shape(tensor: Any) -> tuple[Any, ...]:
    return tuple(tensor.shape[1:])


def check_against_keras(model: ModelSpec) -> None:
    ours = count(model, other_convention=False)
    for row in ours.layers:
        event(row.type)  # --hypothesis-show-statistics shows how often each family is drawn
    kmodel, klayers = build_keras(model)
    trainable = sum(int(w.numpy().size) for w in kmodel.trainable_weights)
    non_trainable = sum(int(w.numpy().size) for w in kmodel.non_trainable_weights)
    assert (ours.total, ours.trainable, ours.non_trainable) == (
        kmodel.count_params(), trainable, non_trainable,
    ), str(ours)
    for row in ours.layers:
        layer = klayers.get(row.name)
        if layer is None:
            continue
        assert row.params == layer.count_params(), (row.name, row.type, str(ours))
        out = layer.output
        if isinstance(out, (list, tuple)):
            assert row.output_shape == tuple(_keras_shape(t) for t in out), row.name
        else:
            assert row.output_shape == _keras_shape(out), (row.name, row.type, str(ours))
    keras.backend.clear_session()


@settings(max_examples=int(EXAMPLES * 0.75), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(sequential_models())
def test_random_sequential_architectures_match_keras(model: ModelSpec) -> None:
    check_against_keras(model)


@settings(max_examples=int(EXAMPLES * 0.25), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(graph_models())
def test_random_graph_architectures_match_keras(model: ModelSpec) -> None:
    check_against_keras(model)
