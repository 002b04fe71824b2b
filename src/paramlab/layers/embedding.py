"""Embedding: a lookup table, one learned vector per token id (no multiply-adds)."""

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
        Param("weights", anything, None),
        Param("input_length", anything, None),
        Param("lora_rank", optional(positive_int), None),
        Param("lora_alpha", optional(positive_int), None),
    ],
)
def embedding(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """input_dim × output_dim: a row of output_dim values for every token id."""
    (x,) = inputs
    weights = [Weight("embeddings", (a.input_dim, a.output_dim))]
    formula = f"{fmt(a.input_dim)} × {fmt(a.output_dim)} = {fmt(a.input_dim * a.output_dim)}"
    if a.lora_rank:
        r = a.lora_rank
        weights = [Weight("embeddings", (a.input_dim, a.output_dim), trainable=False),
                   Weight("lora_embeddings_a", (a.input_dim, r)),
                   Weight("lora_embeddings_b", (r, a.output_dim))]
        formula += f" (frozen) + LoRA {fmt((a.input_dim + a.output_dim) * r)}"
    return LayerResult((*x, a.output_dim), weights, formula, 0)
