"""Embedding: a lookup table with one row of ``output_dim`` numbers per token id; and
ReversibleEmbedding, which also maps hidden states back to token logits."""

from __future__ import annotations

from paramlab.layers.base import (
    RECORDED,
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    Weight,
    anything,
    boolean,
    fmt,
    optional,
    positive_int,
    register,
)


@register(
    "Embedding",
    params=[
        Param("input_dim", positive_int),
        Param("output_dim", positive_int),
        Param("mask_zero", boolean, False),
        Param("weights", anything, None),  # initial values only
        Param("lora_rank", optional(positive_int), None),
        Param("lora_alpha", optional(positive_int), None),
        Param("input_length", anything, None),  # deprecated in Keras 3, ignored there too
    ],
)
def embedding(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """input_dim × output_dim: the table's size does not depend on the sequence length.

    A lookup multiplies nothing, so 0 MACs. With LoRA the table is frozen and two trainable
    factors (input_dim × r and r × output_dim) are added, as Keras' ``enable_lora`` does.
    """
    (x,) = inputs
    n, d = a.input_dim, a.output_dim
    table = Weight("embeddings", (n, d), trainable=not a.lora_rank)
    weights = [table]
    formula = f"{fmt(n)} × {fmt(d)} = {fmt(n * d)}"
    if a.lora_rank:
        r = a.lora_rank
        weights += [Weight("lora_embeddings_a", (n, r)), Weight("lora_embeddings_b", (r, d))]
        formula += f" (frozen) + LoRA {fmt(n)} × {r} + {r} × {fmt(d)} = {fmt((n + d) * r)}"
    return LayerResult((*x, d), weights, formula, macs=0)


@register(
    "ReversibleEmbedding",
    params=[
        Param("input_dim", positive_int),
        Param("output_dim", positive_int),
        Param("tie_weights", boolean, True),
        Param("mask_zero", boolean, False),
        Param("reverse_dtype", anything, None),
        Param("logit_soft_cap", anything, None),
        RECORDED,
    ],
)
def reversible_embedding(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """The table, plus a separate output_dim × input_dim reverse projection when the two
    directions are not tied. Called with ``reverse=True`` it maps (…, output_dim) to
    (…, input_dim); the JSON's recorded shapes tell which direction each call took."""
    (x,) = inputs
    n, d = a.input_dim, a.output_dim
    weights = [Weight("embeddings", (n, d))]
    formula = f"{fmt(n)} × {fmt(d)} = {fmt(n * d)}"
    if not a.tie_weights:
        weights.append(Weight("reverse_embeddings", (d, n)))
        formula = f"{fmt(n)} × {fmt(d)} + {fmt(d)} × {fmt(n)} = {fmt(2 * n * d)}"
    reverse = (*x[:-1], n) if x else None
    recorded = [out for ins, out in a.recorded_shapes or () if tuple(ins) == (x,)]
    if reverse is not None and x[-1] == d and recorded and tuple(recorded[0]) == reverse:
        positions = 1
        for dim in x[:-1]:
            positions *= dim or 1
        return LayerResult(reverse, weights, formula, macs=positions * n * d,
                           note="called with reverse=True: hidden states to logits")
    return LayerResult((*x, d), weights, formula, macs=0)
