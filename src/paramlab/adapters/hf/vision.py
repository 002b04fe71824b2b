"""ViT: patch embeddings, a class token, learned positions and a pre-norm encoder."""

from __future__ import annotations

from paramlab.adapters.hf.blocks import (
    Model,
    Part,
    Stack,
    _n,
    attention,
    labels_head,
    linear,
    mlp,
    norms,
)
from paramlab.adapters.hf.config import HFConfig
from paramlab.layers.base import Weight


def _vit(c: HFConfig, kind: str) -> Model:
    hidden = c.integer("hidden_size", 768)
    layers = c.integer("num_hidden_layers", 12)
    heads = c.integer("num_attention_heads", 12)
    inner = c.integer("intermediate_size", 3072)
    image = c.pair("image_size", 224)
    patch = c.pair("patch_size", 16)
    channels = c.integer("num_channels", 3)
    qkv_bias = c.flag("qkv_bias", True)
    patches = (image[0] // patch[0]) * (image[1] // patch[1])
    q = heads * (hidden // heads)
    kernel = channels * patch[0] * patch[1]
    projection = Part("embeddings.patch_embeddings.projection", "Conv2d",
                      (Weight("projection.weight", (hidden, channels, *patch)),
                       Weight("projection.bias", (hidden,))),
                      f"({_n(channels)} × {patch[0]} × {patch[1]} + 1) × {_n(hidden)}",
                      kernel * hidden, note="MACs per patch", out=(patches, hidden))
    embeddings = [Part("embeddings.cls_token", "Parameter",
                       (Weight("cls_token", (1, 1, hidden)),), _n(hidden), out=(1, hidden)),
                  Part("embeddings.position_embeddings", "Parameter",
                       (Weight("position_embeddings", (1, patches + 1, hidden)),),
                       f"({_n(patches)} + 1) × {_n(hidden)}", out=(patches + 1, hidden)),
                  projection]
    if kind == "ForMaskedImageModeling":
        embeddings.insert(1, Part("embeddings.mask_token", "Parameter",
                                  (Weight("mask_token", (1, 1, hidden)),), _n(hidden),
                                  out=(1, hidden)))
    parts = (attention("attention", hidden, q, q, qkv_bias, True),
             norms("norms", hidden, 2),
             mlp("mlp", hidden, inner, gated=False, bias=True, names=("fc1", "fc2")))
    model = Model("ViT" + kind, [*embeddings, Stack("layers", layers, "ViTLayer", parts),
                                 norms("layernorm", hidden, 1)])
    if kind == "Model":
        pooled = c.opt_int("pooler_output_size") or hidden
        model.sections.append(linear("pooler.dense", hidden, pooled, out=(pooled,)))
    elif kind == "ForImageClassification":
        labels = c.num_labels()
        if labels > 0:
            model.sections.append(labels_head("classifier", hidden, labels))
    elif kind == "ForMaskedImageModeling":
        stride = c.integer("encoder_stride", 16)
        width = stride * stride * channels
        model.sections.append(linear("decoder.0", hidden, width, out=(patches, width)))
        model.notes.append("decoder.0 is a 1×1 Conv2d: the same count as a Linear.")
    return model


VIT_KINDS = ("Model", "ForImageClassification", "ForMaskedImageModeling")

