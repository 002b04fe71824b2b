"""GPT-2, GPT-NeoX, OPT and Falcon: decoders whose layout is their own (Conv1D, fused QKV
whose width follows the attention layout, learned positions with an offset), each a short
function over the shared blocks."""

from __future__ import annotations

from paramlab.adapters.hf.blocks import (
    Model,
    Part,
    Section,
    Stack,
    attention,
    conv1d_attention,
    embedding,
    labels_head,
    linear,
    mlp,
    norms,
    tied,
)
from paramlab.adapters.hf.config import HFConfig
from paramlab.adapters.hf.decoder import decoder_heads
from paramlab.adapters.hf.memory import expanded_note


def _gpt2(c: HFConfig, kind: str) -> Model:
    hidden = c.integer("n_embd", 768)  # hidden_size and the others: attribute_map aliases
    layers = c.integer("n_layer", 12)
    heads = c.integer("n_head", 12)
    vocab = c.integer("vocab_size", 50257)
    positions = c.integer("n_positions", 1024)
    inner = c.opt_int("n_inner") or 4 * hidden
    tie = c.flag("tie_word_embeddings", True)
    parts = [norms("ln_1", hidden, 1), conv1d_attention("attn", hidden)]
    if c.flag("add_cross_attention", False):
        parts += [norms("ln_cross_attn", hidden, 1), conv1d_attention("crossattention", hidden,
                                                                       cross=True)]
    parts += [norms("ln_2", hidden, 1),
              mlp("mlp", hidden, inner, gated=False, bias=True, names=("c_fc", "c_proj"),
                  transposed=True)]
    model = Model("GPT2" + kind, [embedding("wte", vocab, hidden),
                                  embedding("wpe", positions, hidden, "PositionEmbedding"),
                                  Stack("h", layers, "GPT2Block", tuple(parts)),
                                  norms("ln_f", hidden, 1)])
    if kind in ("LMHeadModel", "DoubleHeadsModel"):
        model.sections.append(tied("lm_head", hidden, vocab, "wte.weight") if tie
                              else linear("lm_head", hidden, vocab, bias=False))
    if kind == "DoubleHeadsModel":
        # GPT2DoubleHeadsModel sets num_labels = 1; the summary projects to it (or to hidden)
        if c.flag("summary_use_proj", True):
            width = 1 if c.flag("summary_proj_to_labels", True) else hidden
            model.sections.append(linear("multiple_choice_head.summary", hidden, width,
                                         out=(width,)))
    elif kind == "ForSequenceClassification":
        model.sections.append(labels_head("score", hidden, c.num_labels(), bias=False))
    elif kind == "ForTokenClassification":
        model.sections.append(labels_head("classifier", hidden, c.num_labels()))
    elif kind == "ForQuestionAnswering":
        model.sections.append(labels_head("qa_outputs", hidden, 2))
    model.cache = [2 * hidden] * layers
    model.set_attention(hidden, heads, [2 * hidden] * layers)
    return model


GPT2_KINDS = ("Model", "LMHeadModel", "DoubleHeadsModel", "ForSequenceClassification",
              "ForTokenClassification", "ForQuestionAnswering")


def _gpt_neox(c: HFConfig, kind: str) -> Model:
    hidden = c.integer("hidden_size", 6144)
    layers = c.integer("num_hidden_layers", 44)
    heads = c.integer("num_attention_heads", 64)
    inner = c.integer("intermediate_size", 24576)
    vocab = c.integer("vocab_size", 50432)
    bias = c.flag("attention_bias", True)
    tie = c.flag("tie_word_embeddings", False)
    parts = (norms("norms", hidden, 2),
             attention("attention", hidden, hidden, hidden, bias, bias,
                       ("query_key_value", "dense")),
             mlp("mlp", hidden, inner, gated=False, bias=True,
                 names=("dense_h_to_4h", "dense_4h_to_h")))
    model = Model("GPTNeoX" + kind, [embedding("embed_in", vocab, hidden),
                                     Stack("layers", layers, "GPTNeoXLayer", parts),
                                     norms("final_layer_norm", hidden, 1)])
    if kind == "ForTokenClassification":
        model.sections.append(labels_head("classifier", hidden, c.num_labels()))
    else:
        model.sections += decoder_heads(c, kind, hidden, vocab, tie, "embed_in.weight")
    model.cache = [2 * hidden] * layers
    model.set_attention(hidden, heads, [2 * hidden] * layers)
    return model


def _opt(c: HFConfig, kind: str) -> Model:
    hidden = c.integer("hidden_size", 768)
    layers = c.integer("num_hidden_layers", 12)
    heads = c.integer("num_attention_heads", 12)
    ffn = c.integer("ffn_dim", 3072)
    vocab = c.integer("vocab_size", 50272)
    positions = c.integer("max_position_embeddings", 2048)
    proj = c.opt_int("word_embed_proj_dim") or hidden
    bias = c.flag("enable_bias", True)
    affine = c.flag("layer_norm_elementwise_affine", True)
    final_norm = c.flag("do_layer_norm_before", True) and not c.flag(
        "_remove_final_layer_norm", False)
    tie = c.flag("tie_word_embeddings", True)
    sections: list[Section] = [
        embedding("decoder.embed_tokens", vocab, proj),
        embedding("decoder.embed_positions", positions + 2, hidden, "PositionEmbedding"),
    ]
    if proj != hidden:
        sections.append(linear("decoder.project_in", proj, hidden, bias=False))
    parts: list[Part] = [attention("self_attn", hidden, hidden, hidden, bias, bias,
                                   ("q_proj", "k_proj", "v_proj", "out_proj"))]
    if affine:
        parts.append(norms("norms", hidden, 2))
    parts.append(mlp("mlp", hidden, ffn, gated=False, bias=bias, names=("fc1", "fc2")))
    sections.append(Stack("decoder.layers", layers, "OPTDecoderLayer", tuple(parts)))
    if final_norm and affine:
        sections.append(norms("decoder.final_layer_norm", hidden, 1))
    if proj != hidden:
        sections.append(linear("decoder.project_out", hidden, proj, bias=False))
    model = Model("OPT" + kind, sections)
    model.sections += decoder_heads(c, kind, proj, vocab, tie, "decoder.embed_tokens.weight")
    model.notes.append("OPT's learned positions have 2 extra rows (offset 2).")
    model.cache = [2 * hidden] * layers
    model.set_attention(hidden, heads, [2 * hidden] * layers)
    return model


OPT_KINDS = ("Model", "ForCausalLM", "ForSequenceClassification", "ForQuestionAnswering")


def _falcon(c: HFConfig, kind: str) -> Model:
    """Falcon: one fused QKV matrix whose width depends on the attention layout — multi-query
    (one shared key/value head), grouped (``new_decoder_architecture``) or full — and one or
    two LayerNorms per layer, as ``parallel_attn`` and ``num_ln_in_parallel_attn`` say."""
    hidden = c.integer("hidden_size", 4544)
    layers = c.integer("num_hidden_layers", 32)  # transformers 5 ignores RW's n_layer, n_head
    heads = c.integer("num_attention_heads", 71)
    kv_heads = c.opt_int("num_kv_heads") or heads
    vocab = c.integer("vocab_size", 65024)
    inner = c.opt_int("ffn_hidden_size") or 4 * hidden
    bias = c.flag("bias", False)
    new = c.flag("new_decoder_architecture", False)
    head_dim = hidden // heads
    if new:
        kv = kv_heads * head_dim
    elif c.flag("multi_query", True):
        kv = head_dim
    else:
        kv = hidden
    parallel_norms = c.opt_int("num_ln_in_parallel_attn") or (2 if new else 1)
    count = (2 if parallel_norms == 2 else 1) if c.flag("parallel_attn", True) else 2
    parts = (attention("self_attention", hidden, heads * head_dim, kv, bias, bias,
                       ("query_key_value", "dense")),
             mlp("mlp", hidden, inner, gated=False, bias=bias,
                 names=("dense_h_to_4h", "dense_4h_to_h")),
             norms("norms", hidden, count))
    model = Model("Falcon" + kind, [embedding("word_embeddings", vocab, hidden),
                                    Stack("h", layers, "FalconDecoderLayer", parts),
                                    norms("ln_f", hidden, 1)])
    tie = c.flag("tie_word_embeddings", True)
    model.sections += decoder_heads(c, kind, hidden, vocab, tie, "word_embeddings.weight",
                                    token_head="classifier")
    if kv != hidden:
        model.notes.append(f"{heads} query heads share {kv // head_dim} key/value "
                           f"head(s) of size {head_dim}.")
    model.cache = [2 * kv] * layers
    model.set_attention(hidden, heads, [2 * heads * head_dim] * layers)
    if new and kv != hidden:  # transformers before 5.25 repeated the grouped heads
        model.expanded_cache = [2 * hidden] * layers
        model.expanded_layout = "falcon"
        model.cache_note = ("grouped attention: 2 × num_kv_heads × head_dim per layer; "
                            + expanded_note("falcon"))
    return model
