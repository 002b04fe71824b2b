"""Every decoder-only family paramlab counts by arithmetic, one declaration each.

Defaults are the transformers 5 config classes' (``LlamaConfig()`` is Llama-7B,
``DeepseekV3Config()`` DeepSeek-V3); a switch given as a string names the config field
that flips it. Checked against transformers on the meta device in tests/test_hf_families.py.
"""

from __future__ import annotations

from paramlab.adapters.hf.decoder import DECODER_KINDS, LM_ONLY, NO_QA, Decoder, MoE


def _sizes(hidden: int, layers: int, heads: int, inner: int | None, vocab: int, tie: bool,
           **more: object) -> dict[str, object]:
    return {"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads,
            "intermediate_size": inner, "vocab_size": vocab, "tie_word_embeddings": tie,
            **more}


# Field names of the GPT-2 era; a file's hidden_size etc. is moved onto them first
# (layouts.ATTRIBUTE_MAPS), so these are the only names read.
GPT_STYLE = {"hidden_size": ("n_embd",), "num_hidden_layers": ("n_layer",),
             "num_attention_heads": ("n_head",)}

DECODERS: dict[str, Decoder] = {
    "llama": Decoder("Llama", _sizes(4096, 32, 32, 11008, 32000, False),
                     qkv_bias="attention_bias", o_bias="attention_bias", mlp_bias="mlp_bias"),
    "granite": Decoder("Granite", _sizes(4096, 32, 32, 11008, 32000, False), LM_ONLY,
                       qkv_bias="attention_bias", o_bias="attention_bias",
                       mlp_bias="mlp_bias"),
    "mistral": Decoder("Mistral", _sizes(4096, 32, 32, 14336, 32000, False,
                                         num_key_value_heads=8, sliding_window=4096),
                       sliding="every"),
    "mixtral": Decoder("Mixtral", _sizes(4096, 32, 32, 14336, 32000, False,
                                         num_key_value_heads=8, num_local_experts=8,
                                         num_experts_per_tok=2),
                       moe=MoE(("num_local_experts",), "intermediate_size"), sliding="every"),
    "qwen2": Decoder("Qwen2", _sizes(4096, 32, 32, 22016, 151936, False,
                                       num_key_value_heads=32, sliding_window=4096),
                     qkv_bias=True, sliding="after_max_window", sliding_flag="use_sliding_window"),
    "qwen2_5_vl_text": Decoder(
        "Qwen2_5_VLText", _sizes(8192, 80, 64, 29568, 152064, False, num_key_value_heads=8,
                                 max_window_layers=80), ("Model",), qkv_bias=True,
        absent=("head_dim",),
        sliding="after_max_window", sliding_flag="use_sliding_window"),
    "qwen3": Decoder("Qwen3", _sizes(4096, 32, 32, 22016, 151936, False, head_dim=128,
                                       num_key_value_heads=32),
                     qkv_bias="attention_bias", o_bias="attention_bias", qk_norm="head",
                     sliding="after_max_window", sliding_flag="use_sliding_window"),
    "qwen3_moe": Decoder(
        "Qwen3Moe", _sizes(2048, 24, 32, 6144, 151936, False, num_key_value_heads=4,
                           num_local_experts=128, moe_intermediate_size=768, num_experts_per_tok=8,
                           sliding_window=4096),
        qkv_bias="attention_bias", o_bias="attention_bias", qk_norm="head",
        moe=MoE(("num_local_experts",), "moe_intermediate_size",
                dense="sparse_step"), sliding="every", sliding_flag="use_sliding_window"),
    "gemma": Decoder("Gemma", _sizes(3072, 28, 16, 24576, 256000, True, head_dim=256,
                                     num_key_value_heads=16), NO_QA,
                     qkv_bias="attention_bias", o_bias="attention_bias"),
    "gemma2": Decoder("Gemma2", _sizes(2304, 26, 8, 9216, 256000, True, num_key_value_heads=4,
                                       head_dim=256, sliding_window=4096), NO_QA,
                      qkv_bias="attention_bias", o_bias="attention_bias", layer_norms=4,
                      sliding="alternate"),
    "gemma3_text": Decoder(
        "Gemma3", _sizes(2304, 26, 8, 9216, 262208, True, num_key_value_heads=4, head_dim=256,
                         sliding_window=4096),
        ("Model", "ForCausalLM", "ForSequenceClassification"),
        {"Model": "Gemma3TextModel",
         "ForSequenceClassification": "Gemma3TextForSequenceClassification"},
        qkv_bias="attention_bias", o_bias="attention_bias", qk_norm="head", layer_norms=4,
        sliding="pattern"),
    "phi3": Decoder("Phi3", _sizes(3072, 32, 32, 8192, 32064, False), NO_QA,
                    attn_names=("qkv_proj", "o_proj"), mlp_names=("gate_up_proj", "down_proj"),
                    sliding="every"),
    "phi": Decoder("Phi", _sizes(2048, 24, 32, 8192, 51200, False), NO_QA,
                   qkv_bias=True, o_bias=True, attn_names=("q_proj", "k_proj", "v_proj", "dense"),
                   qk_norm="head", qk_norm_field="qk_layernorm", qk_norm_bias=True,
                   norm="LayerNorm", layer_norms=1, gated=False, mlp_bias=True,
                   mlp_names=("fc1", "fc2"), final_norm="final_layernorm", lm_head_bias=True),
    "starcoder2": Decoder("Starcoder2", _sizes(3072, 30, 24, 12288, 49152, True,
                                               num_key_value_heads=2, use_bias=True), NO_QA,
                          qkv_bias="use_bias", o_bias="use_bias", norm="LayerNorm",
                          gated=False, mlp_bias="use_bias", mlp_names=("c_fc", "c_proj"),
                          sliding="every"),
    "olmo2": Decoder("Olmo2", _sizes(4096, 32, 32, 11008, 50304, False),
                     ("Model", "ForCausalLM", "ForSequenceClassification"),
                     qkv_bias="attention_bias", o_bias="attention_bias", qk_norm="width"),
    "cohere": Decoder("Cohere", _sizes(8192, 40, 64, 22528, 256000, True), LM_ONLY,
                      qkv_bias="attention_bias", o_bias="attention_bias", qk_norm="heads",
                      qk_norm_field="use_qk_norm", norm="LayerNorm (no bias)", layer_norms=1),
    "stablelm": Decoder("StableLm", _sizes(2560, 32, 32, 6912, 50304, False,
                                           num_key_value_heads=32), NO_QA,
                        qkv_bias="use_qkv_bias", qk_norm="each", qk_norm_field="qk_layernorm",
                        norm="LayerNorm", parallel_field="use_parallel_residual",
                        absent=("head_dim",)),
    "gpt_oss": Decoder(
        "GptOss", _sizes(2880, 36, 64, 2880, 201088, False, num_key_value_heads=8, head_dim=64,
                         num_local_experts=128, num_experts_per_tok=4, attention_bias=True,
                         sliding_window=128),
        NO_QA, qkv_bias="attention_bias", o_bias="attention_bias", sinks=True,
        moe=MoE(("num_local_experts",), "intermediate_size", router_bias=True,
                expert_bias=True), sliding="alternate"),
    "deepseek_v2": Decoder(
        "DeepseekV2", _sizes(4096, 32, 32, 11008, 102400, False, n_routed_experts=64,
                             moe_intermediate_size=1407, n_shared_experts=2,
                             first_k_dense_replace=0),
        ("Model", "ForCausalLM", "ForSequenceClassification"), mla=True, mlp_bias="mlp_bias",
        moe=MoE(("n_routed_experts",), "moe_intermediate_size", shared=True, dense="first_k")),
    "deepseek_v3": Decoder(
        "DeepseekV3", _sizes(7168, 61, 128, 18432, 129280, False, n_routed_experts=256,
                             moe_intermediate_size=2048, n_shared_experts=1,
                             first_k_dense_replace=3, num_experts_per_tok=8), NO_QA, mla=True,
        moe=MoE(("n_routed_experts",), "moe_intermediate_size", router_buffer=True,
                shared=True, dense="first_k")),
    "bloom": Decoder("Bloom", _sizes(64, 2, 8, None, 250880, True), DECODER_KINDS,
                     aliases={**GPT_STYLE, "hidden_size": ("hidden_size",)},
                     qkv_bias=True, o_bias=True, attn_names=("query_key_value", "dense"),
                     norm="LayerNorm", embed_norm="word_embeddings_layernorm", gated=False,
                     mlp_bias=True, mlp_names=("dense_h_to_4h", "dense_4h_to_h"),
                     embed="word_embeddings", layers="h", final_norm="ln_f",
                     token_head="classifier",
                     absent=("head_dim", "num_key_value_heads", "intermediate_size")),
    "gptj": Decoder("GPTJ", _sizes(4096, 28, 16, None, 50400, False),
                    ("Model", "ForCausalLM", "ForSequenceClassification", "ForQuestionAnswering"),
                    aliases={**GPT_STYLE, "intermediate_size": ("n_inner",)},
                    absent=("head_dim", "num_key_value_heads"),
                    attn_names=("q_proj", "k_proj", "v_proj", "out_proj"), norm="LayerNorm",
                    layer_norms=1, gated=False, mlp_bias=True, mlp_names=("fc_in", "fc_out"),
                    embed="wte", layers="h", final_norm="ln_f", lm_head_bias=True),
}
