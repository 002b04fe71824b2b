"""What training per GPU and MoE active parameters read off a Hugging Face config, against
the transformers model built on the meta device: the tensor shapes (which size Adafactor's
and 8-bit Adam's state), the largest module (DeepSpeed's ``model_to_params``) and the
parameters of the experts a token does not run."""

from __future__ import annotations

import pytest

from hf_oracle import built
from paramlab.adapters.hf import count_hf_config

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

LLM = {"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4,
       "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97}
MLA = {**LLM, "first_k_dense_replace": 1, "n_routed_experts": 4, "num_experts_per_tok": 2,
       "moe_intermediate_size": 16, "n_shared_experts": 1, "q_lora_rank": 12,
       "kv_lora_rank": 10, "qk_rope_head_dim": 4, "qk_nope_head_dim": 6, "v_head_dim": 5,
       "n_group": 1, "topk_group": 1}
MOE = [
    ("mixtral", "MixtralForCausalLM", {**LLM, "num_local_experts": 4, "num_experts_per_tok": 2}),
    ("qwen3_moe", "Qwen3MoeForCausalLM", {**LLM, "head_dim": 8, "num_experts": 6,
                                          "num_experts_per_tok": 2, "moe_intermediate_size": 16,
                                          "mlp_only_layers": [1]}),
    ("deepseek_v3", "DeepseekV3ForCausalLM", MLA),
    ("deepseek_v2", "DeepseekV2ForCausalLM", {**MLA, "q_lora_rank": None,
                                              "n_shared_experts": 2}),
    ("gpt_oss", "GptOssForCausalLM", {**LLM, "head_dim": 8, "num_local_experts": 3,
                                      "num_experts_per_tok": 1}),
]


def meta_model(model_type: str, class_name: str, fields: dict):
    config = transformers.AutoConfig.for_model(model_type, **fields)
    return config, built(class_name, config)


def summary_of(model_type: str, class_name: str, fields: dict):
    return count_hf_config({"model_type": model_type, "architectures": [class_name], **fields})


@pytest.mark.parametrize(("model_type", "class_name", "fields"), MOE)
def test_active_params_leave_out_the_unused_experts(model_type, class_name, fields) -> None:
    config, model = meta_model(model_type, class_name, fields)
    total = sum(p.numel() for p in model.parameters())
    idle = 0
    for module in model.modules():
        if type(module).__name__.endswith("Experts"):
            size = sum(p.numel() for p in module.parameters())
            experts = next(module.parameters()).shape[0]
            idle += size // experts * (experts - config.num_experts_per_tok)
    assert idle > 0
    summary = summary_of(model_type, class_name, fields)
    assert summary.total == total
    assert summary.active_params == total - idle
    assert summary.to_dict()["active_params"] == total - idle
    assert f"Active params per token: {total - idle:,}" in str(summary)


def test_dense_models_report_no_active_params() -> None:
    summary = summary_of("llama", "LlamaForCausalLM", LLM)
    assert summary.active_params is None and "active_params" not in summary.to_dict()


@pytest.mark.parametrize(("model_type", "class_name", "fields"),
                         [*MOE, ("llama", "LlamaForCausalLM", LLM)])
def test_tensor_shapes_and_largest_module_match_transformers(model_type, class_name,
                                                             fields) -> None:
    _, model = meta_model(model_type, class_name, fields)
    shapes = sorted(tuple(p.shape) for p in model.parameters() if p.requires_grad)
    summary = summary_of(model_type, class_name, fields)
    assert sorted(summary.tensor_shapes) == shapes
    # DeepSpeed's model_to_params (stage3.py): the most parameters one module owns directly
    owned = {name: sum(p.numel() for p in m.parameters(recurse=False))
             for name, m in model.named_modules()}
    name, params = summary.largest_module
    assert params == max(owned.values())
    assert any(key.endswith(name) and owned[key] == params for key in owned)
