"""Convolutions: Conv1D/2D/3D, their transposes, depthwise and separable forms.

Weights follow Keras' layouts: kernel (k…, c_in/groups, filters) for Conv, (k…, filters,
c_in) for ConvTranspose, (k…, c_in, depth_multiplier) for depthwise, and depthwise +
pointwise (1…, c_in·dm, filters) kernels for separable. MACs are per output position:
output positions × kernel volume × c_in/groups × filters.
"""

from __future__ import annotations

import math

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    Weight,
    boolean,
    choice,
    conv_output_length,
    deconv_output_length,
    fmt,
    known,
    non_negative_int,
    ntuple,
    optional,
    positive_int,
    register,
    show_shape,
)

_DATA_FORMAT = Param("data_format", optional(choice("channels_last", "channels_first")), None)


def _split(x: Shape, rank: int, a: Args, layer: str) -> tuple[tuple[int | None, ...], int]:
    """(spatial dims, channels) honouring data_format; checks the input rank."""
    if len(x) != rank + 1:
        axes = ", ".join(["d"] * rank + ["channels"])
        raise ShapeError(
            f"{layer} expects inputs of rank {rank + 2} (batch, {axes}); "
            f"received input shape {show_shape(x)}"
        )
    if a.get("data_format") == "channels_first":
        return x[1:], known(x[0], layer, "channel axis", x)
    return x[:-1], known(x[-1], layer, "channel axis", x)


def _join(spatial: tuple[int | None, ...], channels: int, a: Args) -> Shape:
    if a.get("data_format") == "channels_first":
        return (channels, *spatial)
    return (*spatial, channels)


def _window(
    spatial: tuple[int | None, ...], a: Args, layer: str, x: Shape
) -> tuple[int | None, ...]:
    out = tuple(
        conv_output_length(d, k, a.padding, s, r)
        for d, k, s, r in zip(spatial, a.kernel_size, a.strides, a.dilation_rate, strict=True)
    )
    if any(d is not None and d <= 0 for d in out):
        raise ShapeError(
            f"{layer}: kernel {a.kernel_size} (dilation {a.dilation_rate}) with padding "
            f"{a.padding!r} does not fit input {show_shape(x)}; output would be "
            f"{show_shape(_join(out, a.get('filters', 0) or 0, a))}"
        )
    return out


def _positions(spatial: tuple[int | None, ...]) -> int:
    return math.prod(d or 1 for d in spatial)


def _kernel_text(kernel: tuple[int, ...]) -> str:
    return " × ".join(str(k) for k in kernel)


def _conv_params(rank: int, transpose: bool = False) -> list[Param]:
    params = [
        Param("filters", positive_int),
        Param("kernel_size", ntuple(rank)),
        Param("strides", ntuple(rank), 1),
        Param(
            "padding",
            choice("valid", "same", "causal") if rank == 1 and not transpose
            else choice("valid", "same"),
            "valid",
        ),
    ]
    if transpose:
        params.append(Param("output_padding", optional(ntuple(rank, non_negative_int)), None))
    params += [_DATA_FORMAT, Param("dilation_rate", ntuple(rank), 1)]
    if not transpose:
        params.append(Param("groups", positive_int, 1))
    params += [Param("use_bias", boolean, True), Param("lora_rank", optional(positive_int), None),
               Param("lora_alpha", optional(positive_int), None)]
    return params


def _make_conv(rank: int) -> None:
    name = f"Conv{rank}D"

    @register(name, f"Convolution{rank}D", params=_conv_params(rank))
    def conv(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """(k… · c_in/groups + 1) · filters: each filter sees a window over its group's channels."""
        (x,) = inputs
        spatial, c_in = _split(x, rank, a, name)
        if c_in % a.groups or a.filters % a.groups:
            raise ShapeError(
                f"{name}: groups={a.groups} must divide both the input channels ({c_in}) "
                f"and filters ({a.filters})"
            )
        if a.groups > 1 and any(s > 1 for s in a.strides) and any(
            r > 1 for r in a.dilation_rate
        ):
            raise ShapeError(f"{name}: strides > 1 cannot be combined with dilation_rate > 1")
        out = _window(spatial, a, name, x)
        per_group = c_in // a.groups
        window = math.prod(a.kernel_size) * per_group
        weights = [Weight("kernel", (*a.kernel_size, per_group, a.filters))]
        group_text = f"{c_in}/{a.groups}" if a.groups > 1 else f"{c_in}"
        fan = f"{_kernel_text(a.kernel_size)} × {group_text}"
        if a.use_bias:
            weights.append(Weight("bias", (a.filters,)))
            formula = f"({fan} + 1) × {fmt(a.filters)} = {fmt((window + 1) * a.filters)}"
        else:
            formula = f"{fan} × {fmt(a.filters)} = {fmt(window * a.filters)}"
        macs = _positions(out) * window * a.filters
        return LayerResult(_join(out, a.filters, a), weights, formula, macs)


def _make_transpose(rank: int) -> None:
    name = f"Conv{rank}DTranspose"

    @register(name, f"Convolution{rank}DTranspose", params=_conv_params(rank, transpose=True))
    def conv_transpose(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """(k… · filters · c_in) + filters: the kernel maps each input channel to every filter."""
        (x,) = inputs
        spatial, c_in = _split(x, rank, a, name)
        pads = a.output_padding or (None,) * rank
        for p, s, r in zip(pads, a.strides, a.dilation_rate, strict=True):
            if p is not None and p >= s and p >= r:
                raise ShapeError(
                    f"{name}: output_padding {a.output_padding} must be smaller than the "
                    f"strides {a.strides} or the dilation {a.dilation_rate}"
                )
        out = tuple(
            deconv_output_length(d, k, a.padding, s, p, r)
            for d, k, s, p, r in zip(
                spatial, a.kernel_size, a.strides, pads, a.dilation_rate, strict=True
            )
        )
        if any(d is not None and d <= 0 for d in out):
            raise ShapeError(f"{name}: output would be empty for input {show_shape(x)}")
        volume = math.prod(a.kernel_size)
        weights = [Weight("kernel", (*a.kernel_size, a.filters, c_in))]
        fan = f"{_kernel_text(a.kernel_size)} × {c_in}"
        if a.use_bias:
            weights.append(Weight("bias", (a.filters,)))
            formula = f"({fan} + 1) × {fmt(a.filters)} = {fmt((volume * c_in + 1) * a.filters)}"
        else:
            formula = f"{fan} × {fmt(a.filters)} = {fmt(volume * c_in * a.filters)}"
        macs = _positions(spatial) * volume * c_in * a.filters
        return LayerResult(_join(out, a.filters, a), weights, formula, macs)


def _depthwise_params(rank: int) -> list[Param]:
    return [
        Param("kernel_size", ntuple(rank)),
        Param("strides", ntuple(rank), 1),
        Param("padding", choice("valid", "same", "causal") if rank == 1 else choice(
            "valid", "same"), "valid"),
        Param("depth_multiplier", positive_int, 1),
        _DATA_FORMAT,
        Param("dilation_rate", ntuple(rank), 1),
        Param("use_bias", boolean, True),
    ]


def _make_depthwise(rank: int) -> None:
    name = f"DepthwiseConv{rank}D"

    @register(name, params=_depthwise_params(rank))
    def depthwise(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """k… · c_in · dm (+ c_in · dm biases): one window per channel, no mixing."""
        (x,) = inputs
        spatial, c_in = _split(x, rank, a, name)
        out = _window(spatial, a, name, x)
        channels = c_in * a.depth_multiplier
        volume = math.prod(a.kernel_size)
        weights = [Weight("kernel", (*a.kernel_size, c_in, a.depth_multiplier))]
        fan = f"{_kernel_text(a.kernel_size)} × {c_in} × {a.depth_multiplier}"
        if a.use_bias:
            weights.append(Weight("bias", (channels,)))
            formula = f"{fan} + {fmt(channels)} = {fmt(volume * channels + channels)}"
        else:
            formula = f"{fan} = {fmt(volume * channels)}"
        macs = _positions(out) * volume * channels
        return LayerResult(_join(out, channels, a), weights, formula, macs)


def _make_separable(rank: int) -> None:
    name = f"SeparableConv{rank}D"
    params = [*_depthwise_params(rank)]
    params.insert(0, Param("filters", positive_int))

    @register(name, f"SeparableConvolution{rank}D", params=params)
    def separable(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Depthwise k… · c_in · dm, then pointwise (c_in · dm) · filters, + filters biases."""
        (x,) = inputs
        spatial, c_in = _split(x, rank, a, name)
        out = _window(spatial, a, name, x)
        mid = c_in * a.depth_multiplier
        volume = math.prod(a.kernel_size)
        weights = [
            Weight("depthwise_kernel", (*a.kernel_size, c_in, a.depth_multiplier)),
            Weight("pointwise_kernel", (*(1,) * rank, mid, a.filters)),
        ]
        total = volume * mid + mid * a.filters
        formula = (f"{_kernel_text(a.kernel_size)} × {c_in} × {a.depth_multiplier} + "
                   f"{fmt(mid)} × {fmt(a.filters)}")
        if a.use_bias:
            weights.append(Weight("bias", (a.filters,)))
            total += a.filters
            formula += f" + {fmt(a.filters)}"
        macs = _positions(out) * (volume * mid + mid * a.filters)
        return LayerResult(_join(out, a.filters, a), weights, f"{formula} = {fmt(total)}", macs)


for _rank in (1, 2, 3):
    _make_conv(_rank)
    _make_transpose(_rank)
for _rank in (1, 2):
    _make_depthwise(_rank)
    _make_separable(_rank)
