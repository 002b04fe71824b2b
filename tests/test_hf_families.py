"""The families added to the Hugging Face adapter, against transformers on the meta device.

Each type is counted from its config alone and compared exactly — total and trainable —
with ``sum(p.numel() for p in model.parameters())`` of the transformers class built on the
meta device: a small config (and variants flipping each switch) for every class paramlab
declares, the class defaults for the base model and the main head.
"""

from __future__ import annotations

import functools
import re

import pytest

from hf_oracle import built, check_defaults, check_small_config, torch_counts
from paramlab.adapters.hf import SUPPORTED_MODEL_TYPES, count_hf_config, supported_classes

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

LLM = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
       "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97, "num_labels": 3}
MLA = {**LLM, "num_hidden_layers": 3, "first_k_dense_replace": 1, "n_routed_experts": 4,
       "num_experts_per_tok": 2, "moe_intermediate_size": 16, "n_shared_experts": 1,
       "q_lora_rank": 12, "kv_lora_rank": 10, "qk_rope_head_dim": 4, "qk_nope_head_dim": 6,
       "v_head_dim": 5}

# Small configs for every new type (first), then variants that flip the switches.
SMALL: dict[str, dict] = {
    "qwen3": {**LLM, "head_dim": 8},
    "qwen3_moe": {**LLM, "head_dim": 8, "num_experts": 4, "num_experts_per_tok": 2,
                  "moe_intermediate_size": 16, "mlp_only_layers": [1]},
    "gemma2": {**LLM, "head_dim": 8},
    "gemma3_text": {**LLM, "head_dim": 8},
    "deepseek_v3": {**MLA, "n_group": 2, "topk_group": 1},
    "deepseek_v2": {**MLA, "q_lora_rank": None},
    "gpt_oss": {**LLM, "head_dim": 8, "num_local_experts": 4, "num_experts_per_tok": 2},
    "phi": LLM,
    "falcon": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
               "vocab_size": 97},
    "starcoder2": LLM,
    "olmo2": LLM,
    "granite": {**LLM, "attention_bias": True, "mlp_bias": True},
    "cohere": LLM,
    "stablelm": LLM,
    "bloom": {"hidden_size": 32, "n_layer": 2, "n_head": 4, "vocab_size": 97},
    "gptj": {"n_embd": 32, "n_layer": 2, "n_head": 4, "vocab_size": 97, "rotary_dim": 4,
             "n_positions": 64},
}
NEW_TYPES = tuple(SMALL)

VARIANTS: list[tuple[str, dict]] = [
    ("qwen3", {**LLM, "attention_bias": True, "tie_word_embeddings": True}),
    ("qwen3_moe", {**LLM, "num_experts": 4, "num_experts_per_tok": 1,
                   "moe_intermediate_size": 16, "decoder_sparse_step": 2}),
    ("gemma2", {**LLM, "head_dim": 16, "attention_bias": True, "tie_word_embeddings": False}),
    ("deepseek_v3", {**MLA, "first_k_dense_replace": 0, "n_shared_experts": 2,
                     "attention_bias": True, "n_group": 1, "topk_group": 1}),
    ("deepseek_v2", {**MLA, "mlp_bias": True, "n_shared_experts": 3}),
    ("gpt_oss", {**LLM, "head_dim": 8, "num_local_experts": 3, "num_experts_per_tok": 1,
                 "attention_bias": False}),
    ("phi", {**LLM, "qk_layernorm": True, "tie_word_embeddings": True}),
    ("falcon", {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "vocab_size": 97, "new_decoder_architecture": True, "num_kv_heads": 2,
                "ffn_hidden_size": 40}),
    ("falcon", {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "vocab_size": 97, "multi_query": False, "parallel_attn": False, "bias": True,
                "alibi": True, "tie_word_embeddings": False}),
    ("falcon", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                "vocab_size": 97, "new_decoder_architecture": True,
                "num_ln_in_parallel_attn": 1}),
    ("starcoder2", {**LLM, "use_bias": False, "tie_word_embeddings": False}),
    ("olmo2", {**LLM, "attention_bias": True}),
    ("cohere", {**LLM, "use_qk_norm": True, "tie_word_embeddings": False}),
    ("stablelm", {**LLM, "qk_layernorm": True, "use_parallel_residual": True,
                  "use_qkv_bias": True}),
    ("bloom", {"hidden_size": 32, "n_layer": 1, "n_head": 4, "vocab_size": 97,
               "tie_word_embeddings": False}),
    ("gptj", {"n_embd": 32, "n_layer": 1, "n_head": 4, "vocab_size": 97, "rotary_dim": 4,
              "n_inner": 40, "n_positions": 64, "tie_word_embeddings": True}),
]


def hf_config(model_type: str, fields: dict):
    return transformers.AutoConfig.for_model(model_type, **fields)


def test_the_new_types_are_declared():
    assert set(NEW_TYPES) <= set(SUPPORTED_MODEL_TYPES)


@pytest.mark.parametrize(
    ("model_type", "fields", "class_name"),
    [(mt, fields, cls) for mt, fields in [*SMALL.items(), *VARIANTS]
     for cls in supported_classes(mt)],
)
def test_small_configs_every_class(model_type, fields, class_name):
    check_small_config(model_type, fields, class_name)


@pytest.mark.parametrize("model_type", NEW_TYPES)
def test_base_option(model_type):
    fields = SMALL[model_type]
    head = supported_classes(model_type)[1]
    data = {"model_type": model_type, "architectures": [head], **fields}
    base = count_hf_config(data, None, {"base": True})
    assert base.name == supported_classes(model_type)[0]
    assert (base.total, base.trainable) == torch_counts(base.name, hf_config(model_type, fields))


MAIN_HEAD = {"qwen3": "Qwen3ForCausalLM", "qwen3_moe": "Qwen3MoeForCausalLM",
             "gemma2": "Gemma2ForCausalLM", "gemma3_text": "Gemma3ForCausalLM",
             "deepseek_v3": "DeepseekV3ForCausalLM", "deepseek_v2": "DeepseekV2ForCausalLM",
             "gpt_oss": "GptOssForCausalLM", "phi": "PhiForCausalLM",
             "falcon": "FalconForCausalLM", "starcoder2": "Starcoder2ForCausalLM",
             "olmo2": "Olmo2ForCausalLM", "granite": "GraniteForCausalLM",
             "cohere": "CohereForCausalLM", "stablelm": "StableLmForCausalLM",
             "bloom": "BloomForCausalLM", "gptj": "GPTJForCausalLM"}


@pytest.mark.parametrize("model_type", NEW_TYPES)
def test_full_size_defaults_base_and_head(model_type):
    """The config class defaults (DeepSeek-V3 is the 671B model): base model and main head."""
    check_defaults(model_type, MAIN_HEAD[model_type])


def _evaluate(expr: str) -> int:
    """The arithmetic of a formula: '4 × (1,024 + 2)' → 4104 (digits, +, × and brackets)."""
    text = expr.replace(",", "").replace("×", "*")
    assert set(text) <= set("0123456789 +*()"), expr
    return eval(text)  # only digits, +, * and parentheses, checked above


@functools.cache
def default_base_counts(model_type: str) -> tuple[int, int]:
    """transformers' (total, trainable) for the base class at the config class's defaults
    (built once per type: the depth parameters share it)."""
    config = transformers.AutoConfig.for_model(model_type)
    return torch_counts(supported_classes(model_type)[0], config)


@pytest.mark.parametrize("depth", [0, 1])
@pytest.mark.parametrize("model_type", SUPPORTED_MODEL_TYPES)
def test_every_formula_evaluates_to_its_row(model_type, depth):
    """For every declared type (class defaults, base class): each row's formula is its
    count, and the rows add up to transformers' own count at every depth."""
    summary = count_hf_config({"model_type": model_type}, None, {"depth": depth})
    rows = (sum(row.params for row in summary.layers),
            sum(row.trainable for row in summary.layers))
    assert rows == default_base_counts(model_type)
    for row in summary.layers:
        assert sum(w.size for w in row.weights if not w.statistic) == row.params, row.name
        if "=" in row.formula:
            left, right = row.formula.rsplit("=", 1)
            assert _evaluate(left) == row.params == int(right.replace(",", "")), row.formula


def test_declared_types_import_no_framework():
    """Counting every declared type is arithmetic: no torch, transformers or numpy."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from paramlab.adapters.hf import SUPPORTED_MODEL_TYPES, count_hf_config\n"
            "for t in SUPPORTED_MODEL_TYPES: count_hf_config({'model_type': t})\n"
            "print(*(m in sys.modules for m in ('torch', 'transformers', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_deepseek_v3_router_bias_is_a_buffer():
    """e_score_correction_bias is registered as a buffer: not a parameter, reported apart."""
    fields = SMALL["deepseek_v3"]
    model = built("DeepseekV3ForCausalLM", hf_config("deepseek_v3", fields))
    biases = sum(b.numel() for name, b in model.named_buffers()
                 if name.endswith("e_score_correction_bias"))
    assert biases == 2 * 4  # two MoE layers × four routed experts
    summary = count_hf_config({"model_type": "deepseek_v3", **fields})
    assert summary.buffers == biases
    assert not any(name.endswith("e_score_correction_bias")
                   for name, _ in model.named_parameters())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"model_type": "deberta-v2", "relative_attention": True, "pos_att_type": 3},
         "expected a list such as ['p2c', 'c2p'] or 'p2c|c2p' for 'pos_att_type'"),
        ({"model_type": "convnext", "hidden_sizes": "big"},
         "expected a non-empty list of positive integers for 'hidden_sizes'"),
        ({"model_type": "swin", "depths": [2, 2], "num_heads": [3]}, "'num_heads'"),
        ({"model_type": "llava", "text_config": {"model_type": "no_such_lm"}},
         "'text_config.model_type'"),
        ({"model_type": "clip", "vision_config": "x"}, "a nested config object"),
        ({"model_type": "qwen3_moe", "mlp_only_layers": "all"}, "'mlp_only_layers'"),
        ({"model_type": "wav2vec2", "feat_extract_norm": "batch"}, "'group' or 'layer'"),
        ({"model_type": "dinov2", "mlp_ratio": "wide"}, "'mlp_ratio'"),
    ],
)
def test_bad_fields_name_the_field(data, message):
    from paramlab.errors import ConfigError

    with pytest.raises(ConfigError, match=re.escape(message)):
        count_hf_config(data)


def test_dense_layers_before_the_first_moe_layer_keep_their_indices():
    data = {"model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"],
            **SMALL["deepseek_v3"]}
    names = [row.name for row in count_hf_config(data, None, {"depth": 2}).layers]
    assert "layers.0 mlp" in names and "layers.1 mlp.gate" in names
    assert "layers.0 mlp.gate" not in names and "layers.2 mlp.shared_experts" in names
    spans = [row.name for row in count_hf_config(data, None, {"depth": 0}).layers]
    assert spans == ["embed_tokens", "layers.0", "layers.1-2", "norm", "lm_head"]
