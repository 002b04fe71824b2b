"""``--kv-dtype``: the KV cache stored at fewer bits.

llama.cpp's ``--cache-type-k/-v q8_0`` and ``q4_0`` store each token's key and value rows
as ggml blocks (34 and 18 bytes per 32 values, scales included: :mod:`.ggml`), so a row must
be a multiple of 32 values; vLLM's ``--kv-cache-dtype fp8`` stores one byte per value (its
per-layer scales are two floats, left out). The token counts per layer (sliding windows)
are :class:`~paramlab.adapters.hf.memory.LanguageModel`'s.
"""

from __future__ import annotations

from typing import Any

from paramlab.errors import ConfigError
from paramlab.quant.ggml import GGML_TYPES

# name → ggml type whose blocks store a row (bytes per value = size / block)
KV_DTYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16", "fp8": None, "q8_0": "Q8_0",
             "q4_0": "Q4_0"}


def _row_bytes(kv_dtype: str, width: int) -> int:
    """Bytes of one token's key and value rows in one layer (``width`` = both together)."""
    if kv_dtype not in KV_DTYPES:
        raise ConfigError(f"unknown KV-cache dtype {kv_dtype!r}; expected one of "
                          f"{', '.join(KV_DTYPES)}")
    kind = KV_DTYPES[kv_dtype]
    if kind is None:
        return width
    try:
        return 2 * GGML_TYPES[kind].row_bytes(width // 2)
    except ConfigError as exc:
        raise ConfigError(f"--kv-dtype {kv_dtype}: a key row of {width // 2} values: {exc}") \
            from None


def kv_cache_bytes(lm: Any, context: int, batch: int, kv_dtype: str) -> int:
    """Bytes of the cache of ``batch`` sequences of ``context`` tokens (``lm`` is a
    :class:`~paramlab.adapters.hf.memory.LanguageModel`)."""
    total = 0
    for width, window in zip(lm.cache, lm.windows, strict=True):
        tokens = context if window is None else min(context, window)
        total += tokens * _row_bytes(kv_dtype, width)
    return total * batch
