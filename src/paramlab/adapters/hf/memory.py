"""Memory a language model needs beyond its weights: the KV cache and training activations.

Attached to the summary as a :class:`paramlab.memory.LanguageModel` (``Summary.language_model``)
and drawn with ``--memory``:

* **KV cache.** Each attention layer keeps a key and a value vector per token:
  ``2 × kv_heads × head_dim`` elements, so grouped-query attention shrinks it by
  ``heads / kv_heads``. At context N and batch B the cache holds
  ``B × Σ_layers min(N, kept) × elements × bytes``; a sliding-window layer keeps only its
  last ``sliding_window − 1`` tokens, as transformers' ``DynamicCache`` does for the layers
  that ``layer_types`` (or the family's rule) declares sliding.
* **Latent attention.** DeepSeek's multi-head latent attention caches the compressed latent,
  ``kv_lora_rank + qk_rope_head_dim`` elements per layer (the DeepSeek-V2 paper's figure, what
  its inference engines keep, and what transformers caches since 5.15): the number given
  first. Earlier transformers releases stored the keys and values expanded to every head,
  ``heads × (qk_nope + qk_rope + v_head_dim)`` per layer: given beside it as "expanded",
  with the releases that stored it (:data:`EXPANDED_IN`).
* **Activations.** The sum of the layer outputs per token (the values the backward pass
  needs at least); with ``--context N`` an example is a sequence of N tokens, so
  :mod:`paramlab.memory`'s training table gets N × this per example: a lower bound
  (attention scores, saved inputs of activations and dropout masks are not included).
"""

from __future__ import annotations

from paramlab.adapters.hf.blocks import Model, Part
from paramlab.memory import LanguageModel

# The transformers releases whose cache held the keys and values expanded to every query head
# where the model needs fewer, measured with a forward pass on CPU (tests/test_hf_memory.py
# checks the installed release against this table). Checked on 5.0.0, 5.12.0, 5.13.0–5.18.0,
# 5.24.0 and 5.25.0: latent attention is cached as the latent from 5.15.0 on, Falcon's
# grouped heads without repetition from 5.25.0 on.
EXPANDED_IN: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "latent": ((5, 0), (5, 14)),
    "falcon": ((5, 0), (5, 24)),
}


def expanded_releases(layout: str) -> str:
    """``transformers 5.0–5.14``: the releases that cached ``layout`` expanded."""
    (a, b), (c, d) = EXPANDED_IN[layout]
    return f"transformers {a}.{b}–{c}.{d}"


def expanded_note(layout: str) -> str:
    """One sentence naming who caches what, with the releases."""
    (_, _), (c, d) = EXPANDED_IN[layout]
    return (f"transformers {c}.{d + 1} and later cache exactly this; "
            f"{expanded_releases(layout)} stored the keys and values expanded to every "
            f"query head")


def language_model_shapes(model: Model) -> LanguageModel | None:
    """The cache layout of a decoder, or None for models without a KV cache (encoders)."""
    if not model.cache:
        return None
    windows = tuple(model.windows) if model.windows else (None,) * len(model.cache)
    convention = model.cache_note or "2 × key/value heads × head_dim per layer"
    return LanguageModel(tuple(model.cache), windows, convention,
                         tuple(model.expanded_cache) if model.expanded_cache else None,
                         expanded_releases(model.expanded_layout) if model.expanded_cache
                         else "", _activations(model), tuple(model.attention_widths),
                         model.hidden, model.heads)


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
