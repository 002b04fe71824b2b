"""Attention layers: MultiHeadAttention, Attention (dot-product) and AdditiveAttention.

MultiHeadAttention's weights are Keras' EinsumDense projections: query/key/value kernels
(dim, heads, key_dim) with biases (heads, key_dim), and an output kernel
(heads, value_dim, out) with bias (out,). Its MACs include the projections *and* the
score (QKᵀ) and weighted-value products, which per-layer counters often leave out.
Called with one input it is self-attention (query = value = key).
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
    choice,
    fmt,
    known,
    number,
    optional,
    positive_int,
    register,
    show_shape,
)


def _out_shape(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and v > 0 for v in value):
        return tuple(value)
    raise ValueError("a positive integer or a tuple of them")


def _last(x: Shape, layer: str, role: str) -> int:
    if not x:
        raise ShapeError(f"{layer}: the {role} needs at least one axis; received {show_shape(x)}")
    return known(x[-1], layer, f"{role} feature axis", x)


@register(
    "MultiHeadAttention",
    params=[
        Param("num_heads", positive_int),
        Param("key_dim", positive_int),
        Param("value_dim", optional(positive_int), None),
        Param("dropout", number, 0.0),
        Param("use_bias", boolean, True),
        Param("output_shape", _out_shape, None),
        Param("attention_axes", anything, None),
        Param("flash_attention", anything, None),
        Param("use_gate", boolean, False),
        Param("sliding_window", anything, None),  # a mask: no weights
    ],
    min_inputs=1,
    max_inputs=3,
)
def multi_head_attention(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """heads × key_dim projections of query, key and value, then back to the output size."""
    query = inputs[0]
    value = inputs[1] if len(inputs) > 1 else query
    key = inputs[2] if len(inputs) > 2 else value
    name = "MultiHeadAttention"
    q, k, v = _last(query, name, "query"), _last(key, name, "key"), _last(value, name, "value")
    h, kd = a.num_heads, a.key_dim
    vd = a.value_dim or kd
    out = a.output_shape or (q,)
    weights = [Weight("query_kernel", (q, h, kd)), Weight("key_kernel", (k, h, kd)),
               Weight("value_kernel", (v, h, vd)), Weight("output_kernel", (h, vd, *out))]
    n_out = math.prod(out)
    parts = [f"{fmt(q)} × {h} × {kd}", f"{fmt(k)} × {h} × {kd}", f"{fmt(v)} × {h} × {vd}",
             f"{h} × {vd} × {fmt(n_out)}"]
    if a.use_bias:
        weights = [weights[0], Weight("query_bias", (h, kd)), weights[1],
                   Weight("key_bias", (h, kd)), weights[2], Weight("value_bias", (h, vd)),
                   weights[3], Weight("output_bias", out)]
        parts = [f"({fmt(q)} + 1) × {h} × {kd}", f"({fmt(k)} + 1) × {h} × {kd}",
                 f"({fmt(v)} + 1) × {h} × {vd}", f"{h} × {vd} × {fmt(n_out)} + {fmt(n_out)}"]
    tq = math.prod(d or 1 for d in query[:-1])
    tv = math.prod(d or 1 for d in value[:-1])
    macs = (tq * q * h * kd + tv * k * h * kd + tv * v * h * vd  # projections
            + h * tq * tv * kd + h * tq * tv * vd  # scores QKᵀ and weights × V
            + tq * h * vd * n_out)  # output projection
    if a.use_gate:  # a sigmoid projection of the query, multiplied into the attention output
        weights.append(Weight("gate_kernel", (q, h, vd)))
        if a.use_bias:
            weights.append(Weight("gate_bias", (h, vd)))
        parts.append(f"({fmt(q)} + 1) × {h} × {vd}" if a.use_bias else f"{fmt(q)} × {h} × {vd}")
        macs += tq * q * h * vd
    total = sum(w.size for w in weights)
    return LayerResult((*query[:-1], *out), weights, f"{' + '.join(parts)} = {fmt(total)}",
                       macs)


def _query_value(inputs: list[Shape], layer: str) -> tuple[Shape, Shape]:
    if len(inputs) < 2:
        raise ShapeError(f"{layer} takes [query, value] or [query, value, key]")
    return inputs[0], inputs[1]


@register(
    "Attention",
    params=[Param("use_scale", boolean, False),
            Param("score_mode", choice("dot", "concat"), "dot"),
            Param("dropout", number, 0.0)],
    min_inputs=2,
    max_inputs=3,
)
def attention(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Dot-product attention: an optional learned scalar scale (and one for concat scores)."""
    query, value = _query_value(inputs, "Attention")
    weights = []
    if a.use_scale:
        weights.append(Weight("scale", ()))
    if a.score_mode == "concat":
        weights.append(Weight("concat_score_weight", ()))
    dim = _last(query, "Attention", "query")
    tq = math.prod(d or 1 for d in query[:-1])
    tv = math.prod(d or 1 for d in value[:-1])
    formula = " + ".join(f"1 ({w.name})" for w in weights)
    if weights:
        formula += f" = {len(weights)}"
    return LayerResult((*query[:-1], _last(value, "Attention", "value")), weights, formula,
                       2 * tq * tv * dim)


@register(
    "AdditiveAttention",
    params=[Param("use_scale", boolean, True), Param("dropout", number, 0.0)],
    min_inputs=2,
    max_inputs=3,
)
def additive_attention(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Bahdanau-style scores with a learned scale per feature."""
    query, value = _query_value(inputs, "AdditiveAttention")
    dim = _last(query, "AdditiveAttention", "query")
    weights = [Weight("scale", (dim,))] if a.use_scale else []
    tq = math.prod(d or 1 for d in query[:-1])
    tv = math.prod(d or 1 for d in value[:-1])
    return LayerResult((*query[:-1], _last(value, "AdditiveAttention", "value")), weights,
                       fmt(dim) if weights else "", 2 * tq * tv * dim)
