"""Layers that move values around without weights: Reshape, Permute, RepeatVector,
ZeroPadding, Cropping and UpSampling in 1–3 dimensions."""

from __future__ import annotations

import math
from typing import Any

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    choice,
    non_negative_int,
    optional,
    positive_int,
    register,
    show_shape,
)

_DATA_FORMAT = Param("data_format", optional(choice("channels_last", "channels_first")), None)


def _target_shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) and (v > 0 or v == -1)
                for v in value)
        and list(value).count(-1) <= 1
    ):
        return tuple(value)
    raise ValueError("a tuple of positive integers with at most one -1")


@register("Reshape", params=[Param("target_shape", _target_shape)])
def reshape(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Same values, new shape: the element counts must agree (one -1 is inferred)."""
    (x,) = inputs
    target = a.target_shape
    if any(d is None for d in x):
        if -1 in target:
            return LayerResult(tuple(None if d == -1 else d for d in target))
        return LayerResult(target)
    size = math.prod(x)  # type: ignore[arg-type]
    if -1 in target:
        rest = math.prod(d for d in target if d != -1)
        if size % rest:
            raise ShapeError(
                f"Reshape cannot fit {size} values of input {show_shape(x)} into "
                f"target_shape {target}"
            )
        target = tuple(size // rest if d == -1 else d for d in target)
    elif math.prod(target) != size:
        raise ShapeError(
            f"Reshape: target_shape {target} holds {math.prod(target)} values but the input "
            f"{show_shape(x)} has {size}"
        )
    return LayerResult(target)


def _dims(value: Any) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise ValueError("a permutation of the axes 1…n, e.g. (2, 1)")


@register("Permute", params=[Param("dims", _dims)])
def permute(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Reorders axes; ``dims`` counts from 1 (the batch axis never moves)."""
    (x,) = inputs
    if sorted(a.dims) != list(range(1, len(x) + 1)):
        raise ShapeError(
            f"Permute: dims {a.dims} must be a permutation of 1…{len(x)} for input {show_shape(x)}"
        )
    return LayerResult(tuple(x[d - 1] for d in a.dims))


@register("RepeatVector", params=[Param("n", positive_int)])
def repeat_vector(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """A vector repeated ``n`` times: (features,) → (n, features)."""
    (x,) = inputs
    if len(x) != 1:
        raise ShapeError(f"RepeatVector expects a rank-2 input (batch, features); "
                         f"received {show_shape(x)}")
    return LayerResult((a.n, x[0]))


def _pairs(rank: int) -> Any:
    """Keras' padding/cropping forms: int, per-axis ints, or per-axis (before, after)."""

    def conv(value: Any) -> tuple[tuple[int, int], ...]:
        what = (f"an integer, a tuple of {rank} integers, or {rank} (before, after) pairs")
        if isinstance(value, int) and not isinstance(value, bool):
            return ((non_negative_int(value),) * 2,) * rank
        if rank == 1 and isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, int) for v in value
        ):
            return ((non_negative_int(value[0]), non_negative_int(value[1])),)
        if isinstance(value, (list, tuple)) and len(value) == rank:
            out = []
            for item in value:
                if isinstance(item, int) and not isinstance(item, bool):
                    out.append((non_negative_int(item),) * 2)
                elif isinstance(item, (list, tuple)) and len(item) == 2:
                    out.append((non_negative_int(item[0]), non_negative_int(item[1])))
                else:
                    raise ValueError(what)
            return tuple(out)
        raise ValueError(what)

    return conv


def _spatial(x: Shape, rank: int, a: Args, layer: str) -> tuple[list[int | None], bool]:
    if len(x) != rank + 1:
        raise ShapeError(
            f"{layer} expects inputs of rank {rank + 2} (batch, {rank} spatial axes, channels); "
            f"received input shape {show_shape(x)}"
        )
    first = a.get("data_format") == "channels_first"
    return list(x[1:] if first else x[:-1]), first


def _rejoin(x: Shape, spatial: list[int | None], first: bool) -> Shape:
    return (x[0], *spatial) if first else (*spatial, x[-1])


def _make_padding(rank: int) -> None:
    name = f"ZeroPadding{rank}D"
    params = [Param("padding", _pairs(rank), 1)]
    if rank > 1:
        params.append(_DATA_FORMAT)

    @register(name, params=params)
    def zero_padding(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Adds zeros before and after each spatial axis."""
        (x,) = inputs
        spatial, first = _spatial(x, rank, a, name)
        out = [None if d is None else d + p + q
               for d, (p, q) in zip(spatial, a.padding, strict=True)]
        return LayerResult(_rejoin(x, out, first))


def _make_cropping(rank: int) -> None:
    name = f"Cropping{rank}D"
    params = [Param("cropping", _pairs(rank), 1 if rank == 1 else 0)]
    if rank > 1:
        params.append(_DATA_FORMAT)

    @register(name, params=params)
    def cropping(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Removes values before and after each spatial axis; at least one must remain."""
        (x,) = inputs
        spatial, first = _spatial(x, rank, a, name)
        crop = a.cropping
        out = []
        for d, (p, q) in zip(spatial, crop, strict=True):
            if d is not None and d - p - q <= 0:
                raise ShapeError(
                    f"{name}: cropping {crop} removes every value of input {show_shape(x)}"
                )
            out.append(None if d is None else d - p - q)
        return LayerResult(_rejoin(x, out, first))


def _size(rank: int) -> Any:
    def conv(value: Any) -> tuple[int, ...]:
        if isinstance(value, int) and not isinstance(value, bool):
            return (positive_int(value),) * rank
        if isinstance(value, (list, tuple)) and len(value) == rank:
            return tuple(positive_int(v) for v in value)
        raise ValueError(f"a positive integer or a tuple of {rank}")

    return conv


def _make_upsampling(rank: int) -> None:
    name = f"UpSampling{rank}D"
    params = [Param("size", _size(rank), 2)]
    if rank > 1:
        params.append(_DATA_FORMAT)
    if rank == 2:
        params.append(Param("interpolation", choice("nearest", "bilinear", "bicubic", "lanczos3",
                                                    "lanczos5", "area"), "nearest"))

    @register(name, params=params)
    def upsampling(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Repeats each value ``size`` times along each spatial axis."""
        (x,) = inputs
        spatial, first = _spatial(x, rank, a, name)
        out = [None if d is None else d * s for d, s in zip(spatial, a.size, strict=True)]
        return LayerResult(_rejoin(x, out, first))


for _rank in (1, 2, 3):
    _make_padding(_rank)
    _make_cropping(_rank)
    _make_upsampling(_rank)
