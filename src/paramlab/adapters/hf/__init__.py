"""Hugging Face ``config.json`` → exact parameter counts, by arithmetic alone.

A Hugging Face checkpoint is described by its ``config.json``: ``model_type`` picks the
modeling code and the remaining fields size every tensor. For each declared ``model_type``
this package re-derives the tensors that transformers' classes create (transformers 5
modeling code, checked against it in ``tests/test_hf_configs.py`` and
``tests/test_hf_families.py``) without importing transformers or torch, so a
670B-parameter config is counted in milliseconds. A type without a declaration is built by
transformers itself on the meta device when it is installed (:mod:`.fallback`).

Layout: :mod:`.config` reads fields and defaults, :mod:`.blocks` holds the reusable modules
(embeddings, attention, MLPs, norms), :mod:`.decoder` and :mod:`.families` declare the
decoder-only LLMs as rows of switches, the other modules hold the families whose layout is
their own, :mod:`.rows` turns blocks into rows and :mod:`.memory` sizes the KV cache.

Conventions, stated where the numbers are made:

* The count is ``sum(p.numel() for p in model.parameters())``: a tied tensor (an output
  projection sharing the input embedding) is counted once, and buffers (position ids, rotary
  frequencies, BART's ``final_logits_bias``, DeepSeek-V3's router bias) are not parameters.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from paramlab.adapters.hf import audio, encoders, gpt, multimodal, seq2seq, vision
from paramlab.adapters.hf.blocks import Model
from paramlab.adapters.hf.config import HFConfig, Undeclared, load
from paramlab.adapters.hf.decoder import DECODER_KINDS, build_decoder
from paramlab.adapters.hf.families import DECODERS
from paramlab.adapters.hf.layouts import CHECKED_WITH
from paramlab.adapters.hf.memory import language_model_shapes
from paramlab.adapters.hf.rows import (
    experts_note,
    idle_expert_params,
    largest_module,
    notes,
    rows,
    trainable_shapes,
)
from paramlab.errors import ConfigError
from paramlab.notes import Note
from paramlab.summary import Summary


@dataclass(frozen=True)
class Family:
    """A declared ``model_type``: its class names and the function that lays it out."""

    prefix: str
    kinds: tuple[str, ...]
    build: Callable[[HFConfig, str], Model]
    class_names: dict[str, str] = field(default_factory=dict)

    def classes(self) -> dict[str, str]:
        """Class name → kind (``LlamaForCausalLM`` → ``ForCausalLM``)."""
        return {self.class_names.get(kind, self.prefix + kind): kind for kind in self.kinds}


FAMILIES: dict[str, Family] = {
    "gpt2": Family("GPT2", gpt.GPT2_KINDS, gpt._gpt2),
    "gpt_neox": Family("GPTNeoX", DECODER_KINDS, gpt._gpt_neox),
    "opt": Family("OPT", gpt.OPT_KINDS, gpt._opt),
    "falcon": Family("Falcon", DECODER_KINDS, gpt._falcon),
    "bert": Family("Bert", encoders.BERT_KINDS, encoders._bert),
    "roberta": Family("Roberta", encoders.ROBERTA_KINDS,
                      partial(encoders._bert, roberta=True)),
    "xlm-roberta": Family("XLMRoberta", encoders.ROBERTA_KINDS,
                          partial(encoders._bert, roberta=True, prefix="XLMRoberta")),
    "distilbert": Family("DistilBert", encoders.DISTILBERT_KINDS, encoders._distilbert),
    "electra": Family("Electra", encoders.ELECTRA_KINDS, encoders._electra),
    "albert": Family("Albert", encoders.ALBERT_KINDS, encoders._albert),
    "mpnet": Family("MPNet", encoders.ENCODER_KINDS, encoders._mpnet),
    "deberta-v2": Family("DebertaV2", encoders.ENCODER_KINDS, encoders._deberta_v2),
    "modernbert": Family("ModernBert", encoders.ENCODER_KINDS, encoders._modernbert),
    "t5": Family("T5", seq2seq.T5_KINDS, seq2seq._t5),
    "mt5": Family("MT5", seq2seq.T5_KINDS,
                  partial(seq2seq._t5, prefix="MT5", defaults=seq2seq.MT5_DEFAULTS)),
    "bart": Family("Bart", seq2seq.BART_KINDS, seq2seq._bart),
    "vit": Family("ViT", vision.VIT_KINDS, vision._vit),
    "dinov2": Family("Dinov2", vision.DINOV2_KINDS, vision._dinov2),
    "clip": Family("CLIP", ("Model", "ForImageClassification"),
                   partial(vision._contrastive, siglip=False)),
    "clip_text_model": Family("CLIP", ("TextModel", "TextModelWithProjection"),
                              partial(vision._tower, siglip=False)),
    "clip_vision_model": Family("CLIP", ("VisionModel", "VisionModelWithProjection"),
                                partial(vision._tower, siglip=False)),
    "siglip": Family("Siglip", ("Model", "ForImageClassification"),
                     partial(vision._contrastive, siglip=True)),
    "siglip_text_model": Family("Siglip", ("TextModel",), partial(vision._tower, siglip=True)),
    "siglip_vision_model": Family("Siglip", ("VisionModel",),
                                  partial(vision._tower, siglip=True)),
    "convnext": Family("ConvNext", ("Model", "ForImageClassification"), vision._convnext),
    "swin": Family("Swin", ("Model", "ForImageClassification", "ForMaskedImageModeling"),
                   vision._swin),
    "llava": Family("Llava", ("Model", "ForConditionalGeneration"), multimodal._llava),
    "gemma3": Family("Gemma3", ("Model", "ForConditionalGeneration", "ForSequenceClassification"),
                     multimodal._gemma3),
    "qwen2_5_vl": Family("Qwen2_5_VL", ("Model", "ForConditionalGeneration"),
                         multimodal._qwen2_5_vl),
    "wav2vec2": Family("Wav2Vec2", audio.WAV2VEC2_KINDS, audio._wav2vec2),
    "whisper": Family("Whisper", seq2seq.WHISPER_KINDS, seq2seq._whisper),
}
for _type, _decoder in DECODERS.items():
    FAMILIES[_type] = Family(_decoder.prefix, _decoder.kinds,
                             partial(build_decoder, d=_decoder), _decoder.class_names)

SUPPORTED_MODEL_TYPES = tuple(sorted(FAMILIES))


def supported_classes(model_type: str) -> list[str]:
    """Every transformers class name counted for ``model_type`` (``LlamaForCausalLM``, …)."""
    return list(FAMILIES[model_type].classes())


def count_hf_config(target: Any, convention: str | None = None, options: Any = None) -> Summary:
    """Count a Hugging Face config (a path to ``config.json`` or the loaded dict).

    ``convention`` is accepted for the adapter interface and otherwise ignored: these are
    PyTorch models, counted under the torch convention (buffers are not parameters).
    ``options.base`` counts the base model instead of ``architectures[0]``; ``options.depth``
    0 gives one row per layer stack, 1 (default) one row per sub-block over all layers, 2 or
    more one row per layer and sub-block. A type or class without a declaration is built by
    transformers on the meta device, when it is installed.
    """
    data, source = load(target)
    config = HFConfig(data, source)
    model_type = data.get("model_type")
    base = bool(_option(options, "base"))
    if not isinstance(model_type, str):
        raise _unknown_type(model_type, source)
    if model_type not in FAMILIES:
        from paramlab.adapters.hf.fallback import count_with_transformers

        return count_with_transformers(data, source, _architecture(config, base), options,
                                       _unknown_type(model_type, source))
    family = FAMILIES[model_type]
    name = _architecture(config, base)
    if name is not None and name not in family.classes():
        from paramlab.adapters.hf.fallback import count_with_transformers

        return count_with_transformers(data, source, name, options,
                                       _unknown_class(config, model_type, name, family))
    kind = family.kinds[0] if name is None else family.classes()[name]
    try:
        model = family.build(config, kind)
    except Undeclared as exc:
        from paramlab.adapters.hf.fallback import count_with_transformers

        return count_with_transformers(data, source, name, options, ConfigError(
            f"{source}: {model_type} with {exc} is not declared in paramlab"))
    depth = _option(options, "depth")
    summary = Summary(model.name, rows(model.sections, 1 if depth is None else int(depth)),
                      "torch", origin=f"hf config: {source} ({model_type})")
    summary.count_notes += notes(model, _why(config, base, name), read_notes(config))
    summary.language_model = language_model_shapes(model)
    from paramlab.adapters.hf.quant_tensors import model_tensors
    from paramlab.quant.source import quant_source

    summary.quant_source = quant_source(data, model_type, lambda: model_tensors(model), source)
    summary.tensor_shapes = trainable_shapes(model)
    summary.largest_module = largest_module(model)
    idle = idle_expert_params(model)
    if idle is not None:
        summary.active_params = summary.total - idle
        summary.active_note = experts_note(model)
    return summary


# Field names that sound like sizes (by their words): one in the file that no family read is
# named in the notes, so a field a later transformers sizes a tensor with cannot pass
# unremarked. Token ids, rates and generation settings are not sizes.
SIZE_WORDS = frozenset({"size", "sizes", "dim", "dims", "layer", "layers", "head", "heads",
                        "expert", "experts", "vocab", "rank", "width", "channels", "chans",
                        "depth", "groups", "stages", "embd", "embed", "inner", "ctx",
                        "positions", "embeddings", "num", "n"})
NOT_SIZES = frozenset({"id", "dropout", "pdrop", "prob", "eps", "epsilon", "act", "range",
                       "scale", "ngram", "chunk", "penalty", "beams", "beam", "sequences",
                       "length", "init"})


def _size_like(name: str) -> bool:
    words = set(name.rsplit(".", 1)[-1].lower().split("_"))
    return bool(words & SIZE_WORDS) and not words & NOT_SIZES


def read_notes(config: HFConfig) -> list[Note]:
    """What the count took from somewhere other than the file's own fields — names read as
    other fields, sizes taken from the config classes' defaults — and the size-like fields of
    the file it did not read (never silently)."""
    lines = []
    if config.log.renamed:
        lines.append(Note("Read as transformers 5 reads it: " + "; ".join(config.log.renamed)
                          + ".", "renamed"))
    defaults = list(dict.fromkeys(config.log.defaults))  # "name=value", in reading order
    if defaults:
        lines.append(Note("Not in the file, so taken from the config classes' defaults (as "
                          "transformers does): " + ", ".join(defaults) + ".", "default",
                          tuple(entry.split("=", 1)[0] for entry in defaults)))
    unread = tuple(name for name in config.unread() if _size_like(name))
    if unread:
        lines.append(Note(f"In the file but not read: {', '.join(unread)}. transformers "
                          f"{CHECKED_WITH} sizes no tensor of this type from them (each field "
                          "checked against it in paramlab's tests); a later release might.",
                          "unread", unread))
    return lines


def _option(options: Any, name: str) -> Any:
    if isinstance(options, dict):
        return options.get(name)
    return getattr(options, name, None)


def _architecture(c: HFConfig, base: bool) -> str | None:
    """``architectures[0]``, or None for the base model."""
    architectures = c.data.get("architectures")
    if base or not architectures:
        return None
    if not isinstance(architectures, list) or not isinstance(architectures[0], str):
        raise c.error("architectures", "a list of class names", architectures)
    return architectures[0]


def _why(c: HFConfig, base: bool, name: str | None) -> str:
    if name is not None:
        return f"{name} (architectures[0])"
    if base:
        return "the base model (--base)"
    return "the base model (no 'architectures' field)"


def _unknown_type(model_type: Any, source: str) -> ConfigError:
    supported = ", ".join(SUPPORTED_MODEL_TYPES)
    if not isinstance(model_type, str):
        return ConfigError(f"{source}: expected a string for 'model_type'. "
                           f"Received: model_type={model_type!r}; supported: {supported}")
    close = difflib.get_close_matches(model_type.lower(), SUPPORTED_MODEL_TYPES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{source}: unsupported model_type {model_type!r}.{hint} "
                       f"Supported: {supported}")


def _unknown_class(c: HFConfig, model_type: str, name: str, family: Family) -> ConfigError:
    classes = list(family.classes())
    close = difflib.get_close_matches(name, classes, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{c.source}: architectures[0]={name!r} is not a {model_type} class "
                       f"paramlab counts.{hint} Supported: {', '.join(classes)} "
                       f"(or --base for {classes[0]})")


__all__ = ["FAMILIES", "SUPPORTED_MODEL_TYPES", "count_hf_config", "supported_classes"]
