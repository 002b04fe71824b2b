"""Vision (and vision-language) encoders: ViT, DINOv2, CLIP and SigLIP.

ViT-style models embed patches with a strided convolution, add a class token and learned
positions, and run a pre-norm encoder; CLIP and SigLIP pair such a vision tower with a text
tower, each sized by its own nested config."""

from __future__ import annotations

from typing import Any

from paramlab.adapters.hf.blocks import (
    Model,
    Part,
    Section,
    Stack,
    _n,
    attention,
    embedding,
    heads_width,
    labels_head,
    linear,
    mlp,
    norms,
    parameter,
    patch_conv,
)
from paramlab.adapters.hf.config import HFConfig
from paramlab.adapters.hf.layouts import CONFIG_DICTS
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
    q = heads_width(hidden, heads, c.opt_int("head_dim"))  # modeling code: getattr
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



def _patches(c: HFConfig, image: int, patch: int) -> tuple[tuple[int, int], int]:
    size, kernel = c.pair("image_size", image), c.pair("patch_size", patch)
    return kernel, (size[0] // kernel[0]) * (size[1] // kernel[1])


def _dinov2(c: HFConfig, kind: str) -> Model:
    """DINOv2: ViT with a layer scale after attention and MLP, a mask token, an optional
    SwiGLU feed-forward, and a classifier over the class token and the mean patch."""
    hidden = c.integer("hidden_size", 768)
    heads = c.integer("num_attention_heads", 12)
    q = heads_width(hidden, heads, c.opt_int("head_dim"))  # modeling code: getattr
    channels = c.integer("num_channels", 3)
    patch, patches = _patches(c, 224, 14)
    ratio = c.data.get("mlp_ratio", 4)
    if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or ratio <= 0:
        raise c.error("mlp_ratio", "a positive number", ratio)
    inner = int(hidden * ratio)
    swiglu = c.flag("use_swiglu_ffn", False)
    if swiglu:  # SwiGLU keeps the parameter count of the plain MLP, rounded to 8
        inner = (int(inner * 2 / 3) + 7) // 8 * 8
    qkv_bias = c.flag("qkv_bias", True)
    sections: list[Section] = [parameter("embeddings.cls_token", (1, 1, hidden))]
    if c.flag("use_mask_token", True):
        sections.append(parameter("embeddings.mask_token", (1, hidden)))
    sections += [parameter("embeddings.position_embeddings", (1, patches + 1, hidden)),
                 patch_conv("embeddings.patch_embeddings.projection", channels, patch, hidden,
                            patches)]
    names = ("gate_proj", "up_proj", "down_proj") if swiglu else ("fc1", "fc2")
    parts = (norms("norms", hidden, 2),
             attention("attention", hidden, q, q, qkv_bias, True,
                       ("q_proj", "k_proj", "v_proj", "o_proj")),
             parameter("layer_scale.lambda", (2, hidden)),
             mlp("mlp", hidden, inner, gated=swiglu, bias=True, names=names))
    sections += [Stack("encoder.layer", c.integer("num_hidden_layers", 12), "Dinov2Layer",
                       parts), norms("layernorm", hidden, 1)]
    model = Model("Dinov2" + kind, sections)
    if kind == "ForImageClassification":
        labels = c.num_labels()
        if labels > 0:
            model.sections.append(labels_head("classifier", 2 * hidden, labels))
    return model


DINOV2_KINDS = ("Model", "ForImageClassification")


def _clip_layer(hidden: int, inner: int) -> tuple[Part, ...]:
    """CLIP's and SigLIP's encoder layer: biased q/k/v/out, two LayerNorms, a plain MLP."""
    attn = attention("self_attn", hidden, hidden, hidden, True, True,
                     ("k_proj", "v_proj", "q_proj", "out_proj"))
    ffn = mlp("mlp", hidden, inner, gated=False, bias=True, names=("fc1", "fc2"))
    return (attn, norms("layer_norms", hidden, 2), ffn)


def _tower_dims(c: HFConfig, d: dict[str, int]) -> tuple[int, int, int]:
    c.integer("num_attention_heads", d["num_attention_heads"])
    return (c.integer("hidden_size", d["hidden_size"]),
            c.integer("intermediate_size", d["intermediate_size"]),
            c.integer("num_hidden_layers", d["num_hidden_layers"]))


CLIP_TEXT = {"hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12,
             "num_attention_heads": 8, "vocab_size": 49408, "max_position_embeddings": 77}
CLIP_VISION = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
               "num_attention_heads": 12, "image_size": 224, "patch_size": 32}
SIGLIP_TEXT = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
               "num_attention_heads": 12, "vocab_size": 32000, "max_position_embeddings": 64}
SIGLIP_VISION = {**CLIP_VISION, "patch_size": 16}


def text_tower(c: HFConfig, prefix: str, siglip: bool) -> list[Section]:
    d = SIGLIP_TEXT if siglip else CLIP_TEXT
    hidden, inner, layers = _tower_dims(c, d)
    sections: list[Section] = [
        embedding(f"{prefix}embeddings.token_embedding", c.integer("vocab_size", d["vocab_size"]),
                  hidden),
        embedding(f"{prefix}embeddings.position_embedding",
                  c.integer("max_position_embeddings", d["max_position_embeddings"]), hidden,
                  "PositionEmbedding"),
        Stack(f"{prefix}encoder.layers", layers, "EncoderLayer", _clip_layer(hidden, inner)),
        norms(f"{prefix}final_layer_norm", hidden, 1)]
    if siglip:
        sections.append(linear(f"{prefix}head", hidden,
                               c.opt_int("projection_size") or hidden))
    return sections


def vision_tower(c: HFConfig, prefix: str, siglip: bool) -> list[Section]:
    """CLIP: class embedding, bias-free patch conv, positions for patches + 1, a pre-norm;
    SigLIP: a biased patch conv, positions for the patches, and an attention-pooling head."""
    d = SIGLIP_VISION if siglip else CLIP_VISION
    hidden, inner, layers = _tower_dims(c, d)
    channels = c.integer("num_channels", 3)
    patch, patches = _patches(c, d["image_size"], d["patch_size"])
    sections: list[Section] = []
    if not siglip:
        sections.append(parameter(f"{prefix}embeddings.class_embedding", (hidden,)))
    sections += [patch_conv(f"{prefix}embeddings.patch_embedding", channels, patch, hidden,
                            patches, bias=siglip),
                 embedding(f"{prefix}embeddings.position_embedding",
                           patches + (0 if siglip else 1), hidden, "PositionEmbedding")]
    if not siglip:
        sections.append(norms(f"{prefix}pre_layrnorm", hidden, 1))
    sections += [Stack(f"{prefix}encoder.layers", layers, "EncoderLayer",
                       _clip_layer(hidden, inner)),
                 norms(f"{prefix}post_layernorm", hidden, 1)]
    if siglip and c.flag("vision_use_head", True):
        sections += [parameter(f"{prefix}head.probe", (1, 1, hidden)),
                     attention(f"{prefix}head.attention", hidden, hidden, hidden, True, True,
                               ("in_proj_weight", "out_proj")),
                     norms(f"{prefix}head.layernorm", hidden, 1),
                     mlp(f"{prefix}head.mlp", hidden, inner, gated=False, bias=True,
                         names=("fc1", "fc2"))]
    return sections


def _config_dict(c: HFConfig, tower: str) -> dict[str, Any] | None:
    """CLIP files written before transformers 4.23 also carry ``text_config_dict`` /
    ``vision_config_dict``; transformers 5 builds the tower from it (every field of the
    tower's class from there or the class defaults), so paramlab does too."""
    if str(c.data.get("model_type")) not in CONFIG_DICTS:
        return None
    value = c.data.get(f"{tower}_config_dict")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise c.error(f"{tower}_config_dict", "a nested config object", value)
    c.log.renamed.append(f"{tower}_config_dict is read in place of {tower}_config, as "
                         f"transformers 5 reads it")
    return value


def _contrastive(c: HFConfig, kind: str, siglip: bool) -> Model:
    """CLIP and SigLIP: a text and a vision tower from the nested configs; CLIP projects
    both to ``projection_dim`` and learns a logit scale, SigLIP a logit scale and bias."""
    name = "Siglip" if siglip else "CLIP"
    text = c.sub("text_config", f"{name.lower()}_text_model", value=_config_dict(c, "text"))
    vision = c.sub("vision_config", f"{name.lower()}_vision_model",
                   value=_config_dict(c, "vision"))
    model = Model(name + kind)
    if kind == "ForImageClassification":
        model.sections = vision_tower(vision, "vision_model.", siglip)
        labels = c.num_labels()
        if labels > 0:
            hidden = vision.integer("hidden_size", CLIP_VISION["hidden_size"])
            model.sections.append(labels_head("classifier", hidden, labels))
        return model
    if siglip:
        model.sections = [parameter("logit_scale", (1,)), parameter("logit_bias", (1,))]
    else:
        model.sections = [parameter("logit_scale", ())]
    model.sections += [*text_tower(text, "text_model.", siglip),
                       *vision_tower(vision, "vision_model.", siglip)]
    if not siglip:
        proj = c.integer("projection_dim", 512)
        model.sections += [
            linear("visual_projection", vision.integer("hidden_size", 768), proj, False),
            linear("text_projection", text.integer("hidden_size", 512), proj, False)]
    model.notes.append("Text and vision towers are read from text_config and vision_config.")
    return model


def _tower(c: HFConfig, kind: str, siglip: bool) -> Model:
    """A single tower: CLIPTextModel, CLIPVisionModelWithProjection, SiglipVisionModel…"""
    name = "Siglip" if siglip else "CLIP"
    text = kind.startswith("Text")
    tower = text_tower if text else vision_tower
    sections = tower(c, "text_model." if text else "vision_model.", siglip)
    model = Model(name + kind, sections)
    if kind.endswith("WithProjection"):
        hidden = c.integer("hidden_size", (CLIP_TEXT if text else CLIP_VISION)["hidden_size"])
        which = "text_projection" if text else "visual_projection"
        model.sections.append(linear(which, hidden, c.integer("projection_dim", 512), False))
    return model


def _int_list(c: HFConfig, name: str, default: list[int]) -> list[int]:
    value = c.data.get(name, default)
    if not isinstance(value, list) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise c.error(name, "a non-empty list of positive integers", value)
    return value


def _conv2d(name: str, cin: int, cout: int, kernel: int, groups: int = 1) -> Part:
    """A biased Conv2d (``groups=cin``: depthwise); MACs per output position."""
    per = cin // groups
    return Part(name, "Conv2d", (Weight(f"{name}.weight", (cout, per, kernel, kernel)),
                                 Weight(f"{name}.bias", (cout,))),
                f"({_n(per)} × {kernel} × {kernel} + 1) × {_n(cout)}",
                per * kernel * kernel * cout, note="MACs per output position",
                out=(None, cout))


def _convnext(c: HFConfig, kind: str) -> Model:
    """ConvNeXt: a patchify stem, stages of depthwise 7×7 conv + LayerNorm + an inverted
    bottleneck (4×) with a layer scale, and LayerNorm + 2×2 strided convs between stages."""
    widths = _int_list(c, "hidden_sizes", [96, 192, 384, 768])
    depths = _int_list(c, "depths", [3, 3, 9, 3])
    stages = c.integer("num_stages", 4)
    if len(widths) < stages or len(depths) < stages:
        raise c.error("num_stages", f"at most {min(len(widths), len(depths))} (the lengths of "
                      "hidden_sizes and depths)", stages)
    last = widths[-1]  # the final norm and the classifier take the list's last width
    widths, depths = widths[:stages], depths[:stages]
    channels = c.integer("num_channels", 3)
    patch = c.integer("patch_size", 4)
    scale = c.data.get("layer_scale_init_value", 1e-6)
    model = Model("ConvNext" + kind, [_conv2d("embeddings.patch_embeddings", channels,
                                              widths[0], patch),
                                      norms("embeddings.layernorm", widths[0], 1)])
    for i, (width, depth) in enumerate(zip(widths, depths, strict=True)):
        prefix = f"encoder.stages.{i}"
        if i > 0:
            model.sections += [norms(f"{prefix}.downsampling_layer.0", widths[i - 1], 1),
                               _conv2d(f"{prefix}.downsampling_layer.1", widths[i - 1], width, 2)]
        parts = [_conv2d("dwconv", width, width, 7, groups=width), norms("layernorm", width, 1),
                 mlp("mlp", width, 4 * width, gated=False, bias=True,
                     names=("pwconv1", "pwconv2"))]
        if isinstance(scale, (int, float)) and scale > 0:
            parts.append(parameter("layer_scale_parameter", (width,)))
        model.sections.append(Stack(f"{prefix}.layers", depth, "ConvNextLayer", tuple(parts)))
    model.sections.append(norms("layernorm", last, 1))
    if kind == "ForImageClassification" and c.num_labels() > 0:
        model.sections.append(labels_head("classifier", last, c.num_labels()))
    return model


def _swin(c: HFConfig, kind: str) -> Model:
    """Swin: shifted-window attention with a relative position bias table per block,
    patch merging (LayerNorm + a 4C → 2C reduction) between stages."""
    embed = c.integer("embed_dim", 96)
    depths = _int_list(c, "depths", [2, 2, 6, 2])
    heads = _int_list(c, "num_heads", [3, 6, 12, 24])
    if len(heads) != len(depths):
        raise c.error("num_heads", f"{len(depths)} head counts (one per stage)", heads)
    window = c.integer("window_size", 7)
    ratio = c.data.get("mlp_ratio", 4.0)
    if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or ratio <= 0:
        raise c.error("mlp_ratio", "a positive number", ratio)
    qkv_bias = c.flag("qkv_bias", True)
    channels = c.integer("num_channels", 3)
    patch, patches = _patches(c, 224, 4)
    model = Model("Swin" + kind)
    if kind == "ForMaskedImageModeling":
        model.sections.append(parameter("embeddings.mask_token", (1, 1, embed)))
    model.sections += [patch_conv("embeddings.patch_embeddings.projection", channels, patch,
                                  embed, patches)]
    if c.flag("use_absolute_embeddings", False):
        model.sections.append(parameter("embeddings.position_embeddings", (1, patches, embed)))
    model.sections.append(norms("embeddings.norm", embed, 1))
    table = (2 * window - 1) ** 2
    for i, (depth, head) in enumerate(zip(depths, heads, strict=True)):
        dim = embed * 2 ** i
        parts = (attention("attention", dim, dim, dim, qkv_bias, True,
                           ("q_proj", "k_proj", "v_proj", "o_proj")),
                 parameter("attention.relative_position_bias_table", (table, head)),
                 norms("norms", dim, 2),
                 mlp("mlp", dim, int(dim * ratio), gated=False, bias=True, names=("fc1", "fc2")))
        model.sections.append(Stack(f"encoder.layers.{i}.blocks", depth, "SwinLayer", parts))
        if i < len(depths) - 1:
            model.sections += [norms(f"encoder.layers.{i}.downsample.norm", 4 * dim, 1),
                               linear(f"encoder.layers.{i}.downsample.reduction", 4 * dim,
                                      2 * dim, bias=False)]
    features = embed * 2 ** (len(depths) - 1)
    model.sections.append(norms("layernorm", features, 1))
    if kind == "ForImageClassification" and c.num_labels() > 0:
        model.sections.append(labels_head("classifier", features, c.num_labels()))
    elif kind == "ForMaskedImageModeling":
        stride = c.integer("encoder_stride", 32)
        model.sections.append(linear("decoder.0", features, stride * stride * channels))
        model.notes.append("decoder.0 is a 1×1 Conv2d: the same count as a Linear.")
    return model
