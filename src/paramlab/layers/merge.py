"""Merge layers: combine several tensors; no weights. Shapes follow Keras' rules:
element-wise merges broadcast axes of size 1, aligned from the right *without* the batch axis
(``Merge.compute_output_shape`` drops it first, so (4, 6) and (6,) give (4, 6)),
Concatenate joins along one axis (the batch axis 0 too), Dot contracts one axis of each input."""

from __future__ import annotations

from typing import Any

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    boolean,
    integer,
    register,
    show_shape,
)

Full = tuple[int | None, ...]  # a shape with the batch axis (None) in front


def _broadcast(first: Full, second: Full, layer: str) -> Full:
    """Keras ``Merge._compute_elemwise_op_output_shape``."""
    if len(first) < len(second):
        return _broadcast(second, first, layer)
    if not second:
        return first
    out: list[int | None] = list(first[: -len(second)])
    for i, j in zip(first[-len(second):], second, strict=True):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ShapeError(
                f"{layer} needs inputs of the same shape (or size 1 on an axis to broadcast); "
                f"received {show_shape(first)} and {show_shape(second)}"
            )
    return tuple(out)


def _elementwise(name: str, min_inputs: int, max_inputs: int | None) -> None:
    @register(name, min_inputs=min_inputs, max_inputs=max_inputs)
    def merge(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        out: Full = inputs[0]
        for shape in inputs[1:]:
            out = _broadcast(out, shape, name)
        return LayerResult(out)


_elementwise("Subtract", 2, 2)
for _name in ("Add", "Multiply", "Average", "Maximum", "Minimum"):
    _elementwise(_name, 1, None)


@register("Concatenate", params=[Param("axis", integer, -1)], min_inputs=1, max_inputs=None)
def concatenate(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Sizes add up along ``axis``; every other axis must agree."""
    rank = len(inputs[0]) + 1
    if any(len(x) + 1 != rank for x in inputs):
        raise ShapeError(
            "Concatenate needs inputs of the same rank; received "
            + ", ".join(show_shape(x) for x in inputs)
        )
    axis = a.axis + rank if a.axis < 0 else a.axis
    if not 0 <= axis < rank:
        raise ShapeError(f"Concatenate: axis {a.axis} is out of range for rank-{rank} inputs")
    index = axis - 1  # -1 along the batch axis: every axis of the shape must then agree
    out: list[int | None] = list(inputs[0])
    for x in inputs[1:]:
        for k, (p, q) in enumerate(zip(out, x, strict=True)):
            if k == index:
                continue
            if p is not None and q is not None and p != q:
                raise ShapeError(
                    "Concatenate needs matching shapes except on the concatenation axis "
                    f"{a.axis}; received " + ", ".join(show_shape(s) for s in inputs)
                )
            out[k] = p if p is not None else q
    if axis == 0:  # stacking batches keeps the (batchless) shape
        return LayerResult(tuple(out))
    sizes = [x[index] for x in inputs]
    out[index] = None if any(s is None for s in sizes) else sum(sizes)  # type: ignore[arg-type]
    return LayerResult(tuple(out))


def _dot_axes(value: Any) -> tuple[int, int] | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, int) for v in value
    ):
        return (value[0], value[1])
    raise ValueError("an axis or a pair of axes")


@register("Dot", params=[Param("axes", _dot_axes), Param("normalize", boolean, False)],
          min_inputs=2, max_inputs=2)
def dot(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Contracts ``axes`` of the two inputs (Keras ``Dot.compute_output_shape``)."""
    first: list[int | None] = [None, *inputs[0]]
    second: list[int | None] = [None, *inputs[1]]
    if isinstance(a.axes, int):
        axes = [a.axes % len(first), a.axes % len(second)] if a.axes < 0 else [a.axes] * 2
    else:  # negative axes count from the end, as Keras' list indexing does
        axes = [a.axes[0] % len(first), a.axes[1] % len(second)]
    if not (0 < axes[0] < len(first) and 0 < axes[1] < len(second)):
        raise ShapeError(f"Dot: axes {a.axes} are out of range for inputs "
                         f"{show_shape(inputs[0])} and {show_shape(inputs[1])}")
    if first[axes[0]] is not None and second[axes[1]] is not None and (
        first[axes[0]] != second[axes[1]]
    ):
        raise ShapeError(
            f"Dot: axis sizes must match, received {first[axes[0]]} (input 0 axis {axes[0]}) "
            f"and {second[axes[1]]} (input 1 axis {axes[1]})"
        )
    macs = first[axes[0]] or 0
    first.pop(axes[0])
    second.pop(axes[1])
    second.pop(0)
    out = first + second
    if len(out) == 1:
        out.append(1)
    positions = 1
    for d in out[1:]:
        positions *= d or 1
    return LayerResult(tuple(out[1:]), macs=macs * positions)
