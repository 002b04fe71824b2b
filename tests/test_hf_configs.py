"""Hugging Face config counts against transformers itself.

Every model is built by transformers on the meta device (no weights allocated) and
``sum(p.numel() for p in model.parameters())`` — which counts tied tensors once and skips
buffers — is compared exactly with paramlab's arithmetic on the same config: small configs
for every class paramlab supports, and the full-size class defaults for the base model and
the main head.
"""

from __future__ import annotations

import json
import re

import pytest

from paramlab.adapters import find_adapter
from paramlab.adapters.hf import SUPPORTED_MODEL_TYPES, count_hf_config, supported_classes
from paramlab.errors import ConfigError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

# Small configs as a user (or save_pretrained) writes them: old and new field names.
SMALL: dict[str, dict] = {
    "gpt2": {"n_embd": 32, "n_layer": 2, "n_head": 4, "vocab_size": 97, "n_positions": 40},
    "gpt_neox": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 48, "vocab_size": 97},
    "opt": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "ffn_dim": 48,
            "vocab_size": 97, "max_position_embeddings": 40, "word_embed_proj_dim": 16},
    "bert": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 40,
             "type_vocab_size": 3, "id2label": {"0": "a", "1": "b", "2": "c"}},
    "roberta": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 42,
                "type_vocab_size": 1, "num_labels": 5},
    "distilbert": {"dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 48, "vocab_size": 97,
                   "max_position_embeddings": 40},
    "t5": {"d_model": 32, "d_kv": 6, "d_ff": 48, "num_layers": 2, "num_decoder_layers": 3,
           "num_heads": 4, "vocab_size": 97, "relative_attention_num_buckets": 8,
           "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False},
    "bart": {"d_model": 32, "encoder_layers": 2, "decoder_layers": 3,
             "encoder_attention_heads": 4, "decoder_attention_heads": 4,
             "encoder_ffn_dim": 48, "decoder_ffn_dim": 40, "vocab_size": 97,
             "max_position_embeddings": 40, "num_labels": 4},
    "vit": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 48, "image_size": 32, "patch_size": 8, "num_channels": 3,
            "encoder_stride": 8, "id2label": {str(i): str(i) for i in range(7)}},
    "llama": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97,
              "attention_bias": True, "mlp_bias": True},
    "mistral": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 1, "head_dim": 12, "intermediate_size": 48,
                "vocab_size": 97},
    "mixtral": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97,
                "num_local_experts": 4, "num_experts_per_tok": 2},
    "qwen2": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97,
              "tie_word_embeddings": True},
    "gemma": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 1, "head_dim": 16, "intermediate_size": 48,
              "vocab_size": 97},
    "phi3": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97,
             "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2},
}

# The main head class of each type, built at full size (the config class defaults).
MAIN_HEAD = {
    "gpt2": "GPT2LMHeadModel", "gpt_neox": "GPTNeoXForCausalLM", "opt": "OPTForCausalLM",
    "bert": "BertForMaskedLM", "roberta": "RobertaForMaskedLM",
    "distilbert": "DistilBertForMaskedLM", "t5": "T5ForConditionalGeneration",
    "bart": "BartForConditionalGeneration", "vit": "ViTForImageClassification",
    "llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM",
    "mixtral": "MixtralForCausalLM", "qwen2": "Qwen2ForCausalLM", "gemma": "GemmaForCausalLM",
    "phi3": "Phi3ForCausalLM",
}
TYPES = tuple(sorted(SMALL))  # the first 15 types; tests/test_hf_families.py has the rest
BASE = {mt: supported_classes(mt)[0] for mt in TYPES}


def torch_count(class_name: str, config) -> int:
    """Build ``class_name`` on the meta device and count as PyTorch users do."""
    with torch.device("meta"):
        model = getattr(transformers, class_name)(config)
    return sum(p.numel() for p in model.parameters())


def hf_config(model_type: str, fields: dict):
    return transformers.AutoConfig.for_model(model_type, **fields)


def ours(data: dict, **options) -> int:
    return count_hf_config(data, None, options).total


def test_every_family_is_covered():
    assert set(SMALL) == set(MAIN_HEAD) <= set(SUPPORTED_MODEL_TYPES)


@pytest.mark.parametrize(
    ("model_type", "class_name"),
    [(mt, cls) for mt in TYPES for cls in supported_classes(mt)],
)
def test_small_config_every_class(model_type, class_name):
    fields = SMALL[model_type]
    expected = torch_count(class_name, hf_config(model_type, fields))
    data = {"model_type": model_type, "architectures": [class_name], **fields}
    summary = count_hf_config(data, None, None)
    assert summary.name == class_name
    assert summary.total == summary.trainable == expected


@pytest.mark.parametrize("model_type", TYPES)
def test_full_size_defaults_base_and_head(model_type):
    config = hf_config(model_type, {})
    written = json.loads(config.to_json_string())  # as save_pretrained writes it
    assert ours(written) == torch_count(BASE[model_type], config)
    assert ours({"model_type": model_type}) == torch_count(BASE[model_type], config)
    head = MAIN_HEAD[model_type]
    head_config = hf_config(model_type, {})
    assert ours({**written, "architectures": [head]}) == torch_count(head, head_config)


@pytest.mark.parametrize(
    ("model_type", "fields"),
    [
        ("gpt2", {"n_inner": 100, "add_cross_attention": True, "tie_word_embeddings": False}),
        ("opt", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                 "ffn_dim": 40, "vocab_size": 50, "enable_bias": False,
                 "layer_norm_elementwise_affine": False}),
        ("opt", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                 "ffn_dim": 40, "vocab_size": 50, "do_layer_norm_before": False}),
        ("bert", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                  "intermediate_size": 40, "vocab_size": 50, "is_decoder": True,
                  "add_cross_attention": True, "tie_word_embeddings": False}),
        ("roberta", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                     "intermediate_size": 40, "vocab_size": 50, "tie_word_embeddings": False}),
        ("distilbert", {"dim": 32, "n_layers": 1, "n_heads": 4, "hidden_dim": 40,
                        "vocab_size": 50, "sinusoidal_pos_embds": True,
                        "tie_word_embeddings": False}),
        ("t5", {"d_model": 32, "d_kv": 8, "d_ff": 40, "num_layers": 1, "num_heads": 4,
                "vocab_size": 50}),
        ("bart", {"d_model": 32, "encoder_layers": 1, "decoder_layers": 1,
                  "encoder_attention_heads": 4, "decoder_attention_heads": 4,
                  "encoder_ffn_dim": 40, "decoder_ffn_dim": 40, "vocab_size": 50,
                  "max_position_embeddings": 20, "tie_word_embeddings": False}),
        ("vit", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                 "intermediate_size": 40, "image_size": [32, 48], "patch_size": [8, 16],
                 "qkv_bias": False, "pooler_output_size": 20, "num_labels": 0}),
        ("gpt_neox", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                      "intermediate_size": 40, "vocab_size": 50, "attention_bias": False,
                      "tie_word_embeddings": True}),
        ("gemma", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                   "head_dim": 8, "intermediate_size": 40, "vocab_size": 50,
                   "attention_bias": True, "tie_word_embeddings": False}),
        ("llama", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 8,
                   "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 40,
                   "vocab_size": 50, "tie_word_embeddings": True}),
        ("mistral", {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                     "head_dim": None, "intermediate_size": 40, "vocab_size": 50,
                     "tie_word_embeddings": True}),
    ],
)
def test_variants_every_class(model_type, fields):
    """Biases off, untied embeddings, cross-attention, rectangular images…"""
    for class_name in supported_classes(model_type):
        if class_name == "BertForMaskedLM" and fields.get("is_decoder"):
            continue  # transformers warns; the class is meant for encoders
        expected = torch_count(class_name, hf_config(model_type, fields))
        data = {"model_type": model_type, "architectures": [class_name], **fields}
        assert ours(data) == expected, class_name


def test_public_reference_counts():
    assert ours({"model_type": "gpt2"}) == 124_439_808
    assert ours({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}) == 124_439_808
    untied = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
              "tie_word_embeddings": False}
    assert ours(untied) == 163_037_184
    assert ours({"model_type": "bert"}) == 109_482_240
    llama2 = {"model_type": "llama", "architectures": ["LlamaForCausalLM"],
              "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
              "num_attention_heads": 32, "vocab_size": 32000}
    assert ours(llama2) == 6_738_415_616


def test_base_option_and_file_path(tmp_path):
    path = tmp_path / "config.json"
    data = {"model_type": "mistral", "architectures": ["MistralForCausalLM"],
            **SMALL["mistral"]}
    path.write_text(json.dumps(data))
    assert find_adapter(str(path)) is count_hf_config
    assert find_adapter(data) is count_hf_config
    config = hf_config("mistral", SMALL["mistral"])
    assert count_hf_config(str(path)).total == torch_count("MistralForCausalLM", config)
    base = count_hf_config(str(path), None, {"base": True})
    assert base.name == "MistralModel"
    assert base.total == torch_count("MistralModel", config)
    assert "hf config" in base.origin and str(path) in base.origin


def _evaluate(expr: str) -> int:
    """The arithmetic of a formula, evaluated: '4 × (1,024 + 2)' → 4104."""
    text = expr.replace(",", "").replace("×", "*")
    assert re.fullmatch(r"[\d\s+*()]+", text), expr
    return eval(text)  # only digits, +, * and parentheses, checked above


@pytest.mark.parametrize("depth", [0, 1, 2])
@pytest.mark.parametrize("model_type", TYPES)
def test_rows_formulas_add_up(model_type, depth):
    """Every row's formula evaluates to its count; rows sum to the total at every depth."""
    data = {"model_type": model_type, "architectures": [MAIN_HEAD[model_type]],
            **SMALL[model_type]}
    summary = count_hf_config(data, None, {"depth": depth})
    reference = torch_count(MAIN_HEAD[model_type], hf_config(model_type, SMALL[model_type]))
    assert summary.total == reference  # transformers' own count, at every depth
    for row in summary.layers:
        assert sum(w.size for w in row.weights if not w.statistic) == row.params, row.name
        if "=" in row.formula:
            left, right = row.formula.rsplit("=", 1)
            assert _evaluate(left) == row.params == int(right.replace(",", "")), row.formula


def test_row_layout_llama():
    data = {"model_type": "llama", "architectures": ["LlamaForCausalLM"],
            "num_key_value_heads": 8}
    rows = {row.name: row for row in count_hf_config(data).layers}
    attention = rows["layers.0-31 self_attn"]
    assert attention.formula == (
        "32 × (4,096 × (4,096 + 2 × 1,024 + 4,096)) = 1,342,177,280")
    assert attention.params == 32 * 4096 * (4096 + 2 * 1024 + 4096)
    assert list(rows) == ["embed_tokens", "layers.0-31 self_attn", "layers.0-31 mlp",
                          "layers.0-31 norms", "norm", "lm_head"]
    deep = count_hf_config(data, None, {"depth": 2}).layers
    assert len(deep) == 3 + 32 * 3 and deep[1].name == "layers.0 self_attn"
    flat = count_hf_config(data, None, {"depth": 0}).layers
    assert [row.name for row in flat] == ["embed_tokens", "layers.0-31", "norm", "lm_head"]


def test_tied_head_and_buffer_rows():
    gpt2 = count_hf_config({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]})
    head = gpt2.layers[-1]
    assert head.name == "lm_head" and head.params == 0 and "counted once" in head.formula
    assert head.macs == 768 * 50257
    tied = [note for note in gpt2.count_notes if note.kind == "tied"]
    assert len(tied) == 1 and tied[0].fields == ("lm_head",) and "Tied" in tied[0].text
    bart = count_hf_config({"model_type": "bart", "architectures":
                            ["BartForConditionalGeneration"]})
    assert bart.buffers == 50265  # final_logits_bias: a buffer, not a parameter
    assert bart.layers[-1].params == 0


def test_mixtral_macs_count_active_experts():
    summary = count_hf_config({"model_type": "mixtral"})
    rows = {row.name: row for row in summary.layers}
    experts = rows["layers.0-31 mlp.experts"]
    assert experts.params == 32 * 8 * 3 * 4096 * 14336
    assert experts.macs == 32 * 2 * 3 * 4096 * 14336


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"model_type": "lama"}, "unsupported model_type 'lama'. Did you mean 'llama'?"),
        ({"model_type": "no_such_model"}, "Supported: albert, bart, bert"),
        ({"model_type": "llama", "hidden_size": "big"},
         "expected a positive integer for 'hidden_size'. Received: hidden_size='big'"),
        ({"model_type": "llama", "hidden_size": None}, "missing field 'hidden_size'"),
        ({"model_type": "gpt2", "n_layer": 0}, "'n_layer'"),
        ({"model_type": "llama", "tie_word_embeddings": "yes"}, "true or false"),
        ({"model_type": "llama", "architectures": ["LlamaForMaskedLM"]},
         "Supported: LlamaModel, LlamaForCausalLM"),
        ({"model_type": "vit", "image_size": [224]}, "'image_size'"),
        ({"model_type": "t5", "feed_forward_proj": "gated-gelu-x"}, "'feed_forward_proj'"),
    ],
)
def test_errors_name_the_field(data, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        count_hf_config(data)


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "bert", "num_hidden_layers": -2}))
    with pytest.raises(ConfigError, match=re.escape(f"{path}: expected a positive integer")):
        count_hf_config(str(path))
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        count_hf_config(str(path))


def test_cli_end_to_end(tmp_path, capsys):
    """`paramlab count config.json` with --base, --depth and --json; errors exit 2."""
    from paramlab.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "mistral", "architectures":
                                ["MistralForCausalLM"]}))
    assert main(["count", str(path), "--base", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "MistralModel" and data["total"] == 7_110_660_096
    assert data["total"] == torch_count("MistralModel", hf_config("mistral", {}))
    assert main(["count", str(path), "--depth", "2"]) == 0
    text = capsys.readouterr().out
    assert "layers.31 mlp" in text and "Notes:" in text and "MistralForCausalLM" in text
    path.write_text(json.dumps({"model_type": "lama"}))
    assert main(["count", str(path)]) == 2
    assert f"{path}: unsupported model_type 'lama'" in capsys.readouterr().err


def test_no_framework_import():
    """The adapter is arithmetic: importing and counting must not pull transformers/torch."""
    import subprocess
    import sys

    code = ("import sys; from paramlab.adapters.hf import count_hf_config; "
            "count_hf_config({'model_type': 'mixtral'}); "
            "print(*(m in sys.modules for m in ('torch', 'transformers', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False", "False"]
