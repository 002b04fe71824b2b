"""safetensors inputs, on files the ``safetensors`` package writes from small real models:
counts against torch's and transformers' own, bytes against torch's ``nbytes``, and every
malformed header a one-line error with the file and byte offset (fuzzed)."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from torch import nn  # noqa: E402

import paramlab  # noqa: E402
from paramlab.adapters.files import read_tensor_file  # noqa: E402
from paramlab.adapters.files.safetensors import read_safetensors  # noqa: E402
from paramlab.cli import main  # noqa: E402
from paramlab.errors import ConfigError  # noqa: E402


def conv_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(),
                         nn.Linear(8 * 6 * 6, 10))


@pytest.fixture(scope="module")
def conv_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path]:
    model = conv_net()
    path = tmp_path_factory.mktemp("st") / "conv.safetensors"
    save_file(model.state_dict(), str(path))
    return model, path


def test_counts_equal_torch_parameters_and_buffers(conv_file: tuple[nn.Module, Path]) -> None:
    model, path = conv_file
    summary = paramlab.count(path)  # a pathlib.Path works as well as a string
    assert summary.total == sum(p.numel() for p in model.parameters())
    assert summary.buffers == sum(b.numel() for b in model.buffers())
    assert {r.name for r in summary.layers} == set(model.state_dict())


def test_depth_tree_adds_up(conv_file: tuple[nn.Module, Path]) -> None:
    model, path = conv_file
    summary = paramlab.count(str(path), depth=1)
    assert [r.name for r in summary.layers] == ["0", "1", "3"]
    by_name = {r.name: r.params for r in summary.layers}
    assert by_name["3"] == sum(p.numel() for p in model[3].parameters())
    assert summary.total == sum(p.numel() for p in model.parameters())


DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int8, torch.uint8,
          torch.int16, torch.int32, torch.int64, torch.bool, torch.float8_e4m3fn,
          torch.float8_e5m2]


def test_dtype_and_bytes_match_the_package(tmp_path: Path) -> None:
    tensors = {f"t{i}.weight": torch.zeros(3, 5, dtype=d) for i, d in enumerate(DTYPES)}
    path = tmp_path / "dtypes.safetensors"
    save_file(tensors, str(path))
    stored = {t.name: t for t in read_safetensors(path).tensors}
    with safe_open(str(path), framework="pt") as handle:
        for name in handle.keys():  # noqa: SIM118 (safe_open is not a mapping)
            assert stored[name].dtype == handle.get_slice(name).get_dtype()
            assert stored[name].nbytes == tensors[name].nbytes
            assert stored[name].shape == tuple(handle.get_slice(name).get_shape())


def tiny_gpt2(tie: bool) -> nn.Module:
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100,
                                     n_positions=64, tie_word_embeddings=tie)
    return transformers.GPT2LMHeadModel(config)


def test_tied_gpt2_matches_transformers_with_a_tied_note(tmp_path: Path) -> None:
    model = tiny_gpt2(tie=True)
    model.save_pretrained(tmp_path)  # safe_serialization is the default in transformers 5
    summary = paramlab.count(str(tmp_path))
    assert summary.total == model.num_parameters()
    assert "lm_head.weight" not in {r.name for r in summary.layers}
    assert any(n.text.startswith("Tied:") and n.fields == ("transformer.wte.weight",)
               for n in summary.notes)


def test_untied_gpt2_stores_the_head(tmp_path: Path) -> None:
    model = tiny_gpt2(tie=False)
    model.save_pretrained(tmp_path)
    summary = paramlab.count(str(tmp_path / "model.safetensors"))
    assert summary.total == model.num_parameters()
    assert "lm_head.weight" in {r.name for r in summary.layers}
    assert not any(n.kind == "tied" for n in summary.notes)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path]:
    model = tiny_gpt2(tie=True)
    folder = tmp_path_factory.mktemp("sharded")
    model.save_pretrained(folder, max_shard_size="20KB")
    return model, folder


def test_index_folder_reads_every_shard(sharded: tuple[nn.Module, Path]) -> None:
    model, folder = sharded
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    tensor_file = read_tensor_file(folder)
    assert len(tensor_file.files) == len(set(index["weight_map"].values())) > 1
    assert tensor_file.total_bytes == index["metadata"]["total_size"]
    assert paramlab.count(str(folder / "model.safetensors.index.json")).total == (
        model.num_parameters())


def test_index_naming_the_wrong_shard_is_refused(sharded: tuple[nn.Module, Path],
                                                 tmp_path: Path) -> None:
    _, folder = sharded
    for item in folder.iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    index_path = tmp_path / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    name, shard = next(iter(index["weight_map"].items()))
    other = next(s for s in index["weight_map"].values() if s != shard)
    index["weight_map"][name] = other
    index_path.write_text(json.dumps(index))
    with pytest.raises(ConfigError, match=f"puts tensor '{name}' in {other}, but it is in"):
        read_tensor_file(tmp_path)


def write_raw(path: Path, header: bytes, data: bytes = b"") -> Path:
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def header(entries: dict[str, object]) -> bytes:
    return json.dumps(entries).encode()


@pytest.mark.parametrize(("raw", "data", "match"), [
    (header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}), b"\0" * 4,
     "truncated or padded"),
    (header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}), b"\0" * 12,
     "overlaps"),
    (header({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}), b"\0" * 8,
     "needs 12"),
    (header({"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}}), b"\0" * 8,
     "unknown dtype"),
    (header({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}), b"\0" * 8,
     "non-negative"),
    (b'{"\xff": 1}', b"", "not valid UTF-8"),
    (b'{"\\ud800": {}}', b"", "lone surrogate"),
    (b'{"__metadata__": {"\\udfff": "x"}}', b"", "valid Unicode"),
    (b"[" * 100_000 + b"]" * 100_000, b"", "nested too deeply"),
    (b'{"a": ', b"", "not valid JSON"),
    (b"[]", b"", "must be a JSON object"),
])
def test_malformed_headers_name_file_and_byte(tmp_path: Path, raw: bytes, data: bytes,
                                              match: str) -> None:
    path = write_raw(tmp_path / "bad.safetensors", raw, data)
    with pytest.raises(ConfigError, match=match) as info:
        read_safetensors(path)
    assert str(info.value).startswith(f"{path}: byte ")


def test_absurd_header_length_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", 2**63) + b"{}")
    with pytest.raises(ConfigError, match="exceeds the format's cap"):
        read_safetensors(path)


def test_cli_prints_one_line_and_exits_2(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write_raw(tmp_path / "cut.safetensors", b'{"a": {"dtype": "F32"')
    assert main(["count", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cut.safetensors: byte " in err


def test_cli_json_has_each_tensor_with_its_bytes(conv_file: tuple[nn.Module, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    model, path = conv_file
    assert main(["count", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    nbytes = {t["name"]: t["bytes"] for t in data["file"]["tensors"]}
    assert nbytes == {k: v.nbytes for k, v in model.state_dict().items()}
    assert data["total"] == sum(p.numel() for p in model.parameters())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0, max_value=700), value=st.integers(0, 255),
       cut=st.booleans())
def test_fuzzed_files_read_or_fail_with_config_error(conv_file: tuple[nn.Module, Path],
                                                     tmp_path: Path, position: int, value: int,
                                                     cut: bool) -> None:
    raw = bytearray(conv_file[1].read_bytes())
    position %= len(raw)
    if cut:
        raw = raw[:position]
    else:
        raw[position] = value
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(bytes(raw))
    try:
        read_safetensors(path)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


def test_both_stored_while_config_ties_says_how_many_fewer(tmp_path: Path) -> None:
    model = tiny_gpt2(tie=True)
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp_path / "model.safetensors"))  # lm_head stored as its own copy
    model.config.to_json_file(str(tmp_path / "config.json"))
    summary = paramlab.count(str(tmp_path))
    head = state["lm_head.weight"].numel()
    assert summary.total - head == model.num_parameters()
    assert any(f"counts {head:,} fewer" in note.text for note in summary.notes)


def test_bitsandbytes_packing_is_said(tmp_path: Path) -> None:
    tensors = {"fc.weight": torch.zeros(8, 1, dtype=torch.uint8),  # 16 weights, packed
               "fc.weight.absmax": torch.zeros(1),
               "fc.weight.quant_state.bitsandbytes__nf4": torch.zeros(4, dtype=torch.uint8)}
    save_file(tensors, str(tmp_path / "model.safetensors"))
    assert any("two 4-bit weights" in n.text for n in paramlab.count(str(tmp_path)).notes)


def test_folder_with_two_files_and_no_index_is_refused(tmp_path: Path) -> None:
    for name in ("a.safetensors", "b.safetensors"):
        save_file({"w": torch.zeros(2)}, str(tmp_path / name))
    expected = re.escape("found 2 (a.safetensors, b.safetensors): name one")
    with pytest.raises(ConfigError, match=expected):
        read_tensor_file(tmp_path)


@pytest.mark.parametrize("shard", ["../a.safetensors", "/tmp/a.safetensors", "\ud800"])
def test_index_shard_outside_the_folder_is_refused(tmp_path: Path, shard: str) -> None:
    save_file({"w": torch.zeros(2)}, str(tmp_path / "a.safetensors"))
    index = {"weight_map": {"w": shard}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(ConfigError, match="is not a file name in the index's folder"):
        read_tensor_file(tmp_path)


ENTRY = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "BF16", "F4", "F6_E2M3", "I64", "BOOL", "Q4", 7]),
    "shape": st.lists(st.integers(-1, 5), max_size=3),
    "data_offsets": st.lists(st.integers(-1, 40), min_size=2, max_size=2),
})


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.dictionaries(st.text(min_size=1, max_size=4), ENTRY, max_size=4),
       data=st.integers(0, 60))
def test_fuzzed_headers_are_read_exactly_or_refused(tmp_path: Path, entries: dict[str, object],
                                                    data: int) -> None:
    """Whatever the header claims: either a file the format accepts, whose tensors tile its
    data exactly, or one ConfigError line."""
    path = write_raw(tmp_path / "f.safetensors", header(entries), b"\0" * data)
    try:
        tensors = read_safetensors(path).tensors
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert sum(t.nbytes for t in tensors) == data
    for t in tensors:
        info = entries[t.name]
        assert t.nbytes == info["data_offsets"][1] - info["data_offsets"][0]  # type: ignore[index]


def test_rows_in_numeric_layer_order(tmp_path: Path) -> None:
    names = ["layers.10.w", "layers.2.w", "layers.1.w", "head"]
    save_file({n: torch.zeros(1) for n in names}, str(tmp_path / "m.safetensors"))
    rows = paramlab.count(str(tmp_path / "m.safetensors")).layers
    assert [r.name for r in rows] == ["head", "layers.1.w", "layers.2.w", "layers.10.w"]


def test_spec_strings_are_not_taken_for_paths() -> None:
    from paramlab.adapters.files import is_tensor_file

    assert not is_tensor_file("dense(3) > " * 1000)  # too long for a file name: no OSError
    assert not is_tensor_file("784-10-10-3")
    assert is_tensor_file("weights/model.GGUF")


def test_index_disagreements_are_said(sharded: tuple[nn.Module, Path], tmp_path: Path) -> None:
    _, folder = sharded
    for item in folder.iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    index_path = tmp_path / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    index["weight_map"].pop(next(iter(index["weight_map"])))
    index["metadata"]["total_size"] += 1
    index_path.write_text(json.dumps(index))
    summary = paramlab.count(str(tmp_path))
    assert any(n.text.startswith("1 tensor(s) stored in the shards are not in")
               for n in summary.notes)
    assert any("the headers are used" in n.text for n in summary.notes)
    shards = summary.to_dict()["file"]["shards"]
    assert {t["file"] for t in summary.to_dict()["file"]["tensors"]} == set(shards)
