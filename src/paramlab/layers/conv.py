"""Convolutions: Conv1D/2D/3D, their transposes, depthwise and separable convolutions.

Every variant counts ``prod(kernel_size) × in × out`` kernel weights plus one bias per output
channel; they differ in what ``in`` and ``out`` are:

* ConvND: ``in`` is the input channels of one group (``channels / groups``), ``out`` the filters.
* ConvNDTranspose: the kernel is stored (…, filters, channels) but holds the same product.
* DepthwiseConvND: each input channel has its own ``depth_multiplier`` filters.
* SeparableConvND: a depthwise kernel, then a 1×1 pointwise kernel to ``filters`` channels.

Weight shapes are Keras' (channels last in the kernel); PyTorch stores the same number of
values in another order, so the counts agree under both conventions.
"""

from __future__ import annotations

import math

from paramlab.errors import ShapeError, SpecError
from paramlab.layers.base import (
    Args,
    Context,
    Dim,
    LayerResult,
    Param,
    Rule,
    Shape,
    Weight,
    activation,
    boolean,
    choice,
    data_format,
    deconv_output_length,
    expect_rank,
    fmt,
    join_channels,
    known,
    non_negative_int,
    ntuple,
    number,
    optional,
    positive_int,
    register,
    show_shape,
    split_channels,
    window_output,
)

_PADDING = choice("valid", "same")
_PADDING_CAUSAL = choice("valid", "same", "causal")  # Keras allows causal on Conv1D only


def _product(values: tuple[int | str, ...]) -> str:
    """``3 × 3 × 16`` — the factors of a kernel, as the formula shows them."""
    return " × ".join(v if isinstance(v, str) else fmt(v) for v in values)


def _positions(spatial: Shape) -> int:
    """Output positions per example; an unknown axis counts as 1 (MACs per known position)."""
    return math.prod(d or 1 for d in spatial)


def _channels(layer: str, x: Shape, rank: int, layout: str) -> tuple[Shape, int]:
    """Spatial axes and the (known) channel count of a rank-``rank`` convolution input."""
    expect_rank(x, rank, layer, layout)
    spatial, channels = split_channels(x, layout)
    return spatial, known(channels, layer, "channel axis", x)


def _no_strided_dilation(layer: str, a: Args) -> None:
    """Keras refuses strides > 1 together with dilation_rate > 1 for Conv and ConvTranspose."""
    if max(a.strides) > 1 and max(a.dilation_rate) > 1:
        raise SpecError(
            f"{layer} does not support strides > 1 together with dilation_rate > 1. "
            f"Received: strides={a.strides}, dilation_rate={a.dilation_rate}"
        )


def _bias(size: int, use_bias: bool) -> list[Weight]:
    return [Weight("bias", (size,))] if use_bias else []


def _weighted(terms: str, outputs: int, use_bias: bool) -> str:
    """``(terms + 1) × outputs`` with a bias, ``terms × outputs`` without."""
    return f"({terms} + 1) × {fmt(outputs)}" if use_bias else f"{terms} × {fmt(outputs)}"


def _total(weights: list[Weight]) -> str:
    return fmt(sum(w.size for w in weights))


# ----------------------------------------------------------------------------- ConvND


def _conv_params(rank: int) -> list[Param]:
    one = (1,) * rank
    return [
        Param("filters", positive_int),
        Param("kernel_size", ntuple(rank)),
        Param("strides", ntuple(rank), one),
        Param("padding", _PADDING_CAUSAL if rank == 1 else _PADDING, "valid"),
        Param("data_format", data_format, "channels_last"),
        Param("dilation_rate", ntuple(rank), one),
        Param("groups", positive_int, 1),
        Param("activation", activation, None),  # declared to keep Keras' positional order
        Param("use_bias", boolean, True),
        Param("lora_rank", optional(positive_int), None),
        Param("lora_alpha", optional(number), None),
    ]


def _conv_rule(rank: int) -> Rule:
    layer = f"Conv{rank}D"

    def conv(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """(k₁ × … × c_in/groups + 1) × filters: one kernel per filter over its group's channels."""
        (x,) = inputs
        _no_strided_dilation(layer, a)
        if a.filters % a.groups:
            raise SpecError(
                f"{layer} needs filters divisible by groups. "
                f"Received: filters={a.filters}, groups={a.groups}"
            )
        spatial, c_in = _channels(layer, x, rank, a.data_format)
        if c_in % a.groups:
            raise ShapeError(
                f"{layer} needs input channels divisible by groups={a.groups}; "
                f"received input shape {show_shape(x)} with {c_in} channels"
            )
        out = window_output(
            layer, x, spatial, a.kernel_size, a.strides, a.padding, a.dilation_rate, "kernel"
        )
        kernel = (*a.kernel_size, c_in // a.groups, a.filters)
        per_group = f"{fmt(c_in)}/{a.groups}" if a.groups > 1 else c_in
        weights = [Weight("kernel", kernel), *_bias(a.filters, a.use_bias)]
        terms = _product((*a.kernel_size, per_group))
        formula = f"{_weighted(terms, a.filters, a.use_bias)} = {_total(weights)}"
        if a.lora_rank:
            formula += _lora(weights, kernel, a.lora_rank)
        macs = _positions(out) * math.prod(kernel)
        return LayerResult(join_channels(out, a.filters, a.data_format), weights, formula, macs)

    return conv


def _lora(weights: list[Weight], kernel: tuple[int, ...], r: int) -> str:
    """Keras' conv LoRA: the kernel frozen, plus trainable (…kernel, r) and (r, filters)."""
    weights[0] = Weight("kernel", kernel, trainable=False)
    a_shape, b_shape = (*kernel[:-1], r), (r, kernel[-1])
    weights += [Weight("lora_kernel_a", a_shape), Weight("lora_kernel_b", b_shape)]
    added = math.prod(a_shape) + math.prod(b_shape)
    return f" (kernel frozen) + LoRA {_product(a_shape)} + {_product(b_shape)} = {fmt(added)}"


# ----------------------------------------------------------------------------- ConvNDTranspose


def _transpose_params(rank: int) -> list[Param]:
    one = (1,) * rank
    output_padding = Param("output_padding", optional(ntuple(rank, non_negative_int)), None)
    layout = Param("data_format", data_format, "channels_last")
    # Keras' Conv3DTranspose takes data_format before output_padding; 1D and 2D the reverse.
    middle = [layout, output_padding] if rank == 3 else [output_padding, layout]
    return [
        Param("filters", positive_int),
        Param("kernel_size", ntuple(rank)),
        Param("strides", ntuple(rank), one),
        Param("padding", _PADDING, "valid"),
        *middle,
        Param("dilation_rate", ntuple(rank), one),
        Param("activation", activation, None),
        Param("use_bias", boolean, True),
    ]


def _transpose_rule(rank: int) -> Rule:
    layer = f"Conv{rank}DTranspose"

    def conv_transpose(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """(k₁ × … × c_in + 1) × filters, the kernel stored as (k…, filters, c_in)."""
        (x,) = inputs
        _no_strided_dilation(layer, a)
        padding = a.output_padding or (None,) * rank
        if any(p is not None and p >= s for p, s in zip(padding, a.strides, strict=True)):
            raise SpecError(
                f"{layer} needs output_padding strictly less than strides on every axis. "
                f"Received: output_padding={a.output_padding}, strides={a.strides}"
            )
        spatial, c_in = _channels(layer, x, rank, a.data_format)
        out = _transpose_output(layer, x, spatial, a, padding)
        kernel = (*a.kernel_size, a.filters, c_in)
        weights = [Weight("kernel", kernel), *_bias(a.filters, a.use_bias)]
        terms = _product((*a.kernel_size, c_in))
        formula = f"{_weighted(terms, a.filters, a.use_bias)} = {_total(weights)}"
        macs = _positions(spatial) * math.prod(kernel)  # every input value meets the kernel once
        return LayerResult(join_channels(out, a.filters, a.data_format), weights, formula, macs)

    return conv_transpose


def _transpose_output(
    layer: str, x: Shape, spatial: Shape, a: Args, padding: tuple[int | None, ...]
) -> Shape:
    """Keras' transposed output lengths; an empty axis (from output_padding) is an error."""
    out: tuple[Dim, ...] = tuple(
        deconv_output_length(n, k, a.padding, s, p, d)
        for n, k, s, p, d in zip(
            spatial, a.kernel_size, a.strides, padding, a.dilation_rate, strict=True
        )
    )
    if any(n is not None and n <= 0 for n in out):
        raise ShapeError(
            f"{layer} would produce an empty output {out} from input shape {show_shape(x)} "
            f"with kernel_size={a.kernel_size}, padding='{a.padding}', "
            f"output_padding={a.output_padding}: expected every output axis to be at least 1"
        )
    return out


# ----------------------------------------------------------------------------- depthwise


def _depthwise_params(rank: int) -> list[Param]:
    one = (1,) * rank
    return [
        Param("kernel_size", ntuple(rank)),
        Param("strides", ntuple(rank), one),
        Param("padding", _PADDING, "valid"),
        Param("depth_multiplier", positive_int, 1),
        Param("data_format", data_format, "channels_last"),
        Param("dilation_rate", ntuple(rank), one),
        Param("activation", activation, None),
        Param("use_bias", boolean, True),
    ]


def _times_multiplier(channels: int, multiplier: int) -> str:
    return f"{fmt(channels)} × {multiplier}" if multiplier > 1 else fmt(channels)


def _input_and_window(layer: str, inputs: list[Shape], rank: int,
                      a: Args) -> tuple[int, Shape]:
    """Input channels and the spatial output of the depthwise window (depthwise, separable)."""
    (x,) = inputs
    spatial, c_in = _channels(layer, x, rank, a.data_format)
    out = window_output(
        layer, x, spatial, a.kernel_size, a.strides, a.padding, a.dilation_rate, "kernel"
    )
    return c_in, out


def _depthwise_rule(rank: int) -> Rule:
    layer = f"DepthwiseConv{rank}D"

    def depthwise(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """(k₁ × … + 1) × c_in × depth_multiplier: each channel filtered on its own."""
        c_in, out = _input_and_window(layer, inputs, rank, a)
        dm = a.depth_multiplier
        kernel = (*a.kernel_size, c_in, dm)
        weights = [Weight("kernel", kernel), *_bias(c_in * dm, a.use_bias)]
        k = _product(a.kernel_size)
        formula = f"({k} + 1) × " if a.use_bias else f"{k} × "
        formula += f"{_times_multiplier(c_in, dm)} = {_total(weights)}"
        macs = _positions(out) * math.prod(kernel)
        return LayerResult(join_channels(out, c_in * dm, a.data_format), weights, formula, macs)

    return depthwise


# ----------------------------------------------------------------------------- separable


def _separable_params(rank: int) -> list[Param]:
    one = (1,) * rank
    return [
        Param("filters", positive_int),
        Param("kernel_size", ntuple(rank)),
        Param("strides", ntuple(rank), one),
        Param("padding", _PADDING, "valid"),
        Param("data_format", data_format, "channels_last"),
        Param("dilation_rate", ntuple(rank), one),
        Param("depth_multiplier", positive_int, 1),
        Param("activation", activation, None),
        Param("use_bias", boolean, True),
    ]


def _separable_rule(rank: int) -> Rule:
    layer = f"SeparableConv{rank}D"

    def separable(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """k₁ × … × c_in × dm (depthwise) + (c_in × dm + 1) × filters (1×1 pointwise + bias)."""
        c_in, out = _input_and_window(layer, inputs, rank, a)
        dm = a.depth_multiplier
        depthwise = (*a.kernel_size, c_in, dm)
        pointwise = ((1,) * rank) + (c_in * dm, a.filters)
        weights = [
            Weight("depthwise_kernel", depthwise),
            Weight("pointwise_kernel", pointwise),
            *_bias(a.filters, a.use_bias),
        ]
        channels = _times_multiplier(c_in, dm)
        formula = (
            f"{_product(a.kernel_size)} × {channels} + "
            f"{_weighted(channels, a.filters, a.use_bias)} = {_total(weights)}"
        )
        macs = _positions(out) * (math.prod(depthwise) + math.prod(pointwise))
        return LayerResult(join_channels(out, a.filters, a.data_format), weights, formula, macs)

    return separable


# ----------------------------------------------------------------------------- the table

for _rank in (1, 2, 3):
    register(f"Conv{_rank}D", f"Convolution{_rank}D", params=_conv_params(_rank))(_conv_rule(_rank))
    register(
        f"Conv{_rank}DTranspose",
        f"Convolution{_rank}DTranspose",
        params=_transpose_params(_rank),
    )(_transpose_rule(_rank))

for _rank in (1, 2):
    register(f"DepthwiseConv{_rank}D", params=_depthwise_params(_rank))(_depthwise_rule(_rank))
    register(
        f"SeparableConv{_rank}D",
        f"SeparableConvolution{_rank}D",
        params=_separable_params(_rank),
    )(_separable_rule(_rank))
