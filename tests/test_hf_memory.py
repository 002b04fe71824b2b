"""KV-cache sizes of language models, against transformers' own caches.

The oracle is what transformers stores: a forward pass on the meta device with
``use_cache=True`` returns a ``DynamicCache`` whose key/value tensors have the real shapes
(grouped-query heads, sliding windows keeping ``sliding_window − 1`` tokens), so their
element count is the cache. Where a forward cannot run on meta (gpt-oss, DeepSeek), the
cache is filled from the meta model's key/value projection widths, and for DeepSeek's
latent attention the closed form is read off the projections: the latent is
``kv_a_proj_with_mqa``'s output width, the expanded keys/values are the query width plus
``o_proj``'s input width (heads × v_head_dim).
"""

from __future__ import annotations

import json

import pytest

from paramlab.adapters.hf import count_hf_config
from paramlab.adapters.hf.memory import EXPANDED_IN
from paramlab.memory import memory_report

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

LLM = {"hidden_size": 32, "num_hidden_layers": 4, "num_attention_heads": 4,
       "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97}
BATCH, CONTEXT = 2, 9


def written(model_type: str, fields: dict) -> tuple[object, dict]:
    config = transformers.AutoConfig.for_model(model_type, **fields)
    return config, json.loads(config.to_json_string())


def cache_of_forward(config) -> int:
    """Elements transformers caches for BATCH sequences of CONTEXT tokens."""
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
        out = model(input_ids=torch.zeros(BATCH, CONTEXT, dtype=torch.long), use_cache=True)
    return sum(layer.keys.numel() + layer.values.numel() for layer in out.past_key_values.layers)


def cache_from_projections(config) -> int:
    """A DynamicCache for ``config`` filled with keys/values as wide as k_proj/v_proj."""
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
        cache = transformers.DynamicCache(config=config)
        attentions = [m for m in model.modules() if hasattr(m, "k_proj")]
        for i, attn in enumerate(attentions):
            shape = (BATCH, 1, CONTEXT)
            cache.update(torch.zeros(*shape, attn.k_proj.out_features),
                         torch.zeros(*shape, attn.v_proj.out_features), i)
    return sum(layer.keys.numel() + layer.values.numel() for layer in cache.layers)


def ours(data: dict, context: int | None = CONTEXT) -> dict:
    """The cache report as ``--json`` writes it."""
    return count_hf_config(data).language_model.report(context, BATCH).to_dict()


FORWARD = [
    ("llama", LLM),
    ("mistral", {**LLM, "sliding_window": 6}),
    ("gemma2", {**LLM, "head_dim": 8, "sliding_window": 5}),
    ("gemma3_text", {**LLM, "head_dim": 8, "sliding_window": 5, "sliding_window_pattern": 2}),
    ("qwen2", {**LLM, "use_sliding_window": True, "sliding_window": 4,
               "max_window_layers": 2}),
    ("phi3", {**LLM, "sliding_window": 5, "pad_token_id": 0}),
    ("gpt2", {"n_embd": 32, "n_layer": 2, "n_head": 4, "vocab_size": 97}),
    ("falcon", {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "vocab_size": 97}),
    ("falcon", {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "vocab_size": 97, "multi_query": False}),
]


@pytest.mark.parametrize(("model_type", "fields"), FORWARD)
def test_kv_cache_matches_a_forward_pass(model_type, fields):
    config, data = written(model_type, fields)
    report = ours(data)
    elements = cache_of_forward(config)
    assert report["kv_cache_bytes"]["float32"] == 4 * elements
    assert report["kv_cache_bytes"]["float16/bfloat16"] == 2 * elements
    raw = {"model_type": model_type, **fields}  # as a user writes it: no layer_types
    assert ours(raw)["kv_cache_bytes"]["float32"] == 4 * elements


def stored_on_cpu(config) -> list[int]:
    """Elements per layer that the installed transformers caches for BATCH × CONTEXT tokens,
    from a real forward pass on CPU (the tiny model's weights are allocated)."""
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config)
    out = model(input_ids=torch.zeros(BATCH, CONTEXT, dtype=torch.long), use_cache=True)
    return [layer.keys.numel() + layer.values.numel() for layer in out.past_key_values.layers]


def installed_stores_expanded(layout: str) -> bool:
    """Whether the installed release is one that EXPANDED_IN says cached ``layout`` expanded."""
    first, last = EXPANDED_IN[layout]
    release = tuple(int(part) for part in transformers.__version__.split(".")[:2])
    return first <= release <= last


def test_falcon_grouped_cache_and_what_transformers_stores():
    """Falcon's new architecture needs 2 × kv_heads × head_dim per layer; the releases in
    EXPANDED_IN cached the keys/values repeated to every query head, the others the grouped
    heads — checked against the installed release, whichever it is."""
    fields = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
              "vocab_size": 97, "new_decoder_architecture": True, "num_kv_heads": 2}
    config, data = written("falcon", fields)
    report = ours(data)
    assert report["kv_cache_elements_per_token"] == 2 * 2 * (2 * 8)  # layers × (K + V) × 2 heads
    assert report["expanded_cache_elements_per_token"] == 2 * 2 * (4 * 8)  # × 4 query heads
    stored = sum(stored_on_cpu(config))
    key = "expanded_cache_bytes" if installed_stores_expanded("falcon") else "kv_cache_bytes"
    assert report[key]["float32"] == 4 * stored
    assert report["expanded_cache_stored_by"] == "transformers 5.0–5.24"
    assert "5.25 and later cache exactly this" in report["cache_convention"]


def test_kv_cache_of_sliding_experts_from_projections():
    fields = {**LLM, "head_dim": 8, "num_local_experts": 4, "num_experts_per_tok": 2,
              "sliding_window": 3}
    config, data = written("gpt_oss", fields)
    elements = cache_from_projections(config)
    assert ours(data)["kv_cache_bytes"]["float32"] == 4 * elements
    assert ours({"model_type": "gpt_oss", **fields})["kv_cache_bytes"]["float32"] == 4 * elements


@pytest.mark.parametrize("model_type", ["deepseek_v2", "deepseek_v3"])
def test_latent_attention_cache_closed_form(model_type):
    """The latent (kv_lora_rank + qk_rope_head_dim) and the expanded keys and values read off
    the projections, and which of the two the installed transformers really caches."""
    fields = {**LLM, "first_k_dense_replace": 1, "n_routed_experts": 4,
              "num_experts_per_tok": 2, "moe_intermediate_size": 16, "kv_lora_rank": 10,
              "q_lora_rank": 12, "qk_rope_head_dim": 4, "qk_nope_head_dim": 6,
              "v_head_dim": 5, "n_group": 1, "topk_group": 1, "num_key_value_heads": 4}
    config, data = written(model_type, fields)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    attentions = [m for m in model.modules() if hasattr(m, "kv_a_proj_with_mqa")]
    latent = sum(a.kv_a_proj_with_mqa.out_features for a in attentions)
    expanded = sum(a.q_b_proj.out_features + a.o_proj.in_features for a in attentions)
    report = ours(data)
    assert report["kv_cache_elements_per_token"] == latent == 4 * (10 + 4)
    assert report["expanded_cache_elements_per_token"] == expanded
    assert report["kv_cache_bytes"]["float16/bfloat16"] == 2 * latent * CONTEXT * BATCH
    assert report["expanded_cache_bytes"]["float32"] == 4 * expanded * CONTEXT * BATCH
    stored = sum(stored_on_cpu(config)) // (CONTEXT * BATCH)
    assert stored == (expanded if installed_stores_expanded("latent") else latent)
    assert report["expanded_cache_stored_by"] == "transformers 5.0–5.14"


def test_per_token_and_published_figure():
    """Llama-2-7B: 32 layers × 2 × 4,096 × 2 bytes = 512 KiB per token in fp16."""
    report = ours({"model_type": "llama"}, context=None)
    assert report["kv_cache_bytes_per_token"]["float16/bfloat16"] == 512 * 1024
    assert "kv_cache_bytes" not in report
    mistral = ours({"model_type": "mistral"}, context=None)  # 8 kv heads: a quarter
    assert mistral["kv_cache_bytes_per_token"]["float16/bfloat16"] == 128 * 1024


def test_memory_report_carries_the_cache_and_activations():
    summary = count_hf_config({"model_type": "llama", **LLM})
    report = memory_report(summary, batch_size=BATCH, context=CONTEXT)
    lm = report.language_model
    assert lm is not None and lm.context == CONTEXT and lm.layers == 4
    # activations per example: the layer outputs of CONTEXT tokens
    assert lm.activation_elements_per_token is not None
    assert report.activation_elements_per_example == lm.activation_elements_per_token * 9
    assert count_hf_config({"model_type": "bert"}).language_model is None  # an encoder


def test_cli_context_option(tmp_path, capsys):
    from paramlab.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}))
    assert main(["count", str(path), "--memory", "--context", "4096", "--batch-size", "2"]) == 0
    text = capsys.readouterr().out
    assert "KV cache per token (32 layers" in text
    assert "KV cache at context 4,096 × batch 2" in text
    assert main(["count", str(path), "--memory", "--context", "1024", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["memory"]["language_model"]
    assert data["kv_cache_bytes"]["float16/bfloat16"] == 1024 * 512 * 1024


def test_bart_decoder_self_attention_cache_from_projections():
    """Encoder-decoders cannot run on meta (position buckets and masks call .item()): the
    closed form is read off the decoder's self-attention k/v projections; the
    cross-attention cache over the encoder's output is reported as coming on top."""
    fields = {"d_model": 32, "encoder_layers": 2, "decoder_layers": 3,
              "encoder_attention_heads": 4, "decoder_attention_heads": 4,
              "encoder_ffn_dim": 48, "decoder_ffn_dim": 40, "vocab_size": 97,
              "max_position_embeddings": 40}
    config, data = written("bart", fields)
    with torch.device("meta"):
        model = transformers.BartForConditionalGeneration(config)
    width = sum(layer.self_attn.k_proj.out_features + layer.self_attn.v_proj.out_features
                for layer in model.model.decoder.layers)
    report = ours({**data, "architectures": ["BartForConditionalGeneration"]})
    assert report["kv_cache_elements_per_token"] == width == 3 * 2 * 32
    assert report["kv_cache_bytes"]["float32"] == 4 * width * CONTEXT * BATCH
    assert "cross-attention" in report["cache_convention"]


def test_t5_decoder_self_attention_cache_from_projections():
    """T5 cannot run on meta (its position buckets call .item()): the closed form is read
    off the decoder's self-attention k/v projections (heads × d_kv each)."""
    fields = {"d_model": 32, "d_kv": 6, "d_ff": 48, "num_layers": 2, "num_decoder_layers": 3,
              "num_heads": 4, "vocab_size": 97}
    config, data = written("t5", fields)
    with torch.device("meta"):
        model = transformers.T5ForConditionalGeneration(config)
    width = sum(block.layer[0].SelfAttention.k.out_features
                + block.layer[0].SelfAttention.v.out_features for block in model.decoder.block)
    report = ours({**data, "architectures": ["T5ForConditionalGeneration"]})
    assert report["kv_cache_elements_per_token"] == width == 3 * 2 * 4 * 6
