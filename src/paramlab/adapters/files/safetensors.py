"""safetensors headers: tensor names, shapes and dtypes, read from the header alone.

A safetensors file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON
(``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}``),
then the data. The checks below are the format's own (safetensors 0.8 ``Metadata::validate``
and ``read_metadata``, checked against huggingface/safetensors as of 2026-05): sorted by
offset, the tensors tile the data section with no gap or overlap, each spans exactly its
element count × dtype bits / 8 bytes, and the data section ends where the file ends. The
weights themselves are never read.

A folder with ``model.safetensors.index.json`` is read as its ``weight_map`` says: every
shard's header, and every mapped tensor must be in the shard the map names.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

from paramlab.adapters.files import header_error
from paramlab.errors import ConfigError
from paramlab.notes import Note
from paramlab.tensorfile import StoredTensor, TensorFile

# Element widths in bits (safetensors 0.8 ``Dtype::bitsize``): F4 and F6 pack below a byte.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
    "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16,
    "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64,
    "U64": 64,
}
# Integer dtypes that hold indices and counters (position_ids, num_batches_tracked), not
# weights. I8/U8 stay parameters: they are how 8-bit (and packed 4-bit) weights are stored.
BUFFER_DTYPES = {"BOOL", "I16", "U16", "I32", "U32", "I64", "U64"}
# PyTorch's BatchNorm statistics, stored in a state dict beside the parameters.
BUFFER_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")

MAX_HEADER_BYTES = 100_000_000  # the format's own cap (safetensors MAX_HEADER_SIZE)
MAX_TENSORS = 1_000_000  # per file; the largest real checkpoints hold about 100,000
MAX_RANK = 64
MAX_SHARDS = 10_000
INDEX_NAME = "model.safetensors.index.json"
MAX_INDEX_BYTES = 100_000_000


def read_safetensors(path: Path, shard: str = "") -> TensorFile:
    """The tensors of one file, sorted by offset, validated as the format requires."""
    with _open(path) as handle:
        size = handle.seek(0, 2)
        handle.seek(0)
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise header_error(str(path), len(prefix), f"truncated: a safetensors file starts "
                               f"with an 8-byte header length; the file has {size} bytes")
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER_BYTES:
            raise header_error(str(path), 0, f"header length {length:,} exceeds the format's "
                               f"cap of {MAX_HEADER_BYTES:,} bytes (not a safetensors file?)")
        if 8 + length > size:
            raise header_error(str(path), 0, f"header length {length:,} runs past the end "
                               f"of the file ({size:,} bytes): truncated file")
        raw = handle.read(length)
    header = _parse_json(raw, str(path), 8)
    tensors, metadata = _tensors(header, raw, str(path), length, shard)
    end = tensors[-1].offset + tensors[-1].nbytes if tensors else 8 + length
    if end != size:
        raise header_error(str(path), end, f"the tensors' data ends at byte {end:,} but the "
                           f"file has {size:,} bytes (truncated or padded file)")
    return TensorFile(str(path), "safetensors", tuple(tensors), metadata, 8 + length,
                      notes=_packed_notes(tensors))


def _packed_notes(tensors: list[StoredTensor]) -> tuple[Note, ...]:
    """bitsandbytes 4-bit checkpoints pack two weights per U8 element (its Params4bit; the
    quantization state is stored beside each weight): counting elements would be a silent
    undercount, so say so."""
    if not any(".quant_state.bitsandbytes__" in t.name for t in tensors):
        return ()
    return (Note("bitsandbytes 4-bit checkpoint (quant_state tensors found): each U8 weight "
                 "tensor packs two 4-bit weights per stored element, and its absmax/quant_map "
                 "tensors are quantization state; the counts above are stored elements, not "
                 "weights.", "counted"),)


def _open(path: Path) -> Any:
    try:
        return path.open("rb")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot open ({exc.strerror})") from None


def _parse_json(raw: bytes, path: str, base: int) -> Any:
    """JSON from untrusted bytes: the error gives the byte offset in the file."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise header_error(path, base + exc.start, "the JSON header is not valid UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = base + len(text[: exc.pos].encode("utf-8"))
        raise header_error(path, at, f"the JSON header is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise header_error(path, base, "the JSON header is nested too deeply (a safetensors "
                           "header is three levels deep)") from None


def _tensors(header: Any, raw: bytes, path: str, length: int,
             shard: str) -> tuple[list[StoredTensor], dict[str, Any]]:
    if not isinstance(header, dict):
        raise header_error(path, 8, f"the header must be a JSON object; found a "
                           f"{type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _is_unicode(k + v)
            for k, v in metadata.items()):
        raise header_error(path, 8, "__metadata__ must map strings to strings (valid Unicode)")
    if len(header) > MAX_TENSORS:
        raise header_error(path, 8, f"{len(header):,} tensors exceed the cap of "
                           f"{MAX_TENSORS:,} per file")
    tensors = [_tensor(name, info, raw, path, length, shard) for name, info in header.items()]
    tensors.sort(key=lambda t: t.offset)
    start = 8 + length
    for tensor in tensors:
        if tensor.offset != start:
            kind = "overlaps the tensor before it" if tensor.offset < start else "leaves a gap"
            raise header_error(path, _key_offset(raw, tensor.name), f"tensor "
                               f"{tensor.name!r}: data_offsets begin at "
                               f"{tensor.offset - 8 - length:,}, which {kind} (expected "
                               f"{start - 8 - length:,})")
        start += tensor.nbytes
    return tensors, metadata


def _tensor(name: str, info: Any, raw: bytes, path: str, length: int,
            shard: str) -> StoredTensor:
    def fail(what: str) -> ConfigError:
        return header_error(path, _key_offset(raw, name), f"tensor {name!r}: {what}")

    if not _is_unicode(name):
        raise fail("the name holds a lone surrogate escape (\\ud800-\\udfff): not valid Unicode")
    if not isinstance(info, dict):
        raise fail("expected an object with dtype, shape and data_offsets")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_BITS:
        raise fail(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPE_BITS)}")
    if (not isinstance(shape, list) or len(shape) > MAX_RANK
            or not all(type(d) is int and d >= 0 for d in shape)):
        raise fail(f"shape must be a list of at most {MAX_RANK} non-negative integers; "
                   f"found {str(shape)[:80]}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(o) is int and o >= 0 for o in offsets) or offsets[0] > offsets[1]):
        raise fail(f"data_offsets must be [begin, end] with 0 <= begin <= end; "
                   f"found {str(offsets)[:80]}")
    bits = math.prod(shape) * DTYPE_BITS[dtype]
    if bits % 8:
        raise fail(f"{math.prod(shape):,} elements of {dtype} do not fill whole bytes")
    if offsets[1] - offsets[0] != bits // 8:
        raise fail(f"data_offsets {offsets} span {offsets[1] - offsets[0]:,} bytes, but "
                   f"shape {tuple(shape)} of {dtype} needs {bits // 8:,}")
    buffer = dtype in BUFFER_DTYPES or name.endswith(BUFFER_SUFFIXES)
    return StoredTensor(name, tuple(shape), dtype, bits // 8, 8 + length + offsets[0], shard,
                        buffer)


def _is_unicode(text: str) -> bool:
    """JSON's \\u escapes can spell lone surrogates, which no UTF-8 output can print."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _key_offset(raw: bytes, name: str) -> int:
    """Where a tensor's entry starts in the file (only looked up for an error message)."""
    at = raw.find(json.dumps(name).encode("utf-8"))
    return 8 + max(at, 0)


def read_index(folder: Path) -> TensorFile:
    """Every shard's header, as the index's ``weight_map`` names them, in shard order."""
    index_path = folder / INDEX_NAME
    with _open(index_path) as handle:
        raw = handle.read(MAX_INDEX_BYTES + 1)
    if len(raw) > MAX_INDEX_BYTES:
        raise header_error(str(index_path), MAX_INDEX_BYTES, f"index larger than the cap of "
                           f"{MAX_INDEX_BYTES:,} bytes")
    index = _parse_json(raw, str(index_path), 0)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(
            isinstance(v, str) for v in weight_map.values()):
        raise header_error(str(index_path), 0, "expected an object with a 'weight_map' "
                           "from tensor names to shard file names")
    shards = list(dict.fromkeys(weight_map.values()))
    if len(shards) > MAX_SHARDS:
        raise header_error(str(index_path), 0, f"{len(shards):,} shards exceed the cap of "
                           f"{MAX_SHARDS:,}")
    tensors: list[StoredTensor] = []
    header_bytes = 0
    seen: dict[str, str] = {}
    notes: dict[Note, None] = {}  # each shard's notes once, in order
    for shard in shards:
        if Path(shard).name != shard or shard in ("", ".", "..") or not _is_unicode(shard):
            raise header_error(str(index_path), _key_offset(raw, shard), f"shard {shard!r} "
                               "is not a file name in the index's folder")
        part = read_safetensors(folder / shard, shard)
        header_bytes += part.header_bytes
        notes.update(dict.fromkeys(part.notes))
        for tensor in part.tensors:
            if tensor.name in seen:
                raise ConfigError(f"{folder / shard}: tensor {tensor.name!r} is stored "
                                  f"again (first in {seen[tensor.name]})")
            seen[tensor.name] = shard
        tensors += part.tensors
    _check_map(weight_map, seen, index_path)
    metadata = index.get("metadata") if isinstance(index.get("metadata"), dict) else {}
    return TensorFile(str(folder), "safetensors", tuple(tensors), dict(metadata), header_bytes,
                      tuple(shards), (*notes, *_index_notes(metadata, tensors, weight_map)))


def _check_map(weight_map: dict[str, str], seen: dict[str, str], index_path: Path) -> None:
    for name, shard in weight_map.items():
        if seen.get(name) != shard:
            where = f"it is in {seen[name]}" if name in seen else "no shard holds it"
            raise ConfigError(f"{index_path}: weight_map puts tensor {name!r} in {shard}, "
                              f"but {where}")


def _index_notes(metadata: dict[str, Any], tensors: list[StoredTensor],
                 weight_map: dict[str, str]) -> tuple[Note, ...]:
    notes = []
    unmapped = len(tensors) - len(weight_map)
    if unmapped:
        notes.append(Note(f"{unmapped} tensor(s) stored in the shards are not in the index's "
                          "weight_map (transformers would not load them); they are counted.",
                          "counted"))
    claimed = metadata.get("total_size")
    stored = sum(t.nbytes for t in tensors)
    if isinstance(claimed, int) and claimed != stored:
        notes.append(Note(f"The index's metadata.total_size is {claimed:,} bytes; the shards' "
                          f"headers give {stored:,} bytes of tensor data (the headers are "
                          "used).", "counted", ("metadata.total_size",)))
    return tuple(notes)
