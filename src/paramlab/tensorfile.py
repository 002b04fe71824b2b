"""What a tensor file's header says, as frozen data: the readers in
:mod:`paramlab.adapters.files` fill it, the summary carries it, the renderers draw it.
Nothing here reads a file or formats a number (a layer below summary, so both may name it)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from paramlab.notes import Note


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
    notes: tuple[Note, ...] = ()  # what the reader found worth saying (packing, index gaps)
    file_type: str = ""  # GGUF general.file_type by llama.cpp's name ("MOSTLY_Q4_K_M")

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
