"""What a Hugging Face config says about how its weights are stored: ``torch_dtype`` (or
transformers 5's ``dtype``) for the unquantized tensors, and ``quantization_config`` for a
quantized checkpoint, read into one of :mod:`.formats`' names so the checkpoint is sized as
it is stored (a GPTQ model's packed int32 ``qweight`` is not an eighth of its parameters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paramlab.errors import ConfigError
from paramlab.quant.tensors import Tensor

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}


@dataclass(frozen=True)
class QuantSource:
    """The model's tensors and storage facts, attached to the summary by the HF adapter."""

    model_type: str
    # the tensors, listed on demand (a plain count never needs them)
    list_tensors: Callable[[], tuple[Tensor, ...]] = field(repr=False, compare=False)
    base_bytes: int
    notes: tuple[str, ...]
    stored: str | None = None  # a --quant name for the checkpoint's own format
    skip: tuple[str, ...] = ()  # modules_to_not_convert
    max_context: int | None = None
    context_field: str = ""  # the config field max_context came from
    error: str = ""  # a malformed quantization_config, raised when sizes are asked for

    def tensors(self) -> tuple[Tensor, ...]:
        return self.list_tensors()


def quant_source(data: dict[str, Any], model_type: str,
                 list_tensors: Callable[[], tuple[Tensor, ...]],
                 source: str = "config.json") -> QuantSource:
    """Never raises: a malformed ``quantization_config`` must not stop a plain count, so its
    error is kept and raised when a size is asked for (:attr:`QuantSource.error`)."""
    notes: list[str] = []
    dtype = data.get("torch_dtype", data.get("dtype"))
    if isinstance(dtype, str) and dtype in DTYPE_BYTES:
        base = DTYPE_BYTES[dtype]
    else:
        base = 2
        notes.append(f"config dtype {dtype!r} is not a storage dtype paramlab knows: "
                     "unquantized tensors taken as 2 bytes (bfloat16)" if dtype is not None
                     else "no torch_dtype/dtype in the config: unquantized tensors taken "
                     "as 2 bytes (bfloat16)")
    stored: str | None = None
    skip: tuple[str, ...] = ()
    error = ""
    qc = data.get("quantization_config")
    try:
        if qc is not None:
            if not isinstance(qc, dict):
                raise ConfigError(f"expected an object, received {type(qc).__name__}")
            stored, why = stored_format(qc)
            notes.append(why)
            skip = _skip(qc.get("modules_to_not_convert"))
    except ConfigError as exc:
        error = f"{source}: quantization_config: {exc}"
    context, where = _max_context(data)
    return QuantSource(model_type, list_tensors, base, tuple(notes), stored, skip, context, where,
                       error)


def _skip(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
        raise ConfigError(f"modules_to_not_convert: expected a list of module names, "
                          f"received {raw!r:.80}")
    return tuple(raw)


def _int(qc: dict[str, Any], name: str, default: int) -> int:
    value = qc.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name}: expected an integer, received {value!r:.80}")
    return value


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
        bits, group = _int(qc, "bits", 4), _int(qc, "group_size", 128)
        if bits not in (2, 3, 4, 8) or (group != -1 and group <= 0):
            raise ConfigError(f"{method}: expected bits 2, 3, 4 or 8 and a group_size > 0 or "
                              f"-1, received bits={bits}, group_size={group}")
        name = f"{method}-{bits}bit-g{group}"
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
