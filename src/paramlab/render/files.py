"""Tensor files (safetensors, GGUF): the totals as stored, the dtype breakdown and the
header's metadata, for every renderer. The bytes come from the reader, never from --dtype."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paramlab.render import readable_memory_size as size
from paramlab.render.blocks import Block
from paramlab.tensorfile import MetadataArray, TensorFile

if TYPE_CHECKING:
    from paramlab.summary import Summary

SHOWN_STRING = 80  # longer metadata strings (chat templates) show their length instead


def stored_totals(summary: Summary, tensor_file: TensorFile) -> list[str]:
    """The Keras footer's three lines with the file's own bytes in place of a dtype guess."""
    params = sum(t.nbytes for t in tensor_file.tensors if not t.buffer)
    buffers = tensor_file.total_bytes - params
    frozen = buffers if summary.non_trainable else 0
    lines = [
        f"Total params: {summary.total:,} ({size(params + frozen)} as stored)",
        f"Trainable params: {summary.trainable:,} ({size(params)} as stored)",
        f"Non-trainable params: {summary.non_trainable:,} ({size(frozen)} as stored)",
    ]
    if summary.buffers:
        lines.append(f"Buffers (not parameters): {summary.buffers:,} ({size(buffers)} as stored)")
    if summary.dtype != "float32":
        lines.append(f"At {summary.dtype} ({summary.bytes_per_param:g} bytes each) the "
                     f"parameters would take {size(summary.memory_bytes(summary.total))}.")
    return lines


def file_blocks(tensor_file: TensorFile) -> list[Block]:
    """Bytes by dtype (exact, from the header), then the metadata key-value pairs."""
    shards = f" in {len(tensor_file.files):,} shards" if tensor_file.files else ""
    lines = [f"{tensor_file.format}: {len(tensor_file.tensors):,} tensors{shards}, "
             f"{tensor_file.total_bytes:,} bytes of tensor data "
             f"({size(tensor_file.total_bytes)}); {tensor_file.header_bytes:,} header bytes read"]
    table = [["dtype", "tensors", "elements", "bytes"]]
    for dtype, (count, nbytes) in tensor_file.bytes_by_dtype().items():
        elements = sum(t.size for t in tensor_file.tensors if t.dtype == dtype)
        table.append([dtype, f"{count:,}", f"{elements:,}", f"{nbytes:,}"])
    blocks = [Block(f"File ({tensor_file.format} header)", lines, table)]
    if tensor_file.metadata:
        named = {"general.file_type": tensor_file.file_type} if tensor_file.file_type else {}
        blocks.append(Block("Metadata", [
            f"{key}: {_value(value)}" + (f" ({named[key]})" if key in named else "")
            for key, value in tensor_file.metadata.items()]))
    return blocks


def _value(value: Any) -> str:
    if isinstance(value, MetadataArray):
        return _array(value)
    if isinstance(value, str) and len(value) > SHOWN_STRING:
        return f"string of {len(value.encode('utf-8')):,} bytes (not shown)"
    return repr(value) if isinstance(value, str) else str(value)


def _array(value: MetadataArray) -> str:
    if value.values is None:
        return f"array of {value.length:,} {value.element_type} (counted, not kept)"
    return "[" + ", ".join(_value(v) for v in value.values) + "]"


def file_to_dict(tensor_file: TensorFile) -> dict[str, Any]:
    """``--json``'s ``file``: every tensor with its dtype and exact bytes, and the metadata
    (big arrays as their type and length)."""

    def plain(value: Any) -> Any:
        if isinstance(value, MetadataArray):
            out: dict[str, Any] = {"type": value.element_type, "length": value.length}
            if value.values is not None:
                out["values"] = list(value.values)
            return out
        return value

    return {
        "format": tensor_file.format,
        "path": tensor_file.path,
        "tensor_bytes": tensor_file.total_bytes,
        "header_bytes": tensor_file.header_bytes,
        "shards": list(tensor_file.files),
        "tensors": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype,
                     "bytes": t.nbytes, "offset": t.offset, "buffer": t.buffer,
                     **({"file": t.file} if t.file else {})} for t in tensor_file.tensors],
        "metadata": {key: plain(value) for key, value in tensor_file.metadata.items()},
    }
