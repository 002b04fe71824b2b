"""--fit, --kv-dtype and config.json's quantization_config: searches checked against closed
forms, KV bytes against ggml's block sizes, the CLI's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import paramlab
from paramlab.cli import main
from paramlab.errors import ConfigError, ParamlabError
from paramlab.quant.fit import largest, parse_budget
from paramlab.quant.size import quantized_size

DATA = Path(__file__).parent / "data" / "quant"

LLAMA3_70B = json.loads((DATA / "llama3-70b.json").read_text())
# per sequence and token: 80 layers × (K + V) × 8 KV heads × 128 dims
KV_VALUES_PER_TOKEN = 80 * 2 * 8 * 128


def _tiny(**more):
    return {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 256,
            "intermediate_size": 512, "num_hidden_layers": 4, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": 320, "torch_dtype": "bfloat16", **more}


@pytest.mark.parametrize(("text", "expected"), [
    ("24GiB", 24 * 2**30), ("24GB", 24 * 10**9), ("24e9", 24 * 10**9),
    ("1.5 GiB", 3 * 2**29), ("512MiB", 2**29), ("1_000", 1000), (4096, 4096)])
def test_parse_budget(text, expected):
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["24XB", "GiB", "-1GB", "0", "24 GiB GiB"])
def test_parse_budget_refuses(text):
    with pytest.raises(ConfigError, match="--fit expects"):
        parse_budget(text)


@given(st.integers(0, 10**6), st.integers(1, 10**4), st.integers(0, 10**8),
       st.integers(1, 10**5))
def test_largest_is_the_closed_form_for_a_linear_cost(fixed, step, budget, cap):
    expected = 0 if fixed + step > budget else min(cap, (budget - fixed) // step)
    assert largest(lambda n: fixed + step * n, budget, cap) == expected


def test_kv_dtype_bytes_are_ggml_blocks():
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    per_token = {}
    for kv in ("f16", "fp8", "q8_0", "q4_0"):
        per_token[kv] = paramlab.count(LLAMA3_70B, kv_dtype=kv).quant.kv_bytes_per_token
    assert per_token["f16"] == KV_VALUES_PER_TOKEN * 2
    assert per_token["fp8"] == KV_VALUES_PER_TOKEN
    for kv, kind in (("q8_0", "Q8_0"), ("q4_0", "Q4_0")):
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType[kind]]
        assert per_token[kv] == KV_VALUES_PER_TOKEN // block * size


def test_serving_fit_batch_and_context_are_the_closed_forms():
    budget = 48 * 10**9
    report = paramlab.count(LLAMA3_70B, quant=["Q4_K_M"], fit="48GB", context=8192).quant
    weights = report.sizes[0].bytes
    per_sequence = KV_VALUES_PER_TOKEN * 2 * 8192
    by_question = {a.question: a for a in report.fit}
    batch = by_question["largest batch (context 8,192)"]
    assert batch.value == (budget - weights) // per_sequence == 2
    assert dict(batch.terms)["KV cache (f16)"] == 2 * per_sequence
    assert "KV cache" in batch.decided_by
    # the context is capped by max_position_embeddings, and the answer says so
    context = by_question["largest context (batch 1)"]
    assert context.value == 8192 and "max_position_embeddings" in context.decided_by
    uncapped = paramlab.count({**LLAMA3_70B, "max_position_embeddings": 10**6},
                              quant=["Q4_K_M"], fit="48GB").quant.fit[0]
    assert uncapped.value == (budget - weights) // (KV_VALUES_PER_TOKEN * 2)


def test_least_compressed_format_is_the_largest_that_fits():
    config = _tiny()
    tensors = paramlab.count(config).quant_source.tensors()
    sizes = {q: quantized_size(q, "llama", tensors).bytes for q in ("Q8_0", "Q6_K", "Q4_K_M")}
    budget = (sizes["Q6_K"] + sizes["Q8_0"]) // 2  # Q8_0 is over, Q6_K under
    answer = paramlab.count(config, fit=str(budget)).quant.fit[-1]
    assert answer.value == "Q6_K"
    assert "Q8_0 is over the budget" in answer.decided_by
    nothing = paramlab.count(config, fit="1000").quant.fit[-1]
    assert nothing.value is None and "nothing fits" in nothing.decided_by


def test_training_fit_follows_the_zero_accounting():
    config = _tiny()
    summary = paramlab.count(config, fit="1GB", fit_for="training", context=128)
    answer = summary.quant.fit[0]
    acts = summary.language_model.activations_per_token * 128 * 2  # bf16 activations
    static = summary.trainable * 16  # mixed-precision AdamW (ZeRO paper §3.1)
    assert answer.value == (10**9 - static) // acts
    with pytest.raises(ParamlabError, match="--context"):
        paramlab.count(config, fit="1GB", fit_for="training")


def test_quantization_config_is_sized_as_stored():
    gptq = paramlab.count(_tiny(quantization_config={
        "quant_method": "gptq", "bits": 4, "group_size": 128}), kv_dtype="f16").quant
    assert gptq.stored is not None and gptq.stored.name == "gptq-4bit-g128"
    nf4 = paramlab.count(_tiny(quantization_config={
        "quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
        "bnb_4bit_use_double_quant": True}), kv_dtype="f16").quant
    assert nf4.stored.name == "nf4-dq"
    unknown = paramlab.count(_tiny(quantization_config={"quant_method": "hqq"}),
                             kv_dtype="f16").quant
    assert unknown.stored is None and any("'hqq' is not modelled" in n for n in unknown.notes)


def test_modules_to_not_convert_keep_their_dtype():
    """gpt-oss's MXFP4 checkpoint: only the experts are MXFP4 (its config's own list)."""
    config = {"model_type": "gpt_oss", "architectures": ["GptOssForCausalLM"],
              "num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 64,
              "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
              "num_local_experts": 4, "vocab_size": 100, "torch_dtype": "bfloat16",
              "quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": [
                  "model.layers.*.self_attn", "model.layers.*.mlp.router",
                  "model.embed_tokens", "lm_head"]}}
    stored = paramlab.count(config, kv_dtype="f16").quant.stored
    experts = 2 * 4 * (128 * 64 + 64 * 64)  # layers × experts × (gate_up + down) weights
    assert stored.by_type["mxfp4"] == experts // 32 * 17


def test_cli_json_and_refusals(capsys, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_tiny()))
    assert main(["count", str(path), "--quant", "Q4_K_M,nf4", "--fit", "24GiB", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["quantized"]) == {"Q4_K_M", "nf4"}
    assert data["quantized"]["Q4_K_M"]["bytes"] > 0
    assert data["quantized"]["nf4"]["bits_per_weight"] > 4
    assert data["fit"]["budget"] == 24 * 2**30
    assert main(["count", str(path), "--quant", "Q4_K_M", "--fit", "24XB"]) == 2
    assert "--fit expects" in capsys.readouterr().err
    assert main(["count", "784-10-10-3", "--quant", "Q4_K_M"]) == 2
    assert "need a Hugging Face config.json" in capsys.readouterr().err
    assert main(["count", str(path), "--quant", "Q4_K_M"]) == 0
    assert "Quantized sizes" in capsys.readouterr().out


@given(st.text(max_size=40))
def test_parse_budget_never_fails_otherwise(text):
    try:
        assert parse_budget(text) > 0
    except ConfigError as exc:
        assert "\n" not in str(exc)


def test_context_cap_names_the_field_it_came_from():
    gpt2 = json.loads((DATA.parent / "hf_published" / "openai-community__gpt2.json")
                      .read_text())
    answer = paramlab.count(gpt2, fit="24GiB").quant.fit[0]
    assert answer.value == gpt2["n_positions"] == 1024
    assert "n_positions" in answer.decided_by


def test_memory_shows_a_quantized_checkpoint_as_stored(capsys, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_tiny(quantization_config={
        "quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm"})))
    assert main(["count", str(path), "--memory", "--context", "64", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stored_quantization"]["name"] == "awq-4bit-g128"
    assert data["kv_cache"]["bytes"] == 4 * 2 * 2 * 64 * 64 * 2  # layers·K/V·heads·dim·tokens·2
    assert main(["count", str(path)]) == 0
    assert "Quantized sizes" not in capsys.readouterr().out  # a plain count is unchanged


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-300, 300) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3), max_leaves=8)
QC_FIELDS = st.fixed_dictionaries({}, optional={
    "quant_method": st.sampled_from(["gptq", "awq", "bitsandbytes", "fp8", "mxfp4", "hqq"]),
    "bits": JSON_VALUES, "group_size": JSON_VALUES, "load_in_4bit": JSON_VALUES,
    "bnb_4bit_quant_type": JSON_VALUES, "weight_block_size": JSON_VALUES,
    "modules_to_not_convert": JSON_VALUES, "version": JSON_VALUES})


@given(QC_FIELDS | JSON_VALUES, JSON_VALUES)
def test_malformed_quantization_config_never_breaks_a_count(qc, dtype):
    """A plain count ignores it; a size asked for is refused in one line, or given."""
    config = _tiny(quantization_config=qc, torch_dtype=dtype)
    assert paramlab.count(config).total > 0
    try:
        paramlab.count(config, quant=["nf4"])
    except ParamlabError as exc:
        assert "\n" not in str(exc)
