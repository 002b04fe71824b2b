"""Vision-language models: a vision tower, a projector and a language model, each sized by
its own nested config (``vision_config``, ``text_config``) — LLaVA, Gemma 3, Qwen2.5-VL.

The language model is any declared decoder (``text_config.model_type``), the vision tower a
CLIP or SigLIP tower or Qwen2.5-VL's own; their rows carry the module prefixes transformers
uses (``model.vision_tower.``, ``model.language_model.``).
"""

from __future__ import annotations

from dataclasses import replace

from paramlab.adapters.hf.blocks import (
    Model,
    Part,
    Section,
    Stack,
    _n,
    attention,
    labels_head,
    linear,
    mlp,
    norms,
    tied,
)
from paramlab.adapters.hf.config import HFConfig
from paramlab.adapters.hf.layouts import TIE_FROM_TEXT, nested_text
from paramlab.layers.base import Weight

LLAVA_VISION = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
                "num_attention_heads": 16, "image_size": 336, "patch_size": 14,
                "projection_dim": 768}


def prefixed(sections: list[Section], prefix: str) -> list[Section]:
    """The same parts under a parent module (``language_model.``)."""
    return [replace(s, name=prefix + s.name) if isinstance(s, Part)
            else replace(s, prefix=prefix + s.prefix) for s in sections]


def _nested(c: HFConfig, name: str, default_type: str,
            defaults: dict[str, int] | None = None) -> tuple[HFConfig, Model]:
    """A nested config and its base model, built by the declared family of its
    ``model_type`` (a Llama or Qwen2 text model, a CLIP or SigLIP vision tower…). A file in
    the flat layout of transformers 4.x gives the text config's fields at the top level."""
    from paramlab.adapters.hf import FAMILIES

    flat = nested_text(str(c.data.get("model_type")), c.data) if name == "text_config" else None
    sub = c.sub(name, default_type, defaults, value=flat)
    if flat is not None:
        c.data.read.update(flat)  # read, through the text config
        shown = sorted(set(flat) - {"architectures", "transformers_version", "dtype"})
        c.log.renamed.append(f"no text_config: the language model's fields are read from the "
                             f"top level ({', '.join(shown) or 'none there'}), as "
                             f"transformers 5 reads a file written by transformers 4")
    sub_type = str(sub.data.get("model_type"))
    if sub_type not in FAMILIES:
        raise c.error(f"{name}.model_type", f"a type paramlab declares "
                      f"({', '.join(sorted(FAMILIES))})", sub_type)
    family = FAMILIES[sub_type]
    return sub, family.build(sub, family.kinds[0])


def _assemble(name: str, vision: list[Section], projector: list[Section], c: HFConfig,
              text: HFConfig, language: Model, kind: str, tie_default: bool) -> Model:
    """``model.vision_tower``, ``model.multi_modal_projector``, ``model.language_model``,
    then the head: the LM head (tied to the text embedding when the config says so) or a
    sequence-classification score."""
    model = Model(name + kind, [*prefixed(vision, "vision_tower."),
                                *prefixed(projector, "multi_modal_projector."),
                                *prefixed(language.sections, "language_model.")])
    first = language.sections[0]  # every decoder starts with its token embedding
    assert isinstance(first, Part)
    # the head's widths are the ones the language model was built with (file or defaults)
    vocab, hidden = first.weights[0].shape
    if kind == "ForConditionalGeneration":
        tie = c.flag("tie_word_embeddings", tie_default)
        if not tie and str(c.data.get("model_type")) in TIE_FROM_TEXT:
            tie = text.flag("tie_word_embeddings", False)  # where files before v5 kept it
        embed = f"language_model.{first.name}.weight"
        model.sections.append(tied("lm_head", hidden, vocab, embed) if tie
                              else linear("lm_head", hidden, vocab, bias=False))
    elif kind == "ForSequenceClassification":
        model.sections.append(labels_head("score", hidden, c.num_labels(), bias=False))
    model.cache, model.windows = language.cache, language.windows
    model.set_attention(language.hidden, language.heads, language.attention_widths)
    model.notes += language.notes
    if c.data.get("text_config") is not None:
        model.notes.append("The language model and vision tower are read from text_config "
                           "and vision_config.")
    return model


def _llava(c: HFConfig, kind: str) -> Model:
    """LLaVA: a CLIP vision tower, a two-layer MLP projector (on one or several vision
    layers' features, concatenated), a language model."""
    vision, tower = _nested(c, "vision_config", "clip_vision_model", LLAVA_VISION)
    text, language = _nested(c, "text_config", "llama")
    v_hidden = vision.integer("hidden_size", 1024)
    layers = c.data.get("vision_feature_layer", -2)
    width = v_hidden * (len(layers) if isinstance(layers, list) else 1)
    t_hidden = text.integer("hidden_size", 4096)
    bias = c.flag("multimodal_projector_bias", True)
    projector: list[Section] = [linear("linear_1", width, t_hidden, bias),
                                linear("linear_2", t_hidden, t_hidden, bias)]
    return _assemble("Llava", tower.sections, projector, c, text, language, kind, False)


def _gemma3(c: HFConfig, kind: str) -> Model:
    """Gemma 3: a SigLIP vision tower, a projector (RMSNorm + one projection matrix) and the
    Gemma 3 text decoder."""
    vision, tower = _nested(c, "vision_config", "siglip_vision_model")
    text, language = _nested(c, "text_config", "gemma3_text")
    v_hidden = vision.integer("hidden_size", 768)
    t_hidden = text.integer("hidden_size", 2304)
    projector: list[Section] = [
        Part("mm_input_projection_weight", "Parameter",
             (Weight("mm_input_projection_weight", (v_hidden, t_hidden)),),
             f"{_n(v_hidden)} × {_n(t_hidden)}", v_hidden * t_hidden, out=(None, t_hidden)),
        norms("mm_soft_emb_norm", v_hidden, 1, bias=False, kind="RMSNorm")]
    return _assemble("Gemma3", tower.sections, projector, c, text, language, kind, True)


def _qwen_vision(v: HFConfig) -> list[Section]:
    """Qwen2.5-VL's vision transformer: a 3-D patch convolution (time × height × width),
    RMSNorm blocks with fused QKV and a gated MLP, and a merger that folds
    spatial_merge_size² patches into one token of the language model's width."""
    hidden = v.integer("hidden_size", 3584)
    v.integer("num_heads", 16)
    inner = v.integer("intermediate_size", 3420)
    channels = v.integer("in_channels", 3)
    patch = v.integer("patch_size", 14)
    frames = v.integer("temporal_patch_size", 2)
    merge = v.integer("spatial_merge_size", 2)
    out = v.integer("out_hidden_size", 3584)
    kernel = channels * frames * patch * patch
    merged = hidden * merge * merge
    blocks = (norms("norms", hidden, 2, bias=False, kind="RMSNorm"),
              attention("attn", hidden, hidden, hidden, True, True, ("qkv", "proj")),
              mlp("mlp", hidden, inner, gated=True, bias=True,
                  names=("gate_proj", "up_proj", "down_proj")))
    return [Part("patch_embed.proj", "Conv3d",
                 (Weight("proj.weight", (hidden, channels, frames, patch, patch)),),
                 f"{_n(channels)} × {frames} × {patch} × {patch} × {_n(hidden)}",
                 kernel * hidden, note="MACs per patch", out=(None, hidden)),
            Stack("blocks", v.integer("depth", 32), "Qwen2_5_VLVisionBlock", blocks),
            norms("merger.ln_q", hidden, 1, bias=False, kind="RMSNorm"),
            linear("merger.mlp.0", merged, merged), linear("merger.mlp.2", merged, out)]


def _qwen2_5_vl(c: HFConfig, kind: str) -> Model:
    vision = c.sub("vision_config", "qwen2_5_vl_vision")
    text, language = _nested(c, "text_config", "qwen2_5_vl_text")
    model = _assemble("Qwen2_5_VL", [], [], c, text, language, kind, False)
    model.sections = [*prefixed(_qwen_vision(vision), "visual."), *model.sections]
    return model
