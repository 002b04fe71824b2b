"""--quant sizes checked against each format's own library: gguf-py's type table and a real
GGUF file it writes and reads, bitsandbytes' quantize_4bit, and published GGUF file sizes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from paramlab.adapters.hf import FAMILIES
from paramlab.adapters.hf.config import HFConfig, load
from paramlab.adapters.hf.quant_tensors import model_tensors
from paramlab.errors import ConfigError
from paramlab.quant.formats import awq, bnb_4bit, fp8, gptq, hf_format, mxfp4
from paramlab.quant.ggml import GGML_TYPES
from paramlab.quant.llama_quant import tensor_types
from paramlab.quant.size import quantized_size
from paramlab.quant.tensors import gguf_tensors

DATA = Path(__file__).parent / "data" / "quant"


def _tensors(data: dict, kind: str = "ForCausalLM"):
    config = HFConfig(data, "test")
    return model_tensors(FAMILIES[data["model_type"]].build(config, kind))


def _tiny(model_type: str = "llama", hidden: int = 256, **more: int) -> dict:
    return {"model_type": model_type, "hidden_size": hidden, "intermediate_size": 512,
            "num_hidden_layers": 8, "num_attention_heads": 4, "num_key_value_heads": 2,
            "vocab_size": 320, "tie_word_embeddings": False, **more}


def test_ggml_type_sizes_match_gguf_py():
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    for name, ours in GGML_TYPES.items():
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType[name]]
        assert (ours.block, ours.size) == (block, size), name


FAMILY_CONFIGS = {  # one small config per family shape: MoE experts, q/k norms, tied, fused
    "mixtral": {"num_local_experts": 4, "num_experts_per_tok": 2},
    "qwen3": {"head_dim": 64},
    "gemma": {"tie_word_embeddings": True, "head_dim": 64},
    "phi3": {},
}


@pytest.mark.parametrize(("model_type", "ftype", "hidden"), [
    *[("llama", f, h) for f in ("Q4_K_M", "Q8_0", "Q4_0", "Q3_K_M", "Q2_K", "F16")
      for h in (256, 96)],  # 96: K-quant rows fall back (Q4_K → Q5_0)
    *[(family, f, 256) for family in FAMILY_CONFIGS for f in ("Q4_K_M", "MXFP4_MOE")]])
def test_gguf_file_written_by_gguf_py_has_our_bytes(tmp_path, model_type, ftype, hidden):
    """Each tensor is written at the type our rules chose, quantized by gguf-py where it
    implements the type (random data) and as gguf-py's own byte shape otherwise; the file's
    tensor data, read back by GGUFReader, must total our figure."""
    np = pytest.importorskip("numpy")
    gguf = pytest.importorskip("gguf")
    from gguf.quants import quant_shape_to_byte_shape, quantize

    config = _tiny(model_type, hidden=hidden, **FAMILY_CONFIGS.get(model_type, {}))
    ggufs, hp = gguf_tensors(model_type, _tensors(config))
    types = tensor_types(ftype, hp, ggufs)
    writer = gguf.GGUFWriter(tmp_path / "m.gguf", "llama")
    rng = np.random.default_rng(0)
    for t, kind in zip(ggufs, types, strict=True):
        qtype = gguf.GGMLQuantizationType[kind]
        shape = tuple(reversed(t.ne))
        values = rng.standard_normal(shape).astype(np.float32)
        try:
            data = quantize(values, qtype) if kind != "F32" else values
        except NotImplementedError:
            data = np.zeros(quant_shape_to_byte_shape(shape, qtype), dtype=np.uint8)
        writer.add_tensor(t.name, data, raw_dtype=None if kind == "F32" else qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    reader = gguf.GGUFReader(tmp_path / "m.gguf")
    stored = sum(int(t.n_bytes) for t in reader.tensors)
    assert quantized_size(ftype, model_type, _tensors(config)).bytes == stored
    assert [t.tensor_type.name for t in reader.tensors] == types


def test_fallback_when_blocks_do_not_divide_the_row():
    ggufs, hp = gguf_tensors("llama", _tensors(_tiny(hidden=96)))
    types = dict(zip((t.name for t in ggufs), tensor_types("Q4_K_M", hp, ggufs), strict=True))
    # rows of 96: Q4_K (256) falls back to Q5_0, Q6_K to Q8_0 (llama-quant.cpp)
    assert types["blk.1.attn_q.weight"] == "Q5_0"
    assert types["output.weight"] == "Q8_0"
    assert types["blk.1.ffn_down.weight"] == "Q4_K"  # its row is the 512-wide inner layer


# Published GGUF file sizes (GB, 10⁹ bytes, as the model pages list them): Llama-3-70B from
# bartowski/Meta-Llama-3-70B-Instruct-GGUF, Llama-2-70B from TheBloke/Llama-2-70B-GGUF.
# A file adds its header (tokenizer, metadata: a few MB) to the tensor data sized here.
PUBLISHED = {
    128256: {"Q8_0": 74.97, "Q6_K": 57.88, "Q5_K_M": 49.95, "Q4_K_M": 42.52, "Q4_K_S": 40.35,
             "Q3_K_M": 34.27, "Q2_K": 26.38},
    32000: {"Q8_0": 73.29, "Q6_K": 56.59, "Q5_K_M": 48.75, "Q5_0": 47.46, "Q4_K_M": 41.42,
            "Q4_0": 38.87, "Q3_K_M": 33.19},
}


@pytest.mark.parametrize(("vocab", "ftype"), [(v, f) for v in PUBLISHED for f in PUBLISHED[v]])
def test_70b_files_match_their_published_sizes(vocab, ftype):
    data, _ = load(DATA / "llama3-70b.json")
    size = quantized_size(ftype, "llama", _tensors({**data, "vocab_size": vocab}))
    published = PUBLISHED[vocab][ftype] * 1e9
    assert abs(size.bytes - published) / published < 0.01


# transformers' config defaults are the reference models: LlamaConfig() is Llama-2-7B,
# MistralConfig() Mistral-7B-v0.1, Gemma2Config() gemma-2-2b. Published Q4_K_M files:
# TheBloke/Llama-2-7B-GGUF 4.08 GB, TheBloke/Mistral-7B-v0.1-GGUF 4.37 GB,
# bartowski/gemma-2-2b-it-GGUF 1.71 GB.
@pytest.mark.parametrize(("model_type", "published"), [
    ("llama", 4.08), ("mistral", 4.37), ("gemma2", 1.71)])
def test_reference_models_match_their_published_q4_k_m(model_type, published):
    tensors = _tensors({"model_type": model_type})
    size = quantized_size("Q4_K_M", model_type, tensors).bytes
    assert abs(size - published * 1e9) / (published * 1e9) < 0.01


def test_llama3_70b_q4_k_m_matches_the_published_file():
    """The issue's 42.5 GB: Meta-Llama-3-70B-Instruct Q4_K_M as published by llama.cpp
    quantizers (42.52 GB file, tensor data plus a ~10 MB header); params × 4 bits gives 35."""
    data, _ = load(DATA / "llama3-70b.json")
    tensors = _tensors(data)
    size = quantized_size("Q4_K_M", "llama", tensors)
    assert abs(size.bytes - 42.5e9) / 42.5e9 < 0.01
    assert 4.7 < size.bits_per_weight < 4.9
    params = sum(t.elements for t in tensors)
    assert size.bytes > params * 4 / 8 * 1.2  # the naive estimate is off by > 20 %
    q8 = quantized_size("Q8_0", "llama", tensors)  # published: 74.97 GB
    assert abs(q8.bytes - 74.97e9) / 74.97e9 < 0.01


@pytest.mark.parametrize("shape", [(128, 96), (64, 100), (3, 4096, 64), (7, 9)])
@pytest.mark.parametrize("double", [False, True])
@pytest.mark.parametrize("kind", ["nf4", "fp4"])
def test_bitsandbytes_4bit_bytes(shape, double, kind, monkeypatch):
    # bitsandbytes' CPU backend asks the Hub for an optional kernel at import: stay offline
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch = pytest.importorskip("torch")
    functional = pytest.importorskip("bitsandbytes.functional")
    weight = torch.randn(shape)
    packed, state = functional.quantize_4bit(weight, blocksize=64, compress_statistics=double,
                                             quant_type=kind)
    stored = packed.nbytes + state.absmax.nbytes + state.code.nbytes
    if double:
        stored += state.state2.absmax.nbytes + state.state2.code.nbytes + state.offset.nbytes
    assert bnb_4bit(shape, double) == stored


def test_qlora_bits_per_weight():
    """QLoRA (Dettmers et al. 2023, §2): double quantization cuts the constants from
    32/64 = 0.5 to 8/64 + 32/(64·256) ≈ 0.127 bits per parameter."""
    n = 64 * 256 * 1024
    assert 8 * bnb_4bit((1024, n // 1024), False) / n == pytest.approx(4.5, abs=1e-3)
    assert 8 * bnb_4bit((1024, n // 1024), True) / n == pytest.approx(4.127, abs=1e-3)


def test_gptq_and_awq_match_their_stored_tensors():
    """The tensors AutoGPTQ/optimum's QuantLinear and AutoAWQ's GEMM layer register (their
    documented int32 packing of 4-bit values), built empty in PyTorch and measured."""
    torch = pytest.importorskip("torch")
    fan_in, out, bits, group = 4096, 1024, 4, 128
    pack = 32 // bits
    gptq_tensors = [torch.empty(fan_in // pack, out, dtype=torch.int32),  # qweight
                    torch.empty(fan_in // group, out // pack, dtype=torch.int32),  # qzeros
                    torch.empty(fan_in // group, out, dtype=torch.float16),  # scales
                    torch.empty(fan_in, dtype=torch.int32)]  # g_idx
    assert gptq((out, fan_in), bits, group) == sum(t.nbytes for t in gptq_tensors)
    awq_tensors = [torch.empty(fan_in, out // pack, dtype=torch.int32),
                   torch.empty(fan_in // group, out // pack, dtype=torch.int32),
                   torch.empty(fan_in // group, out, dtype=torch.float16)]
    assert awq((out, fan_in), bits, group) == sum(t.nbytes for t in awq_tensors)
    with pytest.raises(ConfigError, match="not a multiple"):
        awq((out, 100), 4, 128)


@pytest.mark.parametrize("block", [None, (128, 128)])
@pytest.mark.parametrize("shape", [(1024, 4096), (300, 200)])
def test_fp8_matches_transformers_fp8_linear(block, shape):
    """transformers' FineGrainedFP8 FP8Linear (dynamic activations), built on the meta device."""
    torch = pytest.importorskip("torch")
    fp8_module = pytest.importorskip("transformers.integrations.finegrained_fp8")
    out, fan_in = shape
    with torch.device("meta"):
        layer = fp8_module.FP8Linear(fan_in, out, block_size=block)
    stored = sum(p.nbytes for p in layer.parameters())
    assert fp8((out, fan_in), block is not None) == stored


def test_mxfp4_is_ggml_mxfp4():
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    block, size = GGML_QUANT_SIZES[GGMLQuantizationType.MXFP4]
    assert mxfp4((2, 8, 64)) == 2 * 8 * 64 // block * size


def test_formats_and_refusals():
    assert hf_format("gptq-8bit-g32").name == "gptq-8bit-g32"
    assert hf_format("q9_z") is None
    tensors = _tensors(_tiny())
    with pytest.raises(ConfigError, match="importance matrix"):
        quantized_size("IQ2_XS", "llama", tensors)
    with pytest.raises(ConfigError, match="unknown --quant type"):
        quantized_size("int3", "llama", tensors)
    with pytest.raises(ConfigError, match="not one of them"):
        quantized_size("Q4_K_M", "gpt2", tensors)
    size = quantized_size("nf4", "llama", tensors)
    embed = 320 * 256 * 2
    assert size.by_type["unquantized (2 bytes)"] >= 2 * embed  # embedding and head stay bf16
    assert math.isclose(size.bits_per_weight, 8 * size.bytes / size.parameters)


def test_tied_embedding_takes_the_output_type():
    ggufs, hp = gguf_tensors("llama", _tensors(_tiny(tie_word_embeddings=True)))
    assert "output.weight" not in {t.name for t in ggufs}
    types = dict(zip((t.name for t in ggufs), tensor_types("Q4_K_M", hp, ggufs), strict=True))
    assert types["token_embd.weight"] == "Q6_K"
