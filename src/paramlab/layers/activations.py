"""Activation layers: element-wise, no weights — except PReLU, whose slopes are learned."""

from __future__ import annotations

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    Weight,
    activation,
    anything,
    fmt,
    int_tuple,
    known,
    number,
    optional,
    register,
    show_shape,
)


def _passthrough(*names: str, params: list[Param]) -> None:
    @register(*names, params=params)
    def rule(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        return LayerResult(inputs[0])


_passthrough("Activation", params=[Param("activation", activation)])
_passthrough("ReLU", params=[Param("max_value", optional(number), None),
                             Param("negative_slope", number, 0.0),
                             Param("threshold", number, 0.0)])
_passthrough("LeakyReLU", params=[Param("negative_slope", number, 0.3),
                                  Param("alpha", optional(number), None)])
_passthrough("Softmax", params=[Param("axis", anything, -1)])
_passthrough("ELU", params=[Param("alpha", number, 1.0)])


@register("PReLU", params=[Param("shared_axes", int_tuple, None)])
def prelu(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """One learned slope per input value, except along ``shared_axes`` (size 1 there)."""
    (x,) = inputs
    shape = list(x)
    for axis in a.shared_axes or ():
        if not 1 <= axis <= len(x):
            raise ShapeError(f"PReLU: shared axis {axis} is out of range for {show_shape(x)}")
        shape[axis - 1] = 1
    dims = tuple(known(d, "PReLU", "axis (not shared)", x) for d in shape)
    size = 1
    for d in dims:
        size *= d
    text = " × ".join(fmt(d) for d in dims)
    return LayerResult(x, [Weight("alpha", dims)], f"{text} = {fmt(size)}" if len(dims) > 1
                       else fmt(size))


