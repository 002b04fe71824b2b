"""BERT, RoBERTa and DistilBERT encoders, with their masked-LM and classification heads."""

from __future__ import annotations

from paramlab.adapters.hf.blocks import (
    Model,
    Part,
    Stack,
    _n,
    attention,
    embedding,
    labels_head,
    linear,
    mlp,
    norms,
    tied_or_linear,
)
from paramlab.adapters.hf.config import HFConfig
from paramlab.layers.base import Weight


def _bert_stack(c: HFConfig, prefix: str, hidden: int, inner: int, cross: bool) -> Stack:
    parts = [attention("attention", hidden, hidden, hidden, True, True,
                       ("self.query", "self.key", "self.value", "output.dense"))]
    if cross:
        parts.append(attention("crossattention", hidden, hidden, hidden, True, True,
                               ("self.query", "self.key", "self.value", "output.dense"),
                               kind="CrossAttention"))
    parts.append(norms("norms", hidden, 3 if cross else 2))
    parts.append(mlp("mlp", hidden, inner, gated=False, bias=True,
                     names=("intermediate.dense", "output.dense")))
    return Stack(prefix, c.integer("num_hidden_layers", 12), "Layer", tuple(parts))


def _mlm_head(prefix: str, hidden: int, vocab: int, tie: bool, source: str,
              transform: tuple[str, str]) -> list[Part]:
    """BERT/RoBERTa/DistilBERT masked-LM head: dense + LayerNorm, then the vocabulary
    projection whose weight is the word embedding (tied) and whose bias is ``bias`` (tied to
    the decoder's own bias when embeddings are tied)."""
    dense, norm = transform
    parts = [linear(f"{prefix}{dense}", hidden, hidden), norms(f"{prefix}{norm}", hidden, 1)]
    if tie:
        decoder = Part(f"{prefix}decoder", "Linear (tied weight)",
                       (Weight(f"{prefix}bias", (vocab,)),), _n(vocab), hidden * vocab,
                       note=f"weight tied to {source}, bias shared: counted once",
                       out=(None, vocab))
    else:
        decoder = Part(f"{prefix}decoder", "Linear",
                       (Weight(f"{prefix}decoder.weight", (vocab, hidden)),
                        Weight(f"{prefix}decoder.bias", (vocab,)),
                        Weight(f"{prefix}bias", (vocab,))),
                       f"({_n(hidden)} + 1) × {_n(vocab)} + {_n(vocab)}", hidden * vocab,
                       note="untied: the decoder has its own weight and bias, plus `bias`",
                       out=(None, vocab))
    return [*parts, decoder]


def _bert(c: HFConfig, kind: str, roberta: bool = False) -> Model:
    hidden = c.integer("hidden_size", 768)
    c.integer("num_attention_heads", 12)
    inner = c.integer("intermediate_size", 3072)
    vocab = c.integer("vocab_size", 50265 if roberta else 30522)
    positions = c.integer("max_position_embeddings", 512)
    types = c.integer("type_vocab_size", 2)
    tie = c.flag("tie_word_embeddings", True)
    cross = c.flag("add_cross_attention", False)
    if cross and not c.flag("is_decoder", False):
        raise c.error("is_decoder", "true when add_cross_attention is true", False)
    name = "Roberta" if roberta else "Bert"
    pooled = kind in ("Model", "ForPreTraining", "ForNextSentencePrediction",
                      "ForMultipleChoice") or (kind == "ForSequenceClassification" and not roberta)
    model = Model(name + kind, [
        embedding("embeddings.word_embeddings", vocab, hidden),
        embedding("embeddings.position_embeddings", positions, hidden, "PositionEmbedding"),
        embedding("embeddings.token_type_embeddings", types, hidden, "TokenTypeEmbedding"),
        norms("embeddings.LayerNorm", hidden, 1),
        _bert_stack(c, "encoder.layer", hidden, inner, cross),
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
    dim = c.integer(("dim", "hidden_size"), 768)
    layers = c.integer(("n_layers", "num_hidden_layers"), 6)
    c.integer(("n_heads", "num_attention_heads"), 12)
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

