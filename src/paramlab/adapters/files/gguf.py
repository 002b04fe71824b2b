"""GGUF headers: metadata key-value pairs and tensor infos, never the tensor data.

Layout (GGUF v2/v3, ggml ``docs/gguf.md``; little-endian only): magic ``GGUF``, u32 version,
u64 tensor count, u64 key-value count; the key-value pairs (GGUF string key, u32 value
type, value); the tensor infos (name, u32 n_dims, n_dims × u64 ne, u32 ggml type, u64
offset); padding to ``general.alignment`` (default 32); the data. Shapes are ggml's ``ne``
order, innermost first, as llama.cpp and gguf-py print them.

A tensor of a block type stores ``ne[0] / block_size`` blocks per row, each ``type_size``
bytes (ggml ``ggml_row_size``), so its bytes are ``elements / block_size × type_size``.
Big arrays (a tokenizer's vocabulary) are read element by element to find their end and
counted, never kept. Every length the file claims is checked against a fixed cap or the
file's size before it is used.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

from paramlab.adapters.files import header_error
from paramlab.errors import ConfigError
from paramlab.quant.ggml import GGML_TYPES
from paramlab.tensorfile import MetadataArray, StoredTensor, TensorFile

# ggml type id → name, as a GGUF tensor info stores it (ggml.h's enum ggml_type, the values
# gguf-py 0.19.0's GGMLQuantizationType lists; tested). Block sizes and bytes come from
# paramlab.quant.ggml, the one table of them. Ids 4, 5 (Q4_2, Q4_3) and 31-33, 36-38
# (repacked types) were removed from ggml and are refused.
GGML_TYPE_IDS: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4", 41: "Q1_0",
}
# general.file_type: llama.cpp's llama_ftype (llama.h), the name a quantization is known by
# ("Q4_K_M" is 15); gguf-py 0.19.0's LlamaFileType lists the same (tested).
FILE_TYPES: dict[int, str] = {
    0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 7: "MOSTLY_Q8_0",
    8: "MOSTLY_Q5_0", 9: "MOSTLY_Q5_1", 10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S",
    12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L", 14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M",
    16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K", 19: "MOSTLY_IQ2_XXS",
    20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S", 22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS",
    24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M",
    28: "MOSTLY_IQ2_S", 29: "MOSTLY_IQ2_M", 30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M",
    32: "MOSTLY_BF16", 36: "MOSTLY_TQ1_0", 37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE",
    39: "MOSTLY_NVFP4", 40: "MOSTLY_Q1_0", 1024: "GUESSED",
}
# Integer ggml types hold indices, not weights.
BUFFER_TYPES = {"I16", "I32", "I64"}

# Metadata value types: id → (name, struct format; "" for string/array).
VALUE_TYPES: dict[int, tuple[str, str]] = {
    0: ("UINT8", "<B"), 1: ("INT8", "<b"), 2: ("UINT16", "<H"), 3: ("INT16", "<h"),
    4: ("UINT32", "<I"), 5: ("INT32", "<i"), 6: ("FLOAT32", "<f"), 7: ("BOOL", "<?"),
    8: ("STRING", ""), 9: ("ARRAY", ""), 10: ("UINT64", "<Q"), 11: ("INT64", "<q"),
    12: ("FLOAT64", "<d"),
}
STRING, ARRAY = 8, 9

MAGIC = b"GGUF"
VERSIONS = (2, 3)
MAX_TENSORS = 1 << 20
MAX_KV = 1 << 20
MAX_STRING_BYTES = 1 << 24  # a chat template is kilobytes; a key at most 65,535 (gguf.md)
MAX_ARRAY_LENGTH = 1 << 24  # the largest vocabularies hold about 260,000 tokens
SKIP_CHUNK = 1 << 20  # bytes read at a time while stepping over a string array
MAX_KEPT_BYTES = 1 << 28  # all strings kept (keys, values, tensor names) together
MAX_DIMS = 4  # GGML_MAX_DIMS
KEEP_ARRAY = 64  # arrays up to this length keep their values (rope sections, layer lists)
DEFAULT_ALIGNMENT = 32


class _Reader:
    """Sequential little-endian reads from an open file; every short read is an error
    naming the byte offset (a truncated file), never a silent zero."""

    def __init__(self, handle: BinaryIO, path: str, size: int):
        self.handle, self.path, self.size, self.pos = handle, path, size, 0
        self.kept = 0  # bytes of strings kept so far, capped by MAX_KEPT_BYTES

    def fail(self, message: str, at: int | None = None) -> ConfigError:
        return header_error(self.path, self.pos if at is None else at, message)

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > self.size:
            raise self.fail(f"truncated: {what} needs {n:,} bytes; the file has "
                            f"{self.size - self.pos:,} left")
        data = self.handle.read(n)
        self.pos += n
        return data

    def unpack(self, fmt: str, what: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def skip(self, n: int, what: str) -> None:
        if self.pos + n > self.size:
            raise self.fail(f"truncated: {what} needs {n:,} bytes; the file has "
                            f"{self.size - self.pos:,} left")
        self.handle.seek(n, 1)
        self.pos += n

    def skip_strings(self, count: int, key: str) -> None:
        """Step over ``count`` GGUF strings (a vocabulary) from chunks of at most
        ``SKIP_CHUNK`` bytes: one length decoded per string, no read call per string."""
        chunk, at = b"", 0  # chunk holds the file from self.pos - at
        for _ in range(count):
            if at + 8 > len(chunk):  # refill from self.pos (a long string may have left it)
                if at > len(chunk):
                    self.handle.seek(self.pos)
                chunk, at = chunk[at:] + self.handle.read(SKIP_CHUNK), 0
                if len(chunk) < 8:
                    raise self.fail(f"truncated: an element of {key!r} needs 8 bytes; the file "
                                    f"has {len(chunk)} left")
            (length,) = struct.unpack_from("<Q", chunk, at)
            if length > MAX_STRING_BYTES:
                raise self.fail(f"an element of {key!r} claims {length:,} bytes, over the cap "
                                f"of {MAX_STRING_BYTES:,}")
            at += 8
            self.pos += 8
            if self.pos + length > self.size:
                raise self.fail(f"truncated: an element of {key!r} needs {length:,} bytes; the "
                                f"file has {self.size - self.pos:,} left")
            self.pos += length
            at += length
        self.handle.seek(self.pos)

    def string_length(self, what: str) -> int:
        length: int = self.unpack("<Q", what)
        if length > MAX_STRING_BYTES:
            raise self.fail(f"{what} claims {length:,} bytes, over the cap of "
                            f"{MAX_STRING_BYTES:,}", self.pos - 8)
        return length

    def string(self, what: str) -> str:
        length = self.string_length(what)
        start = self.pos
        self.kept += length
        if self.kept > MAX_KEPT_BYTES:
            raise self.fail(f"the header's strings exceed the cap of {MAX_KEPT_BYTES:,} bytes "
                            f"kept at {what}", start - 8)
        try:
            return self.take(length, what).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(f"{what} is not valid UTF-8", start + exc.start) from None


def read_gguf(path: Path) -> TensorFile:
    """The header of a GGUF file: metadata (big arrays counted, not kept) and tensors."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot open ({exc.strerror})") from None
    with handle:
        size = handle.seek(0, 2)
        handle.seek(0)
        reader = _Reader(handle, str(path), size)
        tensor_count, kv_count = _preamble(reader)
        metadata = _metadata(reader, kv_count)
        infos = [_tensor_info(reader) for _ in range(tensor_count)]
        alignment = _alignment(reader, metadata)
        data_start = -(-reader.pos // alignment) * alignment
    tensors = _place(reader, infos, data_start, alignment)
    file_type = FILE_TYPES.get(metadata.get("general.file_type", -1), "")
    return TensorFile(str(path), "gguf", tuple(tensors), metadata, reader.pos,
                      file_type=file_type)


def _preamble(reader: _Reader) -> tuple[int, int]:
    magic = reader.take(4, "the magic number")
    if magic != MAGIC:
        raise reader.fail(f"not a GGUF file: starts with {magic!r}, expected {MAGIC!r}", 0)
    version = reader.unpack("<I", "the version")
    if version not in VERSIONS:
        endian = " (a big-endian file?)" if version >= 1 << 16 else ""
        raise reader.fail(f"GGUF version {version}{endian} is not supported; expected "
                          f"little-endian version 2 or 3", 4)
    tensor_count = reader.unpack("<Q", "the tensor count")
    kv_count = reader.unpack("<Q", "the metadata count")
    if tensor_count > MAX_TENSORS:
        raise reader.fail(f"tensor count {tensor_count:,} exceeds the cap of {MAX_TENSORS:,}", 8)
    if kv_count > MAX_KV:
        raise reader.fail(f"metadata count {kv_count:,} exceeds the cap of {MAX_KV:,}", 16)
    return tensor_count, kv_count


def _metadata(reader: _Reader, count: int) -> dict[str, Any]:
    """The key-value pairs; a key given twice is refused (llama.cpp's gguf reader does too)
    rather than letting one value silently win."""
    metadata: dict[str, Any] = {}
    for _ in range(count):
        start = reader.pos
        key, value = _key_value(reader)
        if key in metadata:
            raise reader.fail(f"metadata key {key!r} appears twice", start)
        metadata[key] = value
    return metadata


def _key_value(reader: _Reader) -> tuple[str, Any]:
    start = reader.pos
    key = reader.string("a metadata key")
    value_type = reader.unpack("<I", f"the type of {key!r}")
    if value_type not in VALUE_TYPES:
        raise reader.fail(f"metadata {key!r}: unknown value type {value_type}", start)
    if value_type == ARRAY:
        return key, _array(reader, key)
    return key, _scalar(reader, value_type, key)


def _scalar(reader: _Reader, value_type: int, key: str) -> Any:
    if value_type == STRING:
        return reader.string(f"the value of {key!r}")
    return reader.unpack(VALUE_TYPES[value_type][1], f"the value of {key!r}")


def _array(reader: _Reader, key: str) -> MetadataArray:
    start = reader.pos
    element_type = reader.unpack("<I", f"the element type of {key!r}")
    length = reader.unpack("<Q", f"the length of {key!r}")
    if element_type not in VALUE_TYPES or element_type == ARRAY:
        raise reader.fail(f"metadata {key!r}: array element type {element_type} is not "
                          "supported (arrays of arrays are refused, as llama.cpp does)", start)
    if length > MAX_ARRAY_LENGTH:
        raise reader.fail(f"metadata {key!r}: array length {length:,} exceeds the cap of "
                          f"{MAX_ARRAY_LENGTH:,}", start + 4)
    name = VALUE_TYPES[element_type][0]
    if length <= KEEP_ARRAY:
        values = tuple(_scalar(reader, element_type, key) for _ in range(length))
        return MetadataArray(name, length, values)
    if element_type == STRING:
        reader.skip_strings(length, key)
    else:
        reader.skip(length * struct.calcsize(VALUE_TYPES[element_type][1]), f"array {key!r}")
    return MetadataArray(name, length)


def _tensor_info(reader: _Reader) -> tuple[str, tuple[int, ...], int, int, int]:
    """(name, ne, ggml type, relative offset, where the info starts)."""
    start = reader.pos
    name = reader.string("a tensor name")
    n_dims = reader.unpack("<I", f"the rank of tensor {name!r}")
    if n_dims > MAX_DIMS:
        raise reader.fail(f"tensor {name!r} has {n_dims} dimensions; ggml allows at most "
                          f"{MAX_DIMS}", start)
    dims = tuple(reader.unpack("<Q", f"the shape of tensor {name!r}") for _ in range(n_dims))
    ggml_type = reader.unpack("<I", f"the type of tensor {name!r}")
    offset = reader.unpack("<Q", f"the offset of tensor {name!r}")
    return name, dims, ggml_type, offset, start


def _alignment(reader: _Reader, metadata: dict[str, Any]) -> int:
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if type(alignment) is not int or alignment <= 0 or alignment & (alignment - 1):
        raise reader.fail(f"general.alignment must be a positive power of two; found "
                          f"{alignment!r}", 0)
    return alignment


def _place(reader: _Reader, infos: list[tuple[str, tuple[int, ...], int, int, int]],
           data_start: int, alignment: int) -> list[StoredTensor]:
    """Each tensor's bytes from its type; all inside the file, aligned and disjoint."""
    tensors = []
    names: set[str] = set()
    for name, dims, ggml_type, offset, start in infos:
        if name in names:
            raise reader.fail(f"tensor {name!r} is listed twice", start)
        names.add(name)
        tensors.append(_stored(reader, name, dims, ggml_type, data_start + offset, start))
        if offset % alignment:
            raise reader.fail(f"tensor {name!r}: offset {offset:,} is not a multiple of the "
                              f"alignment {alignment}", start)
    end = data_start
    for tensor in sorted(tensors, key=lambda t: t.offset):
        if tensor.offset < end:
            raise reader.fail(f"tensor {tensor.name!r} overlaps the tensor before it "
                              f"(its data starts at byte {tensor.offset:,}, before {end:,})",
                              tensor.offset)
        end = tensor.offset + tensor.nbytes
        if end > reader.size:
            raise reader.fail(f"tensor {tensor.name!r}: its {tensor.nbytes:,} bytes end at "
                              f"byte {end:,}, past the end of the file ({reader.size:,} bytes): "
                              "truncated file", tensor.offset)
    return tensors


def _stored(reader: _Reader, name: str, dims: tuple[int, ...], ggml_type: int, offset: int,
            start: int) -> StoredTensor:
    if ggml_type not in GGML_TYPE_IDS:
        raise reader.fail(f"tensor {name!r}: ggml type {ggml_type} is unknown or was removed "
                          "from ggml", start)
    type_name = GGML_TYPE_IDS[ggml_type]
    block, type_size = GGML_TYPES[type_name].block, GGML_TYPES[type_name].size
    elements = 1
    for d in dims:
        elements *= d
    if dims and dims[0] % block:
        raise reader.fail(f"tensor {name!r}: ne[0] = {dims[0]:,} is not a multiple of "
                          f"{type_name}'s block of {block}", start)
    return StoredTensor(name, dims, type_name, elements // block * type_size, offset,
                        buffer=type_name in BUFFER_TYPES)
