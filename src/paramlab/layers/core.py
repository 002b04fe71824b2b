"""Input, Dense and Flatten (the layers of the seeds' MLPs), and the pass-through Masking and
Identity."""

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
    fmt,
    known,
    number,
    optional,
    positive_int,
    register,
    shape,
)


@register(
    "InputLayer",
    "Input",
    params=[
        Param("shape", shape, None),
        Param("batch_shape", optional(shape), None),
        Param("sparse", boolean, False),
        Param("ragged", boolean, False),
        Param("optional", boolean, False),
    ],
    min_inputs=0,
    max_inputs=0,
)
def input_layer(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """The model's entry point: no weights; ``batch_shape`` (Keras JSON) drops its batch axis."""
    if a.batch_shape is not None:
        return LayerResult(tuple(a.batch_shape[1:]))
    if a.shape is None:
        raise ShapeError("Input needs a shape, e.g. input(28, 28, 1)")
    return LayerResult(tuple(a.shape))


@register(
    "Dense",
    params=[
        Param("units", positive_int),
        Param("use_bias", boolean, True),
        Param("lora_rank", optional(positive_int), None),
        Param("lora_alpha", optional(positive_int), None),
    ],
)
def dense(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """(n + 1) · m: a weight from every input unit to every output unit, plus one bias each.

    On inputs of rank > 1 Keras applies the same kernel along the last axis, so the count
    does not grow with the leading axes; the MACs do.
    """
    (x,) = inputs
    if not x:
        raise ShapeError("Dense needs an input with at least one axis")
    n = known(x[-1], "Dense", "last axis (input features)", x)
    m = a.units
    weights = [Weight("kernel", (n, m))]
    if a.use_bias:
        weights.append(Weight("bias", (m,)))
        formula = f"({fmt(n)} + 1) × {fmt(m)} = {fmt((n + 1) * m)}"
    else:
        formula = f"{fmt(n)} × {fmt(m)} = {fmt(n * m)}"
    if a.lora_rank:  # Keras freezes the kernel only; the bias stays trainable
        r = a.lora_rank
        weights[0] = Weight("kernel", (n, m), trainable=False)
        weights += [Weight("lora_kernel_a", (n, r)), Weight("lora_kernel_b", (r, m))]
        bias = f" + {fmt(m)} bias" if a.use_bias else ""
        formula = (f"{fmt(n)} × {fmt(m)} = {fmt(n * m)} (frozen kernel){bias} + LoRA "
                   f"{fmt(n)} × {r} + {r} × {fmt(m)} = {fmt((n + m) * r)}")
    positions = math.prod(d or 1 for d in x[:-1])
    return LayerResult((*x[:-1], m), weights, formula, macs=positions * n * m)


@register("Flatten")
def flatten(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Reshapes to one axis; no weights. Every axis must be known."""
    (x,) = inputs
    if any(d is None for d in x):
        from paramlab.layers.base import show_shape

        raise ShapeError(f"Flatten needs every axis known, but its input is {show_shape(x)}")
    return LayerResult((math.prod(d for d in x if d is not None),))


@register("Masking", params=[Param("mask_value", number, 0.0)])
def masking(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Marks timesteps equal to ``mask_value`` as skipped; values and shape unchanged."""
    return LayerResult(inputs[0])


@register("Identity")
def identity(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Returns its input: a placeholder layer."""
    return LayerResult(inputs[0])
