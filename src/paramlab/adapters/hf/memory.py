"""Memory a language model needs beyond its weights: the KV cache and training activations.

Attached to the summary as data (``Summary.language_model``) and drawn with ``--memory``:

* **KV cache.** Each attention layer keeps a key and a value vector per token:
  ``2 × kv_heads × head_dim`` elements, so grouped-query attention shrinks it by
  ``heads / kv_heads``. At context N and batch B the cache holds
  ``B × Σ_layers min(N, window) × elements × bytes``; a layer with a sliding window keeps
  only its last ``window`` tokens, as transformers' ``DynamicCache`` does for the layers that
  ``layer_types`` (or ``sliding_window``) declares sliding. DeepSeek's multi-head latent
  attention can cache the compressed latent instead, ``kv_lora_rank + qk_rope_head_dim``
  elements per layer (the DeepSeek-V2 paper's figure, what its inference engines keep);
  transformers' own cache stores the expanded keys and values
  (``heads × (qk_nope + qk_rope) + heads × v_head_dim``): both are given, the latent first.
* **Activations.** The sum of the layer outputs per token (the values the backward pass
  needs at least), times context and batch: a lower bound, as in :mod:`paramlab.memory`
  (attention scores, saved inputs of activations and dropout masks are not included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paramlab.adapters.hf.blocks import Model, Part
from paramlab.adapters.hf.config import HFConfig

CACHE_BYTES = {"float32": 4.0, "float16/bfloat16": 2.0, "float8/int8": 1.0}
ACTIVATION_BYTES = {"float32": 4.0, "float16/bfloat16": 2.0}


@dataclass(frozen=True)
class LanguageModel:
    """Per-layer cache widths and activation values per token, from the config alone."""

    cache: tuple[int, ...]  # key + value elements per token, one entry per attention layer
    windows: tuple[int | None, ...]  # tokens a layer keeps (None: the whole context)
    convention: str  # how the cache was sized, one sentence
    expanded: tuple[int, ...] | None = None  # MLA: what transformers' DynamicCache stores
    activations_per_token: int | None = None

    def cache_elements(self, context: int | None, expanded: bool = False) -> int:
        """Elements cached for one sequence: per token (``context`` None) or at ``context``."""
        widths = self.expanded if expanded and self.expanded is not None else self.cache
        if context is None:
            return sum(widths)
        return sum(width * (context if window is None else min(context, window))
                   for width, window in zip(widths, self.windows, strict=True))

    def report(self, context: int | None, batch: int) -> dict[str, Any]:
        per_token = self.cache_elements(None)
        data: dict[str, Any] = {
            "layers": len(self.cache),
            "cache_convention": self.convention,
            "kv_cache_elements_per_token": per_token,
            "kv_cache_bytes_per_token": {k: per_token * v for k, v in CACHE_BYTES.items()},
            "sliding_layers": sum(window is not None for window in self.windows),
            "context": context,
            "batch_size": batch,
            "activation_elements_per_token": self.activations_per_token,
        }
        if self.expanded is not None:
            full = self.cache_elements(None, expanded=True)
            data["expanded_cache_elements_per_token"] = full
        if context is not None:
            elements = self.cache_elements(context) * batch
            data["kv_cache_bytes"] = {k: elements * v for k, v in CACHE_BYTES.items()}
            if self.expanded is not None:
                full = self.cache_elements(context, expanded=True) * batch
                data["expanded_cache_bytes"] = {k: full * v for k, v in CACHE_BYTES.items()}
            if self.activations_per_token is not None:
                acts = self.activations_per_token * context * batch
                data["training_activation_bytes"] = {
                    k: acts * v for k, v in ACTIVATION_BYTES.items()}
        return data


def language_model_shapes(model: Model, c: HFConfig) -> LanguageModel | None:
    """The cache layout of a decoder, or None for models without a KV cache (encoders)."""
    if not model.cache:
        return None
    layers = len(model.cache)
    windows = _windows(c, layers)
    if model.expanded_cache:
        convention = ("multi-head latent attention: the compressed latent "
                      "(kv_lora_rank + qk_rope_head_dim per layer) is cached; transformers' "
                      "DynamicCache stores the expanded keys and values")
    else:
        convention = "2 × key/value heads × head_dim per layer (keys and values)"
    return LanguageModel(tuple(model.cache), windows, convention,
                         tuple(model.expanded_cache) if model.expanded_cache else None,
                         _activations(model))


def _windows(c: HFConfig, layers: int) -> tuple[int | None, ...]:
    """Which layers keep only a sliding window: ``layer_types`` when the config lists them
    (configs written by transformers do), else every layer when ``sliding_window`` is set and
    not switched off by ``use_sliding_window``."""
    window = c.data.get("sliding_window")
    if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
        return (None,) * layers
    types = c.data.get("layer_types")
    if isinstance(types, list) and len(types) == layers:
        return tuple(window if t == "sliding_attention" else None for t in types)
    if c.data.get("use_sliding_window") is False:
        return (None,) * layers
    return (window,) * layers


def _activations(model: Model) -> int | None:
    """Sum of the output widths per token over every part (stacks times their layers)."""
    total = 0
    for section in model.sections:
        parts: tuple[Part, ...] = (section,) if isinstance(section, Part) else section.parts
        repeat = 1 if isinstance(section, Part) else section.count
        for part in parts:
            if len(part.out) != 2 or not isinstance(part.out[-1], int):
                return None
            total += part.out[-1] * repeat
    return total
