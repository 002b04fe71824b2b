"""Bytes of the Hugging Face quantized formats, from each library's stored layout.

Every function takes one weight's shape in PyTorch order (``(..., out, in)``; leading dims are
experts) and returns the bytes the quantized checkpoint stores for it, everything included:

* **bitsandbytes NF4/FP4** (``quantize_4bit``, bitsandbytes 0.50.2): two weights per byte,
  one fp32 ``absmax`` per block of 64 weights and the 16-entry fp32 ``quant_map``. Double
  quantization (QLoRA, Dettmers et al. 2023, §2) stores ``absmax`` as uint8 with one fp32
  ``nested_absmax`` per 256 blocks, the 256-entry fp32 ``nested_quant_map`` and an fp32
  ``offset``: 4.127 bits per weight against 4.5.
* **bitsandbytes LLM.int8** (``Int8Params``): one byte per weight and an fp32 row scale
  (``SCB``, one per output).
* **GPTQ** (AutoGPTQ/optimum ``QuantLinear``, the tensors transformers loads): ``qweight``
  int32 ``(in·bits/32, out)``, ``qzeros`` int32 ``(groups, out·bits/32)``, ``scales`` fp16
  ``(groups, out)`` and ``g_idx`` int32 ``(in,)``, with ``groups = ⌈in / group_size⌉``
  (``group_size = -1``: one group).
* **AWQ** (AutoAWQ GEMM): ``qweight`` int32 ``(in, out·bits/32)``, ``qzeros`` int32
  ``(in/group, out·bits/32)``, ``scales`` fp16 ``(in/group, out)``; no ``g_idx``.
* **FP8** (e4m3): one byte per weight plus fp32 scales: one per tensor (``weight_scale``),
  or one per 128 × 128 block (``weight_scale_inv``, DeepSeek-V3's ``weight_block_size``).
* **MXFP4** (OCP Microscaling v1.0; gpt-oss ``_blocks``/``_scales``): 16 bytes of E2M1
  pairs and one E8M0 scale byte per block of 32 weights.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from paramlab.errors import ConfigError

BNB_BLOCK, BNB_NESTED_BLOCK = 64, 256
BNB_QUANT_MAP = 16 * 4  # fp32 code of the 16 NF4/FP4 levels
BNB_NESTED_MAP = 256 * 4  # fp32 code of the 8-bit dynamic map for the absmax values
FP8_BLOCK = 128


@dataclass(frozen=True)
class Format:
    """A named Hugging Face format and the bytes it stores for one weight."""

    name: str
    library: str
    weight_bytes: Callable[[tuple[int, ...]], int]


def _split(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(matrices, out, in) for a weight of shape (..., out, in)."""
    return math.prod(shape[:-2]), shape[-2], shape[-1]


def bnb_4bit(shape: tuple[int, ...], double: bool) -> int:
    n = math.prod(shape)
    blocks = math.ceil(n / BNB_BLOCK)
    packed = math.ceil(n / 2)
    if not double:
        return packed + blocks * 4 + BNB_QUANT_MAP
    nested = math.ceil(blocks / BNB_NESTED_BLOCK) * 4 + BNB_NESTED_MAP + 4  # + fp32 offset
    return packed + blocks + nested + BNB_QUANT_MAP


def gptq(shape: tuple[int, ...], bits: int, group: int) -> int:
    mats, out, fan_in = _split(shape)
    _packs(fan_in, bits, "input")
    _packs(out, bits, "output")
    groups = 1 if group == -1 else math.ceil(fan_in / group)
    per = fan_in * out * bits // 8 + groups * out * bits // 8 + groups * out * 2 + fan_in * 4
    return mats * per


def awq(shape: tuple[int, ...], bits: int, group: int) -> int:
    mats, out, fan_in = _split(shape)
    _packs(out, bits, "output")
    if group == -1 or fan_in % group:
        raise ConfigError(f"AWQ groups the input width in groups of {group}; an input of "
                          f"{fan_in} is not a multiple (shape {shape})")
    groups = fan_in // group
    return mats * (fan_in * out * bits // 8 + groups * out * bits // 8 + groups * out * 2)


def fp8(shape: tuple[int, ...], block: bool) -> int:
    mats, out, fan_in = _split(shape)
    scales = math.ceil(out / FP8_BLOCK) * math.ceil(fan_in / FP8_BLOCK) if block else 1
    return mats * (out * fan_in + scales * 4)


def bnb_int8(shape: tuple[int, ...]) -> int:
    """LLM.int8 (bitsandbytes ``Int8Params``): int8 weights and one fp32 scale per row."""
    mats, out, fan_in = _split(shape)
    return mats * (out * fan_in + out * 4)


def mxfp4(shape: tuple[int, ...]) -> int:
    mats, out, fan_in = _split(shape)
    if fan_in % 32:
        raise ConfigError(f"MXFP4 stores rows in blocks of 32; an input width of {fan_in} is "
                          f"not a multiple (shape {shape})")
    return mats * out * fan_in // 32 * 17


def _packs(width: int, bits: int, which: str) -> None:
    if width * bits % 32:
        raise ConfigError(f"{bits}-bit weights are packed into int32: a {which} width of "
                          f"{width} does not fill whole words")


_GROUPED = re.compile(r"^(gptq|awq)(?:-(\d+)bit)?(?:-g(-1|\d+))?$")


def hf_format(name: str) -> Format | None:
    """The format called ``name`` (``nf4``, ``nf4-dq``, ``fp4``, ``fp4-dq``, ``int8``, ``gptq``,
    ``gptq-8bit-g32``, ``awq-4bit-g128``, ``fp8``, ``fp8-block``, ``mxfp4``), or None."""
    key = name.lower()
    fixed: dict[str, Format] = {
        "nf4": Format("nf4", "bitsandbytes", lambda s: bnb_4bit(s, False)),
        "fp4": Format("fp4", "bitsandbytes", lambda s: bnb_4bit(s, False)),
        "nf4-dq": Format("nf4-dq", "bitsandbytes", lambda s: bnb_4bit(s, True)),
        "fp4-dq": Format("fp4-dq", "bitsandbytes", lambda s: bnb_4bit(s, True)),
        "int8": Format("int8", "bitsandbytes LLM.int8", bnb_int8),
        "fp8": Format("fp8", "fp8 per-tensor scale", lambda s: fp8(s, False)),
        "fp8-block": Format("fp8-block", "fp8 128×128 block scales", lambda s: fp8(s, True)),
        "mxfp4": Format("mxfp4", "OCP MXFP4", mxfp4),
    }
    if key in fixed:
        return fixed[key]
    match = _GROUPED.match(key)
    if match is None:
        return None
    method, bits, group = match.group(1), int(match.group(2) or 4), int(match.group(3) or 128)
    if bits not in (2, 3, 4, 8) or (method == "awq" and bits != 4):
        raise ConfigError(f"{name}: {method.upper()} packs 2, 3, 4 or 8 bits (AWQ: 4); "
                          f"received {bits}")
    if group == 0:
        raise ConfigError(f"{name}: the group size must be positive or -1")
    fn = gptq if method == "gptq" else awq
    return Format(f"{method}-{bits}bit-g{group}", method.upper(),
                  lambda s: fn(s, bits, group))
