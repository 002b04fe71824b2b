"""Reading a 70B checkpoint's headers: paramlab's readers vs the libraries users would run.

A Llama-2-70B layout (80 layers, hidden 8,192, grouped-query k/v of 1,024, MLP 28,672,
vocabulary 32,000; 723 tensors, 68,976,648,192 parameters) is written twice in a temporary
folder, as sparse files whose headers are real and whose data is a hole of the claimed size
(nothing of the ~138 GB is on disk):

* 15 BF16 safetensors shards with ``model.safetensors.index.json``, read by
  ``paramlab.count`` (index, every shard's header, all checks) and by ``safetensors.safe_open``
  on each shard (keys, dtype and shape of every tensor: the metadata a user's script reads);
* one Q4_K GGUF file (F32 norms, a 32,000-token vocabulary in the metadata), read by
  ``paramlab.count`` and by ``gguf.GGUFReader`` (which maps the file and builds its fields).

Best of several runs each, in the same process, with the ratio printed.

    PYTHONPATH=src python benchmarks/bench_headers.py
"""

from __future__ import annotations

import json
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HIDDEN, LAYERS, KV, MLP, VOCAB, SHARDS = 8192, 80, 1024, 28672, 32000, 15


def llama_70b() -> list[tuple[str, tuple[int, ...]]]:
    """Tensor names and (PyTorch-order) shapes of Llama-2-70B, as transformers names them."""
    tensors = [("model.embed_tokens.weight", (VOCAB, HIDDEN))]
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        tensors += [
            (p + "input_layernorm.weight", (HIDDEN,)),
            (p + "self_attn.q_proj.weight", (HIDDEN, HIDDEN)),
            (p + "self_attn.k_proj.weight", (KV, HIDDEN)),
            (p + "self_attn.v_proj.weight", (KV, HIDDEN)),
            (p + "self_attn.o_proj.weight", (HIDDEN, HIDDEN)),
            (p + "post_attention_layernorm.weight", (HIDDEN,)),
            (p + "mlp.gate_proj.weight", (MLP, HIDDEN)),
            (p + "mlp.up_proj.weight", (MLP, HIDDEN)),
            (p + "mlp.down_proj.weight", (HIDDEN, MLP)),
        ]
    return [*tensors, ("model.norm.weight", (HIDDEN,)), ("lm_head.weight", (VOCAB, HIDDEN))]


def numel(shape: tuple[int, ...]) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def write_safetensors(folder: Path, tensors: list[tuple[str, tuple[int, ...]]]) -> None:
    """15 shards of about equal size: real headers, sparse data."""
    per_shard = -(-len(tensors) // SHARDS)
    weight_map = {}
    total = 0
    for k in range(SHARDS):
        name = f"model-{k + 1:05d}-of-{SHARDS:05d}.safetensors"
        header, offset = {}, 0
        for tensor, shape in tensors[k * per_shard:(k + 1) * per_shard]:
            nbytes = numel(shape) * 2
            header[tensor] = {"dtype": "BF16", "shape": list(shape),
                              "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
            weight_map[tensor] = name
        raw = json.dumps(header).encode()
        raw += b" " * (-len(raw) % 8)
        with (folder / name).open("wb") as handle:
            handle.write(struct.pack("<Q", len(raw)) + raw)
            handle.truncate(8 + len(raw) + offset)
        total += offset
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))


def write_gguf(path: Path, tensors: list[tuple[str, tuple[int, ...]]]) -> None:
    """Q4_K matrices and F32 norms, llama.cpp's names; a 32,000-token vocabulary."""
    import gguf
    import numpy as np
    from gguf import GGMLQuantizationType as T

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(LAYERS)
    writer.add_context_length(4096)
    writer.add_embedding_length(HIDDEN)
    writer.add_head_count(64)
    writer.add_head_count_kv(8)
    writer.add_tokenizer_model("llama")
    writer.add_token_list([f"token{i}" for i in range(VOCAB)])
    writer.add_token_scores([0.0] * VOCAB)
    data = 0
    for name, shape in tensors:  # numpy order: the writer stores ggml's reversed ne
        if len(shape) == 1:
            writer.add_tensor_info(name, shape, np.float32, numel(shape) * 4)
            nbytes = numel(shape) * 4
        else:
            block, size = gguf.GGML_QUANT_SIZES[T.Q4_K]
            byte_shape = (*shape[:-1], shape[-1] // block * size)
            nbytes = numel(byte_shape)
            writer.add_tensor_info(name, byte_shape, np.uint8, nbytes, raw_dtype=T.Q4_K)
        data += -(-nbytes // 32) * 32  # each tensor padded to the alignment
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    with path.open("r+b") as handle:
        end = handle.seek(0, 2)
        handle.truncate(-(-end // 32) * 32 + data)


def best(fn: Callable[[], object], repeat: int = 5) -> tuple[float, object]:
    result, fastest = None, float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, result


def safe_open_metadata(folder: Path) -> int:
    from safetensors import safe_open

    total = 0
    for shard in sorted(folder.glob("*.safetensors")):
        with safe_open(str(shard), framework="numpy") as handle:
            for key in handle.keys():  # noqa: SIM118 (not a mapping)
                piece = handle.get_slice(key)
                piece.get_dtype()
                total += numel(tuple(piece.get_shape()))
    return total


def gguf_reader(path: Path) -> int:
    import gguf

    return sum(int(t.n_elements) for t in gguf.GGUFReader(str(path)).tensors)


def main() -> None:
    import paramlab
    from paramlab.adapters.files import read_tensor_file

    tensors = llama_70b()
    expected = sum(numel(s) for _, s in tensors)
    with tempfile.TemporaryDirectory(prefix="paramlab-bench-") as tmp:
        folder = Path(tmp) / "llama-70b"
        folder.mkdir()
        write_safetensors(folder, tensors)
        gguf_path = Path(tmp) / "llama-70b-q4_k.gguf"
        write_gguf(gguf_path, [(n.replace("model.", ""), s) for n, s in tensors])
        ours, total = best(lambda: paramlab.count(str(folder)).total)
        reader, _ = best(lambda: read_tensor_file(folder))
        theirs, their_total = best(lambda: safe_open_metadata(folder))
        assert total == their_total == expected, (total, their_total, expected)
        print(f"safetensors, 70B in {SHARDS} shards ({len(tensors)} tensors, {expected:,} "
              f"parameters): paramlab.count {ours * 1000:.1f} ms (the issue asks under 1 s), "
              f"of which reading and checking the headers {reader * 1000:.1f} ms; "
              f"safetensors.safe_open metadata {theirs * 1000:.1f} ms; ratio "
              f"{theirs / ours:.2f}× for the count, {theirs / reader:.2f}× for the reader "
              "(safe_open time / paramlab time)")
        ours, total = best(lambda: paramlab.count(str(gguf_path)).total)
        theirs, their_total = best(lambda: gguf_reader(gguf_path))
        assert total == their_total == expected, (total, their_total, expected)
        print(f"GGUF Q4_K, 70B ({VOCAB:,}-token vocabulary): paramlab.count "
              f"{ours * 1000:.1f} ms; gguf.GGUFReader {theirs * 1000:.1f} ms; "
              f"ratio {theirs / ours:.2f}× (GGUFReader time / paramlab time)")


if __name__ == "__main__":
    main()
