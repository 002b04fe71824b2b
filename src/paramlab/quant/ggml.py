"""ggml's storage types: how many weights a block holds and how many bytes it takes.

A ggml tensor is stored row by row; each row of ``ne[0]`` weights is cut into blocks of
``block`` weights, and a block takes ``size`` bytes (the scales and minimums live inside
the block, so these sizes are the whole cost). The table is ggml's ``type_traits`` in
``ggml/src/ggml.c`` (llama.cpp commit 007dbbf3fd17), the same figures gguf-py publishes as
``GGML_QUANT_SIZES`` (tests/test_quant_ggml.py checks every row against gguf 0.19.0).
"""

from __future__ import annotations

from dataclasses import dataclass

from paramlab.errors import ConfigError


@dataclass(frozen=True)
class GGMLType:
    """One ggml storage type: ``size`` bytes per block of ``block`` weights."""

    name: str
    block: int
    size: int

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.size / self.block

    def row_bytes(self, row: int) -> int:
        """Bytes of one row of ``row`` weights (``ggml_row_size``); a row that blocks do not
        divide cannot be stored in this type."""
        if row % self.block:
            raise ConfigError(f"{self.name} stores rows in blocks of {self.block} weights; "
                              f"a row of {row} is not a multiple of {self.block}")
        return row // self.block * self.size


# name: (weights per block, bytes per block); e.g. Q8_0 = fp16 scale + 32 int8 = 34 bytes,
# Q4_K = fp16 d + fp16 dmin + 12 bytes of 6-bit scales + 128 bytes of nibbles = 144 bytes.
_TABLE = {
    "F32": (1, 4), "F16": (1, 2), "BF16": (1, 2),
    "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22), "Q5_1": (32, 24),
    "Q8_0": (32, 34), "Q8_1": (32, 40),
    "Q2_K": (256, 84), "Q3_K": (256, 110), "Q4_K": (256, 144), "Q5_K": (256, 176),
    "Q6_K": (256, 210), "Q8_K": (256, 292),
    "IQ1_S": (256, 50), "IQ1_M": (256, 56), "IQ2_XXS": (256, 66), "IQ2_XS": (256, 74),
    "IQ2_S": (256, 82), "IQ3_XXS": (256, 98), "IQ3_S": (256, 110), "IQ4_NL": (32, 18),
    "IQ4_XS": (256, 136), "TQ1_0": (256, 54), "TQ2_0": (256, 66),
    "MXFP4": (32, 17),  # OCP microscaling: 32 FP4 (E2M1) values + one E8M0 scale byte
    "NVFP4": (64, 36), "Q1_0": (128, 18),
    # Plain element types GGUF files also store (index tensors, f64): one per "block".
    "F64": (1, 8), "I8": (1, 1), "I16": (1, 2), "I32": (1, 4), "I64": (1, 8),
}
GGML_TYPES: dict[str, GGMLType] = {name: GGMLType(name, *spec) for name, spec in _TABLE.items()}


def ggml_type(name: str) -> GGMLType:
    try:
        return GGML_TYPES[name.upper()]
    except KeyError:
        raise ConfigError(f"unknown ggml type {name!r}; known: {', '.join(GGML_TYPES)}") from None
