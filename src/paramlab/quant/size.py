"""``--quant TYPE``: the bytes a model takes at the real bits per weight of a format.

One entry point, :func:`quantized_size`, for both worlds: a GGUF file type (``Q4_K_M``) goes
through llama.cpp's per-tensor rules (:mod:`.llama_quant`), a Hugging Face format (``nf4``,
``gptq-4bit-g128``) through its stored layout (:mod:`.formats`), where only the linear
layers inside the repeated blocks are quantized and every other tensor (embeddings, the
output head, norms, biases, MoE routers) stays at the checkpoint's dtype, as transformers
and the quantizers leave them. ``bits_per_weight`` is ``8 × bytes / parameters``, the
figure llama.cpp prints as BPW.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from paramlab.errors import ConfigError
from paramlab.quant.formats import hf_format
from paramlab.quant.ggml import GGML_TYPES
from paramlab.quant.llama_quant import FTYPES, NEEDS_IMATRIX, tensor_types
from paramlab.quant.tensors import ROLES, Tensor, gguf_tensors


@dataclass(frozen=True)
class QuantSize:
    """A model's size in one format: total bytes and their split by storage type."""

    name: str
    bytes: int
    parameters: int
    by_type: dict[str, int] = field(default_factory=dict)  # storage type → bytes
    notes: tuple[str, ...] = ()

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.bytes / self.parameters if self.parameters else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes, "bits_per_weight": self.bits_per_weight,
                "parameters": self.parameters, "by_type": dict(self.by_type),
                "notes": list(self.notes)}


def quantized_size(name: str, model_type: str, tensors: Sequence[Tensor],
                   base_bytes: int = 2, skip: Sequence[str] = ()) -> QuantSize:
    """``tensors`` stored as ``name``; ``base_bytes``: the dtype of what a Hugging Face
    format leaves unquantized (2 for bf16/fp16 checkpoints); ``skip``: the config's
    ``modules_to_not_convert`` (``*`` matches one name component)."""
    if name.upper() in FTYPES or name.upper() in NEEDS_IMATRIX:
        return _gguf(name.upper(), model_type, tensors)
    fmt = hf_format(name)
    if fmt is None:
        raise ConfigError(f"unknown --quant type {name!r}; GGUF file types: "
                          f"{', '.join(FTYPES)}; Hugging Face formats: nf4, nf4-dq, fp4, "
                          "fp4-dq, gptq[-BITSbit][-gGROUP], awq[-4bit][-gGROUP], fp8, "
                          "fp8-block, mxfp4")
    by_type: dict[str, int] = {}
    for t in tensors:
        if _quantized(t, skip):
            key, size = fmt.name, fmt.weight_bytes(t.shape)
        else:
            key, size = f"unquantized ({base_bytes} bytes)", t.elements * base_bytes
        by_type[key] = by_type.get(key, 0) + size
    kept = f" and {', '.join(skip)} (modules_to_not_convert)" if skip else ""
    note = (f"{fmt.library}: linear weights inside the blocks quantized; embeddings, output "
            f"head, norms, biases, MoE routers{kept} kept at {base_bytes} bytes per "
            "parameter.")
    return QuantSize(fmt.name, sum(by_type.values()), sum(t.elements for t in tensors),
                     by_type, (note,))


def _quantized(t: Tensor, skip: Sequence[str]) -> bool:
    """A linear weight inside the blocks, not a router, not under ``modules_to_not_convert``
    (matched on module-name components, with or without the leading ``model.``)."""
    if not t.in_block or ROLES.get(".".join(t.name.split(".")[-2:])) == "ffn_gate_inp":
        return False
    parts = t.name.split(".")
    for pattern in skip:
        wanted = pattern.removeprefix("model.").split(".")
        if len(wanted) <= len(parts) and all(
                fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted, strict=False)):
            return False
    return True


def _gguf(ftype: str, model_type: str, tensors: Sequence[Tensor]) -> QuantSize:
    ggufs, hp = gguf_tensors(model_type, tuple(tensors))
    types = tensor_types(ftype, hp, ggufs)
    by_type: dict[str, int] = {}
    for t, kind in zip(ggufs, types, strict=True):
        size = GGML_TYPES[kind].row_bytes(t.ne[0]) * (t.elements // t.ne[0])
        by_type[kind] = by_type.get(kind, 0) + size
    matrix = ("an importance matrix, which llama-quantize requires for Q2_K_S and which "
              "changes none of its types" if ftype == "Q2_K_S" else "no importance matrix")
    note = (f"llama.cpp {ftype} (llama-quant.cpp rules at 007dbbf3fd17, {matrix}): "
            "tensor data only; the GGUF header (tokenizer, metadata: a few MB) and 32-byte "
            "alignment padding are not included.")
    return QuantSize(ftype, sum(by_type.values()), sum(t.elements for t in ggufs),
                     dict(sorted(by_type.items())), (note,))
