"""Hugging Face configs counted by arithmetic equal transformers' own models, built on the
meta device (no weights), for every supported model_type: the full-size defaults of each
config class, small configs that exercise the optional fields, and several head classes."""

import json
from pathlib import Path
from typing import Any

import pytest

import paramlab
from paramlab.adapters.hf import hf_parts
from paramlab.errors import ConfigError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

CLASSES = {
    "gpt2": ("GPT2Config", ["GPT2Model", "GPT2LMHeadModel", "GPT2ForSequenceClassification"]),
    "gpt_neox": ("GPTNeoXConfig", ["GPTNeoXModel", "GPTNeoXForCausalLM"]),
    "opt": ("OPTConfig", ["OPTModel", "OPTForCausalLM", "OPTForSequenceClassification"]),
    "bert": ("BertConfig", ["BertModel", "BertForMaskedLM", "BertForSequenceClassification",
                            "BertForPreTraining", "BertForTokenClassification",
                            "BertForQuestionAnswering"]),
    "roberta": ("RobertaConfig", ["RobertaModel", "RobertaForMaskedLM",
                                  "RobertaForSequenceClassification"]),
    "distilbert": ("DistilBertConfig", ["DistilBertModel", "DistilBertForMaskedLM",
                                        "DistilBertForSequenceClassification"]),
    "t5": ("T5Config", ["T5Model", "T5ForConditionalGeneration", "T5EncoderModel"]),
    "bart": ("BartConfig", ["BartModel", "BartForConditionalGeneration",
                            "BartForSequenceClassification"]),
    "vit": ("ViTConfig", ["ViTModel", "ViTForImageClassification"]),
    "llama": ("LlamaConfig", ["LlamaModel", "LlamaForCausalLM",
                              "LlamaForSequenceClassification"]),
    "mistral": ("MistralConfig", ["MistralModel", "MistralForCausalLM"]),
    "mixtral": ("MixtralConfig", ["MixtralModel", "MixtralForCausalLM"]),
    "qwen2": ("Qwen2Config", ["Qwen2Model", "Qwen2ForCausalLM"]),
    "gemma": ("GemmaConfig", ["GemmaModel", "GemmaForCausalLM"]),
    "phi3": ("Phi3Config", ["Phi3Model", "Phi3ForCausalLM"]),
}

SMALL = {
    "gpt2": {"n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 128, "vocab_size": 300,
             "n_inner": 100, "tie_word_embeddings": False},
    "gpt_neox": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 96, "vocab_size": 300, "attention_bias": False,
                 "tie_word_embeddings": True},
    "opt": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
            "ffn_dim": 80, "vocab_size": 300, "word_embed_proj_dim": 32,
            "max_position_embeddings": 100, "enable_bias": False},
    "bert": {"hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 60, "vocab_size": 200, "type_vocab_size": 3,
             "num_labels": 5},
    "roberta": {"hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
                "intermediate_size": 60, "vocab_size": 200, "max_position_embeddings": 66,
                "id2label": {"0": "a", "1": "b", "2": "c", "3": "d"}},
    "distilbert": {"dim": 48, "n_layers": 2, "n_heads": 4, "hidden_dim": 60,
                   "vocab_size": 200, "num_labels": 7},
    "t5": {"d_model": 32, "d_kv": 8, "d_ff": 40, "num_layers": 3, "num_decoder_layers": 2,
           "num_heads": 4, "vocab_size": 100, "feed_forward_proj": "gated-gelu",
           "tie_word_embeddings": False},
    "bart": {"d_model": 32, "encoder_layers": 2, "decoder_layers": 3, "encoder_ffn_dim": 40,
             "decoder_ffn_dim": 48, "encoder_attention_heads": 4,
             "decoder_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 64},
    "vit": {"hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 60, "image_size": 32, "patch_size": 8, "num_channels": 1,
            "qkv_bias": False, "num_labels": 10},
    "llama": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
              "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 100,
              "vocab_size": 300, "attention_bias": True, "mlp_bias": True,
              "tie_word_embeddings": True},
    "mistral": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
                "num_key_value_heads": 4, "intermediate_size": 100, "vocab_size": 300},
    "mixtral": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
                "num_key_value_heads": 2, "intermediate_size": 50, "vocab_size": 300,
                "num_local_experts": 4, "num_experts_per_tok": 2},
    "qwen2": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
              "num_key_value_heads": 2, "intermediate_size": 100, "vocab_size": 300,
              "tie_word_embeddings": True},
    "gemma": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 1, "head_dim": 32, "intermediate_size": 100,
              "vocab_size": 300},
    "phi3": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
             "num_key_value_heads": 4, "intermediate_size": 100, "vocab_size": 300,
             "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2},
}


def transformers_count(config: Any, class_name: str) -> int:
    with torch.device("meta"):
        model = getattr(transformers, class_name)(config)
    return sum(p.numel() for p in model.parameters())  # tied parameters appear once


def our_count(fields: dict[str, Any], model_type: str, class_name: str) -> int:
    _, parts = hf_parts({**fields, "model_type": model_type, "architectures": [class_name]},
                        "<test>")
    return sum(p.total for p in parts)


CASES = [(mt, cls) for mt, (_, classes) in CLASSES.items() for cls in classes]


@pytest.mark.parametrize(("model_type", "class_name"), CASES)
def test_full_size_defaults(model_type: str, class_name: str) -> None:
    config = getattr(transformers, CLASSES[model_type][0])()
    assert our_count({}, model_type, class_name) == transformers_count(config, class_name)


@pytest.mark.parametrize(("model_type", "class_name"), CASES)
def test_small_configs_with_optional_fields(model_type: str, class_name: str) -> None:
    fields = SMALL[model_type]
    config = getattr(transformers, CLASSES[model_type][0])(**fields)
    assert our_count(fields, model_type, class_name) == transformers_count(config, class_name)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}, 124_439_808),
    ({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
      "tie_word_embeddings": False}, 163_037_184),
    ({"model_type": "bert"}, 109_482_240),
    ({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}, 6_738_415_616),
])
def test_public_reference_counts(tmp_path: Path, fields: dict[str, Any], expected: int) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(fields))
    summary = paramlab.count(str(path))
    assert summary.total == summary.trainable == expected


def test_base_flag_and_breakdown(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from paramlab.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "mistral", "architectures":
                                ["MistralForCausalLM"]}))
    assert main(["count", str(path), "--base", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "MistralModel" and data["total"] == 7_110_660_096
    assert sum(layer["params"] for layer in data["layers"]) == data["total"]
    assert any(layer["name"] == "layers.0-31.attention" for layer in data["layers"])
    assert main(["count", str(path), "--depth", "2", "--json"]) == 0
    deep = json.loads(capsys.readouterr().out)
    assert sum(1 for layer in deep["layers"] if layer["name"].endswith(".mlp")) == 32


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"model_type": "lama"}, "model_type 'lama' is not supported (did you mean 'llama'?)"),
    ({"model_type": "llama", "hidden_size": "big"}, "field 'hidden_size' must be a "
     "non-negative integer"),
    ({"model_type": "bert", "architectures": ["BertForSomethingNew"]}, "not supported"),
])
def test_bad_configs_name_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         fields: dict[str, Any], fragment: str) -> None:
    from paramlab.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps(fields))
    assert main(["count", str(path)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and str(path) in err
    with pytest.raises(ConfigError):
        paramlab.count(str(path))


def test_counting_imports_no_framework(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "llama"}))
    code = ("import sys, paramlab; paramlab.count(sys.argv[1]); "
            "print([m for m in ('torch', 'transformers', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"
