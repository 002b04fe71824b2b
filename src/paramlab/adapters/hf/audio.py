"""wav2vec 2.0: a convolutional feature encoder over raw audio, a convolutional relative
position embedding (weight-normalized), a BERT-like encoder, and its heads (CTC,
classification, pre-training quantizer)."""

from __future__ import annotations

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
    parameter,
)
from paramlab.adapters.hf.config import HFConfig, Undeclared
from paramlab.layers.base import Weight

CONV = [512] * 7
KERNELS = [10, 3, 3, 3, 3, 2, 2]


def _ints(c: HFConfig, name: str, default: list[int]) -> list[int]:
    value = c.data.get(name, default)
    if not isinstance(value, list) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise c.error(name, "a non-empty list of positive integers", value)
    return value


def _feature_encoder(c: HFConfig) -> list[Section]:
    """Conv1d layers over the waveform; GroupNorm on the first ("group") or a LayerNorm
    after each ("layer")."""
    dims, kernels = _ints(c, "conv_dim", CONV), _ints(c, "conv_kernel", KERNELS)
    layers = c.integer("num_feat_extract_layers", len(dims))
    bias = c.flag("conv_bias", False)
    norm = c.text("feat_extract_norm", "group")
    if norm not in ("group", "layer"):
        raise c.error("feat_extract_norm", "'group' or 'layer'", norm)
    sections: list[Section] = []
    for i in range(layers):
        cin, cout, k = (dims[i - 1] if i else 1), dims[i], kernels[i]
        weights = [Weight(f"conv.{i}.weight", (cout, cin, k))]
        if bias:
            weights.append(Weight(f"conv.{i}.bias", (cout,)))
        expr = f"{_n(cout)} × {_n(cin)} × {k}" + (f" + {_n(cout)}" if bias else "")
        name = f"feature_extractor.conv_layers.{i}"
        sections.append(Part(f"{name}.conv", "Conv1d", tuple(weights), expr, cout * cin * k,
                             note="MACs per output step", out=(None, cout)))
        if norm == "layer" or i == 0:
            sections.append(norms(f"{name}.layer_norm", cout, 1,
                                  kind="LayerNorm" if norm == "layer" else "GroupNorm"))
    return sections


def _wav2vec2(c: HFConfig, kind: str) -> Model:
    hidden = c.integer("hidden_size", 768)
    c.integer("num_attention_heads", 12)
    layers = c.integer("num_hidden_layers", 12)
    if c.flag("add_adapter", False):
        raise Undeclared("add_adapter=true (the adapter layers are not declared)")
    last = _ints(c, "conv_dim", CONV)[-1]
    k = c.integer("num_conv_pos_embeddings", 128)
    groups = c.integer("num_conv_pos_embedding_groups", 16)
    model = Model("Wav2Vec2" + kind, _feature_encoder(c))
    masking = [c.data.get(name, default) for name, default in
               (("mask_time_prob", 0.05), ("mask_feature_prob", 0.0))]
    if any(isinstance(p, (int, float)) and p > 0 for p in masking):  # SpecAugment's mask
        model.sections.insert(0, parameter("masked_spec_embed", (hidden,)))
    parts = (attention("attention", hidden, hidden, hidden, True, True,
                       ("k_proj", "v_proj", "q_proj", "out_proj")),
             norms("norms", hidden, 2),
             mlp("feed_forward", hidden, c.integer("intermediate_size", 3072), gated=False,
                 bias=True, names=("intermediate_dense", "output_dense")))
    model.sections += [
        norms("feature_projection.layer_norm", last, 1),
        linear("feature_projection.projection", last, hidden),
        Part("encoder.pos_conv_embed.conv", "Conv1d (weight norm)",
             (Weight("weight_g", (1, 1, k)), Weight("weight_v", (hidden, hidden // groups, k)),
              Weight("bias", (hidden,))),
             f"{k} + {_n(hidden)} × {_n(hidden // groups)} × {k} + {_n(hidden)}",
             hidden * hidden // groups * k, note="weight = g · v/‖v‖: both are parameters",
             out=(None, hidden)),
        norms("encoder.layer_norm", hidden, 1),
        Stack("encoder.layers", layers, "Wav2Vec2EncoderLayer", parts)]
    labels = c.num_labels()
    weighted = c.flag("use_weighted_layer_sum", False)
    if kind == "ForCTC":
        model.sections.append(linear("lm_head", hidden, c.integer("vocab_size", 32)))
    elif kind == "ForSequenceClassification":
        if weighted:
            model.sections.append(parameter("layer_weights", (layers + 1,)))
        proj = c.integer("classifier_proj_size", 256)
        model.sections += [linear("projector", hidden, proj), labels_head("classifier", proj,
                                                                           labels)]
    elif kind == "ForAudioFrameClassification":
        if weighted:
            model.sections.append(parameter("layer_weights", (layers + 1,)))
        model.sections.append(labels_head("classifier", hidden, labels))
    elif kind == "ForPreTraining":
        groups_q = c.integer("num_codevector_groups", 2)
        per = c.integer("num_codevectors_per_group", 320)
        dim = c.integer("codevector_dim", 256)
        proj = c.integer("proj_codevector_dim", 256)
        model.sections += [parameter("quantizer.codevectors", (1, groups_q * per,
                                                                 dim // groups_q)),
                           linear("quantizer.weight_proj", last, groups_q * per),
                           linear("project_hid", hidden, proj), linear("project_q", dim, proj)]
    return model


WAV2VEC2_KINDS = ("Model", "ForCTC", "ForSequenceClassification",
                  "ForAudioFrameClassification", "ForPreTraining")
