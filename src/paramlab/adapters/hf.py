"""Hugging Face ``config.json`` → exact parameter count, by arithmetic: no transformers, no
torch, no weights.

Each supported ``model_type`` has a function that lays the model out as *parts*: embeddings,
one decoder/encoder layer's attention, MLP and norms (repeated ``num_hidden_layers`` times),
final norm and head — with the shapes transformers' modeling code gives each
``nn.Parameter``. The class counted is the one named in the config's ``architectures``
(e.g. ``MistralForCausalLM``), or the base model when absent or with ``--base``. Tied
parameters (input embeddings shared with the LM head) are counted once, as
``model.parameters()`` does; buffers (rotary ``inv_freq``, BART's ``final_logits_bias``) are
not parameters. Missing fields take the defaults of the config class, which describe the
full-size reference model (GPT-2 small, BERT-base, Llama-2-7B, …).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paramlab.errors import ConfigError
from paramlab.layers.base import fmt
from paramlab.summary import LayerRow, Summary


@dataclass
class Part:
    """A group of parameters with its formula: ``repeat`` copies of ``params`` each."""

    name: str
    params: int
    formula: str
    repeat: int = 1
    kind: str = ""  # "attention", "mlp", "norm", "embedding", "head" — for the breakdown
    note: str = ""

    @property
    def total(self) -> int:
        return self.params * self.repeat


class Config:
    """Field access with Hugging Face's aliases, the config class's defaults and clear errors."""

    def __init__(self, data: dict[str, Any], source: str):
        self.data = data
        self.source = source

    def int(self, *names: str, default: Any = None) -> int:
        value = self.get(*names, default=default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{self.source}: field {names[0]!r} must be a non-negative "
                              f"integer; found {value!r}")
        return value

    def bool(self, *names: str, default: bool) -> bool:
        value = self.get(*names, default=default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.source}: field {names[0]!r} must be true or false; "
                              f"found {value!r}")
        return value

    def get(self, *names: str, default: Any = None) -> Any:
        for name in names:
            if self.data.get(name) is not None:
                return self.data[name]
        if default is None:
            raise ConfigError(f"{self.source}: missing field {names[0]!r}")
        return default

    def num_labels(self) -> int:
        if isinstance(self.data.get("id2label"), dict):
            return len(self.data["id2label"])
        default = 3 if self.data.get("model_type") == "bart" else 2  # BartConfig's own
        return self.int("num_labels", default=default)


def linear(fan_in: int, fan_out: int, bias: bool = True) -> tuple[int, str]:
    """(params, formula) of an nn.Linear."""
    if bias:
        return (fan_in + 1) * fan_out, f"({fmt(fan_in)} + 1) × {fmt(fan_out)}"
    return fan_in * fan_out, f"{fmt(fan_in)} × {fmt(fan_out)}"


def combine(*pieces: tuple[int, str]) -> tuple[int, str]:
    return sum(p for p, _ in pieces), " + ".join(f for _, f in pieces)


def part(name: str, pieces: tuple[int, str], kind: str, repeat: int = 1, note: str = "") -> Part:
    return Part(name, pieces[0], pieces[1], repeat, kind, note)


def norm(d: int, bias: bool = True) -> tuple[int, str]:
    return (2 * d, f"2 × {fmt(d)}") if bias else (d, fmt(d))


def embedding(rows: int, d: int) -> tuple[int, str]:
    return rows * d, f"{fmt(rows)} × {fmt(d)}"


# ------------------------------------------------------------------ decoder-only, rotary


def _llama_like(c: Config, family: str, arch: str | None) -> list[Part]:
    """Llama, Mistral, Mixtral, Qwen2, Gemma, Phi-3: RMSNorm, rotary, gated MLP."""
    defaults = _DEFAULTS[family]
    d = c.int("hidden_size", default=defaults["hidden_size"])
    layers = c.int("num_hidden_layers", default=defaults["num_hidden_layers"])
    heads = c.int("num_attention_heads", default=defaults["num_attention_heads"])
    kv = c.int("num_key_value_heads", default=defaults.get("num_key_value_heads") or heads)
    head_dim = c.int("head_dim", default=defaults.get("head_dim") or d // heads)
    inter = c.int("intermediate_size", default=defaults["intermediate_size"])
    vocab = c.int("vocab_size", default=defaults["vocab_size"])
    attn_bias = c.bool("attention_bias", default=defaults.get("attention_bias", False))
    mlp_bias = c.bool("mlp_bias", default=False)
    q, k = heads * head_dim, kv * head_dim
    if family == "phi3":
        attention = combine(linear(d, q + 2 * k, False), linear(q, d, False))
        mlp = combine(linear(d, 2 * inter, False), linear(inter, d, False))
    else:
        qkv_bias = attn_bias or family == "qwen2"  # Qwen2: biases on q, k, v only
        attention = combine(linear(d, q, qkv_bias), linear(d, k, qkv_bias),
                            linear(d, k, qkv_bias), linear(q, d, attn_bias))
        mlp = combine(linear(d, inter, mlp_bias), linear(d, inter, mlp_bias),
                      linear(inter, d, mlp_bias))
    parts = [part("embed_tokens", embedding(vocab, d), "embedding"),
             part("layers.attention", attention, "attention", layers)]
    if family == "mixtral":
        experts = c.int("num_local_experts", default=8)
        expert = combine(linear(d, inter, False), linear(inter, d, False),
                         linear(d, inter, False))
        parts.append(part("layers.router", linear(d, experts, False), "mlp", layers))
        parts.append(Part("layers.experts", experts * expert[0],
                          f"{experts} experts × ({expert[1]})", layers, "mlp",
                          f"{c.int('num_experts_per_tok', default=2)} of {experts} experts "
                          "active per token"))
    else:
        parts.append(part("layers.mlp", mlp, "mlp", layers))
    parts += [part("layers.norms", (2 * d, f"2 × {fmt(d)}"), "norm", layers),
              part("norm", (d, fmt(d)), "norm")]
    tie = c.bool("tie_word_embeddings", default=defaults.get("tie_word_embeddings", False))
    return parts + _causal_head(c, arch, d, vocab, tie, bias=False)


def _causal_head(c: Config, arch: str | None, d: int, vocab: int, tie: bool,
                 bias: bool) -> list[Part]:
    if arch is None:
        return []
    if arch.endswith("ForSequenceClassification"):
        return [part("score", linear(d, c.num_labels(), False), "head")]
    if arch.endswith("ForTokenClassification"):
        return [part("score", linear(d, c.num_labels(), True), "head")]
    if arch.endswith("ForQuestionAnswering"):
        return [part("qa_outputs", linear(d, 2, True), "head")]
    if tie:
        return [Part("lm_head", 0, f"tied to the input embeddings ({fmt(vocab)} × {fmt(d)}), "
                     "counted once", 1, "head")]
    return [part("lm_head", linear(d, vocab, bias), "head")]


# ------------------------------------------------------------------ GPT-2, GPT-NeoX, OPT


def _gpt2(c: Config, arch: str | None) -> list[Part]:
    d = c.int("n_embd", "hidden_size", default=768)
    layers = c.int("n_layer", "num_hidden_layers", default=12)
    positions = c.int("n_positions", "max_position_embeddings", default=1024)
    vocab = c.int("vocab_size", default=50257)
    inner = c.get("n_inner", default=4 * d)
    parts = [part("wte", embedding(vocab, d), "embedding"),
             part("wpe", embedding(positions, d), "embedding"),
             part("h.attn", combine(linear(d, 3 * d), linear(d, d)), "attention", layers),
             part("h.mlp", combine(linear(d, inner), linear(inner, d)), "mlp", layers),
             part("h.norms", (4 * d, f"2 × 2 × {fmt(d)}"), "norm", layers)]
    if c.bool("add_cross_attention", default=False):
        parts.append(part("h.crossattention", combine(linear(d, d), linear(d, 2 * d),
                                                      linear(d, d), norm(d)),
                          "attention", layers))
    parts.append(part("ln_f", norm(d), "norm"))
    tie = c.bool("tie_word_embeddings", default=True)
    if arch in ("GPT2ForSequenceClassification",):
        return [*parts, part("score", linear(d, c.num_labels(), False), "head")]
    if arch == "GPT2DoubleHeadsModel":
        head = [Part("lm_head", 0, "tied to wte, counted once", 1, "head")] if tie else [
            part("lm_head", linear(d, vocab, False), "head")]
        return [*parts, *head, part("multiple_choice_head", linear(d, 1), "head")]
    return parts + _causal_head(c, arch, d, vocab, tie, bias=False)


def _gpt_neox(c: Config, arch: str | None) -> list[Part]:
    d = c.int("hidden_size", default=6144)
    layers = c.int("num_hidden_layers", default=44)
    inter = c.int("intermediate_size", default=24576)
    vocab = c.int("vocab_size", default=50432)
    bias = c.bool("attention_bias", default=True)
    parts = [part("embed_in", embedding(vocab, d), "embedding"),
             part("layers.attention", combine(linear(d, 3 * d, bias), linear(d, d, bias)),
                  "attention", layers),
             part("layers.mlp", combine(linear(d, inter), linear(inter, d)), "mlp", layers),
             part("layers.norms", (4 * d, f"2 × 2 × {fmt(d)}"), "norm", layers),
             part("final_layer_norm", norm(d), "norm")]
    tie = c.bool("tie_word_embeddings", default=False)
    head = _causal_head(c, arch, d, vocab, tie, bias=False)
    return parts + [Part("embed_out", p.params, p.formula, 1, "head") if p.name == "lm_head"
                    else p for p in head]


def _opt(c: Config, arch: str | None) -> list[Part]:
    d = c.int("hidden_size", default=768)
    layers = c.int("num_hidden_layers", default=12)
    ffn = c.int("ffn_dim", default=3072)
    vocab = c.int("vocab_size", default=50272)
    positions = c.int("max_position_embeddings", default=2048)
    proj = c.int("word_embed_proj_dim", default=d)
    bias = c.bool("enable_bias", default=True)
    affine = c.bool("layer_norm_elementwise_affine", default=True)
    before = c.bool("do_layer_norm_before", default=True)
    layer_norm = norm(d) if affine else (0, "0 (no affine)")
    parts = [part("embed_tokens", embedding(vocab, proj), "embedding"),
             Part("embed_positions", (positions + 2) * d,
                  f"({fmt(positions)} + 2) × {fmt(d)}", 1, "embedding",
                  "OPT offsets positions by 2")]
    if proj != d:
        parts += [part("project_in", linear(proj, d, False), "embedding"),
                  part("project_out", linear(d, proj, False), "embedding")]
    parts += [part("layers.self_attn", combine(*[linear(d, d, bias)] * 4), "attention", layers),
              part("layers.mlp", combine(linear(d, ffn, bias), linear(ffn, d, bias)), "mlp",
                   layers),
              Part("layers.norms", 2 * layer_norm[0], f"2 × {layer_norm[1]}", layers, "norm")]
    if before and not c.bool("_remove_final_layer_norm", default=False):
        parts.append(part("final_layer_norm", layer_norm, "norm"))
    tie = c.bool("tie_word_embeddings", default=True)
    if arch == "OPTForSequenceClassification":
        return [*parts, part("score", linear(proj, c.num_labels(), False), "head")]
    if arch == "OPTForQuestionAnswering":
        return [*parts, part("qa_outputs", linear(proj, 2), "head")]
    return parts + _causal_head(c, arch, proj, vocab, tie, bias=False)


# ------------------------------------------------------------------ BERT family


def _bert_layers(c: Config, d: int, layers: int, inter: int, prefix: str) -> list[Part]:
    return [part(f"{prefix}.attention", combine(*[linear(d, d)] * 4), "attention", layers),
            part(f"{prefix}.mlp", combine(linear(d, inter), linear(inter, d)), "mlp", layers),
            part(f"{prefix}.norms", (4 * d, f"2 × 2 × {fmt(d)}"), "norm", layers)]


def _bert(c: Config, arch: str | None, family: str = "bert") -> list[Part]:
    roberta = family == "roberta"
    d = c.int("hidden_size", default=768)
    layers = c.int("num_hidden_layers", default=12)
    inter = c.int("intermediate_size", default=3072)
    vocab = c.int("vocab_size", default=50265 if roberta else 30522)
    positions = c.int("max_position_embeddings", default=512)
    types = c.int("type_vocab_size", default=2)
    parts = [part("embeddings.word", embedding(vocab, d), "embedding"),
             part("embeddings.position", embedding(positions, d), "embedding"),
             part("embeddings.token_type", embedding(types, d), "embedding"),
             part("embeddings.LayerNorm", norm(d), "norm"),
             *_bert_layers(c, d, layers, inter, "encoder.layer")]
    pooled = arch is None or arch in (
        f"{'Roberta' if roberta else 'Bert'}Model", "BertForSequenceClassification",
        "BertForPreTraining", "BertForNextSentencePrediction", "BertForMultipleChoice")
    if pooled:
        parts.append(part("pooler", linear(d, d), "head"))
    return parts + _bert_head(c, arch, d, vocab, roberta)


def _bert_head(c: Config, arch: str | None, d: int, vocab: int, roberta: bool) -> list[Part]:
    if arch is None or arch.endswith("Model"):
        return []
    mlm = ("ForMaskedLM", "LMHeadModel", "ForPreTraining", "ForCausalLM")
    if arch.endswith(mlm):
        tie = c.bool("tie_word_embeddings", default=True)
        decoder = (vocab, f"bias {fmt(vocab)}; decoder weight tied to the word embeddings") \
            if tie else combine(linear(d, vocab, False), (vocab, fmt(vocab)))
        head = [part("lm_head" if roberta else "cls.predictions",
                     combine(linear(d, d), norm(d), decoder), "head")]
        if arch == "BertForPreTraining":
            head.append(part("cls.seq_relationship", linear(d, 2), "head"))
        return head
    if arch.endswith("ForNextSentencePrediction"):
        return [part("cls.seq_relationship", linear(d, 2), "head")]
    if arch.endswith("ForSequenceClassification"):
        if roberta:
            return [part("classifier", combine(linear(d, d), linear(d, c.num_labels())),
                         "head")]
        return [part("classifier", linear(d, c.num_labels()), "head")]
    if arch.endswith("ForMultipleChoice"):
        extra = [part("classifier.dense", linear(d, d), "head")] if roberta else []
        return [*extra, part("classifier", linear(d, 1), "head")]
    if arch.endswith("ForTokenClassification"):
        return [part("classifier", linear(d, c.num_labels()), "head")]
    if arch.endswith("ForQuestionAnswering"):
        return [part("qa_outputs", linear(d, c.num_labels()), "head")]
    raise ConfigError(f"{c.source}: architecture {arch!r} is not supported for "
                      f"{'roberta' if roberta else 'bert'}; use --base to count the base model")


def _distilbert(c: Config, arch: str | None) -> list[Part]:
    d = c.int("dim", "hidden_size", default=768)
    layers = c.int("n_layers", "num_hidden_layers", default=6)
    hidden = c.int("hidden_dim", default=3072)
    vocab = c.int("vocab_size", default=30522)
    positions = c.int("max_position_embeddings", default=512)
    parts = [part("embeddings.word", embedding(vocab, d), "embedding"),
             part("embeddings.position", embedding(positions, d), "embedding"),
             part("embeddings.LayerNorm", norm(d), "norm"),
             *_bert_layers(c, d, layers, hidden, "transformer.layer")]
    if arch is None or arch == "DistilBertModel":
        return parts
    if arch == "DistilBertForMaskedLM":
        return [*parts, part("vocab_transform", linear(d, d), "head"),
                part("vocab_layer_norm", norm(d), "norm"),
                part("vocab_projector", (vocab, f"bias {fmt(vocab)}; weight tied to the word "
                                                "embeddings"), "head")]
    if arch == "DistilBertForSequenceClassification":
        return [*parts, part("pre_classifier", linear(d, d), "head"),
                part("classifier", linear(d, c.num_labels()), "head")]
    if arch == "DistilBertForTokenClassification":
        return [*parts, part("classifier", linear(d, c.num_labels()), "head")]
    if arch == "DistilBertForQuestionAnswering":
        return [*parts, part("qa_outputs", linear(d, 2), "head")]
    raise ConfigError(f"{c.source}: architecture {arch!r} is not supported for distilbert")


# ------------------------------------------------------------------ encoder-decoders


def _t5(c: Config, arch: str | None) -> list[Part]:
    d = c.int("d_model", default=512)
    d_kv = c.int("d_kv", default=64)
    d_ff = c.int("d_ff", default=2048)
    enc = c.int("num_layers", default=6)
    dec = c.int("num_decoder_layers", default=enc)
    heads = c.int("num_heads", default=8)
    buckets = c.int("relative_attention_num_buckets", default=32)
    vocab = c.int("vocab_size", default=32128)
    gated = str(c.get("feed_forward_proj", default="relu")).startswith("gated")
    inner = heads * d_kv
    attention = combine(linear(d, inner, False), linear(d, inner, False),
                        linear(d, inner, False), linear(inner, d, False))
    ff = combine(*([linear(d, d_ff, False)] * (2 if gated else 1)), linear(d_ff, d, False))
    bias = part("relative_attention_bias", embedding(buckets, heads), "attention")
    parts = [part("shared", embedding(vocab, d), "embedding", note="encoder and decoder "
                  "embed_tokens share it"),
             Part("encoder.relative_attention_bias", bias.params, bias.formula, 1, "attention",
                  "layer 0 only"),
             part("encoder.block.attention", attention, "attention", enc),
             part("encoder.block.mlp", ff, "mlp", enc),
             part("encoder.block.norms", (2 * d, f"2 × {fmt(d)}"), "norm", enc),
             part("encoder.final_layer_norm", (d, fmt(d)), "norm")]
    if arch == "T5EncoderModel":
        return parts
    parts += [Part("decoder.relative_attention_bias", bias.params, bias.formula, 1,
                   "attention", "layer 0 only"),
              part("decoder.block.attention", combine(attention, attention), "attention", dec),
              part("decoder.block.mlp", ff, "mlp", dec),
              part("decoder.block.norms", (3 * d, f"3 × {fmt(d)}"), "norm", dec),
              part("decoder.final_layer_norm", (d, fmt(d)), "norm")]
    if arch in (None, "T5Model"):
        return parts
    if arch == "T5ForConditionalGeneration":
        # transformers ≥ 5 ties T5's LM head always (configuration_t5.py: "we tie weights
        # always"); tie_word_embeddings=false there only rescales decoder outputs.
        return parts + _causal_head(c, arch, d, vocab, True, bias=False)
    raise ConfigError(f"{c.source}: architecture {arch!r} is not supported for t5")


def _bart(c: Config, arch: str | None) -> list[Part]:
    d = c.int("d_model", default=1024)
    enc = c.int("encoder_layers", default=12)
    dec = c.int("decoder_layers", default=12)
    enc_ff = c.int("encoder_ffn_dim", default=4096)
    dec_ff = c.int("decoder_ffn_dim", default=4096)
    vocab = c.int("vocab_size", default=50265)
    positions = c.int("max_position_embeddings", default=1024)
    attention = combine(*[linear(d, d)] * 4)
    pos = ((positions + 2) * d, f"({fmt(positions)} + 2) × {fmt(d)}")
    parts = [part("shared", embedding(vocab, d), "embedding",
                  note="encoder and decoder embed_tokens share it"),
             part("encoder.embed_positions", pos, "embedding"),
             part("encoder.layernorm_embedding", norm(d), "norm"),
             part("encoder.layers.self_attn", attention, "attention", enc),
             part("encoder.layers.mlp", combine(linear(d, enc_ff), linear(enc_ff, d)), "mlp",
                  enc),
             part("encoder.layers.norms", (4 * d, f"2 × 2 × {fmt(d)}"), "norm", enc),
             part("decoder.embed_positions", pos, "embedding"),
             part("decoder.layernorm_embedding", norm(d), "norm"),
             part("decoder.layers.attention", combine(attention, attention), "attention", dec),
             part("decoder.layers.mlp", combine(linear(d, dec_ff), linear(dec_ff, d)), "mlp",
                  dec),
             part("decoder.layers.norms", (6 * d, f"3 × 2 × {fmt(d)}"), "norm", dec)]
    if arch in (None, "BartModel"):
        return parts
    if arch == "BartForConditionalGeneration":
        return [*parts, Part("lm_head", 0, "tied to shared, counted once; final_logits_bias "
                             f"({fmt(vocab)}) is a buffer", 1, "head")]
    if arch == "BartForSequenceClassification":
        return [*parts, part("classification_head", combine(linear(d, d),
                                                            linear(d, c.num_labels())), "head")]
    if arch == "BartForQuestionAnswering":
        return [*parts, part("qa_outputs", linear(d, 2), "head")]
    raise ConfigError(f"{c.source}: architecture {arch!r} is not supported for bart")


def _vit(c: Config, arch: str | None) -> list[Part]:
    d = c.int("hidden_size", default=768)
    layers = c.int("num_hidden_layers", default=12)
    inter = c.int("intermediate_size", default=3072)
    image = c.int("image_size", default=224)
    patch = c.int("patch_size", default=16)
    channels = c.int("num_channels", default=3)
    qkv_bias = c.bool("qkv_bias", default=True)
    patches = (image // patch) ** 2
    parts = [part("embeddings.cls_token", (d, fmt(d)), "embedding"),
             Part("embeddings.position_embeddings", (patches + 1) * d,
                  f"({fmt(patches)} patches + 1) × {fmt(d)}", 1, "embedding"),
             Part("embeddings.patch_embeddings", (channels * patch * patch + 1) * d,
                  f"({channels} × {patch} × {patch} + 1) × {fmt(d)}", 1, "embedding"),
             part("encoder.layer.attention", combine(*[linear(d, d, qkv_bias)] * 3,
                                                     linear(d, d)), "attention", layers),
             part("encoder.layer.mlp", combine(linear(d, inter), linear(inter, d)), "mlp",
                  layers),
             part("encoder.layer.norms", (4 * d, f"2 × 2 × {fmt(d)}"), "norm", layers),
             part("layernorm", norm(d), "norm")]
    if arch in (None, "ViTModel"):
        return [*parts, part("pooler", linear(d, d), "head")]
    if arch == "ViTForImageClassification":
        return [*parts, part("classifier", linear(d, c.num_labels()), "head")]
    raise ConfigError(f"{c.source}: architecture {arch!r} is not supported for vit")


_DEFAULTS: dict[str, dict[str, Any]] = {
    "llama": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
              "intermediate_size": 11008, "vocab_size": 32000},
    "mistral": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000},
    "mixtral": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000},
    "qwen2": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
              "num_key_value_heads": 32, "intermediate_size": 22016, "vocab_size": 151936},
    "gemma": {"hidden_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
              "num_key_value_heads": 16, "head_dim": 256, "intermediate_size": 24576,
              "vocab_size": 256000, "tie_word_embeddings": True},
    "phi3": {"hidden_size": 3072, "num_hidden_layers": 32, "num_attention_heads": 32,
             "intermediate_size": 8192, "vocab_size": 32064},
}


def _rotary(family: str) -> Callable[[Config, str | None], list[Part]]:
    return lambda c, arch: _llama_like(c, family, arch)


FAMILIES: dict[str, Callable[[Config, str | None], list[Part]]] = {
    "gpt2": _gpt2,
    "gpt_neox": _gpt_neox,
    "opt": _opt,
    "bert": _bert,
    "roberta": lambda c, arch: _bert(c, arch, "roberta"),
    "distilbert": _distilbert,
    "t5": _t5,
    "bart": _bart,
    "vit": _vit,
    **{family: _rotary(family) for family in _DEFAULTS},
}
BASE_CLASSES = {"gpt2": "GPT2Model", "gpt_neox": "GPTNeoXModel", "opt": "OPTModel",
                "bert": "BertModel", "roberta": "RobertaModel", "distilbert": "DistilBertModel",
                "t5": "T5Model", "bart": "BartModel", "vit": "ViTModel", "llama": "LlamaModel",
                "mistral": "MistralModel", "mixtral": "MixtralModel", "qwen2": "Qwen2Model",
                "gemma": "GemmaModel", "phi3": "Phi3Model"}


# ------------------------------------------------------------------ entry point


def load_config(target: Any) -> tuple[dict[str, Any], str]:
    if isinstance(target, dict):
        return target, "<config>"
    path = Path(str(target))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a Hugging Face config is a JSON object")
    return data, str(path)


def hf_parts(data: dict[str, Any], source: str, base: bool = False) -> tuple[str, list[Part]]:
    """The counted class name and its parts."""
    model_type = data.get("model_type")
    if model_type not in FAMILIES:
        close = difflib.get_close_matches(str(model_type), list(FAMILIES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{source}: model_type {model_type!r} is not supported{hint}; "
                          f"supported: {', '.join(sorted(FAMILIES))}")
    architectures = data.get("architectures")
    arch = None
    if not base and isinstance(architectures, list) and architectures:
        arch = str(architectures[0])
    if arch is not None and arch == BASE_CLASSES[model_type]:
        arch = None
    config = Config(data, source)
    parts = FAMILIES[model_type](config, arch)
    return arch or BASE_CLASSES[model_type], parts


def count_hf_config(target: Any, convention: str | None, options: Any) -> Summary:
    data, source = load_config(target)
    base = bool(getattr(options, "base", False))
    depth = getattr(options, "depth", None) or 1
    name, parts = hf_parts(data, source, base)
    rows = [row for p in parts for row in _rows(p, depth)]
    return Summary(name, rows, convention or "torch", origin=f"hf config: {source}")


def _rows(p: Part, depth: int) -> list[LayerRow]:
    """One row per part, or one per repeated layer with ``--depth 2``."""
    def row(name: str, params: int, formula: str) -> LayerRow:
        return LayerRow(name=name, type=p.kind or "params", output_shape=(), params=params,
                        trainable=params, non_trainable=0, buffers=0, formula=formula,
                        macs=0, note=p.note)

    if p.repeat == 1:
        return [row(p.name, p.params, f"{p.formula} = {fmt(p.params)}" if p.params else
                    p.formula)]
    if depth >= 2:
        prefix, _, rest = p.name.partition(".")
        return [row(f"{prefix}.{i}.{rest}", p.params, f"{p.formula} = {fmt(p.params)}")
                for i in range(p.repeat)]
    prefix, _, rest = p.name.partition(".")
    return [row(f"{prefix}.0-{p.repeat - 1}.{rest}", p.total,
                f"{p.repeat} × ({p.formula}) = {fmt(p.total)}")]

