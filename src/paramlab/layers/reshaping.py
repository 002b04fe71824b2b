"""Reshaping: Reshape, Permute, RepeatVector, ZeroPadding, Cropping, UpSampling — no weights.

Like pooling they change the count only through the shapes that reach later layers.
(Flatten lives in core.py with Dense.)
"""

from __future__ import annotations

import math
from typing import Any

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Rule,
    Shape,
    choice,
    data_format,
    expect_rank,
    join_channels,
    non_negative_int,
    ntuple,
    positive_int,
    register,
    show_shape,
    split_channels,
)

# ----------------------------------------------------------------------------- converters


def _target_shape(value: Any) -> tuple[int, ...]:
    """Positive sizes with at most one -1 (inferred from the input's size)."""
    what = "a tuple of positive integers with at most one -1"
    if not isinstance(value, (list, tuple)):
        raise ValueError(what)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(what)
    if any(v == 0 or v < -1 for v in value) or list(value).count(-1) > 1:
        raise ValueError(what)
    return tuple(value)


def _permutation(value: Any) -> tuple[int, ...]:
    """A permutation of 1…n (axis 0, the batch, never moves)."""
    if isinstance(value, (list, tuple)) and sorted(value) == list(range(1, len(value) + 1)):
        return tuple(value)
    raise ValueError("a permutation of the axes 1, 2, …, n")


def _side_pairs(rank: int) -> Any:
    """Keras' ZeroPadding/Cropping argument: an int, ``rank`` ints, or ``rank`` (before, after)."""
    pair = ntuple(2, non_negative_int)

    def conv(value: Any) -> tuple[tuple[int, int], ...]:
        what = f"a non-negative integer, a tuple of {rank}, or {rank} (before, after) pairs"
        if isinstance(value, int) and not isinstance(value, bool):
            return (pair(value),) * rank
        if isinstance(value, (list, tuple)) and len(value) == rank:
            try:
                return tuple(pair(v) for v in value)
            except ValueError:
                raise ValueError(what) from None
        raise ValueError(what)

    return conv


# ----------------------------------------------------------------------------- Reshape…


@register("Reshape", params=[Param("target_shape", _target_shape)])
def reshape(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Same values, new axes; a -1 takes whatever size is left over."""
    (x,) = inputs
    target = a.target_shape
    if any(d is None for d in x):
        return LayerResult(tuple(None if d == -1 else d for d in target))
    size = math.prod(x)  # type: ignore[arg-type]
    fixed = math.prod(d for d in target if d != -1)
    if -1 in target and size % fixed:
        raise ShapeError(
            f"Reshape: target_shape {target} needs a multiple of {fixed:,} values but the input "
            f"{show_shape(x)} has {size:,}"
        )
    if -1 not in target and size != fixed:
        raise ShapeError(
            f"Reshape: target_shape {target} holds {fixed:,} values but the input "
            f"{show_shape(x)} has {size:,}"
        )
    return LayerResult(tuple(size // fixed if d == -1 else d for d in target))


@register("Permute", params=[Param("dims", _permutation)])
def permute(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Reorders the non-batch axes; ``dims`` counts them from 1."""
    (x,) = inputs
    if len(x) != len(a.dims):
        raise ShapeError(
            f"Permute(dims={a.dims}) expects an input with {len(a.dims)} axes besides the batch "
            f"axis; received input shape {show_shape(x)}"
        )
    return LayerResult(tuple(x[d - 1] for d in a.dims))


@register("RepeatVector", params=[Param("n", positive_int)])
def repeat_vector(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """(features,) → (n, features)."""
    (x,) = inputs
    if len(x) != 1:
        raise ShapeError(
            f"RepeatVector expects a 2D input (batch, features); received input shape "
            f"{show_shape(x)}"
        )
    return LayerResult((a.n, x[0]))


# ----------------------------------------------------------------------------- padding, cropping


def _resize_spatial(layer: str, x: Shape, rank: int, layout: str, deltas: tuple[int, ...]) -> Shape:
    """Add ``deltas`` (negative for cropping) to the known spatial axes of ``x``."""
    expect_rank(x, rank, layer, layout)
    spatial, channels = split_channels(x, layout)
    out = tuple(None if n is None else n + d for n, d in zip(spatial, deltas, strict=True))
    return join_channels(out, channels, layout)


def _zero_padding_rule(rank: int) -> Rule:
    layer = f"ZeroPadding{rank}D"

    def zero_padding(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Adds zeros before and after each spatial axis."""
        sides = (a.padding,) if rank == 1 else a.padding
        deltas = tuple(sum(s) for s in sides)
        return LayerResult(_resize_spatial(layer, inputs[0], rank, a.data_format, deltas))

    return zero_padding


def _cropping_rule(rank: int) -> Rule:
    layer = f"Cropping{rank}D"

    def cropping(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Removes values before and after each spatial axis; at least one must remain."""
        (x,) = inputs
        sides = (a.cropping,) if rank == 1 else a.cropping
        layout = a.get("data_format", "channels_last")  # Keras' Cropping1D has no data_format
        out = _resize_spatial(layer, x, rank, layout, tuple(-sum(s) for s in sides))
        if any(n is not None and n <= 0 for n in out):
            raise ShapeError(
                f"{layer}: cropping {sides} removes every value of input {show_shape(x)} on "
                f"some axis: expected spatial axes longer than {tuple(sum(s) for s in sides)}"
            )
        return LayerResult(out)

    return cropping


_LAYOUT = Param("data_format", data_format, "channels_last")
_PAIR = ntuple(2, non_negative_int)

register("ZeroPadding1D", params=[Param("padding", _PAIR, (1, 1)), _LAYOUT])(_zero_padding_rule(1))
register("Cropping1D", params=[Param("cropping", _PAIR, (1, 1))])(_cropping_rule(1))
for _rank, _pad, _crop in ((2, 1, 0), (3, 1, 1)):
    register(
        f"ZeroPadding{_rank}D",
        params=[Param("padding", _side_pairs(_rank), ((_pad, _pad),) * _rank), _LAYOUT],
    )(_zero_padding_rule(_rank))
    register(
        f"Cropping{_rank}D",
        params=[Param("cropping", _side_pairs(_rank), ((_crop, _crop),) * _rank), _LAYOUT],
    )(_cropping_rule(_rank))


# ----------------------------------------------------------------------------- upsampling


def _upsampling_rule(rank: int) -> Rule:
    layer = f"UpSampling{rank}D"

    def upsampling(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Repeats (or interpolates) each spatial axis ``size`` times."""
        (x,) = inputs
        layout = a.get("data_format", "channels_last")  # UpSampling1D is channels-last only
        expect_rank(x, rank, layer, layout)
        spatial, channels = split_channels(x, layout)
        sizes = (a.size,) if rank == 1 else a.size
        out = tuple(None if n is None else n * s for n, s in zip(spatial, sizes, strict=True))
        return LayerResult(join_channels(out, channels, layout))

    return upsampling


register("UpSampling1D", params=[Param("size", positive_int, 2)])(_upsampling_rule(1))
register(
    "UpSampling2D",
    params=[
        Param("size", ntuple(2), (2, 2)),
        _LAYOUT,
        Param(
            "interpolation",
            choice("nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5"),
            "nearest",
        ),
    ],
)(_upsampling_rule(2))
register("UpSampling3D", params=[Param("size", ntuple(3), (2, 2, 2)), _LAYOUT])(_upsampling_rule(3))
