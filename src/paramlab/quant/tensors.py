"""The tensors of a Hugging Face config, with the roles llama.cpp gives them.

Quantized sizes depend on each tensor's shape and role (an output projection is kept at more
bits, a norm is never quantized), so a parameter total is not enough: this module takes the
family's tensors (listed by :mod:`paramlab.adapters.hf.quant_tensors` from the blocks the count
uses) and names every tensor as ``convert_hf_to_gguf.py`` would (gguf-py's
``tensor_mapping.py``: ``model.layers.3.self_attn.v_proj`` → ``blk.3.attn_v``). A 2-D weight
whose role is not in :data:`ROLES` is refused rather than guessed, so only the families in
:data:`GGUF_FAMILIES` get GGUF mixtures; the Hugging Face formats (bitsandbytes, GPTQ, AWQ,
FP8) need only to know which tensors are linear layers inside the blocks, and work for every
decoder family.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from paramlab.errors import ConfigError
from paramlab.quant.llama_quant import GGUFTensor, Hparams

# HF weight name (the last two components) → llama.cpp role; "+" splits a fused tensor
# into equal halves along its output dimension, as the converter does for Mixtral's experts.
ROLES = {
    "embed_tokens.weight": "token_embd", "lm_head.weight": "output",
    "q_proj.weight": "attn_q", "k_proj.weight": "attn_k", "v_proj.weight": "attn_v",
    "o_proj.weight": "attn_output", "qkv_proj.weight": "attn_qkv",
    "gate_proj.weight": "ffn_gate", "up_proj.weight": "ffn_up",
    "down_proj.weight": "ffn_down", "gate_up_proj.weight": "ffn_up",  # Phi-3 keeps it fused
    "gate.weight": "ffn_gate_inp",
    "experts.gate_up_proj": "ffn_gate_exps+ffn_up_exps", "experts.down_proj": "ffn_down_exps",
}
# Families whose llama.cpp architecture uses exactly these roles (and which of them
# llama.cpp sizes LLM_TYPE_70B at 80 layers: Llama and Mistral convert to the llama arch).
GGUF_FAMILIES = ("llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3_moe", "gemma",
                 "gemma2", "gemma3_text", "phi3", "olmo2")
SEVENTY_B_AT_80 = {"llama": True, "mistral": True, "qwen2": True}


@dataclass(frozen=True)
class Tensor:
    """One stored tensor: its Hugging Face name and shape (PyTorch order: out, in), and
    whether it is a linear weight inside the repeated blocks (what HF quantizers replace)."""

    name: str
    shape: tuple[int, ...]
    in_block: bool

    @property
    def elements(self) -> int:
        total = 1
        for dim in self.shape:
            total *= dim
        return total


@lru_cache(maxsize=8)  # --fit sizes one model at several types
def gguf_tensors(model_type: str, tensors: tuple[Tensor, ...]
                 ) -> tuple[list[GGUFTensor], Hparams]:
    """The tensors as a GGUF file of this model holds them, sorted as llama.cpp walks them
    (by layer, then by name), and the hyper-parameters its rules read."""
    if model_type not in GGUF_FAMILIES:
        raise ConfigError(f"GGUF mixtures are modelled for {', '.join(GGUF_FAMILIES)}; "
                          f"{model_type!r} is not one of them (its llama.cpp tensor roles "
                          "are not mapped). Per-type sizes such as --quant Q8_0 need them too")
    out: list[GGUFTensor] = []
    for t in tensors:
        out += _to_gguf(t)
    out.sort(key=lambda g: (-1 if g.layer is None else g.layer, g.name))
    return out, _hparams(model_type, out)


def _to_gguf(t: Tensor) -> list[GGUFTensor]:
    parts = t.name.split(".")
    layer = next((int(p) for p in parts if p.isdigit()), None)
    prefix = "" if layer is None else f"blk.{layer}."
    ne = tuple(reversed(t.shape))  # ggml lists dims innermost first
    if len(t.shape) < 2:  # norms and biases: 1-D, kept F32 whatever their name
        return [GGUFTensor(f"{prefix}{t.name}", ne)]
    role = ROLES.get(".".join(parts[-2:]))
    if role is None:
        raise ConfigError(f"{t.name}: shape {t.shape} has no llama.cpp role paramlab knows; "
                          "its GGUF type cannot be chosen")
    if "+" in role:
        half = (ne[0], ne[1] // 2, *ne[2:])
        return [GGUFTensor(f"{prefix}{r}.weight", half) for r in role.split("+")]
    return [GGUFTensor(f"{prefix}{role}.weight", ne)]


def _hparams(model_type: str, tensors: list[GGUFTensor]) -> Hparams:
    layers = {t.layer for t in tensors if t.layer is not None}
    by_role: dict[str, Any] = {t.name.split(".")[-2]: t for t in tensors if t.layer == 0}
    gqa = 1
    if "attn_q" in by_role and "attn_k" in by_role:
        gqa = by_role["attn_q"].ne[1] // by_role["attn_k"].ne[1]  # same head_dim for both
    experts = max((t.ne[2] for t in tensors if len(t.ne) > 2), default=0)
    n_layer = len(layers)
    return Hparams(n_layer, gqa, experts,
                   SEVENTY_B_AT_80.get(model_type, False) and n_layer == 80
                   and (gqa > 1 or model_type == "qwen2"))
