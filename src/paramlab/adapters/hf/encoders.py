"""Encoders: BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ELECTRA, ALBERT, MPNet, DeBERTa-v2 and
ModernBERT, with their masked-LM and classification heads."""

from __future__ import annotations

from dataclasses import replace

from paramlab.adapters.hf.blocks import (
    Model,
    Part,
    Stack,
    _n,
    attention,
    embedding,
    heads_width,
    labels_head,
    linear,
    mlp,
    norms,
    tied,
    tied_or_linear,
)
from paramlab.adapters.hf.config import HFConfig
from paramlab.layers.base import Weight


def _bert_stack(c: HFConfig, prefix: str, hidden: int, inner: int, cross: bool,
                heads: int) -> Stack:
    q = heads_width(hidden, heads)
    parts = [attention("attention", hidden, q, q, True, True,
                       ("self.query", "self.key", "self.value", "output.dense"), o_in=hidden)]
    if cross:
        parts.append(attention("crossattention", hidden, q, q, True, True,
                               ("self.query", "self.key", "self.value", "output.dense"),
                               kind="CrossAttention", o_in=hidden))
    parts.append(norms("norms", hidden, 3 if cross else 2))
    parts.append(mlp("mlp", hidden, inner, gated=False, bias=True,
                     names=("intermediate.dense", "output.dense")))
    return Stack(prefix, c.integer("num_hidden_layers", 12), "Layer", tuple(parts))


def _mlm_head(prefix: str, hidden: int, vocab: int, tie: bool, source: str,
              transform: tuple[str, str], width: int | None = None) -> list[Part]:
    """BERT-style masked-LM head: dense (to ``width``, the embedding size for ALBERT) +
    LayerNorm, then the vocabulary projection whose weight is the word embedding (tied) and
    whose bias is ``bias`` (tied to the decoder's own bias when embeddings are tied)."""
    dense, norm = transform
    width = width or hidden
    parts = [linear(f"{prefix}{dense}", hidden, width), norms(f"{prefix}{norm}", width, 1)]
    if tie:
        decoder = Part(f"{prefix}decoder", "Linear (tied weight)",
                       (Weight(f"{prefix}bias", (vocab,)),), _n(vocab), width * vocab,
                       note=f"weight tied to {source}, bias shared: counted once",
                       out=(None, vocab))
    else:
        decoder = Part(f"{prefix}decoder", "Linear",
                       (Weight(f"{prefix}decoder.weight", (vocab, width)),
                        Weight(f"{prefix}decoder.bias", (vocab,)),
                        Weight(f"{prefix}bias", (vocab,))),
                       f"({_n(width)} + 1) × {_n(vocab)} + {_n(vocab)}", width * vocab,
                       note="untied: the decoder has its own weight and bias, plus `bias`",
                       out=(None, vocab))
    return [*parts, decoder]


def _bert(c: HFConfig, kind: str, roberta: bool = False, prefix: str = "") -> Model:
    """BERT, and RoBERTa's layout (``roberta``) for RoBERTa and XLM-RoBERTa (``prefix``)."""
    hidden = c.integer("hidden_size", 768)
    heads = c.integer("num_attention_heads", 12)
    inner = c.integer("intermediate_size", 3072)
    vocab = c.integer("vocab_size", 50265 if roberta and not prefix else 30522)
    positions = c.integer("max_position_embeddings", 512)
    types = c.integer("type_vocab_size", 2)
    tie = c.flag("tie_word_embeddings", True)
    cross = c.flag("add_cross_attention", False)
    if cross and not c.flag("is_decoder", False):
        raise c.error("is_decoder", "true when add_cross_attention is true", False)
    name = prefix or ("Roberta" if roberta else "Bert")
    pooled = kind in ("Model", "ForPreTraining", "ForNextSentencePrediction",
                      "ForMultipleChoice") or (kind == "ForSequenceClassification" and not roberta)
    model = Model(name + kind, [
        embedding("embeddings.word_embeddings", vocab, hidden),
        embedding("embeddings.position_embeddings", positions, hidden, "PositionEmbedding"),
        embedding("embeddings.token_type_embeddings", types, hidden, "TokenTypeEmbedding"),
        norms("embeddings.LayerNorm", hidden, 1),
        _bert_stack(c, "encoder.layer", hidden, inner, cross, heads),
    ])
    if pooled:
        model.sections.append(linear("pooler.dense", hidden, hidden, out=(hidden,)))
    source = "embeddings.word_embeddings.weight"
    if kind in ("ForMaskedLM", "LMHeadModel", "ForPreTraining", "ForCausalLM"):
        if roberta:
            model.sections += _mlm_head("lm_head.", hidden, vocab, tie, source,
                                        ("dense", "layer_norm"))
        else:
            model.sections += _mlm_head("cls.predictions.", hidden, vocab, tie, source,
                                        ("transform.dense", "transform.LayerNorm"))
    labels = c.num_labels()
    if kind in ("ForPreTraining", "ForNextSentencePrediction"):
        model.sections.append(linear("cls.seq_relationship", hidden, 2, out=(2,)))
    elif kind == "ForSequenceClassification" and roberta:
        model.sections += [linear("classifier.dense", hidden, hidden, out=(hidden,)),
                           labels_head("classifier.out_proj", hidden, labels)]
    elif kind == "ForSequenceClassification" or kind == "ForTokenClassification":
        model.sections.append(labels_head("classifier", hidden, labels))
    elif kind == "ForMultipleChoice":
        model.sections.append(labels_head("classifier", hidden, 1))
    elif kind == "ForQuestionAnswering":
        model.sections.append(labels_head("qa_outputs", hidden, labels))
    if roberta:
        model.notes.append("RoBERTa's position_ids/token_type_ids are buffers.")
    return model


BERT_KINDS = ("Model", "ForPreTraining", "LMHeadModel", "ForMaskedLM",
              "ForNextSentencePrediction", "ForSequenceClassification", "ForMultipleChoice",
              "ForTokenClassification", "ForQuestionAnswering")
ROBERTA_KINDS = ("Model", "ForCausalLM", "ForMaskedLM", "ForSequenceClassification",
                 "ForMultipleChoice", "ForTokenClassification", "ForQuestionAnswering")


def _distilbert(c: HFConfig, kind: str) -> Model:
    dim = c.integer("dim", 768)  # hidden_size, n_layers, n_heads: attribute_map aliases
    layers = c.integer("n_layers", 6)
    c.integer("n_heads", 12)
    inner = c.integer("hidden_dim", 3072)
    vocab = c.integer("vocab_size", 30522)
    positions = c.integer("max_position_embeddings", 512)
    tie = c.flag("tie_word_embeddings", True)
    parts = (attention("attention", dim, dim, dim, True, True,
                       ("q_lin", "k_lin", "v_lin", "out_lin")),
             norms("norms", dim, 2),
             mlp("ffn", dim, inner, gated=False, bias=True, names=("lin1", "lin2")))
    model = Model("DistilBert" + kind, [
        embedding("embeddings.word_embeddings", vocab, dim),
        embedding("embeddings.position_embeddings", positions, dim, "PositionEmbedding"),
        norms("embeddings.LayerNorm", dim, 1),
        Stack("transformer.layer", layers, "TransformerBlock", parts)])
    labels = c.num_labels()
    if kind == "ForMaskedLM":
        model.sections += [linear("vocab_transform", dim, dim), norms("vocab_layer_norm", dim, 1),
                           tied_or_linear("vocab_projector", dim, vocab, tie,
                                          "embeddings.word_embeddings.weight")]
    elif kind in ("ForSequenceClassification", "ForMultipleChoice"):
        width = labels if kind == "ForSequenceClassification" else 1
        model.sections += [linear("pre_classifier", dim, dim, out=(dim,)),
                           labels_head("classifier", dim, width)]
    elif kind == "ForTokenClassification":
        model.sections.append(labels_head("classifier", dim, labels))
    elif kind == "ForQuestionAnswering":
        if labels != 2:
            raise c.error("num_labels", "2 for DistilBertForQuestionAnswering", labels)
        model.sections.append(labels_head("qa_outputs", dim, 2))
    return model



DISTILBERT_KINDS = ("Model", "ForMaskedLM", "ForSequenceClassification",
                    "ForQuestionAnswering", "ForTokenClassification", "ForMultipleChoice")



ENCODER_KINDS = ("Model", "ForMaskedLM", "ForSequenceClassification", "ForMultipleChoice",
                 "ForTokenClassification", "ForQuestionAnswering")
WORDS = "embeddings.word_embeddings.weight"


def _embeddings(vocab: int, dim: int, positions: int, types: int,
                prefix: str = "embeddings") -> list[Part]:
    """Word, learned position and token-type embeddings (a table of 0 rows is left out)."""
    parts = [embedding(f"{prefix}.word_embeddings", vocab, dim)]
    if positions:
        parts.append(embedding(f"{prefix}.position_embeddings", positions, dim,
                               "PositionEmbedding"))
    if types:
        parts.append(embedding(f"{prefix}.token_type_embeddings", types, dim,
                               "TokenTypeEmbedding"))
    return parts


def _classifier_heads(c: HFConfig, kind: str, hidden: int, two_layer: bool) -> list[Part]:
    """The classification heads most encoders share: sequence (one layer, or dense +
    out_proj), multiple choice (one logit), token and question answering (num_labels)."""
    labels = c.num_labels()
    if kind == "ForSequenceClassification":
        if two_layer:
            return [linear("classifier.dense", hidden, hidden, out=(hidden,)),
                    labels_head("classifier.out_proj", hidden, labels)]
        return [labels_head("classifier", hidden, labels)]
    if kind == "ForMultipleChoice":
        return [labels_head("classifier", hidden, 1)]
    if kind == "ForTokenClassification":
        return [labels_head("classifier", hidden, labels)]
    if kind == "ForQuestionAnswering":
        return [labels_head("qa_outputs", hidden, labels)]
    return []


def _electra(c: HFConfig, kind: str) -> Model:
    """ELECTRA: BERT's encoder under factorized embeddings (embedding_size, projected up)."""
    hidden = c.integer("hidden_size", 256)
    emb = c.integer("embedding_size", 128)
    heads = c.integer("num_attention_heads", 4)
    vocab = c.integer("vocab_size", 30522)
    tie = c.flag("tie_word_embeddings", True)
    model = Model("Electra" + kind, [
        *_embeddings(vocab, emb, c.integer("max_position_embeddings", 512),
                     c.integer("type_vocab_size", 2)),
        norms("embeddings.LayerNorm", emb, 1)])
    if emb != hidden:
        model.sections.append(linear("embeddings_project", emb, hidden))
    model.sections.append(_bert_stack(c, "encoder.layer", hidden,
                                      c.integer("intermediate_size", 1024), False, heads))
    if kind == "ForPreTraining":
        model.sections += [linear("discriminator_predictions.dense", hidden, hidden),
                           linear("discriminator_predictions.dense_prediction", hidden, 1)]
    elif kind in ("ForMaskedLM", "ForCausalLM"):
        model.sections += [linear("generator_predictions.dense", hidden, emb),
                           norms("generator_predictions.LayerNorm", emb, 1),
                           tied_or_linear("generator_lm_head", emb, vocab, tie, WORDS)]
    elif kind == "ForMultipleChoice":
        proj = c.flag("summary_use_proj", True)
        if proj:
            to_labels = c.flag("summary_proj_to_labels", False) and c.num_labels() > 0
            width = c.num_labels() if to_labels else hidden
            model.sections.append(linear("sequence_summary.summary", hidden, width))
        model.sections.append(labels_head("classifier", hidden, 1))
    else:
        model.sections += _classifier_heads(c, kind, hidden, two_layer=True)
    return model


ELECTRA_KINDS = ("Model", "ForPreTraining", "ForMaskedLM", "ForCausalLM",
                 "ForSequenceClassification", "ForMultipleChoice", "ForTokenClassification",
                 "ForQuestionAnswering")


def _albert(c: HFConfig, kind: str) -> Model:
    """ALBERT: factorized embeddings and cross-layer sharing — ``num_hidden_layers`` layers
    run, but only ``num_hidden_groups × inner_group_num`` layers hold parameters."""
    hidden = c.integer("hidden_size", 4096)
    emb = c.integer("embedding_size", 128)
    q = heads_width(hidden, c.integer("num_attention_heads", 64))
    layers = c.integer("num_hidden_layers", 12)
    groups = c.integer("num_hidden_groups", 1)
    per_group = c.integer("inner_group_num", 1)
    inner = c.integer("intermediate_size", 16384)
    vocab = c.integer("vocab_size", 30000)
    tie = c.flag("tie_word_embeddings", True)
    runs = max(layers // groups, 1)  # each stored layer runs this often: MACs count them all
    parts = tuple(replace(part, macs=part.macs * runs) for part in (
        attention("attention", hidden, q, q, True, True,
                  ("query", "key", "value", "dense"), o_in=hidden),
        norms("norms", hidden, 2),
        mlp("ffn", hidden, inner, gated=False, bias=True, names=("ffn", "ffn_output"))))
    model = Model("Albert" + kind, [
        *_embeddings(vocab, emb, c.integer("max_position_embeddings", 512),
                     c.integer("type_vocab_size", 2)),
        norms("embeddings.LayerNorm", emb, 1),
        linear("encoder.embedding_hidden_mapping_in", emb, hidden),
        Stack("encoder.albert_layer_groups", groups * per_group, "AlbertLayer", parts)])
    model.notes.append(f"ALBERT shares layers: {layers} layers run, {groups * per_group} hold "
                       "parameters (num_hidden_groups × inner_group_num).")
    if kind in ("Model", "ForPreTraining", "ForSequenceClassification", "ForMultipleChoice"):
        model.sections.append(linear("pooler", hidden, hidden, out=(hidden,)))
    if kind in ("ForPreTraining", "ForMaskedLM"):
        model.sections += _mlm_head("predictions.", hidden, vocab, tie, WORDS,
                                    ("dense", "LayerNorm"), width=emb)
    if kind == "ForPreTraining":
        model.sections.append(labels_head("sop_classifier.classifier", hidden, c.num_labels()))
    model.sections += _classifier_heads(c, kind, hidden, two_layer=False)
    return model


ALBERT_KINDS = ("Model", "ForPreTraining", "ForMaskedLM", "ForSequenceClassification",
                "ForTokenClassification", "ForQuestionAnswering", "ForMultipleChoice")


def _mpnet(c: HFConfig, kind: str) -> Model:
    """MPNet: BERT's layer with a relative position bias (one table for all layers), no
    token types."""
    hidden = c.integer("hidden_size", 768)
    heads = c.integer("num_attention_heads", 12)
    vocab = c.integer("vocab_size", 30527)
    buckets = c.integer("relative_attention_num_buckets", 32)
    parts = (attention("attention", hidden, hidden, hidden, True, True,
                       ("attn.q", "attn.k", "attn.v", "attn.o")),
             norms("norms", hidden, 2),
             mlp("mlp", hidden, c.integer("intermediate_size", 3072), gated=False, bias=True,
                 names=("intermediate.dense", "output.dense")))
    model = Model("MPNet" + kind, [
        *_embeddings(vocab, hidden, c.integer("max_position_embeddings", 512), 0),
        norms("embeddings.LayerNorm", hidden, 1),
        Stack("encoder.layer", c.integer("num_hidden_layers", 12), "MPNetLayer", parts),
        embedding("encoder.relative_attention_bias", buckets, heads, "Embedding")])
    if kind in ("Model", "ForMultipleChoice"):
        model.sections.append(linear("pooler.dense", hidden, hidden, out=(hidden,)))
    if kind == "ForMaskedLM":
        model.sections += _mlm_head("lm_head.", hidden, vocab,
                                    c.flag("tie_word_embeddings", True), WORDS,
                                    ("dense", "layer_norm"))
    model.sections += _classifier_heads(c, kind, hidden, two_layer=True)
    return model


def _deberta_v2(c: HFConfig, kind: str) -> Model:
    """DeBERTa-v2/v3: disentangled attention — a relative-position embedding table (shared
    by all layers, optionally normalized) and, unless ``share_att_key``, position
    projections per layer for the c2p/p2c terms; an optional convolution after layer 0."""
    hidden = c.integer("hidden_size", 1536)
    heads = c.integer("num_attention_heads", 24)
    q = heads_width(hidden, heads, c.opt_int("attention_head_size"))
    vocab = c.integer("vocab_size", 128100)
    emb = c.opt_int("embedding_size") or hidden
    positions = c.integer("max_position_embeddings", 512)
    biased = c.flag("position_biased_input", True)
    relative = c.flag("relative_attention", False)
    att_type = c.data.get("pos_att_type") or []
    if isinstance(att_type, str):
        att_type = [t.strip() for t in att_type.lower().split("|")]
    if not isinstance(att_type, list):
        raise c.error("pos_att_type", "a list such as ['p2c', 'c2p'] or 'p2c|c2p'", att_type)
    parts = [attention("attention", hidden, q, q, True, True,
                       ("self.query_proj", "self.key_proj", "self.value_proj",
                        "output.dense"), o_in=hidden)]
    if relative and not c.flag("share_att_key", False):
        if "c2p" in att_type:
            parts.append(linear("attention.self.pos_key_proj", hidden, q))
        if "p2c" in att_type:
            parts.append(linear("attention.self.pos_query_proj", hidden, q))
    parts += [norms("norms", hidden, 2),
              mlp("mlp", hidden, c.integer("intermediate_size", 6144), gated=False, bias=True,
                  names=("intermediate.dense", "output.dense"))]
    model = Model("DebertaV2" + kind, [*_embeddings(vocab, emb, positions if biased else 0,
                                                    c.integer("type_vocab_size", 0, 0))])
    if emb != hidden:
        model.sections.append(linear("embeddings.embed_proj", emb, hidden, bias=False))
    model.sections += [norms("embeddings.LayerNorm", hidden, 1),
                       Stack("encoder.layer", c.integer("num_hidden_layers", 24),
                             "DebertaV2Layer", tuple(parts))]
    if relative:
        buckets = c.integer("position_buckets", -1, -(2**31))
        span = c.integer("max_relative_positions", -1, -(2**31))
        size = buckets if buckets > 0 else (span if span >= 1 else positions)
        model.sections.append(embedding("encoder.rel_embeddings", 2 * size, hidden))
    if "layer_norm" in c.text("norm_rel_ebd", "none").lower().split("|"):  # even unused
        model.sections.append(norms("encoder.LayerNorm", hidden, 1))
    kernel = c.integer("conv_kernel_size", 0, 0)
    if kernel:
        groups = c.integer("conv_groups", 1)
        model.sections += [Part("encoder.conv.conv", "Conv1d",
                                (Weight("conv.weight", (hidden, hidden // groups, kernel)),
                                 Weight("conv.bias", (hidden,))),
                                f"{_n(hidden)} × {_n(hidden // groups)} × {kernel} + "
                                f"{_n(hidden)}", hidden * hidden // groups * kernel,
                                out=(None, hidden)),
                           norms("encoder.conv.LayerNorm", hidden, 1)]
    if kind == "ForMaskedLM":
        if c.flag("legacy", True):
            model.sections += _mlm_head("cls.predictions.", hidden, vocab,
                                        c.flag("tie_word_embeddings", True), WORDS,
                                        ("transform.dense", "transform.LayerNorm"), width=emb)
        else:  # the new head always projects with the word embeddings, tied or not
            model.sections += _mlm_head("lm_predictions.lm_head.", hidden, vocab, True, WORDS,
                                        ("dense", "LayerNorm"), width=emb)
    elif kind in ("ForSequenceClassification", "ForMultipleChoice"):
        pooled = c.integer("pooler_hidden_size", hidden)
        width = c.num_labels() if kind == "ForSequenceClassification" else 1
        model.sections += [linear("pooler.dense", pooled, pooled, out=(pooled,)),
                           labels_head("classifier", pooled, width)]
    else:
        model.sections += _classifier_heads(c, kind, hidden, two_layer=False)
    return model


def _modernbert(c: HFConfig, kind: str) -> Model:
    """ModernBERT: a pre-norm encoder with fused QKV, a gated MLP (GeGLU), bias-free
    LayerNorms by default, and no attention norm in layer 0 (the embeddings are normed)."""
    hidden = c.integer("hidden_size", 768)
    c.integer("num_attention_heads", 12)
    inner = c.integer("intermediate_size", 1152)
    layers = c.integer("num_hidden_layers", 22)
    vocab = c.integer("vocab_size", 50368)
    norm_bias = c.flag("norm_bias", False)
    attn_bias = c.flag("attention_bias", False)
    attn = attention("attn", hidden, hidden, hidden, attn_bias, attn_bias, ("Wqkv", "Wo"))
    ffn = mlp("mlp", hidden, inner, gated=True, bias=c.flag("mlp_bias", False),
              names=("Wi", "Wo"))
    model = Model("ModernBert" + kind, [
        embedding("embeddings.tok_embeddings", vocab, hidden),
        norms("embeddings.norm", hidden, 1, norm_bias),
        Stack("layers", 1, "ModernBertEncoderLayer",
              (attn, norms("mlp_norm", hidden, 1, norm_bias), ffn))])
    if layers > 1:
        model.sections.append(Stack("layers", layers - 1, "ModernBertEncoderLayer",
                                    (attn, norms("norms", hidden, 2, norm_bias), ffn), 1))
    model.sections.append(norms("final_norm", hidden, 1, norm_bias))
    if kind != "Model":
        model.sections += [linear("head.dense", hidden, hidden, c.flag("classifier_bias", False)),
                           norms("head.norm", hidden, 1, norm_bias)]
    if kind == "ForMaskedLM":
        tie = c.flag("tie_word_embeddings", True)
        bias = c.flag("decoder_bias", True)
        if tie and bias:
            model.sections.append(tied_or_linear("decoder", hidden, vocab, True,
                                                 "embeddings.tok_embeddings.weight"))
        elif tie:
            model.sections.append(tied("decoder", hidden, vocab,
                                       "embeddings.tok_embeddings.weight"))
        else:
            model.sections.append(linear("decoder", hidden, vocab, bias))
    else:
        model.sections += _classifier_heads(c, kind, hidden, two_layer=False)
    return model
