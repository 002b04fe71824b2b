"""Encoder-decoders: T5, mT5, BART and Whisper: shared embeddings, cross-attention, tied heads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from paramlab.adapters.hf.blocks import (
    Model,
    Part,
    Section,
    Stack,
    _n,
    attention,
    embedding,
    embedding_tied,
    labels_head,
    linear,
    mlp,
    norms,
    parameter,
    tied,
)
from paramlab.adapters.hf.config import HFConfig
from paramlab.layers.base import Weight


def _decoder_cache(model: Model, width: int, layers: int) -> None:
    """A generating decoder's self-attention cache, ``width`` = keys + values per layer; the
    cross-attention cache (the encoder's keys and values, per input frame or token) is
    fixed by the input and comes on top."""
    model.cache = [width] * layers
    model.cache_note = (f"decoder self-attention, {width:,} per layer; the cross-attention "
                        "cache over the encoder's output comes on top")


def _t5_stack(c: HFConfig, prefix: str, layers: int, decoder: bool, d_model: int,
              heads: int, d_kv: int, d_ff: int, gated: bool) -> list[Section]:
    inner = heads * d_kv
    buckets = c.integer("relative_attention_num_buckets", 32)
    names = ("q", "k", "v", "o")
    parts = [attention("SelfAttention", d_model, inner, inner, False, False, names)]
    if decoder:
        parts.append(attention("EncDecAttention", d_model, inner, inner, False, False, names,
                               kind="CrossAttention"))
    parts.append(norms("layer_norms", d_model, 3 if decoder else 2, bias=False,
                       kind="T5LayerNorm"))
    ff_names = ("wi_0", "wi_1", "wo") if gated else ("wi", "wo")
    parts.append(mlp("DenseReluDense", d_model, d_ff, gated=gated, bias=False, names=ff_names))
    bias = Part(f"{prefix}.block.0 relative_attention_bias", "Embedding",
                (Weight("relative_attention_bias.weight", (buckets, heads)),),
                f"{_n(buckets)} × {_n(heads)}", note="only block 0 holds the position bias",
                out=(heads,))
    return [embedding_tied(f"{prefix}.embed_tokens", "shared.weight", d_model), bias,
            Stack(f"{prefix}.block", layers, "T5Block", tuple(parts)),
            norms(f"{prefix}.final_layer_norm", d_model, 1, bias=False, kind="T5LayerNorm")]



T5_DEFAULTS = {"d_model": 512, "d_ff": 2048, "num_layers": 6, "num_heads": 8,
               "vocab_size": 32128, "feed_forward_proj": "relu"}
# mT5 is T5 v1.1 (gated GELU, untied scaling) with a 250k vocabulary
MT5_DEFAULTS = {"d_model": 512, "d_ff": 1024, "num_layers": 8, "num_heads": 6,
                "vocab_size": 250112, "feed_forward_proj": "gated-gelu"}


def _t5(c: HFConfig, kind: str, prefix: str = "T5",
        defaults: dict[str, Any] = T5_DEFAULTS) -> Model:
    d_model = c.integer("d_model", defaults["d_model"])  # hidden_size…: attribute_map aliases
    d_kv = c.integer("d_kv", 64)
    d_ff = c.integer("d_ff", defaults["d_ff"])
    layers = c.integer("num_layers", defaults["num_layers"])
    dec_layers = c.opt_int("num_decoder_layers") or layers
    heads = c.integer("num_heads", defaults["num_heads"])
    vocab = c.integer("vocab_size", defaults["vocab_size"])
    proj = c.text("feed_forward_proj", defaults["feed_forward_proj"])
    act = proj.split("-")
    if (len(act) > 1 and act[0] != "gated") or len(act) > 2:
        raise c.error("feed_forward_proj", "'ACT' or 'gated-ACT' (e.g. 'gated-gelu')", proj)
    gated = c.flag("is_gated_act", act[0] == "gated")  # files from 4.x carry it; it wins
    model = Model(prefix + kind, [embedding("shared", vocab, d_model)])
    model.sections += _t5_stack(c, "encoder", layers, False, d_model, heads, d_kv, d_ff, gated)
    if kind not in ("EncoderModel", "ForTokenClassification"):
        model.sections += _t5_stack(c, "decoder", dec_layers, True, d_model, heads, d_kv,
                                    d_ff, gated)
    labels = c.num_labels()
    if kind == "ForConditionalGeneration":
        model.sections.append(tied("lm_head", d_model, vocab, "shared.weight"))
        _decoder_cache(model, 2 * heads * d_kv, dec_layers)
        if not c.flag("tie_word_embeddings", True):
            model.notes.append(
                "tie_word_embeddings is false: transformers 5 still ties T5's lm_head to "
                f"shared (it only stops rescaling); transformers 4 kept a separate lm_head "
                f"(+{_n(vocab * d_model)} parameters).")
    elif kind == "ForSequenceClassification":
        model.sections += [linear("classification_head.dense", d_model, d_model, out=(d_model,)),
                           labels_head("classification_head.out_proj", d_model, labels)]
    elif kind == "ForTokenClassification":
        model.sections.append(labels_head("classifier", d_model, labels))
    elif kind == "ForQuestionAnswering":
        model.sections.append(labels_head("qa_outputs", d_model, labels))
    return model


T5_KINDS = ("Model", "ForConditionalGeneration", "EncoderModel", "ForSequenceClassification",
            "ForTokenClassification", "ForQuestionAnswering")


def _bart_side(c: HFConfig, side: str, d_model: int, tie: bool, vocab: int) -> list[Section]:
    layers = c.integer(f"{side}_layers", 12)
    c.integer(f"{side}_attention_heads", 16)
    ffn = c.integer(f"{side}_ffn_dim", 4096)
    positions = c.integer("max_position_embeddings", 1024)
    names = ("k_proj", "v_proj", "q_proj", "out_proj")
    parts = [attention("self_attn", d_model, d_model, d_model, True, True, names)]
    if side == "decoder":
        parts.append(attention("encoder_attn", d_model, d_model, d_model, True, True, names,
                               kind="CrossAttention"))
    parts += [norms("norms", d_model, 3 if side == "decoder" else 2),
              mlp("mlp", d_model, ffn, gated=False, bias=True, names=("fc1", "fc2"))]
    embed = embedding_tied(f"{side}.embed_tokens", "shared.weight", d_model) if tie else \
        embedding(f"{side}.embed_tokens", vocab, d_model)
    return [embed,
            embedding(f"{side}.embed_positions", positions + 2, d_model, "PositionEmbedding"),
            norms(f"{side}.layernorm_embedding", d_model, 1),
            Stack(f"{side}.layers", layers, f"Bart{side.title()}Layer", tuple(parts))]


def _bart(c: HFConfig, kind: str) -> Model:
    d_model = c.integer("d_model", 1024)
    vocab = c.integer("vocab_size", 50265)
    tie = c.flag("tie_word_embeddings", True)
    model = Model("Bart" + kind)
    if kind == "ForCausalLM":
        # BartDecoderWrapper: the decoder alone, with its own embedding (no `shared`)
        side = _bart_side(c, "decoder", d_model, False, vocab)
        model.sections = side
        model.sections.append(tied("lm_head", d_model, vocab, "decoder.embed_tokens.weight")
                              if tie else linear("lm_head", d_model, vocab, bias=False))
        _decoder_cache(model, 2 * d_model, c.integer("decoder_layers", 12))
        return model
    model.sections = [embedding("shared", vocab, d_model),
                      *_bart_side(c, "encoder", d_model, tie, vocab),
                      *_bart_side(c, "decoder", d_model, tie, vocab)]
    if kind == "ForConditionalGeneration":
        head = tied("lm_head", d_model, vocab, "shared.weight") if tie else \
            linear("lm_head", d_model, vocab, bias=False)
        buffer = Weight("final_logits_bias", (1, vocab), trainable=False, statistic=True)
        model.sections.append(Part(head.name, head.type, (*head.weights, buffer), head.expr,
                                   head.macs, (head.note + "; " if head.note else "")
                                   + f"final_logits_bias (1 × {_n(vocab)}) is a buffer",
                                   head.out))
        _decoder_cache(model, 2 * d_model, c.integer("decoder_layers", 12))
    elif kind == "ForSequenceClassification":
        model.sections += [linear("classification_head.dense", d_model, d_model, out=(d_model,)),
                           labels_head("classification_head.out_proj", d_model,
                                        c.num_labels(default=3))]
    elif kind == "ForQuestionAnswering":
        model.sections.append(labels_head("qa_outputs", d_model, 2))
    model.notes.append("BART's learned positions have 2 extra rows (offset 2).")
    return model


BART_KINDS = ("Model", "ForConditionalGeneration", "ForSequenceClassification",
              "ForQuestionAnswering", "ForCausalLM")



def _whisper_attention(name: str, d_model: int, kind: str = "Attention") -> Part:
    """Whisper's attention: q, v and out have biases, k has none."""
    weights = [Weight(f"{proj}.weight", (d_model, d_model))
               for proj in ("q_proj", "k_proj", "v_proj", "out_proj")]
    weights += [Weight(f"{proj}.bias", (d_model,)) for proj in ("q_proj", "v_proj", "out_proj")]
    return Part(name, kind, tuple(weights),
                f"4 × {_n(d_model)} × {_n(d_model)} + 3 × {_n(d_model)}",
                4 * d_model * d_model, out=(None, d_model))


def _whisper_side(c: HFConfig, side: str, d_model: int) -> list[Section]:
    """The audio encoder (two convolutions over mel bins, frozen sinusoidal positions) or
    the text decoder (learned positions, cross-attention)."""
    layers = c.integer(f"{side}_layers", 4)
    c.integer(f"{side}_attention_heads", 6)
    ffn = c.integer(f"{side}_ffn_dim", 1536)
    parts = [_whisper_attention("self_attn", d_model)]
    if side == "decoder":
        parts.append(_whisper_attention("encoder_attn", d_model, "CrossAttention"))
    parts += [norms("layer_norms", d_model, 3 if side == "decoder" else 2),
              mlp("mlp", d_model, ffn, gated=False, bias=True, names=("fc1", "fc2"))]
    stack = Stack(f"{side}.layers", layers, f"Whisper{side.title()}Layer", tuple(parts))
    if side == "encoder":
        mels = c.integer("num_mel_bins", 80)
        positions = c.integer("max_source_positions", 1500)
        frozen = embedding("encoder.embed_positions", positions, d_model, "PositionEmbedding")
        frozen = Part(frozen.name, "PositionEmbedding (frozen)",
                      tuple(replace(w, trainable=False) for w in frozen.weights), frozen.expr,
                      note="sinusoidal, requires_grad=False: non-trainable", out=frozen.out)
        return [Part("encoder.conv1", "Conv1d",
                     (Weight("conv1.weight", (d_model, mels, 3)), Weight("conv1.bias", (d_model,))),
                     f"({_n(mels)} × 3 + 1) × {_n(d_model)}", mels * 3 * d_model,
                     out=(None, d_model)),
                Part("encoder.conv2", "Conv1d",
                     (Weight("conv2.weight", (d_model, d_model, 3)),
                      Weight("conv2.bias", (d_model,))),
                     f"({_n(d_model)} × 3 + 1) × {_n(d_model)}", d_model * 3 * d_model,
                     out=(None, d_model)),
                frozen, stack, norms("encoder.layer_norm", d_model, 1)]
    vocab = c.integer("vocab_size", 51865)
    return [embedding("decoder.embed_tokens", vocab, d_model),
            embedding("decoder.embed_positions", c.integer("max_target_positions", 448),
                      d_model, "PositionEmbedding"),
            stack, norms("decoder.layer_norm", d_model, 1)]


def _whisper(c: HFConfig, kind: str) -> Model:
    d_model = c.integer("d_model", 384)
    vocab = c.integer("vocab_size", 51865)
    tie = c.flag("tie_word_embeddings", True)
    model = Model("Whisper" + kind)
    if kind != "ForCausalLM":
        model.sections += _whisper_side(c, "encoder", d_model)
    if kind in ("Model", "ForConditionalGeneration", "ForCausalLM"):
        model.sections += _whisper_side(c, "decoder", d_model)
    if kind in ("ForConditionalGeneration", "ForCausalLM"):
        source = "decoder.embed_tokens.weight"
        model.sections.append(tied("proj_out", d_model, vocab, source) if tie
                              else linear("proj_out", d_model, vocab, bias=False))
        _decoder_cache(model, 2 * d_model, c.integer("decoder_layers", 4))
    elif kind == "ForAudioClassification":
        layers = c.integer("encoder_layers", 4)
        if c.flag("use_weighted_layer_sum", False):
            model.sections.append(parameter("layer_weights", (layers + 1,)))
        proj = c.integer("classifier_proj_size", 256)
        model.sections += [linear("projector", d_model, proj),
                           labels_head("classifier", proj, c.num_labels())]
    model.notes.append("The encoder's sinusoidal positions are a frozen parameter "
                       "(requires_grad=False): counted, not trainable.")
    return model


WHISPER_KINDS = ("Model", "ForConditionalGeneration", "ForCausalLM", "ForAudioClassification")
