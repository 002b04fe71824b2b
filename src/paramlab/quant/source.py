"""What a Hugging Face config says about how its weights are stored: ``torch_dtype`` (or
transformers 5's ``dtype``) for the unquantized tensors, and ``quantization_config`` for a
quantized checkpoint, read into one of :mod:`.formats`' names so the checkpoint is sized as
it is stored (a GPTQ model's packed int32 ``qweight`` is not an eighth of its parameters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paramlab.adapters.hf.blocks import Model
from paramlab.quant.tensors import Tensor, model_tensors

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}


@dataclass(frozen=True)
class QuantSource:
    """The model's tensors and storage facts, attached to the summary by the HF adapter."""

    model_type: str
    model: Model = field(repr=False)
    base_bytes: int
    notes: tuple[str, ...]
    stored: str | None = None  # a --quant name for the checkpoint's own format
    skip: tuple[str, ...] = ()  # modules_to_not_convert
    max_context: int | None = None
    context_field: str = ""  # the config field max_context came from

    def tensors(self) -> tuple[Tensor, ...]:
        return model_tensors(self.model)


def quant_source(data: dict[str, Any], model_type: str, model: Model) -> QuantSource:
    notes: list[str] = []
    dtype = data.get("torch_dtype", data.get("dtype"))
    if dtype in DTYPE_BYTES:
        base = DTYPE_BYTES[dtype]
    else:
        base = 2
        notes.append(f"config dtype {dtype!r} is not a storage dtype paramlab knows: "
                     "unquantized tensors taken as 2 bytes (bfloat16)" if dtype is not None
                     else "no torch_dtype/dtype in the config: unquantized tensors taken "
                     "as 2 bytes (bfloat16)")
    stored: str | None = None
    skip: tuple[str, ...] = ()
    qc = data.get("quantization_config")
    if isinstance(qc, dict):
        stored, why = stored_format(qc)
        notes.append(why)
        raw = qc.get("modules_to_not_convert") or ()
        skip = tuple(str(m) for m in raw) if isinstance(raw, list) else ()
    context, where = _max_context(data)
    return QuantSource(model_type, model, base, tuple(notes), stored, skip, context, where)


# The positions a model was built for, by the names transformers' configs use for them.
CONTEXT_FIELDS = ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length",
                  "seq_length")


def _max_context(data: dict[str, Any]) -> tuple[int | None, str]:
    """The longest context the model takes and the field that says so (a vision-language
    model's is its text model's)."""
    for prefix, where in (("", data), ("text_config.", data.get("text_config"))):
        if not isinstance(where, dict):
            continue
        for name in CONTEXT_FIELDS:
            value = where.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value, prefix + name
    return None, ""


def stored_format(qc: dict[str, Any]) -> tuple[str | None, str]:
    """(format name or None, a sentence) for a ``quantization_config``."""
    method = str(qc.get("quant_method", "")).lower()
    if method == "bitsandbytes":
        if qc.get("load_in_4bit"):
            kind = str(qc.get("bnb_4bit_quant_type", "fp4")).lower()
            name = kind + ("-dq" if qc.get("bnb_4bit_use_double_quant") else "")
        elif qc.get("load_in_8bit"):
            name = "int8"
        else:
            return None, "quantization_config: bitsandbytes without load_in_4bit/8bit: unread"
    elif method in ("gptq", "awq"):
        if method == "awq" and str(qc.get("version", "gemm")).lower() != "gemm":
            return None, (f"quantization_config: AWQ version {qc.get('version')!r} packs "
                          "differently from GEMM; its stored size is not modelled")
        name = f"{method}-{int(qc.get('bits', 4))}bit-g{int(qc.get('group_size', 128))}"
    elif method == "fp8":
        block = qc.get("weight_block_size")
        if block not in (None, [128, 128]):
            return None, f"quantization_config: fp8 blocks {block} not modelled (128×128 are)"
        name = "fp8" if block is None else "fp8-block"
    elif method == "mxfp4":
        name = "mxfp4"
    else:
        return None, (f"quantization_config: quant_method {method!r} is not modelled; the "
                      "stored size is not shown (the parameter count is the model's)")
    return name, (f"quantization_config ({method}): stored as {name}; parameters are counted "
                  "unpacked, as the model has them")
