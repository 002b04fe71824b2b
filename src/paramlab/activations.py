"""Activations and attention at a context length: training activation bytes per transformer
layer and the attention-score FLOPs that per-token MAC counts leave out.

**Activations** follow Korthikanti et al., "Reducing Activation Recomputation in Large
Transformer Models" (arXiv 2205.05198, §4, Table 2). For sequence length s, micro-batch b,
hidden size h and a attention heads, one GPT-3-style layer (LayerNorm, 4h GeLU MLP, dropout)
stores, in 16-bit with 1-byte dropout masks,

* no recomputation: sbh(34 + 5as/h) bytes: 11sbh + 5as²b in attention (the 5as²b is the
  softmax, its dropout mask and output), 19sbh in the MLP, 4sbh in the two LayerNorms;
* with tensor parallelism t: sbh(10 + 24/t + 5as/(ht)); with sequence parallelism too:
  sbh(34 + 5as/h)/t;
* selective recomputation (recompute the attention core): the 5as/h term goes: 34sbh
  (sbh(10 + 24/t) with tensor parallelism, 34sbh/t with sequence parallelism);
* full recomputation (checkpoint every layer): 2sbh, the layer's input only;
* flash attention never stores the s² scores either: 34sbh plus its fp32 log-sum-exp,
  4asb (Dao et al., arXiv 2205.14135, §3.1).

The model is the paper's GPT-3 layer: a SwiGLU MLP or a model without dropout stores
different amounts, so the number is labelled an estimate wherever it is shown.

**Attention FLOPs.** Per layer and forward pass, QKᵀ and the weighted sum of V cost one MAC
per (query, key) pair per head and per head dimension: pairs × heads × (d_qk + d_v) MACs.
Without a mask there are s² pairs per sequence (the standard 4s²h FLOPs per layer when
d_qk = d_v = h/heads); a causal mask keeps s(s + 1)/2, and a sliding window of W keys keeps
Σ min(i + 1, W). Kernels that skip masked blocks (flash attention, SDPA with is_causal)
do about the causal count; an eager kernel computes all s² and masks afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paramlab.errors import ParamlabError

if TYPE_CHECKING:
    from paramlab.memory import LanguageModel

CHECKPOINTING = ("none", "selective", "full")


@dataclass(frozen=True)
class LayerActivations:
    """Bytes one transformer layer keeps for the backward pass, with the formula used."""

    bytes: int
    formula: str


def layer_activation_bytes(s: int, b: int, h: int, a: int, *, checkpointing: str = "none",
                           flash: bool = False, tensor_parallel: int = 1,
                           sequence_parallel: bool = False) -> LayerActivations:
    """Korthikanti et al.'s bytes per layer per GPU (see the module docstring)."""
    if checkpointing not in CHECKPOINTING:
        raise ParamlabError(f"checkpointing must be one of {', '.join(CHECKPOINTING)}. "
                            f"Received: checkpointing={checkpointing!r}")
    t = tensor_parallel
    sbh = s * b * h
    if checkpointing == "full":
        return LayerActivations(2 * sbh, f"2sbh = 2 × {s:,} × {b:,} × {h:,}")
    scores = 5 * a * s * s * b  # 5as²b: softmax output, dropout mask, dropout output
    if checkpointing == "selective" or flash:
        scores = 0
    stats = 4 * a * s * b if flash and checkpointing == "none" else 0
    if sequence_parallel:
        total = -(-(34 * sbh + scores) // t)
        text = "sbh(34 + 5as/h)/t" if scores else "34sbh/t"
    elif t > 1:
        total = 10 * sbh + -(-(24 * sbh + scores) // t)
        text = "sbh(10 + 24/t + 5as/(ht))" if scores else "sbh(10 + 24/t)"
    else:
        total = 34 * sbh + scores
        text = "sbh(34 + 5as/h)" if scores else "34sbh"
    if stats:
        total += stats
        text += " + 4asb (flash attention's fp32 log-sum-exp)"
    where = f"s = {s:,}, b = {b:,}, h = {h:,}, a = {a:,}" + (f", t = {t}" if t > 1 else "")
    return LayerActivations(total, f"{text}, {where}")


def attended_pairs(context: int, window: int | None = None, causal: bool = True) -> int:
    """(query, key) pairs one sequence of ``context`` tokens computes in one layer.

    ``window``: keys a query sees, itself included (transformers' sliding-window mask keeps
    key j for query i when i − j < sliding_window)."""
    if not causal:
        return context * context
    if window is None or window >= context:
        return context * (context + 1) // 2
    return window * (window + 1) // 2 + (context - window) * window


@dataclass(frozen=True)
class AttentionFlops:
    """Score and value MACs of every attention layer at a context length, per sequence."""

    context: int
    causal_macs: int  # the pairs a causal (and sliding-window) mask keeps
    dense_macs: int  # all s² pairs: what an eager kernel computes before masking

    @property
    def causal_flops(self) -> int:
        return 2 * self.causal_macs

    @property
    def dense_flops(self) -> int:
        return 2 * self.dense_macs

    def to_dict(self) -> dict[str, int]:
        return {"context": self.context, "causal_macs": self.causal_macs,
                "causal_flops": self.causal_flops, "dense_macs": self.dense_macs,
                "dense_flops": self.dense_flops}


def attention_flops(context: int, widths: Sequence[int],
                    windows: Sequence[int | None]) -> AttentionFlops:
    """``widths``: MACs per attended pair in each layer, heads × (d_qk + d_v); ``windows``:
    the keys each layer's sliding window shows a query (None: the whole context)."""
    causal = sum(width * attended_pairs(context, window)
                 for width, window in zip(widths, windows, strict=True))
    dense = sum(widths) * context * context
    return AttentionFlops(context, causal, dense)


@dataclass(frozen=True)
class ModelActivations:
    """Activation bytes per GPU for ``layers`` identical transformer layers."""

    layers: int
    per_layer: LayerActivations
    checkpointing: str
    flash: bool

    @property
    def bytes(self) -> int:
        return self.layers * self.per_layer.bytes


def model_activations(layers: int, s: int, b: int, h: int, a: int, checkpointing: str = "none",
                      flash: bool = False) -> ModelActivations:
    """Korthikanti et al.'s per-layer bytes times the layers (embeddings, the final norm and
    the output logits are not included: the paper's model is per layer)."""
    per_layer = layer_activation_bytes(s, b, h, a, checkpointing=checkpointing, flash=flash)
    return ModelActivations(layers, per_layer, checkpointing, flash)


def language_model_attention(lm: LanguageModel, context: int) -> AttentionFlops | None:
    """A decoder's attention at ``context`` tokens, or None when its family does not declare
    the attention widths. A sliding layer's cache keeps window − 1 tokens
    (``lm.windows``), so a query sees ``window`` keys."""
    if len(lm.attention_widths) != len(lm.cache):
        return None
    keys = [None if kept is None else kept + 1 for kept in lm.windows]
    return attention_flops(context, lm.attention_widths, keys)
