"""Normalization layers. The frameworks disagree here, so the convention matters:

Keras counts BatchNormalization's moving mean and variance as *non-trainable parameters*;
PyTorch keeps ``running_mean``, ``running_var`` and ``num_batches_tracked`` as *buffers*,
which ``model.parameters()`` does not return. Both are emitted as ``statistic`` weights and
the summary books them by convention.
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
    Shape,
    Weight,
    anything,
    boolean,
    fmt,
    int_tuple,
    integer,
    known,
    number,
    optional,
    register,
    show_shape,
)


def _resolve_axes(x: Shape, axes: tuple[int, ...], layer: str) -> list[int]:
    """Keras axes count the batch axis as 0; return indices into our batch-less shape."""
    rank = len(x) + 1
    out = []
    for axis in axes:
        full = axis + rank if axis < 0 else axis
        if not 1 <= full < rank:
            raise ShapeError(f"{layer}: axis {axis} is out of range for input {show_shape(x)}")
        out.append(full - 1)
    return out


def _dims(x: Shape, indices: list[int], layer: str) -> tuple[int, ...]:
    return tuple(known(x[i], layer, f"axis {i + 1}", x) for i in indices)


@register(
    "BatchNormalization",
    params=[
        Param("axis", integer, -1),
        Param("momentum", number, 0.99),
        Param("epsilon", number, 1e-3),
        Param("center", boolean, True),
        Param("scale", boolean, True),
        Param("synchronized", boolean, False),
        Param("renorm", boolean, False),
        Param("renorm_clipping", anything, None),
        Param("renorm_momentum", number, 0.99),
    ],
)
def batch_normalization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """gamma, beta (trainable) and moving mean/variance (statistics), one each per channel."""
    (x,) = inputs
    (index,) = _resolve_axes(x, (a.axis,), "BatchNormalization")
    c = known(x[index], "BatchNormalization", "channel axis", x)
    weights = []
    learned = []
    if a.scale:
        weights.append(Weight("gamma" if ctx.convention == "keras" else "weight", (c,)))
        learned.append("γ")
    if a.center:
        weights.append(Weight("beta" if ctx.convention == "keras" else "bias", (c,)))
        learned.append("β")
    if ctx.convention == "torch" and not a.renorm:
        weights += [Weight("running_mean", (c,), False, True),
                    Weight("running_var", (c,), False, True),
                    Weight("num_batches_tracked", (), False, True)]
        note = ("PyTorch keeps running_mean, running_var and num_batches_tracked as buffers, "
                "not parameters; Keras counts moving mean and variance as non-trainable "
                "parameters")
        formula = (f"{len(learned)} × {fmt(c)} = {fmt(len(learned) * c)} "
                   f"(+ 2 × {fmt(c)} + 1 buffers)")
    else:
        stats = ["moving_mean", "moving_variance"]
        if a.renorm:  # batch renormalization (Ioffe 2017) tracks three more statistics
            stats += ["moving_stddev", "renorm_mean", "renorm_stddev"]
        weights += [Weight(name, (c,), False, True) for name in stats]
        note = ("Keras counts the moving statistics as non-trainable parameters; "
                "PyTorch keeps them as buffers")
        names = " + ".join([*learned, "mean", "var", *(["stddev", "renorm mean",
                                                        "renorm stddev"] if a.renorm else [])])
        formula = (f"({names}) × {fmt(c)} = {fmt((len(learned) + len(stats)) * c)}"
                   f" ({fmt(len(stats) * c)} non-trainable)")
    return LayerResult(x, weights, formula, 0, note)


def _affine(x: Shape, a: Args, layer: str, center: bool, scale: bool) -> LayerResult:
    """γ/β shaped like the normalized axes, in the order Keras' ``build`` sorts them
    (``sorted(axis)`` on the values as given, so ``(-1, -2)`` is ``(-2, -1)``)."""
    shape = _dims(x, _resolve_axes(x, tuple(sorted(a.axis)), layer), layer)
    weights = []
    if scale:
        weights.append(Weight("gamma", shape))
    if center:
        weights.append(Weight("beta", shape))
    if not weights:
        return LayerResult(x)
    size = math.prod(shape)
    names = " + ".join(w.name.replace("gamma", "γ").replace("beta", "β") for w in weights)
    return LayerResult(x, weights, f"({names}) × {fmt(size)} = {fmt(len(weights) * size)}")


@register(
    "LayerNormalization",
    params=[
        Param("axis", int_tuple, -1),
        Param("epsilon", number, 1e-3),
        Param("center", boolean, True),
        Param("scale", boolean, True),
        Param("rms_scaling", boolean, False),
    ],
)
def layer_normalization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """γ and β over the normalized axes (every feature gets its own scale and shift)."""
    return _affine(inputs[0], a, "LayerNormalization", a.center and not a.rms_scaling,
                   a.scale or a.rms_scaling)


@register("RMSNormalization", params=[Param("axis", int_tuple, -1), Param("epsilon", number, 1e-6)])
def rms_normalization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """A scale per feature, no shift (as in T5 and Llama)."""
    return _affine(inputs[0], a, "RMSNormalization", False, True)


def _groups(value: Any) -> int:
    """A positive number of groups, or -1 for one group per channel (instance norm)."""
    if isinstance(value, int) and not isinstance(value, bool) and (value > 0 or value == -1):
        return value
    raise ValueError("a positive integer (or -1 for instance normalization)")


@register(
    "GroupNormalization",
    params=[
        Param("groups", _groups, 32),
        Param("axis", integer, -1),
        Param("epsilon", number, 1e-3),
        Param("center", boolean, True),
        Param("scale", boolean, True),
    ],
)
def group_normalization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """γ and β per channel; the statistics are per group, which must divide the channels."""
    (x,) = inputs
    (index,) = _resolve_axes(x, (a.axis,), "GroupNormalization")
    c = known(x[index], "GroupNormalization", "channel axis", x)
    groups = c if a.groups == -1 else a.groups
    if groups <= 0 or c % groups or groups > c:
        raise ShapeError(
            f"GroupNormalization: groups={a.groups} must divide the {c} channels of input "
            f"{show_shape(x)}"
        )
    a = Args(a, axis=(a.axis,))
    return _affine(x, a, "GroupNormalization", a.center, a.scale)


@register("UnitNormalization", params=[Param("axis", int_tuple, -1)])
def unit_normalization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Scales each vector to unit L2 norm; nothing to learn."""
    return LayerResult(inputs[0])


@register(
    "Normalization",
    params=[
        Param("axis", int_tuple, -1),
        Param("mean", anything, None),
        Param("variance", anything, None),
        Param("invert", boolean, False),
    ],
)
def normalization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Feature-wise standardization with statistics from ``adapt()``.

    Without a given mean and variance Keras creates mean and variance weights plus a scalar
    ``count`` (kept for old saved models): all non-trainable statistics.
    """
    (x,) = inputs
    if a.mean is not None or a.variance is not None:
        return LayerResult(x, formula="", note="mean and variance given as constants")
    # Keras keeps the axes sorted by position (Normalization._keep_axis)
    indices = sorted(_resolve_axes(x, a.axis, "Normalization")) if a.axis is not None else []
    shape = _dims(x, indices, "Normalization")
    size = math.prod(shape)
    weights = [Weight("mean", shape, False, True), Weight("variance", shape, False, True),
               Weight("count", (), False, True)]
    return LayerResult(x, weights, f"2 × {fmt(size)} + 1 (count) = {fmt(2 * size + 1)}")


@register("Rescaling", params=[Param("scale", anything), Param("offset", anything, 0.0)])
def rescaling(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """x · scale + offset with constants: no weights."""
    return LayerResult(inputs[0])


@register("SpectralNormalization", params=[Param("layer", anything),
                                           Param("power_iterations", optional(integer), 1)])
def spectral_normalization(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """The wrapped layer's weights plus a non-trainable power-iteration vector u."""
    from paramlab.layers.base import LayerSpec, apply_layer

    if not isinstance(a.layer, LayerSpec):
        raise ShapeError("SpectralNormalization needs a layer to wrap, e.g. dense(8)")
    _, _, inner = apply_layer(a.layer, inputs, ctx, " (inside SpectralNormalization)")
    # Keras takes the layer's kernel, or an Embedding's table
    kernel = next((w for w in inner.weights if w.name.endswith("kernel")), None) or next(
        (w for w in inner.weights if w.name == "embeddings"), None)
    if kernel is None:
        raise ShapeError("SpectralNormalization wraps layers with a kernel (Dense, Conv…) "
                         "or embeddings (Embedding)")
    u = Weight("u", (1, kernel.shape[-1]), False, True)
    return LayerResult(inner.output_shape, [*inner.weights, u],
                       f"{inner.formula} + u 1 × {kernel.shape[-1]}", inner.macs)
