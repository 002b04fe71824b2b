"""The per-tensor types llama.cpp's quantizer picks for a file type (``llama-quantize``).

A GGUF "Q4_K_M" file is not 4.5 bits everywhere: ``llama_tensor_get_type_impl`` in
``src/llama-quant.cpp`` (llama.cpp commit 007dbbf3fd17, read for this module) keeps the
output projection at Q6_K, gives some ``attn_v`` and ``ffn_down`` layers more bits
(``use_more_bits``: the first and last eighth of the layers and every third layer in
between), bumps ``attn_v`` of a 70B-class model, and falls back to another type where a
row is not a multiple of the block. Norms and biases (1-D) stay F32; ``ffn_gate_inp`` (the
MoE router) is never quantized. The rules below follow that function branch by branch for
the file types listed in :data:`FTYPES`, without an importance matrix (``--imatrix``
changes only IQ and Q4_0/Q5_0 choices, and the IQ1–IQ3 types require one, so they are
refused rather than guessed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from paramlab.errors import ConfigError
from paramlab.quant.ggml import GGML_TYPES

# llama-quantize's file types (``llama_ftype_get_default_type``) → the default tensor type.
FTYPES: dict[str, str] = {
    "F32": "F32", "F16": "F16", "BF16": "BF16",
    "Q4_0": "Q4_0", "Q4_1": "Q4_1", "Q5_0": "Q5_0", "Q5_1": "Q5_1", "Q8_0": "Q8_0",
    "Q2_K": "Q2_K", "Q2_K_S": "Q2_K", "Q3_K_S": "Q3_K", "Q3_K_M": "Q3_K", "Q3_K_L": "Q3_K",
    "Q4_K_S": "Q4_K", "Q4_K_M": "Q4_K", "Q5_K_S": "Q5_K", "Q5_K_M": "Q5_K", "Q6_K": "Q6_K",
    "IQ4_NL": "IQ4_NL", "IQ4_XS": "IQ4_XS", "MXFP4_MOE": "MXFP4",
}
NEEDS_IMATRIX = ("IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ3_XXS",
                 "IQ3_XS", "IQ3_S", "IQ3_M")
UNQUANTIZED = ("F32", "F16", "BF16")
# tensor_type_fallback: a row the target's blocks do not divide gets this type instead
# (and F16 when that one's blocks do not divide it either).
FALLBACK = {"Q2_K": "Q4_0", "Q3_K": "Q4_0", "TQ1_0": "Q4_0", "TQ2_0": "Q4_0",
            "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0", "IQ4_XS": "IQ4_NL"}


@dataclass(frozen=True)
class GGUFTensor:
    """A tensor as llama.cpp names it: ``blk.3.attn_v.weight``, with its ggml dims
    (``ne[0]`` is the row: a linear layer's input width)."""

    name: str
    ne: tuple[int, ...]

    @property
    def elements(self) -> int:
        total = 1
        for dim in self.ne:
            total *= dim
        return total

    @cached_property
    def layer(self) -> int | None:
        if not self.name.startswith("blk."):
            return None
        return int(self.name.split(".")[1])


@dataclass(frozen=True)
class Hparams:
    """What the rules read from the model: layers, query heads per KV head, experts, and
    whether llama.cpp sizes it ``LLM_TYPE_70B`` (Llama with 80 layers and grouped KV heads,
    Qwen2 with 80 layers: the ``case 80`` of their ``load_hparams``)."""

    n_layer: int
    n_gqa: int = 1
    n_expert: int = 0
    is_70b: bool = False


def _category(name: str) -> str:
    """``tensor_get_category``: substring tests, in llama.cpp's order."""
    if name == "output.weight":
        return "output"
    if name == "token_embd.weight":
        return "token_embd"
    for key in ("attn_qkv.weight", "attn_kv_b.weight", "attn_v.weight", "attn_k.weight",
                "attn_q.weight", "attn_output.weight", "ffn_up", "ffn_gate", "ffn_down"):
        if key in name:
            return key.removesuffix(".weight")
    return "other"


def _quantizable(t: GGUFTensor) -> bool:
    """``tensor_allows_quantization`` for the tensors our families produce."""
    return (len(t.ne) >= 2 and t.name.endswith("weight") and "_norm.weight" not in t.name
            and "ffn_gate_inp.weight" not in t.name)


def _more_bits(i: int, n: int) -> bool:
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


class _Rules:
    """``llama_tensor_get_type_impl`` with its counters (``quantize_state_impl``)."""

    def __init__(self, ftype: str, hp: Hparams, tensors: Sequence[GGUFTensor]) -> None:
        self.ftype, self.hp = ftype, hp
        cats = [_category(t.name) for t in tensors]
        self.n_wv = sum(c in ("attn_v", "attn_qkv", "attn_kv_b") for c in cats)
        self.tied = "output" not in cats
        self.i_wv = self.i_down = 0

    def pick(self, t: GGUFTensor, new: str) -> str:
        f, hp, cat = self.ftype, self.hp, _category(t.name)
        experts8 = hp.n_expert == 8
        if cat == "output" or (self.tied and cat == "token_embd"):
            if f == "MXFP4_MOE" or t.ne[0] % GGML_TYPES[new].block:
                return "Q8_0"
            return new if new == "Q8_0" else "Q6_K"
        if f == "MXFP4_MOE":
            return "MXFP4" if len(t.ne) > 2 and t.ne[2] > 1 else "Q8_0"
        if cat in ("attn_v", "attn_qkv", "attn_kv_b"):
            i, n = self.i_wv, self.n_wv
            self.i_wv += 1
            if f == "Q2_K":
                new = "Q4_K" if hp.n_gqa >= 4 else "Q3_K"
            elif f == "Q2_K_S" and hp.n_gqa >= 4:
                new = "Q4_K"
            elif f == "Q3_K_M":
                new = "Q5_K" if i < 2 else "Q4_K"
            elif f == "Q3_K_L" or (f in ("IQ4_NL", "IQ4_XS") and hp.n_gqa >= 4):
                new = "Q5_K"
            elif f in ("Q4_K_M", "Q5_K_M") and _more_bits(i, n):
                new = "Q6_K"
            elif f == "Q4_K_S" and i < 4:
                new = "Q5_K"
            if hp.is_70b and new in ("Q3_K", "Q4_K"):
                new = "Q5_K"
            return "Q8_0" if experts8 else new
        if cat == "attn_k":
            return "Q8_0" if experts8 else new
        if cat == "ffn_down":
            return self._ffn_down(t, new)
        if cat == "attn_output":
            if experts8:
                return "Q5_K" if f in ("Q2_K", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S",
                                       "Q4_K_M", "IQ4_XS") else new
            return {"Q2_K": "Q3_K", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K"}.get(f, new)
        return new  # ffn_gate/ffn_up/attn_q/token_embd: only the IQ types change them

    def _ffn_down(self, t: GGUFTensor, new: str) -> str:
        f = self.ftype
        # MoE: layer_info parses the layer from the name; dense: the running count
        i = t.layer if self.hp.n_expert > 1 and t.layer is not None else self.i_down
        n = self.hp.n_layer
        self.i_down += 1
        if f == "Q2_K":
            return "Q3_K"
        if f == "Q2_K_S":
            return "Q4_K" if i < n // 8 else new
        if f == "Q3_K_M":
            return "Q5_K" if i < n // 16 else "Q4_K"
        if f == "Q3_K_L":
            return "Q5_K"
        if f == "Q4_K_M":
            return "Q6_K" if _more_bits(i, n) else new
        if i < n // 8 and f in ("IQ4_NL", "IQ4_XS"):
            return "Q5_K"
        if f == "Q5_K_M" and _more_bits(i, n):
            return "Q6_K"
        if f == "Q4_K_S" and i < n // 8:
            return "Q5_K"
        return new


def _fallback(t: GGUFTensor, new: str) -> str:
    """``tensor_type_fallback``: a type whose blocks divide the row."""
    if t.ne[0] % GGML_TYPES[new].block == 0:
        return new
    if new not in FALLBACK:
        raise ConfigError(f"{t.name}: a row of {t.ne[0]} weights is not a multiple of "
                          f"{new}'s block of {GGML_TYPES[new].block}, and llama.cpp defines "
                          "no fallback for it")
    second = FALLBACK[new]
    return second if t.ne[0] % GGML_TYPES[second].block == 0 else "F16"


def tensor_types(ftype: str, hp: Hparams, tensors: Sequence[GGUFTensor]) -> list[str]:
    """The ggml type of each tensor after ``llama-quantize … FTYPE``, in the order given
    (llama.cpp walks tensors by layer, then by name: pass them so)."""
    ftype = ftype.upper()
    if ftype in NEEDS_IMATRIX:
        raise ConfigError(f"{ftype} needs an importance matrix, whose choices paramlab does "
                          f"not model; supported GGUF types: {', '.join(FTYPES)}")
    if ftype not in FTYPES:
        raise ConfigError(f"unknown GGUF file type {ftype!r}; supported: {', '.join(FTYPES)}")
    default = FTYPES[ftype]
    rules = _Rules(ftype, hp, tensors)
    out = []
    for t in tensors:
        if not _quantizable(t):
            out.append("F32")
        elif default in UNQUANTIZED:
            out.append(default)
        else:
            out.append(_fallback(t, rules.pick(t, default)))
    return out
