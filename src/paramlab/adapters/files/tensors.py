"""What a tensor file's header says, as frozen data: the readers fill it, the rows and the
renderers read it. Nothing here reads a file or formats a number."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from paramlab.errors import ConfigError


@dataclass(frozen=True)
class StoredTensor:
    """One tensor as the header describes it; ``nbytes`` is what the format stores for it
    (for a ggml block type, whole blocks: see :mod:`paramlab.adapters.files.gguf`)."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # the format's own spelling: "BF16" (safetensors), "Q4_K" (GGUF)
    nbytes: int
    offset: int  # absolute byte offset of the data in its file
    file: str = ""  # the shard that holds it (index folders); "" for a single file
    buffer: bool = False  # not a parameter: an integer index/count or a running statistic

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class MetadataArray:
    """A GGUF array value: its element type and length; the values only when short (a
    tokenizer's vocabulary is counted, never kept)."""

    element_type: str
    length: int
    values: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class TensorFile:
    """A file's (or an index folder's) tensors in storage order, with its metadata."""

    path: str
    format: str  # "safetensors" or "gguf"
    tensors: tuple[StoredTensor, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    header_bytes: int = 0  # bytes of header read (all shards)
    files: tuple[str, ...] = ()  # shard file names, for index folders
    notes: tuple[str, ...] = ()  # what the reader found worth saying (ties, missing fields)

    @property
    def total_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)

    def bytes_by_dtype(self) -> dict[str, tuple[int, int]]:
        """dtype → (tensors, bytes), in order of first appearance."""
        out: dict[str, tuple[int, int]] = {}
        for t in self.tensors:
            count, nbytes = out.get(t.dtype, (0, 0))
            out[t.dtype] = (count + 1, nbytes + t.nbytes)
        return out


def header_error(path: str, offset: int, message: str) -> ConfigError:
    """The one shape of a header error: file, byte offset, what was wrong and expected."""
    return ConfigError(f"{path}: byte {offset:,}: {message}")
