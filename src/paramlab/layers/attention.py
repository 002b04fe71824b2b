"""Attention layers: MultiHeadAttention and Keras' parameter-light Attention/AdditiveAttention.

MultiHeadAttention projects query, key and value per head with EinsumDense kernels of shape
``(features, heads, head_dim)`` and biases ``(heads, head_dim)``, then projects the heads back
with a kernel ``(heads, value_dim, *output_shape)``. Its MACs count the projections *and*
the two attention products (scores QKᵀ and scores·V), which grow with sequence length while
the parameters do not. Unknown lengths count as one.

Inputs are ``[query, value]`` or ``[query, value, key]`` as Keras calls them; a single input
means self-attention (query = value = key), the common ``mha(x, x)``.
"""

from __future__ import annotations

import math
from typing import Any

from paramlab.errors import ShapeError, SpecError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    Weight,
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


def _output_shape(value: Any) -> tuple[int, ...] | None:
    """Keras' MHA ``output_shape``: an int or a tuple of ints; empty means the default."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value,)
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        return tuple(positive_int(v) for v in value)
    raise ValueError("a positive integer or a tuple of positive integers")


def _axes(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    raise ValueError("an integer or a tuple of integers")


def _query_value_key(inputs: list[Shape], layer: str) -> tuple[Shape, Shape, Shape]:
    query = inputs[0]
    value = inputs[1] if len(inputs) > 1 else query
    key = inputs[2] if len(inputs) > 2 else value
    for role, x in (("query", query), ("value", value), ("key", key)):
        if len(x) < 2:
            raise ShapeError(
                f"{layer} expects {role} of shape (batch, sequence…, features); "
                f"received {show_shape(x)}"
            )
    return query, value, key


def _compatible(a: Shape, b: Shape) -> bool:
    """Same rank, and equal wherever both axes are known."""
    if len(a) != len(b):
        return False
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


@register(
    "MultiHeadAttention",
    params=[
        Param("num_heads", positive_int),
        Param("key_dim", positive_int),
        Param("value_dim", optional(positive_int), None),
        Param("dropout", number, 0.0),
        Param("use_bias", boolean, True),
        Param("output_shape", optional(_output_shape), None),
        Param("attention_axes", optional(_axes), None),
        Param("sliding_window", optional(positive_int), None),
        Param("flash_attention", optional(boolean), None),
        Param("use_gate", boolean, False),
    ],
    max_inputs=3,
)
def multi_head_attention(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Projections query/key/value (+ gate), attention, output projection."""
    if a.flash_attention and a.dropout > 0:
        raise SpecError(
            "MultiHeadAttention does not support dropout with flash_attention=True. "
            f"Received: dropout={a.dropout}"
        )
    layer = "MultiHeadAttention"
    query, value, key = _query_value_key(inputs, layer)
    if value[:-1] != key[:-1]:
        raise ShapeError(
            f"{layer}: all axes of value and key except the last must be equal; received "
            f"value {show_shape(value)} and key {show_shape(key)}"
        )
    heads, kd = a.num_heads, a.key_dim
    vd = a.value_dim or kd
    dims = {
        role: known(x[-1], layer, f"{role} feature axis", x)
        for role, x in (("query", query), ("key", key), ("value", value))
    }
    out = a.output_shape or (dims["query"],)
    projections = [("query", dims["query"], heads, kd), ("key", dims["key"], heads, kd)]
    if a.use_gate:
        projections.append(("gate", dims["query"], heads, vd))
    projections.append(("value", dims["value"], heads, vd))
    weights, terms = _projection_weights(projections, a.use_bias)
    weights.append(Weight("attention_output/kernel", (heads, vd, *out)))
    if a.use_bias:
        weights.append(Weight("attention_output/bias", out))
    out_size = math.prod(out)
    terms.append(_projection_term("output", heads * vd, 1, out_size, a.use_bias))
    total = sum(w.size for w in weights)
    formula = " + ".join(terms) + f" = {fmt(total)}"
    macs = _mha_macs(a, query, key, value, dims, vd, out_size)
    note = _torch_mha_note(a, dims, vd, out) if ctx.convention == "torch" else ""
    return LayerResult((*query[:-1], *out), weights, formula, macs, note)


def _projection_weights(projections: list[tuple[str, int, int, int]], bias: bool,
                        ) -> tuple[list[Weight], list[str]]:
    """The EinsumDense projections of an attention layer — (name, features, heads, head_dim)
    each: kernel (features, heads, head_dim), bias (heads, head_dim) — and their terms."""
    weights: list[Weight] = []
    terms: list[str] = []
    for name, features, heads, head_dim in projections:
        weights.append(Weight(f"{name}/kernel", (features, heads, head_dim)))
        if bias:
            weights.append(Weight(f"{name}/bias", (heads, head_dim)))
        terms.append(_projection_term(name, features, heads, head_dim, bias))
    return weights, terms


def _projection_term(name: str, features: int, heads: int, head_dim: int, bias: bool) -> str:
    """One projection's count, e.g. ``query (64 + 1) × 8 × 16``."""
    width = f"{fmt(head_dim)}" if heads == 1 else f"{heads} × {fmt(head_dim)}"
    rows = f"({fmt(features)} + 1)" if bias else fmt(features)
    return f"{name} {rows} × {width}"


def _attention_axes(a: Args, rank: int) -> tuple[int, ...]:
    """Attention axes counted without the batch axis, over the projected (…, heads, dim) shape.

    Keras numbers axes with the batch axis and maps a negative axis ``i`` to ``rank + i``
    of the projected tensor (batch, *query axes but features, heads, head_dim).
    """
    if a.attention_axes is None:
        return tuple(range(rank - 1))
    axes = tuple(axis - 1 if axis >= 0 else rank + axis for axis in a.attention_axes)
    if any(axis < 0 or axis > rank - 1 for axis in axes):
        raise SpecError(
            f"MultiHeadAttention attention_axes={a.attention_axes} is out of range for a query "
            f"of rank {rank + 1}: expected axes between 1 and {rank - 1}"
        )
    return axes


def _mha_macs(
    a: Args, query: Shape, key: Shape, value: Shape, dims: dict[str, int], vd: int, out: int
) -> int:
    """Projections, the QKᵀ scores and the scores·V combination, per example."""
    heads, kd = a.num_heads, a.key_dim
    if len(query) != len(key):
        raise ShapeError(
            "MultiHeadAttention needs query and key of the same rank; received "
            f"query {show_shape(query)} and key {show_shape(key)}"
        )
    q_proj = (*query[:-1], heads)
    k_proj = (*key[:-1], heads)
    axes = _attention_axes(a, len(query))
    batch = [i for i in range(len(q_proj)) if i not in axes]
    if not _compatible(tuple(q_proj[i] for i in batch), tuple(k_proj[i] for i in batch)):
        raise ShapeError(
            "MultiHeadAttention: query and key must agree on every axis attention is not "
            f"applied to; received query {show_shape(query)} and key {show_shape(key)} "
            f"with attention_axes={a.attention_axes}"
        )
    q_positions = math.prod(d or 1 for d in query[:-1])
    kv_positions = math.prod(d or 1 for d in key[:-1])
    projections = q_positions * dims["query"] * heads * kd
    projections += kv_positions * (dims["key"] * heads * kd + dims["value"] * heads * vd)
    if a.use_gate:
        projections += q_positions * dims["query"] * heads * vd
    pairs = math.prod(q_proj[i] or 1 for i in batch)
    pairs *= math.prod(q_proj[i] or 1 for i in axes) * math.prod(k_proj[i] or 1 for i in axes)
    return projections + pairs * (kd + vd) + q_positions * heads * vd * out


def _torch_mha_note(a: Args, dims: dict[str, int], vd: int, out: tuple[int, ...]) -> str:
    """When PyTorch's nn.MultiheadAttention has the same count, and when it cannot."""
    embed = dims["query"]
    if a.num_heads * a.key_dim == embed == a.num_heads * vd and out == (embed,):
        return (
            "counted as Keras lays it out; PyTorch's nn.MultiheadAttention packs the same "
            "projections into in_proj_weight/out_proj and has the same count"
        )
    return (
        "counted as Keras lays it out; PyTorch's nn.MultiheadAttention needs "
        "num_heads × key_dim = query features = output features, so it has no equivalent"
    )


@register(
    "Attention",
    params=[
        Param("use_scale", boolean, False),
        Param("score_mode", choice("dot", "concat"), "dot"),
        Param("dropout", number, 0.0),
    ],
    min_inputs=2,
    max_inputs=3,
)
def attention(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Luong dot-product attention; at most two scalar weights (scale, concat_score_weight)."""
    weights = []
    if a.use_scale:
        weights.append(Weight("scale", ()))
    if a.score_mode == "concat":
        weights.append(Weight("concat_score_weight", ()))
    formula = " + ".join(f"1 ({w.name})" for w in weights)
    if len(weights) > 1:
        formula += f" = {len(weights)}"
    # concat scores are tanh(q + k) summed: element-wise, so only dot scores count MACs
    return _dot_attention(inputs, "Attention", weights, formula, a.score_mode == "dot")


@register(
    "AdditiveAttention",
    params=[Param("use_scale", boolean, True), Param("dropout", number, 0.0)],
    min_inputs=2,
    max_inputs=3,
)
def additive_attention(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Bahdanau attention; with use_scale a scale vector as long as the query features."""
    query = inputs[0]
    weights = []
    formula = ""
    if a.use_scale and query:
        dim = known(query[-1], "AdditiveAttention", "query feature axis", query)
        weights.append(Weight("scale", (dim,)))
        formula = f"{fmt(dim)} (scale) = {fmt(dim)}"
    # scores sum(scale · tanh(q + k)) are element-wise work: 0 MACs (fvcore's convention)
    return _dot_attention(inputs, "AdditiveAttention", weights, formula, False)


def _dot_attention(
    inputs: list[Shape], layer: str, weights: list[Weight], formula: str, dot_scores: bool
) -> LayerResult:
    """Scores between every query and key position, then a weighted sum of the values.

    MACs: the weighted sum of values, plus the query·key products when scores are dot products.
    """
    query, value, key = _query_value_key(inputs, layer)
    if None not in (query[-1], key[-1]) and query[-1] != key[-1]:
        raise ShapeError(
            f"{layer} compares query and key features, which must be equal; received "
            f"query {show_shape(query)} and key {show_shape(key)}"
        )
    if not _compatible(key[:-1], value[:-1]):
        raise ShapeError(
            f"{layer} needs key and value of the same length; received key "
            f"{show_shape(key)} and value {show_shape(value)}"
        )
    pairs = math.prod(d or 1 for d in query[:-1]) * (key[-2] or 1)
    scores = (query[-1] or 1) if dot_scores else 0
    macs = pairs * (scores + (value[-1] or 1))
    return LayerResult((*query[:-1], value[-1]), weights, formula, macs)


@register(
    "GroupQueryAttention",
    "GroupedQueryAttention",  # the class name Keras writes in JSON
    params=[
        Param("head_dim", positive_int),
        Param("num_query_heads", positive_int),
        Param("num_key_value_heads", positive_int),
        Param("dropout", number, 0.0),
        Param("use_bias", boolean, True),
        Param("sliding_window", optional(positive_int), None),
        Param("flash_attention", optional(boolean), None),
        Param("use_gate", boolean, False),
    ],
    max_inputs=3,
)
def group_query_attention(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Grouped-query attention (Ainslie et al. 2023): query heads share fewer key/value
    heads. EinsumDense projections query/(gate)/key/value, then back to the query features."""
    layer = "GroupQueryAttention"
    if a.num_query_heads % a.num_key_value_heads:
        raise SpecError(f"{layer}: num_query_heads ({a.num_query_heads}) must be divisible by "
                        f"num_key_value_heads ({a.num_key_value_heads})")
    query, value, key = _query_value_key(inputs, layer)
    dims = {role: known(x[-1], layer, f"{role} feature axis", x)
            for role, x in (("query", query), ("key", key), ("value", value))}
    if dims["query"] != dims["value"]:
        raise ShapeError(f"{layer}: the last axes of query and value must be equal; received "
                         f"query {show_shape(query)} and value {show_shape(value)}")
    hq, hkv, d = a.num_query_heads, a.num_key_value_heads, a.head_dim
    projections = [("query", dims["query"], hq, d), ("key", dims["key"], hkv, d)]
    if a.use_gate:
        projections.append(("gate", dims["query"], hq, d))
    projections.append(("value", dims["value"], hkv, d))
    weights, terms = _projection_weights(projections, a.use_bias)
    weights.append(Weight("attention_output/kernel", (hq, d, dims["query"])))
    if a.use_bias:
        weights.append(Weight("attention_output/bias", (dims["query"],)))
    terms.append(_projection_term("output", hq * d, 1, dims["query"], a.use_bias))
    q_len = math.prod(n or 1 for n in query[:-1])
    kv_len = math.prod(n or 1 for n in key[:-1])
    macs = sum((q_len if name in ("query", "gate") else kv_len) * features * heads * d
               for name, features, heads, _ in projections)
    macs += 2 * q_len * kv_len * hq * d + q_len * hq * d * dims["query"]
    total = sum(w.size for w in weights)
    return LayerResult((*query[:-1], dims["query"]), weights,
                       " + ".join(terms) + f" = {fmt(total)}", macs)
