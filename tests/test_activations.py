"""Activations per layer (Korthikanti et al., arXiv 2205.05198) against the paper's own
figures, and attention FLOPs at a context length against PyTorch's FLOP counter and
transformers' attention masks."""

from __future__ import annotations

import json

import pytest

import paramlab
from paramlab.activations import attended_pairs, attention_flops, layer_activation_bytes
from paramlab.errors import ParamlabError

S = 2048  # the paper's sequence length (§5, Table 3)
# (heads a, hidden h) of the paper's models (Table 3)
GPT3_175B, MT_NLG_530B, ONE_T = (96, 12288), (128, 20480), (160, 25600)


def bytes_(model: tuple[int, int], **kw: object) -> int:
    a, h = model
    return layer_activation_bytes(S, 1, h, a, **kw).bytes  # type: ignore[arg-type]


def test_gpt3_attention_term_is_80() -> None:
    """§4.1: for GPT-3, a = 96, s = 2048, h = 12288, so 5as/h = 80 (sbh(34 + 80))."""
    sbh = S * 12288
    assert bytes_(GPT3_175B) == sbh * (34 + 80)


@pytest.mark.parametrize(("model", "saving"), [(GPT3_175B, 0.70), (MT_NLG_530B, 0.65)])
def test_selective_recomputation_saving_as_the_paper_reports(model, saving) -> None:
    """§4.2: selective recomputation saves 70% (GPT-3) and 65% (MT-NLG) of activation memory."""
    kept = bytes_(model, checkpointing="selective") / bytes_(model)
    assert round(1 - kept, 2) == saving


@pytest.mark.parametrize("model", [GPT3_175B, MT_NLG_530B, ONE_T])
def test_five_fold_reduction_with_sequence_parallelism(model) -> None:
    """Abstract and §6: tensor parallelism (t = 8) alone against sequence parallelism plus
    selective recomputation: 'reduces activation memory by 5x'."""
    baseline = bytes_(model, tensor_parallel=8)
    ours = bytes_(model, tensor_parallel=8, sequence_parallel=True, checkpointing="selective")
    assert round(baseline / ours) == 5


def test_table2_tensor_parallel_rows() -> None:
    a, h = GPT3_175B
    sbh, t = S * h, 8
    assert bytes_(GPT3_175B, tensor_parallel=t) == sbh * (10 + 24 // t) + 5 * a * S * S // t
    assert bytes_(GPT3_175B, tensor_parallel=t, checkpointing="selective") == sbh * 13
    assert bytes_(GPT3_175B, checkpointing="full") == 2 * sbh


def test_flash_attention_stores_no_scores_only_log_sum_exp() -> None:
    a, h = GPT3_175B
    assert bytes_(GPT3_175B, flash=True) == 34 * S * h + 4 * a * S


def test_unknown_checkpointing_is_an_error() -> None:
    with pytest.raises(ParamlabError, match="checkpointing must be one of"):
        layer_activation_bytes(8, 1, 8, 2, checkpointing="some")


torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
masking = pytest.importorskip("transformers.masking_utils")


@pytest.mark.parametrize(("context", "window"), [(9, None), (9, 4), (4, 9), (17, 1)])
def test_attended_pairs_match_transformers_masks(context, window) -> None:
    if window is None:
        allowed = masking.causal_mask_function
    else:
        allowed = masking.sliding_window_causal_mask_function(window)
    q, kv = torch.arange(context)[:, None], torch.arange(context)[None, :]
    expected = int(allowed(0, 0, q, kv).sum())
    assert attended_pairs(context, window) == expected


LLM = {"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4,
       "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97}
MLA = {**LLM, "num_key_value_heads": 4, "first_k_dense_replace": 1, "n_routed_experts": 4,
       "num_experts_per_tok": 2, "moe_intermediate_size": 16, "n_shared_experts": 1,
       "q_lora_rank": 12, "kv_lora_rank": 10, "qk_rope_head_dim": 4, "qk_nope_head_dim": 6,
       "v_head_dim": 5, "n_group": 1, "topk_group": 1}


@pytest.mark.parametrize(("model_type", "class_name", "fields"), [
    ("llama", "LlamaForCausalLM", LLM),
    ("mistral", "MistralForCausalLM", {**LLM, "sliding_window": 3}),
    ("deepseek_v3", "DeepseekV3ForCausalLM", MLA),  # latent attention: d_qk ≠ d_v
])
def test_attention_flops_match_torch_flop_counter(model_type, class_name, fields) -> None:
    """An eager forward computes every s² pair (then masks): its FLOP count is the weights'
    2 × MACs per token × s plus our dense attention FLOPs. (PyTorch's counter does not see
    the stacked experts' grouped matmul, so their MACs are left out of both sides.)"""
    from torch.utils.flop_counter import FlopCounterMode

    config = transformers.AutoConfig.for_model(model_type, **fields)
    config._attn_implementation = "eager"
    model = getattr(transformers, class_name)(config)
    context = 7
    with FlopCounterMode(display=False) as counter:
        model(input_ids=torch.arange(context)[None])
    data = {**json.loads(config.to_json_string()), "architectures": [class_name]}
    summary = paramlab.count(data, flops=True, context=context)
    flops = summary.to_dict()["attention_flops"]
    weights = summary.macs - sum(row.macs for row in summary.layers if "Experts" in row.type)
    assert counter.get_total_flops() == 2 * weights * context + flops["dense_flops"]
    if "sliding_window" not in fields:
        assert flops["causal_macs"] == flops["dense_macs"] * (context + 1) // (2 * context)
    else:
        assert flops["causal_macs"] < flops["dense_macs"] * (context + 1) // (2 * context)


def test_activations_read_the_configs_sizes() -> None:
    """Full recomputation keeps each layer's input, 2sbh bytes: s, h and the layer count
    come from the config (transformers' own config object says what they are)."""
    config = transformers.AutoConfig.for_model("qwen3", hidden_size=64, num_hidden_layers=5,
                                               num_attention_heads=4, vocab_size=50)
    data = {**json.loads(config.to_json_string()), "architectures": ["Qwen3ForCausalLM"]}
    summary = paramlab.count(data, context=128, batch_size=3, checkpointing="full")
    acts = summary.to_dict()["training_per_gpu"]["activations"]
    assert acts["layers"] == config.num_hidden_layers
    assert acts["bytes"] == config.num_hidden_layers * 2 * 128 * 3 * config.hidden_size


def test_sliding_window_layers_attend_fewer_pairs() -> None:
    widths, context = [10, 10], 100
    full = attention_flops(context, widths, [None, None])
    sliding = attention_flops(context, widths, [None, 8])
    assert sliding.causal_macs == 10 * attended_pairs(context) + 10 * attended_pairs(context, 8)
    assert sliding.causal_macs < full.causal_macs and sliding.dense_macs == full.dense_macs


def _saved_bytes(module, x, owner=None) -> tuple[int, int]:
    """Bytes of the tensors autograd keeps for backward (each storage once, the parameters
    of ``owner`` (default ``module``) left out), and the part of them that is LayerNorm's
    per-token mean and rstd."""
    params = {p.untyped_storage().data_ptr() for p in (owner or module).parameters()}
    seen: dict[int, tuple[int, tuple[int, ...]]] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = (storage.nbytes(), tuple(t.shape))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x)
    stats = sum(size for size, shape in seen.values() if shape[-1] == 1)
    return sum(size for size, _ in seen.values()), stats


def _selective(module, query, key, value, attention_mask, **kwargs):
    """Selective recomputation (Korthikanti et al. §4.2): the attention core — scores,
    softmax, dropout, weighted values — under a checkpoint; only its inputs are kept."""
    from torch.utils.checkpoint import checkpoint
    from transformers.models.gpt2.modeling_gpt2 import eager_attention_forward

    def core(q, k, v):
        return eager_attention_forward(module, q, k, v, attention_mask, **kwargs)[0]

    return checkpoint(core, query, key, value, use_reentrant=True), None


@pytest.mark.parametrize(("attention", "dropout", "options"), [
    ("eager", 0.1, {}),  # scores, their dropout mask and output stored: 5as²b
    ("sdpa", 0.0, {"flash": True}),  # PyTorch's flash kernel on CPU keeps its log-sum-exp
    ("paramlab_selective", 0.1, {"checkpointing": "selective"}),
    ("eager", 0.1, {"checkpointing": "full"}),  # the whole block under a checkpoint
])
def test_gpt2_layer_saves_what_korthikanti_counts(attention, dropout, options) -> None:
    """A GPT-2 block is the paper's GPT-3 layer (LayerNorm, 4h GeLU MLP, dropout). In bf16
    autograd saves exactly what Table 2 says for each setting, once LayerNorm's per-token
    statistics are set aside and the dropout masks are taken at the size PyTorch keeps them
    (the paper's 1 byte is CUDA's bool mask; CPU dropout keeps its mask in the input dtype)."""
    from torch.utils.checkpoint import checkpoint
    from transformers.models.gpt2.modeling_gpt2 import GPT2Block

    transformers.AttentionInterface.register("paramlab_selective", _selective)
    h, a, s, b = 64, 4, 32, 2
    config = transformers.GPT2Config(n_embd=h, n_head=a, n_layer=1, activation_function="gelu",
                                     attn_pdrop=dropout, resid_pdrop=0.1)
    config._attn_implementation = attention
    block = GPT2Block(config, layer_idx=0).to(torch.bfloat16).train()
    full = options.get("checkpointing") == "full"
    module = (lambda x: checkpoint(block, x, use_reentrant=True)) if full else block
    x = torch.randn(b, s, h, dtype=torch.bfloat16, requires_grad=True)
    saved, stats = _saved_bytes(module, x, block)
    mask, _ = _saved_bytes(torch.nn.Dropout(0.1), torch.randn(100, dtype=torch.bfloat16,
                                                              requires_grad=True))
    mask_bytes = mask // 100  # bytes per value of a dropout mask on this device
    masks = 0 if full else 2 * s * b * h  # the two residual dropout masks, when stored
    if dropout and not options:
        masks += a * s * s * b  # the attention-probability mask
    expected = layer_activation_bytes(s, b, h, a, **options).bytes + (mask_bytes - 1) * masks
    assert saved - stats == expected


hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(context=st.integers(1, 40), window=st.none() | st.integers(1, 50))
def test_attended_pairs_any_window(context: int, window: int | None) -> None:
    allowed = (masking.causal_mask_function if window is None
               else masking.sliding_window_causal_mask_function(window))
    q, kv = torch.arange(context)[:, None], torch.arange(context)[None, :]
    assert attended_pairs(context, window) == int(allowed(0, 0, q, kv).sum())
