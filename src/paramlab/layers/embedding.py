"""Embedding: a lookup table with one row of ``output_dim`` numbers per token id."""

from __future__ import annotations

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
