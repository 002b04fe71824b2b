"""Hugging Face ``config.json`` → exact parameter counts, by arithmetic alone.

A Hugging Face checkpoint is described by its ``config.json``: ``model_type`` picks the
modeling code and the remaining fields size every tensor. This adapter re-derives, for each
supported ``model_type``, the tensors that transformers' classes create (transformers 5
modeling code, checked against it in ``tests/test_hf_configs.py``) and counts them without
importing transformers or torch, so a 70B-parameter config is counted in milliseconds.

Conventions, stated where the numbers are made:

* The count is ``sum(p.numel() for p in model.parameters())``: a tied tensor (an output
  projection sharing the input embedding) is counted once, and buffers (position ids, rotary
  frequencies, BART's ``final_logits_bias``) are not parameters.
* Missing fields take the defaults of the transformers config class, which describe the
  full-size reference model (``GPT2Config()`` is GPT-2 small, ``LlamaConfig()`` Llama-7B).
* The class counted is the first entry of ``architectures`` (``LlamaForCausalLM``), or the
  base model (``LlamaModel``) when the field is absent or ``options.base`` is set.
* MACs are per token, forward, for the matrix multiplications only (one multiply-accumulate
  per weight of a linear layer, FLOPs ≈ 2 × MACs); attention scores depend on the sequence
  length and are left out; a mixture-of-experts layer counts only the experts that run.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.errors import ConfigError
from paramlab.layers.base import Shape, Weight
from paramlab.summary import LayerRow, Summary, row_counts


def _n(value: int) -> str:
    return f"{value:,}"


# ----------------------------------------------------------------------------- config access
class HFConfig:
    """Typed access to a config dict: aliases, class defaults, and errors naming the field."""

    def __init__(self, data: dict[str, Any], source: str):
        self.data = data
        self.source = source
        self.notes: list[str] = []

    def _lookup(self, names: str | tuple[str, ...]) -> tuple[str, Any]:
        names = (names,) if isinstance(names, str) else names
        for name in names:
            if name in self.data:
                return name, self.data[name]
        return names[0], None

    def error(self, field_name: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(
            f"{self.source}: expected {expected} for {field_name!r}. "
            f"Received: {field_name}={value!r}"
        )

    def integer(self, names: str | tuple[str, ...], default: int | None, minimum: int = 1) -> int:
        """A positive (or ≥ ``minimum``) integer; ``default`` when absent, error when null."""
        name, value = self._lookup(names)
        if value is None:
            if name in self.data or default is None:
                raise ConfigError(
                    f"{self.source}: missing field {name!r}: expected an integer "
                    f"(the {self.data.get('model_type')} config class has no default for it)"
                )
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
            raise self.error(name, what, value)
        return value

    def opt_int(self, names: str | tuple[str, ...]) -> int | None:
        """An integer whose absence (or null) means 'derive it' (``n_inner``, ``head_dim``)."""
        name, value = self._lookup(names)
        if value is None:
            return None
        return self.integer(name, None)

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, "true or false", value)
        return value

    def text(self, name: str, default: str) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str):
            raise self.error(name, "a string", value)
        return value

    def pair(self, name: str, default: int) -> tuple[int, int]:
        """An image or patch size: one integer or a [height, width] pair."""
        value = self.data.get(name, default)
        if isinstance(value, (list, tuple)) and len(value) == 2:
            if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
                return int(value[0]), int(value[1])
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, value
        raise self.error(name, "a positive integer or a [height, width] pair", value)

    def num_labels(self, default: int = 2) -> int:
        """transformers' rule: ``len(id2label)`` when given, else ``num_labels``, else the
        class default (2; BartConfig says 3)."""
        id2label = self.data.get("id2label")
        if id2label is not None:
            if not isinstance(id2label, dict):
                raise self.error("id2label", "a mapping of label ids to names", id2label)
            return len(id2label)
        return self.integer("num_labels", default, minimum=0)


# ----------------------------------------------------------------------------- building blocks
@dataclass(frozen=True)
class Part:
    """One module (or a group of small ones): its tensors and the arithmetic behind them."""

    name: str
    type: str
    weights: tuple[Weight, ...]
    expr: str  # the arithmetic with numbers filled in, without "= total"
    macs: int = 0
    note: str = ""
    out: Shape = ()

    @property
    def params(self) -> int:
        return sum(w.size for w in self.weights if not w.statistic)


@dataclass(frozen=True)
class Stack:
    """``count`` identical layers (``layers.0`` … ``layers.31``), each made of ``parts``."""

    prefix: str
    count: int
    type: str
    parts: tuple[Part, ...]


Section = Part | Stack


@dataclass
class Model:
    """The class being counted: its name and its sections in module order."""

    name: str
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def embedding(name: str, num: int, dim: int, kind: str = "Embedding") -> Part:
    return Part(name, kind, (Weight(f"{name}.weight", (num, dim)),), f"{_n(num)} × {_n(dim)}",
                out=(None, dim))


def linear(name: str, fan_in: int, fan_out: int, bias: bool = True,
           out: Shape | None = None) -> Part:
    weights = [Weight(f"{name}.weight", (fan_out, fan_in))]
    if bias:
        weights.append(Weight(f"{name}.bias", (fan_out,)))
    expr = f"({_n(fan_in)} + 1) × {_n(fan_out)}" if bias else f"{_n(fan_in)} × {_n(fan_out)}"
    return Part(name, "Linear", tuple(weights), expr, fan_in * fan_out,
                out=(None, fan_out) if out is None else out)


def tied(name: str, fan_in: int, fan_out: int, source: str) -> Part:
    """An output projection that shares ``source``: no new parameters, the MACs still run."""
    return Part(name, "Linear (tied)", (), "", fan_in * fan_out,
                note=f"weight tied to {source}: counted once", out=(None, fan_out))


def norms(name: str, dim: int, count: int, bias: bool = True, kind: str = "LayerNorm") -> Part:
    """``count`` normalization layers of width ``dim`` (weight, and bias for LayerNorm)."""
    weights: list[Weight] = []
    for i in range(count):
        suffix = f".{i}" if count > 1 else ""
        weights.append(Weight(f"{name}{suffix}.weight", (dim,)))
        if bias:
            weights.append(Weight(f"{name}{suffix}.bias", (dim,)))
    one = f"({_n(dim)} + {_n(dim)})" if bias else _n(dim)
    single = f"2 × {_n(dim)}" if bias else _n(dim)
    expr = single if count == 1 else f"{count} × {one}"
    label = kind if count == 1 else f"{kind} ×{count}"
    return Part(name, label, tuple(weights), expr, out=(None, dim))


def attention(name: str, hidden: int, q: int, kv: int, qkv_bias: bool, o_bias: bool,
              names: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj"),
              kind: str = "Attention") -> Part:
    """Query/key/value/output projections. ``names`` of length 2 means a fused QKV matrix
    (GPT-NeoX ``query_key_value``, Phi-3 ``qkv_proj``); GPT-2's Conv1D stores (in, out)."""
    weights: list[Weight] = []
    if len(names) == 2:
        weights.append(Weight(f"{names[0]}.weight", (q + 2 * kv, hidden)))
        if qkv_bias:
            weights.append(Weight(f"{names[0]}.bias", (q + 2 * kv,)))
    else:
        for proj, width in zip(names[:3], (q, kv, kv), strict=True):
            weights.append(Weight(f"{proj}.weight", (width, hidden)))
            if qkv_bias:
                weights.append(Weight(f"{proj}.bias", (width,)))
    weights.append(Weight(f"{names[-1]}.weight", (hidden, q)))
    if o_bias:
        weights.append(Weight(f"{names[-1]}.bias", (hidden,)))
    if q == kv == hidden:
        core = f"4 × {_n(hidden)} × {_n(hidden)}"
    elif q == kv:
        core = f"4 × {_n(hidden)} × {_n(q)}"
    else:
        core = f"{_n(hidden)} × ({_n(q)} + 2 × {_n(kv)} + {_n(q)})"
    biases = []
    if qkv_bias and o_bias and q == kv == hidden:
        biases.append(f"4 × {_n(hidden)}")
    else:
        if qkv_bias:
            biases.append(f"3 × {_n(q)}" if q == kv else f"({_n(q)} + 2 × {_n(kv)})")
        if o_bias:
            biases.append(_n(hidden))
    expr = " + ".join([core, *biases])
    return Part(name, kind, tuple(weights), expr, hidden * (2 * q + 2 * kv), out=(None, hidden))


def conv1d_attention(name: str, hidden: int, cross: bool = False) -> Part:
    """GPT-2's attention: Conv1D layers store their weight as (in, out), with biases."""
    if cross:
        weights = (Weight("c_attn.weight", (hidden, 2 * hidden)),
                   Weight("c_attn.bias", (2 * hidden,)),
                   Weight("q_attn.weight", (hidden, hidden)), Weight("q_attn.bias", (hidden,)))
    else:
        weights = (Weight("c_attn.weight", (hidden, 3 * hidden)),
                   Weight("c_attn.bias", (3 * hidden,)))
    weights += (Weight("c_proj.weight", (hidden, hidden)), Weight("c_proj.bias", (hidden,)))
    expr = f"4 × {_n(hidden)} × {_n(hidden)} + 4 × {_n(hidden)}"
    return Part(name, "CrossAttention" if cross else "Attention", weights, expr,
                4 * hidden * hidden, out=(None, hidden))


def mlp(name: str, hidden: int, inner: int, *, gated: bool, bias: bool,
        names: tuple[str, ...], transposed: bool = False) -> Part:
    """A feed-forward block. Gated (SwiGLU/GeGLU): gate, up, down — ``names`` of length 2 is
    a fused gate_up matrix (Phi-3). Plain: up and down. ``transposed``: GPT-2's Conv1D."""
    weights: list[Weight] = []
    ups = (2 if gated else 1)
    if len(names) == 2 and gated:
        weights.append(Weight(f"{names[0]}.weight", (2 * inner, hidden)))
        if bias:
            weights.append(Weight(f"{names[0]}.bias", (2 * inner,)))
    else:
        for proj in names[:-1]:
            shape = (hidden, inner) if transposed else (inner, hidden)
            weights.append(Weight(f"{proj}.weight", shape))
            if bias:
                weights.append(Weight(f"{proj}.bias", (inner,)))
    shape = (inner, hidden) if transposed else (hidden, inner)
    weights.append(Weight(f"{names[-1]}.weight", shape))
    if bias:
        weights.append(Weight(f"{names[-1]}.bias", (hidden,)))
    expr = f"{ups + 1} × {_n(hidden)} × {_n(inner)}"
    if bias:
        expr += f" + {ups} × {_n(inner)} + {_n(hidden)}" if ups > 1 else \
            f" + {_n(inner)} + {_n(hidden)}"
    return Part(name, "GatedMLP" if gated else "MLP", tuple(weights), expr,
                (ups + 1) * hidden * inner, out=(None, hidden))


def experts(name: str, hidden: int, inner: int, count: int, active: int) -> Part:
    """Mixtral's stacked experts: gate_up (E, 2I, H) and down (E, H, I) tensors."""
    weights = (Weight(f"{name}.gate_up_proj", (count, 2 * inner, hidden)),
               Weight(f"{name}.down_proj", (count, hidden, inner)))
    return Part(name, f"Experts ×{count}", weights, f"{count} × 3 × {_n(hidden)} × {_n(inner)}",
                active * 3 * hidden * inner,
                note=f"{active} of {count} experts run per token: MACs count {active}",
                out=(None, hidden))


# ----------------------------------------------------------------------------- families
Family = Callable[[HFConfig, str], Model]


def _labels_head(name: str, hidden: int, labels: int, bias: bool = True) -> Part:
    return linear(name, hidden, labels, bias, out=(labels,))


def _decoder_heads(c: HFConfig, kind: str, hidden: int, vocab: int, tie: bool,
                   embed: str, qa_bias: bool = True) -> list[Part]:
    """Heads shared by the decoder-only families (transformers' Generic* classes)."""
    if kind == "ForCausalLM":
        if tie:
            return [tied("lm_head", hidden, vocab, embed)]
        return [linear("lm_head", hidden, vocab, bias=False)]
    if kind == "ForSequenceClassification":
        return [_labels_head("score", hidden, c.num_labels(), bias=False)]
    if kind == "ForTokenClassification":
        bias = c.flag("token_classification_bias", True)
        return [_labels_head("score", hidden, c.num_labels(), bias=bias)]
    if kind == "ForQuestionAnswering":
        return [_labels_head("qa_outputs", hidden, 2, bias=qa_bias)]
    return []


DECODER_KINDS = ("Model", "ForCausalLM", "ForSequenceClassification",
                 "ForTokenClassification", "ForQuestionAnswering")


def _llama_like(c: HFConfig, kind: str, spec: dict[str, Any]) -> Model:
    """Llama, Mistral, Mixtral, Qwen2, Gemma, Phi-3: RMSNorm pre-norm decoders with RoPE
    (rotary frequencies are buffers), grouped-query attention and gated MLPs."""
    d = spec["defaults"]
    hidden = c.integer("hidden_size", d["hidden_size"])
    layers = c.integer("num_hidden_layers", d["num_hidden_layers"])
    heads = c.integer("num_attention_heads", d["num_attention_heads"])
    kv_heads = c.opt_int("num_key_value_heads") or d.get("num_key_value_heads") or heads
    head_dim = c.opt_int("head_dim") or d.get("head_dim") or hidden // heads
    inner = c.integer("intermediate_size", d["intermediate_size"])
    vocab = c.integer("vocab_size", d["vocab_size"])
    tie = c.flag("tie_word_embeddings", d["tie_word_embeddings"])
    if spec.get("attention_bias_field"):
        qkv_bias = o_bias = c.flag("attention_bias", False)
    else:
        qkv_bias, o_bias = spec["qkv_bias"], False
    mlp_bias = c.flag("mlp_bias", False) if spec.get("mlp_bias_field") else False
    q, kv = heads * head_dim, kv_heads * head_dim
    attn_names = ("qkv_proj", "o_proj") if spec.get("fused") else \
        ("q_proj", "k_proj", "v_proj", "o_proj")
    parts = [attention("self_attn", hidden, q, kv, qkv_bias, o_bias, attn_names)]
    if spec.get("moe"):
        count = c.integer("num_local_experts", 8)
        active = c.integer("num_experts_per_tok", 2)
        router = Part("mlp.gate", "Router", (Weight("mlp.gate.weight", (count, hidden)),),
                      f"{count} × {_n(hidden)}", count * hidden, out=(None, count))
        parts += [router, experts("mlp.experts", hidden, inner, count, active)]
    else:
        mlp_names = ("gate_up_proj", "down_proj") if spec.get("fused") else \
            ("gate_proj", "up_proj", "down_proj")
        parts.append(mlp("mlp", hidden, inner, gated=True, bias=mlp_bias, names=mlp_names))
    parts.append(norms("norms", hidden, 2, bias=False, kind="RMSNorm"))
    model = Model(spec["prefix"] + kind)
    model.sections = [embedding("embed_tokens", vocab, hidden), Stack("layers", layers,
                      "DecoderLayer", tuple(parts)), norms("norm", hidden, 1, False, "RMSNorm")]
    model.sections += _decoder_heads(c, kind, hidden, vocab, tie, "embed_tokens.weight")
    if kv_heads != heads:
        model.notes.append(f"Grouped-query attention: {heads} query heads share {kv_heads} "
                           f"key/value heads of size {head_dim}.")
    return model


LLAMA_LIKE: dict[str, dict[str, Any]] = {
    "llama": {"prefix": "Llama", "attention_bias_field": True, "mlp_bias_field": True,
              "defaults": {"hidden_size": 4096, "num_hidden_layers": 32,
                           "num_attention_heads": 32, "intermediate_size": 11008,
                           "vocab_size": 32000, "tie_word_embeddings": False}},
    "mistral": {"prefix": "Mistral", "qkv_bias": False,
                "defaults": {"hidden_size": 4096, "num_hidden_layers": 32,
                             "num_attention_heads": 32, "num_key_value_heads": 8,
                             "intermediate_size": 14336, "vocab_size": 32000,
                             "tie_word_embeddings": False}},
    "mixtral": {"prefix": "Mixtral", "qkv_bias": False, "moe": True,
                "defaults": {"hidden_size": 4096, "num_hidden_layers": 32,
                             "num_attention_heads": 32, "num_key_value_heads": 8,
                             "intermediate_size": 14336, "vocab_size": 32000,
                             "tie_word_embeddings": False}},
    "qwen2": {"prefix": "Qwen2", "qkv_bias": True,
              "defaults": {"hidden_size": 4096, "num_hidden_layers": 32,
                           "num_attention_heads": 32, "num_key_value_heads": 32,
                           "intermediate_size": 22016,
                           "vocab_size": 151936, "tie_word_embeddings": False}},
    "gemma": {"prefix": "Gemma", "attention_bias_field": True,
              "defaults": {"hidden_size": 3072, "num_hidden_layers": 28,
                           "num_attention_heads": 16, "num_key_value_heads": 16, "head_dim": 256,
                           "intermediate_size": 24576, "vocab_size": 256000,
                           "tie_word_embeddings": True}},
    "phi3": {"prefix": "Phi3", "qkv_bias": False, "fused": True,
             "defaults": {"hidden_size": 3072, "num_hidden_layers": 32,
                          "num_attention_heads": 32, "intermediate_size": 8192,
                          "vocab_size": 32064, "tie_word_embeddings": False}},
}

LLAMA_KINDS = {
    "gemma": ("Model", "ForCausalLM", "ForSequenceClassification", "ForTokenClassification"),
    "phi3": ("Model", "ForCausalLM", "ForSequenceClassification", "ForTokenClassification"),
}


def _gpt2(c: HFConfig, kind: str) -> Model:
    hidden = c.integer(("n_embd", "hidden_size"), 768)
    layers = c.integer(("n_layer", "num_hidden_layers"), 12)
    c.integer(("n_head", "num_attention_heads"), 12)
    vocab = c.integer("vocab_size", 50257)
    positions = c.integer(("n_positions", "max_position_embeddings"), 1024)
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
        model.sections.append(_labels_head("score", hidden, c.num_labels(), bias=False))
    elif kind == "ForTokenClassification":
        model.sections.append(_labels_head("classifier", hidden, c.num_labels()))
    elif kind == "ForQuestionAnswering":
        model.sections.append(_labels_head("qa_outputs", hidden, 2))
    return model


GPT2_KINDS = ("Model", "LMHeadModel", "DoubleHeadsModel", "ForSequenceClassification",
              "ForTokenClassification", "ForQuestionAnswering")


def _gpt_neox(c: HFConfig, kind: str) -> Model:
    hidden = c.integer("hidden_size", 6144)
    layers = c.integer("num_hidden_layers", 44)
    c.integer("num_attention_heads", 64)
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
        model.sections.append(_labels_head("classifier", hidden, c.num_labels()))
    else:
        model.sections += _decoder_heads(c, kind, hidden, vocab, tie, "embed_in.weight")
    return model


def _opt(c: HFConfig, kind: str) -> Model:
    hidden = c.integer("hidden_size", 768)
    layers = c.integer("num_hidden_layers", 12)
    c.integer("num_attention_heads", 12)
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
    model.sections += _decoder_heads(c, kind, proj, vocab, tie, "decoder.embed_tokens.weight")
    model.notes.append("OPT's learned positions have 2 extra rows (offset 2).")
    return model


OPT_KINDS = ("Model", "ForCausalLM", "ForSequenceClassification", "ForQuestionAnswering")


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
                           _labels_head("classifier.out_proj", hidden, labels)]
    elif kind == "ForSequenceClassification" or kind == "ForTokenClassification":
        model.sections.append(_labels_head("classifier", hidden, labels))
    elif kind == "ForMultipleChoice":
        model.sections.append(_labels_head("classifier", hidden, 1))
    elif kind == "ForQuestionAnswering":
        model.sections.append(_labels_head("qa_outputs", hidden, labels))
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
                           _labels_head("classifier", dim, width)]
    elif kind == "ForTokenClassification":
        model.sections.append(_labels_head("classifier", dim, labels))
    elif kind == "ForQuestionAnswering":
        if labels != 2:
            raise c.error("num_labels", "2 for DistilBertForQuestionAnswering", labels)
        model.sections.append(_labels_head("qa_outputs", dim, 2))
    return model


def tied_or_linear(name: str, fan_in: int, fan_out: int, tie: bool, source: str) -> Part:
    """A vocabulary projection with a bias whose weight may be tied to the embedding."""
    if not tie:
        return linear(name, fan_in, fan_out)
    return Part(name, "Linear (tied weight)", (Weight(f"{name}.bias", (fan_out,)),),
                _n(fan_out), fan_in * fan_out, note=f"weight tied to {source}: counted once",
                out=(None, fan_out))


DISTILBERT_KINDS = ("Model", "ForMaskedLM", "ForSequenceClassification",
                    "ForQuestionAnswering", "ForTokenClassification", "ForMultipleChoice")


def _t5_stack(c: HFConfig, prefix: str, layers: int, decoder: bool,
              d_model: int, inner: int, d_ff: int, gated: bool) -> list[Section]:
    buckets = c.integer("relative_attention_num_buckets", 32)
    heads = c.integer(("num_heads", "num_attention_heads"), 8)
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


def embedding_tied(name: str, source: str, dim: int) -> Part:
    return Part(name, "Embedding (tied)", (), "", note=f"tied to {source}: counted once",
                out=(None, dim))


def _t5(c: HFConfig, kind: str) -> Model:
    d_model = c.integer(("d_model", "hidden_size"), 512)
    d_kv = c.integer(("d_kv", "head_dim"), 64)
    d_ff = c.integer("d_ff", 2048)
    layers = c.integer(("num_layers", "num_hidden_layers"), 6)
    dec_layers = c.opt_int("num_decoder_layers") or layers
    heads = c.integer(("num_heads", "num_attention_heads"), 8)
    vocab = c.integer("vocab_size", 32128)
    proj = c.text("feed_forward_proj", "relu")
    act = proj.split("-")
    if (len(act) > 1 and act[0] != "gated") or len(act) > 2:
        raise c.error("feed_forward_proj", "'ACT' or 'gated-ACT' (e.g. 'gated-gelu')", proj)
    gated = act[0] == "gated"
    inner = heads * d_kv
    model = Model("T5" + kind, [embedding("shared", vocab, d_model)])
    model.sections += _t5_stack(c, "encoder", layers, False, d_model, inner, d_ff, gated)
    if kind not in ("EncoderModel", "ForTokenClassification"):
        model.sections += _t5_stack(c, "decoder", dec_layers, True, d_model, inner, d_ff, gated)
    labels = c.num_labels()
    if kind == "ForConditionalGeneration":
        model.sections.append(tied("lm_head", d_model, vocab, "shared.weight"))
        if not c.flag("tie_word_embeddings", True):
            model.notes.append(
                "tie_word_embeddings is false: transformers 5 still ties T5's lm_head to "
                f"shared (it only stops rescaling); transformers 4 kept a separate lm_head "
                f"(+{_n(vocab * d_model)} parameters).")
    elif kind == "ForSequenceClassification":
        model.sections += [linear("classification_head.dense", d_model, d_model, out=(d_model,)),
                           _labels_head("classification_head.out_proj", d_model, labels)]
    elif kind == "ForTokenClassification":
        model.sections.append(_labels_head("classifier", d_model, labels))
    elif kind == "ForQuestionAnswering":
        model.sections.append(_labels_head("qa_outputs", d_model, labels))
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
    d_model = c.integer(("d_model", "hidden_size"), 1024)
    vocab = c.integer("vocab_size", 50265)
    tie = c.flag("tie_word_embeddings", True)
    model = Model("Bart" + kind)
    if kind == "ForCausalLM":
        # BartDecoderWrapper: the decoder alone, with its own embedding (no `shared`)
        side = _bart_side(c, "decoder", d_model, False, vocab)
        model.sections = side
        model.sections.append(tied("lm_head", d_model, vocab, "decoder.embed_tokens.weight")
                              if tie else linear("lm_head", d_model, vocab, bias=False))
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
    elif kind == "ForSequenceClassification":
        model.sections += [linear("classification_head.dense", d_model, d_model, out=(d_model,)),
                           _labels_head("classification_head.out_proj", d_model,
                                        c.num_labels(default=3))]
    elif kind == "ForQuestionAnswering":
        model.sections.append(_labels_head("qa_outputs", d_model, 2))
    model.notes.append("BART's learned positions have 2 extra rows (offset 2).")
    return model


BART_KINDS = ("Model", "ForConditionalGeneration", "ForSequenceClassification",
              "ForQuestionAnswering", "ForCausalLM")


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
            model.sections.append(_labels_head("classifier", hidden, labels))
    elif kind == "ForMaskedImageModeling":
        stride = c.integer("encoder_stride", 16)
        width = stride * stride * channels
        model.sections.append(linear("decoder.0", hidden, width, out=(patches, width)))
        model.notes.append("decoder.0 is a 1×1 Conv2d: the same count as a Linear.")
    return model


VIT_KINDS = ("Model", "ForImageClassification", "ForMaskedImageModeling")


FAMILIES: dict[str, tuple[str, tuple[str, ...], Family]] = {
    "gpt2": ("GPT2", GPT2_KINDS, _gpt2),
    "gpt_neox": ("GPTNeoX", DECODER_KINDS, _gpt_neox),
    "opt": ("OPT", OPT_KINDS, _opt),
    "bert": ("Bert", BERT_KINDS, _bert),
    "roberta": ("Roberta", ROBERTA_KINDS, lambda c, k: _bert(c, k, roberta=True)),
    "distilbert": ("DistilBert", DISTILBERT_KINDS, _distilbert),
    "t5": ("T5", T5_KINDS, _t5),
    "bart": ("Bart", BART_KINDS, _bart),
    "vit": ("ViT", VIT_KINDS, _vit),
}
for _type, _spec in LLAMA_LIKE.items():
    FAMILIES[_type] = (_spec["prefix"], LLAMA_KINDS.get(_type, DECODER_KINDS),
                       lambda c, k, s=_spec: _llama_like(c, k, s))

SUPPORTED_MODEL_TYPES = tuple(sorted(FAMILIES))


def supported_classes(model_type: str) -> list[str]:
    """Every transformers class name counted for ``model_type`` (``LlamaForCausalLM``, …)."""
    prefix, kinds, _ = FAMILIES[model_type]
    return [prefix + kind for kind in kinds]


# ----------------------------------------------------------------------------- entry point
def count_hf_config(target: Any, convention: str | None = None, options: Any = None) -> Summary:
    """Count a Hugging Face config (a path to ``config.json`` or the loaded dict).

    ``convention`` is accepted for the adapter interface and otherwise ignored: these are
    PyTorch models, counted under the torch convention (buffers are not parameters).
    ``options.base`` counts the base model instead of ``architectures[0]``; ``options.depth``
    0 gives one row per layer stack, 1 (default) one row per sub-block over all layers, 2 or
    more one row per layer and sub-block.
    """
    data, source = _load(target)
    config = HFConfig(data, source)
    model_type = data.get("model_type")
    if not isinstance(model_type, str) or model_type not in FAMILIES:
        raise _unknown_type(model_type, source)
    prefix, kinds, family = FAMILIES[model_type]
    kind, why = _pick_class(config, model_type, prefix, kinds, bool(_option(options, "base")))
    model = family(config, kind)
    depth = _option(options, "depth")
    rows = _rows(model.sections, 1 if depth is None else int(depth))
    summary = Summary(model.name, rows, "torch", origin=f"hf config: {source} ({model_type})")
    summary.extra_sections.append(_notes(model, why, config))
    return summary


def _option(options: Any, name: str) -> Any:
    if isinstance(options, dict):
        return options.get(name)
    return getattr(options, name, None)


def _load(target: Any) -> tuple[dict[str, Any], str]:
    if isinstance(target, dict):
        return target, "<dict>"
    path = Path(str(target))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with 'model_type'. "
                          f"Received: a {type(data).__name__}")
    return data, str(path)


def _unknown_type(model_type: Any, source: str) -> ConfigError:
    supported = ", ".join(SUPPORTED_MODEL_TYPES)
    if not isinstance(model_type, str):
        return ConfigError(f"{source}: expected a string for 'model_type'. "
                           f"Received: model_type={model_type!r}; supported: {supported}")
    close = difflib.get_close_matches(model_type.lower(), SUPPORTED_MODEL_TYPES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{source}: unsupported model_type {model_type!r}.{hint} "
                       f"Supported: {supported}")


def _pick_class(c: HFConfig, model_type: str, prefix: str, kinds: tuple[str, ...],
                base: bool) -> tuple[str, str]:
    """The head kind to count (``ForCausalLM``) and a sentence saying why."""
    if base:
        return "Model", "the base model (--base)"
    architectures = c.data.get("architectures")
    if not architectures:
        return "Model", "the base model (no 'architectures' field)"
    if not isinstance(architectures, list) or not isinstance(architectures[0], str):
        raise c.error("architectures", "a list of class names", architectures)
    name = architectures[0]
    kind = name[len(prefix):] if name.startswith(prefix) else ""
    if kind not in kinds:
        classes = supported_classes(model_type)
        close = difflib.get_close_matches(name, classes, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{c.source}: architectures[0]={name!r} is not a {model_type} class "
                          f"paramlab counts.{hint} Supported: {', '.join(classes)} "
                          f"(or --base for {prefix}Model)")
    return kind, f"{name} (architectures[0])"


# ----------------------------------------------------------------------------- rows
def _rows(sections: Iterable[Section], depth: int) -> list[LayerRow]:
    rows: list[LayerRow] = []
    for section in sections:
        if isinstance(section, Part):
            rows.append(_part_row(section, section.name, 1))
        elif depth <= 0:
            rows.append(_stack_row(section))
        elif depth == 1:
            rows += [_part_row(part, f"{_span(section)} {part.name}", section.count)
                     for part in section.parts]
        else:
            rows += [_part_row(part, f"{section.prefix}.{i} {part.name}", 1)
                     for i in range(section.count) for part in section.parts]
    return rows


def _span(stack: Stack) -> str:
    last = stack.count - 1
    return f"{stack.prefix}.0" if last == 0 else f"{stack.prefix}.0-{last}"


def _part_row(part: Part, name: str, repeat: int) -> LayerRow:
    weights = list(part.weights)
    if repeat > 1:
        weights = [Weight(w.name, (repeat, *w.shape), w.trainable, w.statistic)
                   for w in weights]
    total = part.params * repeat
    if not part.expr:
        formula = part.note
    elif repeat > 1:
        formula = f"{repeat} × ({part.expr}) = {_n(total)}"
    else:
        formula = part.expr if part.expr == _n(total) else f"{part.expr} = {_n(total)}"
    kind = part.type if repeat == 1 else f"{part.type} ×{repeat}"
    return _row(name, kind, part.out, weights, formula, part.macs * repeat,
                part.note if part.expr else "")


def _stack_row(stack: Stack) -> LayerRow:
    per_layer = [part.params for part in stack.parts]
    total = sum(per_layer) * stack.count
    formula = f"{stack.count} × ({' + '.join(_n(p) for p in per_layer)}) = {_n(total)}"
    weights = [Weight(f"{part.name}.{w.name}", (stack.count, *w.shape), w.trainable, w.statistic)
               for part in stack.parts for w in part.weights]
    macs = sum(part.macs for part in stack.parts) * stack.count
    return _row(_span(stack), f"{stack.type} ×{stack.count}", stack.parts[-1].out, weights,
                formula, macs, "")


def _row(name: str, kind: str, out: Shape, weights: list[Weight], formula: str, macs: int,
         note: str) -> LayerRow:
    trainable, non_trainable, buffers = row_counts(weights, "torch")
    return LayerRow(name=name, type=kind, output_shape=out, params=trainable + non_trainable,
                    trainable=trainable, non_trainable=non_trainable, buffers=buffers,
                    formula=formula, macs=macs, note=note, weights=weights)


def _notes(model: Model, why: str, c: HFConfig) -> str:
    lines = [f"Counted: {why}. Parameters as sum(p.numel() for p in model.parameters()) in "
             "transformers 5: tied tensors counted once, buffers (position ids, rotary "
             "frequencies, final_logits_bias) are not parameters."]
    tied_rows = [p for p in _all_parts(model.sections) if "tied" in p.note]
    if tied_rows:
        lines.append("Tied: " + "; ".join(f"{p.name} ({p.note})" for p in tied_rows) + ".")
    lines += model.notes
    lines.append("MACs are per token, forward, matrix multiplications only (1 MAC per linear "
                 "weight, FLOPs ≈ 2 × MACs); attention scores, which grow with the sequence "
                 "length, are not included.")
    return "Notes:\n" + "\n".join(f" - {line}" for line in lines)


def _all_parts(sections: Iterable[Section]) -> Iterable[Part]:
    for section in sections:
        if isinstance(section, Part):
            yield section
        else:
            yield from section.parts


__all__ = ["SUPPORTED_MODEL_TYPES", "count_hf_config", "supported_classes"]
