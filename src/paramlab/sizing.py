"""``--quant``, ``--kv-dtype`` and ``--fit`` for one counted model: builds the
:class:`~paramlab.quant.report.QuantReport` the renderers draw from the summary's
:class:`~paramlab.quant.source.QuantSource` (attached by the Hugging Face adapter). Above the
summary (it reads one), below ``count()`` (which calls it); the arithmetic is
:mod:`paramlab.quant`'s.
"""

from __future__ import annotations

from typing import Any

from paramlab.errors import ConfigError, ParamlabError
from paramlab.quant.fit import (
    OVERHEAD_NOTE,
    SEARCH_CAP,
    FitAnswer,
    TrainingCost,
    largest_value,
    least_compressed,
    parse_budget,
)
from paramlab.quant.kv import kv_cache_bytes
from paramlab.quant.report import QuantReport
from paramlab.quant.size import QuantSize, quantized_size
from paramlab.quant.source import QuantSource
from paramlab.quant.tensors import GGUF_FAMILIES, Tensor
from paramlab.summary import Summary

GGUF_LADDER = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K")
HF_LADDER = ("int8", "nf4", "nf4-dq")
FIT_MODES = ("serving", "training")


def quant_report(summary: Summary, options: Any,
                 training_cost: TrainingCost | None = None) -> QuantReport:
    src: QuantSource | None = getattr(summary, "quant_source", None)
    if src is None:
        raise ParamlabError(f"--quant, --kv-dtype and --fit need a Hugging Face config.json "
                            f"of a model_type paramlab declares (tensor roles and storage "
                            f"dtypes come from it); received {summary.origin or summary.name}")
    if src.error:
        raise ConfigError(src.error)
    tensors = src.tensors()
    sizes = tuple(quantized_size(q.strip(), src.model_type, tensors, src.base_bytes, src.skip)
                  for q in options.quant or ())
    stored = (quantized_size(src.stored, src.model_type, tensors, src.base_bytes, src.skip)
              if src.stored else None)
    lm = summary.language_model
    kv_dtype = options.kv_dtype or ("f32" if src.base_bytes == 4 else "f16")
    notes = list(src.notes)
    if lm is not None and not options.kv_dtype:
        notes.append(f"KV cache at the model's dtype ({kv_dtype}); --kv-dtype q8_0, q4_0 or "
                     "fp8 for a quantized cache")
    per_token = kv_cache_bytes(lm, 1, 1, kv_dtype) if lm is not None else None
    at_context = (kv_cache_bytes(lm, options.context, options.batch_size, kv_dtype)
                  if lm is not None and options.context else None)
    answers: tuple[FitAnswer, ...] = ()
    budget = None
    mode = options.fit_for or "serving"
    if options.fit is not None:
        budget = parse_budget(options.fit)
        if mode == "serving":
            weights = sizes[0] if sizes else stored or _unquantized(src, tensors)
            answers = _serving(src, tensors, lm, weights, kv_dtype, budget, options)
        elif mode == "training":
            cost = training_cost or default_training_cost(summary, options.context)
            answers = (largest_value("largest batch (training)", "sequence",
                                     lambda b: cost(b, options.context or 0), budget,
                                     SEARCH_CAP, "the search cap"),)
        else:
            raise ParamlabError(f"--fit-for must be one of {', '.join(FIT_MODES)}; "
                                f"received {mode!r}")
        if mode == "serving" and lm is not None and not options.context:
            notes.append("No --context: the least-compressed format is chosen for the weights "
                         "alone (KV cache 0); add --context N to reserve a cache")
        notes.append(OVERHEAD_NOTE)
    return QuantReport(sizes, stored, kv_dtype, per_token, at_context, budget, mode, answers,
                       tuple(notes))


def _unquantized(src: QuantSource, tensors: tuple[Tensor, ...]) -> QuantSize:
    params = sum(t.elements for t in tensors)
    name = f"unquantized ({src.base_bytes} bytes)"
    return QuantSize(name, params * src.base_bytes, params, {name: params * src.base_bytes})


def _serving(src: QuantSource, tensors: tuple[Tensor, ...], lm: Any, weights: QuantSize,
             kv_dtype: str, budget: int, options: Any) -> tuple[FitAnswer, ...]:
    batch, context = options.batch_size, options.context
    answers = []

    def terms(w: QuantSize, ctx: int, b: int) -> tuple[tuple[str, int], ...]:
        kv = kv_cache_bytes(lm, ctx, b, kv_dtype) if lm is not None and ctx else 0
        return ((f"weights ({w.name})", w.bytes), (f"KV cache ({kv_dtype})", kv))

    if lm is not None:
        cap = src.max_context or SEARCH_CAP
        reason = src.context_field or "the search cap"
        answers.append(largest_value(f"largest context (batch {batch:,})", "token",
                                     lambda n: terms(weights, n, batch), budget, cap, reason))
        if context:
            answers.append(largest_value(f"largest batch (context {context:,})", "sequence",
                                         lambda b: terms(weights, context, b), budget,
                                         SEARCH_CAP, "the search cap"))
    ladder = [q.strip() for q in options.quant or ()]
    if len(ladder) < 2:
        ladder = [*(GGUF_LADDER if src.model_type in GGUF_FAMILIES else HF_LADDER)]
    candidates = [(size.name, terms(size, context or 0, batch)) for size in
                  [_unquantized(src, tensors)] + [
                      quantized_size(q, src.model_type, tensors, src.base_bytes, src.skip)
                      for q in ladder]]
    answers.append(least_compressed(candidates, budget))
    return tuple(answers)


def default_training_cost(summary: Summary, context: int | None) -> TrainingCost:
    """Mixed-precision AdamW as :mod:`paramlab.memory` accounts it (16 bytes per trainable
    parameter, activations a lower bound); a finer per-GPU model can be passed instead."""
    from paramlab.memory import RECIPES, activation_elements

    recipe = next(r for r in RECIPES if r.precision.startswith("mixed")
                  and r.optimizer == "Adam/AdamW")
    acts = activation_elements(summary)
    lm = summary.language_model
    if acts is None and lm is not None and lm.activations_per_token and context:
        acts = lm.activations_per_token * context
    if acts is None:
        raise ParamlabError("--fit-for training needs activation sizes: add --context N for "
                            "a language model (--input-size for a PyTorch module)")
    static = (summary.trainable * recipe.per_param + summary.non_trainable
              * recipe.weight_bytes + summary.buffers * 4)
    per_example = acts * recipe.activation_bytes
    return lambda batch, _context: (("weights, gradients and AdamW state (mixed precision)",
                                     static), ("activations (lower bound)", per_example * batch))
