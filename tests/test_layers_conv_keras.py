"""Convolution, pooling and reshaping rules against real Keras 3 (torch backend).

Every case builds ``keras.Sequential([keras.Input(shape), layer])`` and compares its last
layer with our rule: output shape, every weight (name, shape, trainable) and the trainable /
non-trainable / total counts. Where Keras refuses the combination (a valid kernel larger than
its input, groups not dividing the channels, a wrong input rank, …) our rule must refuse it
too, with a ParamlabError. Hypothesis draws the argument combinations (derandomized, so a
failure reproduces).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramlab
from paramlab.errors import ParamlabError, ShapeError, SpecError
from paramlab.layers.base import Context, LayerSpec, apply_layer, get_layer_type
from paramlab.summary import row_counts

keras = pytest.importorskip("keras")

CASES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# ----------------------------------------------------------------------------- the oracle


def keras_layer(name: str, shape: tuple, args: tuple, kwargs: dict) -> Any:
    """(output shape, weights, trainable, non-trainable, total) from Keras, or its exception."""
    try:
        layer = getattr(keras.layers, name)(*args, **kwargs)
        built = keras.Sequential([keras.Input(shape), layer]).layers[-1]
    except Exception as exc:  # Keras refuses some inputs with IndexError, not ValueError
        return exc
    weights = [(w.name, tuple(w.shape), w.trainable) for w in built.weights]
    trainable = sum(math.prod(w.shape) for w in built.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in built.non_trainable_weights)
    return tuple(built.output.shape[1:]), weights, trainable, non_trainable, built.count_params()


def our_layer(name: str, shape: tuple, args: tuple, kwargs: dict) -> Any:
    """The same five numbers from our rule, or the ParamlabError it raised."""
    try:
        _, _, result = apply_layer(LayerSpec(name, args, dict(kwargs)), [shape], Context())
    except ParamlabError as exc:
        return exc
    weights = [(w.name, w.shape, w.trainable) for w in result.weights]
    trainable, non_trainable, _ = row_counts(result.weights, "keras")
    total = trainable + non_trainable
    return result.output_shape, weights, trainable, non_trainable, total


def agree(name: str, shape: tuple, *args: Any, **kwargs: Any) -> None:
    """Assert our rule and Keras agree on ``name(*args, **kwargs)`` applied to ``shape``."""
    theirs = keras_layer(name, shape, args, kwargs)
    ours = our_layer(name, shape, args, kwargs)
    call = f"{name}{args}{kwargs} on {shape}"
    if isinstance(theirs, Exception):
        assert isinstance(ours, ParamlabError), (
            f"Keras raised {theirs!r} but we gave {ours}: {call}"
        )
        return
    if isinstance(ours, ShapeError) and 0 in theirs[0]:
        return  # deliberate: Keras lets a transposed conv produce an empty axis; we refuse it
    assert not isinstance(ours, Exception), f"we raised {ours!r}, Keras gave {theirs}: {call}"
    assert ours == theirs, call


# ----------------------------------------------------------------------------- strategies


NOW_AND_THEN = st.sampled_from([False] * 7 + [True])
"""True one time in eight (Hypothesis favours small integers, so not ``integers(0, 7) == 0``)."""
SIZE = st.integers(1, 10).map(lambda n: None if n == 10 else n)
"""A spatial size, now and then unknown (None)."""


def per_axis(rank: int, values: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """An int (Keras repeats it on every axis) or one value per axis."""
    return st.one_of(values, st.tuples(*[values] * rank))


@st.composite
def image(draw: st.DrawFn, rank: int, channels: st.SearchStrategy[int]) -> tuple:
    """An input shape for a rank-``rank`` layer (channels last); one in eight of a wrong rank."""
    if draw(NOW_AND_THEN):
        return tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=rank + 2)))
    return (*(draw(SIZE) for _ in range(rank)), draw(channels))


@st.composite
def stride_dilation(draw: st.DrawFn, rank: int) -> dict[str, Any]:
    """strides and dilation_rate; mostly not both > 1, which Keras refuses for ConvND."""
    strides = draw(per_axis(rank, st.integers(1, 3)))
    dilation = draw(per_axis(rank, st.integers(1, 2)))
    if not draw(NOW_AND_THEN):
        if draw(st.booleans()):
            strides = 1
        else:
            dilation = 1
    return {"strides": strides, "dilation_rate": dilation}


def channel_layout(shape: tuple, layout: str) -> tuple:
    """``shape`` is drawn channels-last; move the channel axis first for channels_first."""
    return (shape[-1], *shape[:-1]) if layout == "channels_first" else shape


LAYOUTS = st.sampled_from(["channels_last", "channels_first"])


# ----------------------------------------------------------------------------- convolutions


@CASES
@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_conv(data: st.DataObject, rank: int) -> None:
    layout = data.draw(LAYOUTS)
    kwargs = {
        "filters": data.draw(st.sampled_from([6, 2, 4, 1])),
        "kernel_size": data.draw(per_axis(rank, st.integers(1, 4))),
        "padding": data.draw(st.sampled_from(["valid", "same", "causal"][: 3 if rank == 1 else 2])),
        "data_format": layout,
        **data.draw(stride_dilation(rank)),
        "groups": data.draw(st.sampled_from([1, 1, 1, 2, 3])),
        "use_bias": data.draw(st.booleans()),
    }
    if data.draw(NOW_AND_THEN):
        kwargs["lora_rank"] = data.draw(st.integers(1, 3))
    shape = channel_layout(data.draw(image(rank, st.sampled_from([6, 2, 3, 4, 1]))), layout)
    agree(f"Conv{rank}D", shape, **kwargs)


@CASES
@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_conv_transpose(data: st.DataObject, rank: int) -> None:
    layout = data.draw(LAYOUTS)
    kwargs = {
        "filters": data.draw(st.integers(1, 5)),
        "kernel_size": data.draw(per_axis(rank, st.integers(1, 4))),
        "padding": data.draw(st.sampled_from(["valid", "same"])),
        "data_format": layout,
        **data.draw(stride_dilation(rank)),
        "use_bias": data.draw(st.booleans()),
    }
    strides = kwargs["strides"]
    strides = strides if isinstance(strides, tuple) else (strides,) * rank
    if data.draw(st.booleans()):  # below the strides, as Keras requires, but now and then not
        highest = [s if data.draw(NOW_AND_THEN) else s - 1 for s in strides]
        kwargs["output_padding"] = tuple(data.draw(st.integers(0, h)) for h in highest)
    shape = channel_layout(data.draw(image(rank, st.integers(1, 5))), layout)
    agree(f"Conv{rank}DTranspose", shape, **kwargs)


@CASES
@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_depthwise_conv(data: st.DataObject, rank: int) -> None:
    layout = data.draw(LAYOUTS)
    kwargs = {
        "kernel_size": data.draw(per_axis(rank, st.integers(1, 4))),
        "padding": data.draw(st.sampled_from(["valid", "same"])),
        "depth_multiplier": data.draw(st.integers(1, 3)),
        "data_format": layout,
        **data.draw(stride_dilation(rank)),
        "use_bias": data.draw(st.booleans()),
    }
    shape = channel_layout(data.draw(image(rank, st.integers(1, 5))), layout)
    agree(f"DepthwiseConv{rank}D", shape, **kwargs)


@CASES
@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_separable_conv(data: st.DataObject, rank: int) -> None:
    layout = data.draw(LAYOUTS)
    kwargs = {
        "filters": data.draw(st.integers(1, 6)),
        "kernel_size": data.draw(per_axis(rank, st.integers(1, 4))),
        "padding": data.draw(st.sampled_from(["valid", "same"])),
        "data_format": layout,
        **data.draw(stride_dilation(rank)),
        "depth_multiplier": data.draw(st.integers(1, 3)),
        "use_bias": data.draw(st.booleans()),
    }
    shape = channel_layout(data.draw(image(rank, st.integers(1, 5))), layout)
    agree(f"SeparableConv{rank}D", shape, **kwargs)


@pytest.mark.parametrize(
    ("name", "shape", "args", "kwargs"),
    [
        # positional arguments bind in Keras' order (Conv3DTranspose: data_format, then
        # output_padding; Conv2DTranspose the reverse; depthwise: depth_multiplier 4th)
        ("Conv2D", (28, 28, 1), (10, 3, 1, "same"), {}),
        ("Conv1D", (20, 4), (8, 5, 1, "causal", "channels_last", 2, 2), {}),
        ("Conv2DTranspose", (5, 5, 3), (4, 3, 2, "same", 1, "channels_last"), {}),
        ("Conv3DTranspose", (3, 4, 4, 5), (2, 3, 2, "valid", "channels_first", 1), {}),
        ("DepthwiseConv2D", (9, 9, 4), (3, 1, "valid", 3), {}),
        ("SeparableConv1D", (12, 6), (8, 3, 1, "same", "channels_last", 1, 2), {}),
        ("Conv2D", (8, 8, 4), (6, 3), {"use_bias": False, "lora_rank": 2}),
        # aliases are the same classes in Keras
        ("Convolution2D", (6, 6, 2), (3, 2), {}),
        ("SeparableConvolution2D", (6, 6, 2), (3, 2), {}),
        ("Convolution1DTranspose", (6, 2), (3, 2), {}),
        # what Keras refuses
        ("Conv2D", (3, 3, 1), (4, 5), {}),  # valid kernel larger than the input
        ("Conv2D", (10,), (4, 3), {}),  # rank-1 input
        ("Conv2D", (10, 10, 3, 3), (4, 3), {}),  # rank-4 input
        ("Conv2D", (8, 8, 6), (6, 3), {"groups": 4}),  # groups don't divide channels
        ("Conv2D", (8, 8, 8), (6, 3), {"groups": 4}),  # groups don't divide filters
        ("Conv2D", (8, 8, 3), (6, 3), {"strides": 2, "dilation_rate": 2}),
        ("Conv2D", (8, 8, 3), (6, 3), {"padding": "causal"}),
        ("Conv1D", (5, None), (4, 3), {}),  # unknown channels
        ("Conv2DTranspose", (4, 4, 3), (6, 3), {"strides": 2, "output_padding": 2}),
        ("DepthwiseConv1D", (10, 3), (3,), {"padding": "causal"}),
        ("SeparableConv2D", (2, 2, 3), (4, 3), {}),
    ],
)
def test_conv_cases(name: str, shape: tuple, args: tuple, kwargs: dict) -> None:
    agree(name, shape, *args, **kwargs)


# ----------------------------------------------------------------------------- pooling


@CASES
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("mode", ["Max", "Average"])
@given(data=st.data())
def test_pooling(data: st.DataObject, rank: int, mode: str) -> None:
    layout = data.draw(LAYOUTS)
    kwargs = {
        "pool_size": data.draw(per_axis(rank, st.integers(1, 4))),
        "padding": data.draw(st.sampled_from(["valid", "same"])),
        "data_format": layout,
    }
    strides = data.draw(st.one_of(st.none(), per_axis(rank, st.integers(1, 3))))
    if strides is not None:
        kwargs["strides"] = strides
    shape = channel_layout(data.draw(image(rank, st.integers(1, 5))), layout)
    agree(f"{mode}Pooling{rank}D", shape, **kwargs)


@CASES
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("mode", ["Max", "Average"])
@given(data=st.data())
def test_global_pooling(data: st.DataObject, rank: int, mode: str) -> None:
    layout = data.draw(LAYOUTS)
    kwargs = {"data_format": layout, "keepdims": data.draw(st.booleans())}
    shape = channel_layout(data.draw(image(rank, st.integers(1, 5))), layout)
    agree(f"Global{mode}Pooling{rank}D", shape, **kwargs)


@pytest.mark.parametrize(
    ("name", "shape", "args", "kwargs"),
    [
        ("MaxPooling2D", (28, 28, 3), (), {}),  # default pool 2, strides = pool
        ("MaxPool3D", (4, 6, 8, 2), (), {}),
        ("AvgPool1D", (10, 3), (3,), {"strides": 1, "padding": "same"}),
        ("GlobalAvgPool2D", (7, 7, 32), (), {"keepdims": True}),
        ("GlobalMaxPool1D", (7, 32), (), {}),
        ("MaxPooling2D", (1, 5, 3), (), {}),  # a valid pool larger than the input
        ("AveragePooling2D", (9,), (2,), {}),  # wrong rank
        ("GlobalAveragePooling2D", (9, 3), (), {}),  # wrong rank
    ],
)
def test_pooling_cases(name: str, shape: tuple, args: tuple, kwargs: dict) -> None:
    agree(name, shape, *args, **kwargs)


# ----------------------------------------------------------------------------- reshaping

SIZES = st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple)


@CASES
@given(data=st.data())
def test_reshape(data: st.DataObject) -> None:
    shape = data.draw(SIZES)
    if data.draw(st.booleans()):  # build a target that fits: factor the size
        total, target = math.prod(shape), []
        for d in data.draw(SIZES):
            if total % d == 0:
                target.append(d)
                total //= d
        target.append(total)
    else:
        target = list(data.draw(SIZES))
    if data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    if data.draw(NOW_AND_THEN):
        shape = (None, *shape)
    agree("Reshape", shape, tuple(target))


@CASES
@given(data=st.data())
def test_permute(data: st.DataObject) -> None:
    dims = tuple(data.draw(st.permutations(range(1, data.draw(st.integers(1, 4)) + 1))))
    rank = len(dims) + data.draw(st.sampled_from([0, 0, 0, 1, -1]))
    shape = tuple(data.draw(SIZE) for _ in range(rank))
    agree("Permute", shape, dims)


@pytest.mark.parametrize(("shape", "n"), [((7,), 3), ((None,), 1), ((2, 2), 3), ((), 2)])
def test_repeat_vector(shape: tuple, n: int) -> None:
    agree("RepeatVector", shape, n)


def sides(rank: int, most: int) -> st.SearchStrategy[Any]:
    """ZeroPadding/Cropping arguments: an int, one int per axis, or (before, after) pairs."""
    one = st.integers(0, most)
    pair = st.one_of(one, st.tuples(one, one))
    if rank == 1:
        return pair
    return st.one_of(one, st.tuples(*[one] * rank), st.tuples(*[pair] * rank))


@CASES
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("kind", ["ZeroPadding", "Cropping"])
@given(data=st.data())
def test_padding_and_cropping(data: st.DataObject, rank: int, kind: str) -> None:
    arg = "padding" if kind == "ZeroPadding" else "cropping"
    kwargs: dict[str, Any] = {arg: data.draw(sides(rank, 2))}
    layout = "channels_last"
    if rank > 1 or kind == "ZeroPadding":  # Keras' Cropping1D has no data_format
        layout = data.draw(LAYOUTS)
        kwargs["data_format"] = layout
    shape = channel_layout(data.draw(image(rank, st.integers(1, 4))), layout)
    agree(f"{kind}{rank}D", shape, **kwargs)


@CASES
@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_upsampling(data: st.DataObject, rank: int) -> None:
    kwargs: dict[str, Any] = {}
    layout = "channels_last"
    if rank == 1:
        kwargs["size"] = data.draw(st.integers(1, 4))
    else:
        kwargs["size"] = data.draw(per_axis(rank, st.integers(1, 4)))
        layout = data.draw(LAYOUTS)
        kwargs["data_format"] = layout
    if rank == 2:
        kwargs["interpolation"] = data.draw(st.sampled_from(["nearest", "bilinear", "bicubic"]))
    shape = channel_layout(data.draw(image(rank, st.integers(1, 4))), layout)
    agree(f"UpSampling{rank}D", shape, **kwargs)


@pytest.mark.parametrize(
    ("name", "shape", "args", "kwargs"),
    [
        ("Reshape", (6, 3), ((-1, 4),), {}),  # 18 values don't divide into rows of 4
        ("Reshape", (6, 3), ((2, 8),), {}),
        ("Reshape", (6, 3), ((-1, -1),), {}),
        ("Reshape", (None, 3), ((-1, 3),), {}),
        ("ZeroPadding2D", (4, 4, 1), (), {}),  # defaults
        ("ZeroPadding3D", (2, 2, 2, 1), (), {}),
        ("Cropping1D", (5, 2), (), {}),
        ("Cropping2D", (5, 5, 2), (), {}),
        ("Cropping3D", (5, 5, 5, 2), (), {}),
        ("Cropping1D", (2, 2), (), {}),  # crops everything
        ("Cropping2D", (10, 10, 3), (((5, 5), (0, 0)),), {}),
        ("Cropping3D", (3, 8, 8, 1), (((1, 2), 0, 0),), {}),
        ("UpSampling2D", (3, 4, 2), (), {}),
        ("UpSampling1D", (3, 4, 2), (), {}),  # wrong ranks
        ("ZeroPadding2D", (3, 4), (), {}),
        ("Cropping3D", (3, 4, 5, 6, 7), (), {}),
        ("Permute", (3, 4), ((2, 1, 3),), {}),
    ],
)
def test_reshaping_cases(name: str, shape: tuple, args: tuple, kwargs: dict) -> None:
    agree(name, shape, *args, **kwargs)


# ----------------------------------------------------------------------------- names, text


KERAS_ALIASES = {
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution3D": "Conv3D",
    "Convolution1DTranspose": "Conv1DTranspose",
    "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose",
    "SeparableConvolution1D": "SeparableConv1D",
    "SeparableConvolution2D": "SeparableConv2D",
    **{f"MaxPool{r}D": f"MaxPooling{r}D" for r in (1, 2, 3)},
    **{f"AvgPool{r}D": f"AveragePooling{r}D" for r in (1, 2, 3)},
    **{f"GlobalMaxPool{r}D": f"GlobalMaxPooling{r}D" for r in (1, 2, 3)},
    **{f"GlobalAvgPool{r}D": f"GlobalAveragePooling{r}D" for r in (1, 2, 3)},
}


@pytest.mark.parametrize(("alias", "canonical"), sorted(KERAS_ALIASES.items()))
def test_aliases_match_keras(alias: str, canonical: str) -> None:
    assert getattr(keras.layers, alias) is getattr(keras.layers, canonical)
    assert get_layer_type(alias).name == canonical


@pytest.mark.parametrize(
    ("spec", "formula"),
    [
        ("input(28, 28, 1) > conv2d(10, 3)", "(3 × 3 × 1 + 1) × 10 = 100"),
        ("input(32, 32, 16) > conv2d(32, 3, groups=4)", "(3 × 3 × 16/4 + 1) × 32 = 1,184"),
        ("input(32, 32, 16) > conv2d(32, 3, use_bias=false)", "3 × 3 × 16 × 32 = 4,608"),
        ("input(100, 16) > conv1d(32, 5)", "(5 × 16 + 1) × 32 = 2,592"),
        ("input(8, 8, 16) > conv2d_transpose(8, 3)", "(3 × 3 × 16 + 1) × 8 = 1,160"),
        ("input(8, 8, 16) > depthwise_conv2d(3)", "(3 × 3 + 1) × 16 = 160"),
        ("input(8, 8, 16) > depthwise_conv2d(3, depth_multiplier=2)", "(3 × 3 + 1) × 16 × 2 = 320"),
        (
            "input(8, 8, 16) > separable_conv2d(32, 3)",
            "3 × 3 × 16 + (16 + 1) × 32 = 688",
        ),
    ],
)
def test_formulas(spec: str, formula: str) -> None:
    assert paramlab.count(spec).layers[-1].formula == formula


def test_macs_by_hand() -> None:
    """One MAC per kernel weight per output position (the seed CNN's first layer)."""
    row = paramlab.count('input(28, 28, 1) > conv2d(10, 3, padding="same")').layers[-1]
    assert row.macs == 28 * 28 * (3 * 3 * 1) * 10


@pytest.mark.parametrize(
    ("spec", "error", "words"),
    [
        ("input(3, 3, 1) > conv2d(4, 5)", ShapeError, ["(None, 3, 3, 1)", "at least (5, 5)"]),
        ("input(10) > conv2d(4, 3)", ShapeError, ["(None, 10)", "rank 4 (batch, height"]),
        ("input(6, 3) > reshape((-1, 4))", ShapeError, ["multiple of 4 values", "has 18"]),
        ("input(6, 3) > reshape((2, 8))", ShapeError, ["holds 16 values", "(None, 6, 3) has 18"]),
        ("input(2, 2) > cropping1d((1, 1))", ShapeError, ["(None, 2, 2)", "longer than (2,)"]),
        ("input(8, 8, 3) > conv2d(6, 3, groups=2)", ShapeError, ["3 channels", "groups=2"]),
        ("input(8, 8, 4) > conv2d(3, 3, groups=2)", SpecError, ["filters=3", "groups=2"]),
        ("input(8, 8, 4) > conv2d(3, 3, padding=causal)", SpecError, ["padding='causal'"]),
    ],
)
def test_error_messages(spec: str, error: type, words: list[str]) -> None:
    """Errors say what was received and what was expected."""
    with pytest.raises(error) as info:
        paramlab.count(spec)
    for word in words:
        assert word in str(info.value)


MINIMAL_ARGS: dict[str, tuple] = {
    **{f"Conv{r}D": (4, 3) for r in (1, 2, 3)},
    **{f"Conv{r}DTranspose": (4, 3) for r in (1, 2, 3)},
    **{f"SeparableConv{r}D": (4, 3) for r in (1, 2)},
    **{f"DepthwiseConv{r}D": (3,) for r in (1, 2)},
    **{f"AveragePooling{r}D": (2,) for r in (1, 2, 3)},
    **{f"MaxPooling{r}D": () for r in (1, 2, 3)},
    **{f"Global{m}Pooling{r}D": () for r in (1, 2, 3) for m in ("Max", "Average")},
    **{f"{k}{r}D": () for r in (1, 2, 3) for k in ("ZeroPadding", "Cropping", "UpSampling")},
    "Reshape": ((2, 3),),
    "Permute": ((2, 1),),
    "RepeatVector": (3,),
}


@pytest.mark.parametrize("name", sorted(MINIMAL_ARGS))
def test_keras_config_normalizes(name: str) -> None:
    """Every argument in a Keras get_config() is one we declare (or one that never counts)."""
    lora = {"lora_rank": 2} if name.startswith("Conv") and "Transpose" not in name else {}
    config = getattr(keras.layers, name)(*MINIMAL_ARGS[name], **lora).get_config()
    config.pop("trainable")  # the spec parsers take it off every layer
    args = get_layer_type(name).normalize((), config)
    for key in ("kernel_size", "strides", "pool_size", "size", "target_shape", "dims", "padding"):
        value = config.get(key)
        if key in args and isinstance(value, (list, tuple)) and not isinstance(value[0], tuple):
            assert args[key] == tuple(value), key
