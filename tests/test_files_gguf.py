"""GGUF inputs, on files the ``gguf`` package writes: the ggml type table against
``gguf.GGML_QUANT_SIZES``, bytes and shapes against ``GGUFReader``, metadata equal to what
it reads, and malformed headers one-line errors with the file and byte offset (fuzzed)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy")
gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as T  # noqa: E402

import paramlab  # noqa: E402
from paramlab.adapters.files.gguf import FILE_TYPES, GGML_TYPE_IDS, read_gguf  # noqa: E402
from paramlab.cli import main  # noqa: E402
from paramlab.errors import ConfigError  # noqa: E402
from paramlab.tensorfile import MetadataArray  # noqa: E402


def test_type_table_is_ggmls() -> None:
    from paramlab.quant.ggml import GGML_TYPES

    assert {t.value: t.name for t in T} == GGML_TYPE_IDS
    for name in GGML_TYPE_IDS.values():  # every type a file can name has ggml's size
        assert (GGML_TYPES[name].block, GGML_TYPES[name].size) == (
            gguf.GGML_QUANT_SIZES[T[name]]), name
    assert {t.value: t.name for t in gguf.LlamaFileType} == FILE_TYPES


def write_gguf(path: Path) -> Path:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    writer.add_block_count(2)
    writer.add_context_length(128)
    writer.add_embedding_length(256)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    writer.add_rope_freq_base(10000.0)
    writer.add_tokenizer_model("llama")
    writer.add_token_list([f"tok{i}" for i in range(300)])
    writer.add_token_scores([float(i) for i in range(300)])
    writer.add_array("llama.test_small", [1, 2, 3])
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((64, 256)).astype(np.float32)
    writer.add_tensor("token_embd.weight", weight)
    writer.add_tensor("blk.0.attn_norm.weight", weight[0].astype(np.float16))
    q8 = gguf.quants.quantize(weight, T.Q8_0)
    writer.add_tensor("blk.0.attn_q.weight", q8, raw_shape=q8.shape, raw_dtype=T.Q8_0)
    # gguf 0.19 cannot quantize to Q4_K; its bytes are what matters here, so write random
    # blocks of the right size (ggml: 144 bytes per 256 weights).
    block, size = gguf.GGML_QUANT_SIZES[T.Q4_K]
    q4 = rng.integers(0, 255, (64, 256 // block * size), dtype=np.uint8)
    writer.add_tensor("blk.0.ffn_up.weight", q4, raw_shape=q4.shape, raw_dtype=T.Q4_K)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="module")
def gguf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_tensors_match_gguf_reader(gguf_file: Path) -> None:
    reader = gguf.GGUFReader(str(gguf_file))
    ours = {t.name: t for t in read_gguf(gguf_file).tensors}
    assert set(ours) == {t.name for t in reader.tensors}
    for tensor in reader.tensors:
        mine = ours[tensor.name]
        assert mine.dtype == tensor.tensor_type.name
        assert mine.nbytes == tensor.n_bytes
        assert mine.size == tensor.n_elements
        assert list(mine.shape) == [int(d) for d in tensor.shape]
        assert mine.offset == tensor.data_offset
    assert {t.dtype for t in ours.values()} == {"F32", "F16", "Q8_0", "Q4_K"}


def reader_value(field: Any) -> Any:
    return field.contents()


@pytest.mark.parametrize("chunk", [1 << 20, 9, 13])  # strings within and across chunks
def test_metadata_matches_gguf_reader(gguf_file: Path, chunk: int,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import paramlab.adapters.files.gguf as module

    monkeypatch.setattr(module, "SKIP_CHUNK", chunk)
    reader = gguf.GGUFReader(str(gguf_file))
    metadata = read_gguf(gguf_file).metadata
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):  # the reader's own header pseudo-fields
            continue
        value = metadata[key]
        if isinstance(value, MetadataArray):
            assert value.length == len(field.data)
            if value.values is not None:
                assert list(value.values) == reader_value(field)
        elif isinstance(value, float):
            assert value == pytest.approx(reader_value(field))
        else:
            assert value == reader_value(field)
    assert metadata["tokenizer.ggml.tokens"].values is None  # counted, not kept


def test_count_and_json(gguf_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reader = gguf.GGUFReader(str(gguf_file))
    summary = paramlab.count(str(gguf_file))
    assert summary.total == sum(int(t.n_elements) for t in reader.tensors)
    assert main(["count", str(gguf_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["file"]["tensor_bytes"] == sum(int(t.n_bytes) for t in reader.tensors)
    assert data["file"]["metadata"]["tokenizer.ggml.tokens"] == {"type": "STRING",
                                                                 "length": 300}
    assert main(["count", str(gguf_file)]) == 0
    out = capsys.readouterr().out
    assert "llama.block_count: 2" in out
    assert "general.file_type: 15 (MOSTLY_Q4_K_M)" in out


def header(tensors: int = 0, kvs: int = 0, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, tensors, kvs)


def gguf_string(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


@pytest.mark.parametrize(("raw", "match"), [
    (b"GGML" + b"\0" * 20, "not a GGUF file"),
    (header(version=1), "version 1 is not supported"),
    (header(version=3 << 24), "big-endian"),
    (header(tensors=2**60), "exceeds the cap"),
    (header(kvs=1) + struct.pack("<Q", 2**62), "over the cap"),
    (header(kvs=1) + gguf_string(b"k") + struct.pack("<IIQ", 9, 8, 2**40), "array length"),
    (header(kvs=1) + gguf_string(b"k") + struct.pack("<IIQ", 9, 9, 2), "arrays of arrays"),
    (header(kvs=1) + gguf_string(b"k") + struct.pack("<I", 99), "unknown value type"),
    (header(kvs=1) + gguf_string(b"\xff\xfe") + struct.pack("<I", 4), "not valid UTF-8"),
    (header(kvs=1) + gguf_string(b"k") + struct.pack("<IIQ", 9, 4, 1000), "truncated"),
    (header(kvs=2) + (gguf_string(b"k") + struct.pack("<IB", 0, 1)) * 2, "appears twice"),
    (header(tensors=1) + gguf_string(b"t") + struct.pack("<I", 9), "at most 4"),
    (header(tensors=1) + gguf_string(b"t") + struct.pack("<IQIQ", 1, 32, 4, 0), "removed"),
    (header(tensors=1) + gguf_string(b"t") + struct.pack("<IQIQ", 1, 33, 8, 0), "multiple"),
    (header(tensors=1) + gguf_string(b"t") + struct.pack("<IQIQ", 1, 1000, 0, 0),
     "past the end of the file"),
])
def test_malformed_headers_name_file_and_byte(tmp_path: Path, raw: bytes, match: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(raw)
    with pytest.raises(ConfigError, match=match) as info:
        read_gguf(path)
    assert str(info.value).startswith(f"{path}: byte ")


def test_cli_exits_2_on_a_truncated_file(gguf_file: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(gguf_file.read_bytes()[:200])
    assert main(["count", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "truncated" in err


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0, max_value=5_000), value=st.integers(0, 255),
       cut=st.booleans())
def test_fuzzed_files_read_or_fail_with_config_error(gguf_file: Path, tmp_path: Path,
                                                     position: int, value: int,
                                                     cut: bool) -> None:
    raw = bytearray(gguf_file.read_bytes())
    position %= len(raw)
    if cut:
        raw = raw[:position]
    else:
        raw[position] = value
    path = tmp_path / "fuzz.gguf"
    path.write_bytes(bytes(raw))
    try:
        read_gguf(path)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


def test_kept_strings_are_capped(monkeypatch: pytest.MonkeyPatch, gguf_file: Path) -> None:
    import paramlab.adapters.files.gguf as reader

    monkeypatch.setattr(reader, "MAX_KEPT_BYTES", 50)
    with pytest.raises(ConfigError, match="strings exceed the cap of 50 bytes"):
        read_gguf(gguf_file)


def test_depth_tree_adds_up_and_depth_0_is_one_row(gguf_file: Path) -> None:
    total = paramlab.count(str(gguf_file)).total
    tree = paramlab.count(str(gguf_file), depth=1)
    assert [r.name for r in tree.layers] == ["blk", "token_embd"]
    assert tree.total == total
    (row,) = paramlab.count(str(gguf_file), depth=0).layers
    assert row.params == total and row.type == "mixed"
