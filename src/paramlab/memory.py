"""``--memory`` and ``--flops``: what a counted model costs to train, to serve and to run.

Pure arithmetic on any :class:`~paramlab.summary.Summary` (specs and adapters alike), so the
numbers are closed forms anyone can check. Assumptions, stated once here and printed with
the numbers:

* Training memory per *trainable* parameter follows the ZeRO paper's accounting
  (Rajbhandari et al., 2020, §3.1). Hugging Face's estimator (``accelerate
  estimate-memory``) does not: it reports the largest of its four stages, not their sum
  (8 bytes per parameter for float16 Adam; see :data:`paramlab.training.ESTIMATORS`).
  fp32 training keeps fp32 weights (4 bytes) and gradients (4); mixed precision (fp16 or
  bf16) keeps half-precision weights (2) and gradients (2) plus an fp32 master copy (4).
  Optimizer state is fp32: SGD none, SGD with momentum one buffer (4), Adam/AdamW two
  moments (8). Adam is therefore 16 bytes per parameter in both precisions.
  Non-trainable parameters cost their weights only; buffers (BatchNorm statistics) stay fp32.
* Inference holds the weights only, at 4/2/1/0.5 bytes for fp32, fp16/bf16, int8 and int4
  (quantization scales and zero-points are not included).
* Activations per example are the sum of the layer outputs (the elements the backward pass
  needs at least), at 4 bytes in fp32 and 2 in mixed precision, times the batch size. The
  real peak is higher (saved inputs of activations, dropout masks, workspace): a lower bound.
* FLOPs: 2 per multiply-accumulate; the backward pass costs about twice the forward (one
  matmul for input gradients, one for weight gradients), so training ≈ 3 × forward.

The reports are frozen dataclasses (:class:`MemoryReport`, :class:`FlopsReport`) whose
``to_dict()`` is their ``--json`` form; :mod:`paramlab.render.blocks` draws them. This module
reads a count through the :class:`Counted` protocol and imports nothing from paramlab, so
:class:`~paramlab.summary.Summary` can carry its types without a cycle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

INFERENCE_BYTES = {"float32": 4.0, "float16/bfloat16": 2.0, "int8": 1.0, "int4": 0.5}
CACHE_BYTES = {"float32": 4.0, "float16/bfloat16": 2.0, "float8/int8": 1.0}
BACKWARD_FACTOR = 2  # backward ≈ 2 × forward FLOPs


class _Row(Protocol):
    """What the arithmetic reads of a row (a :class:`paramlab.summary.LayerRow`)."""

    name: str
    depth: int
    shared: bool
    macs: int
    output_shape: Any


class Counted(Protocol):
    """What the arithmetic reads of a count (a :class:`paramlab.summary.Summary`): named
    structurally, so this module sits below the summary that carries its reports."""

    @property
    def layers(self) -> Sequence[_Row]: ...
    @property
    def activation_elements(self) -> int | None: ...
    @property
    def language_model(self) -> LanguageModel | None: ...
    @property
    def memory_sections(self) -> Sequence[MemorySection]: ...
    @property
    def total(self) -> int: ...
    @property
    def trainable(self) -> int: ...
    @property
    def non_trainable(self) -> int: ...
    @property
    def buffers(self) -> int: ...
    @property
    def macs(self) -> int: ...


@dataclass(frozen=True)
class Recipe:
    """Bytes per trainable parameter for one precision and optimizer."""

    precision: str
    optimizer: str
    weight_bytes: int
    gradient_bytes: int
    optimizer_bytes: int  # includes the fp32 master weights in mixed precision
    activation_bytes: int

    @property
    def per_param(self) -> int:
        return self.weight_bytes + self.gradient_bytes + self.optimizer_bytes


RECIPES = [
    Recipe("fp32", "SGD", 4, 4, 0, 4),
    Recipe("fp32", "SGD + momentum", 4, 4, 4, 4),
    Recipe("fp32", "Adam/AdamW", 4, 4, 8, 4),
    Recipe("mixed fp16/bf16", "SGD", 2, 2, 4, 2),
    Recipe("mixed fp16/bf16", "SGD + momentum", 2, 2, 8, 2),
    Recipe("mixed fp16/bf16", "Adam/AdamW", 2, 2, 12, 2),
]

MEMORY_ASSUMPTIONS = (
    "Training bytes per trainable parameter as in the ZeRO paper (Rajbhandari et al. 2020): "
    "fp32 = 4 weights + 4 gradients + optimizer state; mixed precision = 2 weights + "
    "2 gradients + 4 fp32 master weights + optimizer state. Optimizer state is fp32: SGD 0, "
    "momentum 4, Adam/AdamW 8 (two moments), so Adam costs 16 bytes/parameter either way.",
    "Non-trainable parameters: weights only; buffers stay fp32.",
    "Inference: weights only; quantization scales and zero-points not included.",
    "Activations: the sum of layer outputs per example × batch size, a lower bound on the "
    "peak (saved inputs, dropout masks and workspace are not counted).",
)


def _per_dtype(count: int, sizes: dict[str, float]) -> dict[str, float]:
    return {name: count * size for name, size in sizes.items()}


@dataclass(frozen=True)
class TrainingRow:
    """Bytes to train under one :class:`Recipe` (activations None when shapes are unknown)."""

    precision: str
    optimizer: str
    bytes_per_trainable_param: int
    weights: int
    gradients: int
    optimizer_state: int
    activations: int | None
    total: int

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class MemorySection:
    """A table an adapter knows for its model, drawn after the memory report by every
    renderer: the extension point for model-specific memory."""

    title: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str | int, ...], ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": list(self.columns),
                "rows": [list(row) for row in self.rows], "notes": list(self.notes)}


@dataclass(frozen=True)
class KVCacheReport:
    """A language model's KV cache per token and, with a context length, for a batch.
    The ``expanded_*`` fields: keys and values repeated to every query head, as some
    transformers releases stored them (None where the cache is never expanded)."""

    layers: int
    cache_convention: str
    kv_cache_elements_per_token: int
    sliding_layers: int
    context: int | None
    batch_size: int
    activation_elements_per_token: int | None
    expanded_cache_elements_per_token: int | None = None
    expanded_cache_stored_by: str = ""
    kv_cache_elements: int | None = None  # at context × batch
    expanded_cache_elements: int | None = None

    @property
    def kv_cache_bytes_per_token(self) -> dict[str, float]:
        return _per_dtype(self.kv_cache_elements_per_token, CACHE_BYTES)

    @property
    def kv_cache_bytes(self) -> dict[str, float] | None:
        if self.kv_cache_elements is None:
            return None
        return _per_dtype(self.kv_cache_elements, CACHE_BYTES)

    @property
    def expanded_cache_bytes(self) -> dict[str, float] | None:
        if self.expanded_cache_elements is None:
            return None
        return _per_dtype(self.expanded_cache_elements, CACHE_BYTES)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``--memory``'s ``language_model``: optional keys only when known."""
        data: dict[str, Any] = {
            "layers": self.layers,
            "cache_convention": self.cache_convention,
            "kv_cache_elements_per_token": self.kv_cache_elements_per_token,
            "kv_cache_bytes_per_token": self.kv_cache_bytes_per_token,
            "sliding_layers": self.sliding_layers,
            "context": self.context,
            "batch_size": self.batch_size,
            "activation_elements_per_token": self.activation_elements_per_token,
        }
        if self.expanded_cache_elements_per_token is not None:
            data["expanded_cache_elements_per_token"] = self.expanded_cache_elements_per_token
            data["expanded_cache_stored_by"] = self.expanded_cache_stored_by
        if self.kv_cache_bytes is not None:
            data["kv_cache_bytes"] = self.kv_cache_bytes
            if self.expanded_cache_bytes is not None:
                data["expanded_cache_bytes"] = self.expanded_cache_bytes
        return data


@dataclass(frozen=True)
class LanguageModel:
    """Per-layer cache widths and activation values per token of a decoder, as an adapter
    reads them (see :mod:`paramlab.adapters.hf.memory` for how Hugging Face configs are)."""

    cache: tuple[int, ...]  # key + value elements per token, one entry per attention layer
    windows: tuple[int | None, ...]  # tokens a layer keeps (None: the whole context)
    convention: str  # how the cache was sized, one sentence
    expanded: tuple[int, ...] | None = None  # keys/values repeated to every query head
    expanded_by: str = ""  # who stored the expanded form: "transformers 5.0–5.14"
    activations_per_token: int | None = None
    # Attention at a context length (paramlab.activations): MACs per attended (query, key)
    # pair per layer, heads × (d_qk + d_v); a layer's hidden size and heads, for Korthikanti
    # et al.'s activation model. Empty/0 where the family does not declare them.
    attention_widths: tuple[int, ...] = ()
    hidden: int = 0
    heads: int = 0

    def cache_elements(self, context: int | None, expanded: bool = False) -> int:
        """Elements cached for one sequence: per token (``context`` None) or at ``context``."""
        widths = self.expanded if expanded and self.expanded is not None else self.cache
        if context is None:
            return sum(widths)
        return sum(width * (context if window is None else min(context, window))
                   for width, window in zip(widths, self.windows, strict=True))

    def report(self, context: int | None, batch: int) -> KVCacheReport:
        expanded = self.expanded is not None
        at_context = context is not None
        return KVCacheReport(
            layers=len(self.cache), cache_convention=self.convention,
            kv_cache_elements_per_token=self.cache_elements(None),
            sliding_layers=sum(window is not None for window in self.windows),
            context=context, batch_size=batch,
            activation_elements_per_token=self.activations_per_token,
            expanded_cache_elements_per_token=(
                self.cache_elements(None, expanded=True) if expanded else None),
            expanded_cache_stored_by=self.expanded_by if expanded else "",
            kv_cache_elements=self.cache_elements(context) * batch if at_context else None,
            expanded_cache_elements=(self.cache_elements(context, expanded=True) * batch
                                     if at_context and expanded else None),
        )


@dataclass(frozen=True)
class MemoryReport:
    """``--memory``: bytes for inference and for training under every recipe, with the
    assumptions. New optional parts are new fields with a default (None or empty), drawn by
    :mod:`paramlab.render.blocks` and written by :meth:`to_dict` only when present."""

    params: int
    trainable: int
    non_trainable: int
    buffers: int
    batch_size: int
    activation_elements_per_example: int | None
    training: tuple[TrainingRow, ...]
    assumptions: tuple[str, ...] = MEMORY_ASSUMPTIONS
    sections: tuple[MemorySection, ...] = ()
    language_model: KVCacheReport | None = None

    @property
    def inference(self) -> dict[str, float]:
        """Weights only, per storage type: parameters and buffers."""
        return _per_dtype(self.params + self.buffers, INFERENCE_BYTES)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "params": self.params,
            "trainable": self.trainable,
            "non_trainable": self.non_trainable,
            "buffers": self.buffers,
            "batch_size": self.batch_size,
            "activation_elements_per_example": self.activation_elements_per_example,
            "inference": self.inference,
            "training": [row.to_dict() for row in self.training],
            "assumptions": list(self.assumptions),
            "sections": [section.to_dict() for section in self.sections],
        }
        if self.language_model is not None:
            data["language_model"] = self.language_model.to_dict()
        return data


@dataclass(frozen=True)
class LayerFlops:
    """One row of the FLOPs table: a layer that multiplies."""

    name: str
    macs: int

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def training_flops(self) -> int:
        return self.flops * (1 + BACKWARD_FACTOR)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "macs": self.macs, "flops": self.flops,
                "training_flops": self.training_flops}


FLOPS_ASSUMPTIONS = (
    "FLOPs = 2 × MACs; element-wise ops, norms, pooling and activations count 0.",
    "Forward + backward ≈ 3 × forward: the backward pass does about twice the forward's "
    "work (gradients for the inputs and for the weights).",
)


@dataclass(frozen=True)
class FlopsReport:
    """``--flops``: MACs and FLOPs per example and per batch, by layer and in total."""

    macs_per_example: int
    batch_size: int
    layers: tuple[LayerFlops, ...] = ()
    assumptions: tuple[str, ...] = FLOPS_ASSUMPTIONS

    @property
    def known(self) -> bool:
        return self.macs_per_example > 0

    @property
    def forward_flops_per_example(self) -> int:
        return 2 * self.macs_per_example

    @property
    def training_flops_per_example(self) -> int:
        return self.forward_flops_per_example * (1 + BACKWARD_FACTOR)

    def to_dict(self) -> dict[str, Any]:
        forward, training = self.forward_flops_per_example, self.training_flops_per_example
        return {
            "known": self.known,
            "macs_per_example": self.macs_per_example,
            "forward_flops_per_example": forward,
            "training_flops_per_example": training,
            "batch_size": self.batch_size,
            "forward_flops_per_batch": forward * self.batch_size,
            "training_flops_per_batch": training * self.batch_size,
            "layers": [row.to_dict() for row in self.layers],
            "assumptions": list(self.assumptions),
        }


def activation_elements(summary: Counted) -> int | None:
    """Elements per example in the layer outputs, or None when shapes are unknown.

    An adapter that traced a forward pass says so itself; otherwise the rows of the
    displayed tree that have no child rows are summed (a container's output is its last
    child's, so counting both would count it twice)."""
    if summary.activation_elements is not None:
        return summary.activation_elements
    rows = summary.layers
    total = 0
    for index, row in enumerate(rows):
        has_children = index + 1 < len(rows) and rows[index + 1].depth > row.depth
        if has_children or row.shared:
            continue
        size = _shape_size(row.output_shape)
        if size is None:
            return None
        total += size
    return total


def _shape_size(shape: Any) -> int | None:
    if not shape:
        return None
    if isinstance(shape[0], tuple):
        sizes = [_shape_size(s) for s in shape]
        return None if None in sizes else sum(sizes)  # type: ignore[arg-type]
    if any(d is None for d in shape):
        return None
    return math.prod(shape)


def memory_report(summary: Counted, batch_size: int = 1,
                  context: int | None = None) -> MemoryReport:
    """Bytes for inference and for training under every recipe, with the assumptions;
    for language models (``summary.language_model``) also the KV cache at ``context``."""
    trainable, frozen, buffers = summary.trainable, summary.non_trainable, summary.buffers
    acts = activation_elements(summary)
    lm = summary.language_model
    if acts is None and lm is not None and lm.activations_per_token and context:
        acts = lm.activations_per_token * context  # an example is a sequence of N tokens
    return MemoryReport(
        params=summary.total, trainable=trainable, non_trainable=frozen, buffers=buffers,
        batch_size=batch_size, activation_elements_per_example=acts,
        training=tuple(_training(recipe, trainable, frozen, buffers, acts, batch_size)
                       for recipe in RECIPES),
        sections=tuple(summary.memory_sections),
        language_model=lm.report(context, batch_size) if lm is not None else None,
    )


def _training(recipe: Recipe, trainable: int, frozen: int, buffers: int, acts: int | None,
              batch_size: int) -> TrainingRow:
    weights = (trainable + frozen) * recipe.weight_bytes + buffers * 4
    gradients = trainable * recipe.gradient_bytes
    optimizer_state = trainable * recipe.optimizer_bytes
    activations = acts * recipe.activation_bytes * batch_size if acts is not None else None
    return TrainingRow(recipe.precision, recipe.optimizer, recipe.per_param, weights,
                       gradients, optimizer_state, activations,
                       weights + gradients + optimizer_state + (activations or 0))


def flops_report(summary: Counted, batch_size: int = 1) -> FlopsReport:
    """MACs and FLOPs per example and per batch, by layer and in total."""
    return FlopsReport(summary.macs, batch_size,
                       tuple(LayerFlops(row.name, row.macs) for row in summary.layers
                             if row.macs))
