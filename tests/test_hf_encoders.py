"""Encoders (XLM-RoBERTa, ELECTRA, ALBERT, MPNet, DeBERTa-v2, ModernBERT) and mT5 against
transformers on the meta device: every declared class on small configs and variants, the
config class defaults for the base model and the main head; total and trainable exact."""

from __future__ import annotations

import pytest

from hf_oracle import check_defaults, check_small_config
from paramlab.adapters.hf import SUPPORTED_MODEL_TYPES, supported_classes

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

ENC = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
       "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 40,
       "num_labels": 3}
TOKENS = {"pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "cls_token_id": 1,
          "sep_token_id": 2}
T5 = {"d_model": 32, "d_kv": 6, "d_ff": 48, "num_layers": 2, "num_decoder_layers": 3,
      "num_heads": 4, "vocab_size": 97, "relative_attention_num_buckets": 8,
      "decoder_start_token_id": 0}

SMALL: dict[str, dict] = {
    "xlm-roberta": {**ENC, "type_vocab_size": 1},
    "electra": {**ENC, "embedding_size": 16},
    "albert": {**ENC, "embedding_size": 16, "num_hidden_layers": 4, "num_hidden_groups": 2},
    "mpnet": {**ENC, "relative_attention_num_buckets": 8},
    "deberta-v2": {**ENC, "relative_attention": True, "pos_att_type": ["p2c", "c2p"],
                   "position_buckets": 8, "norm_rel_ebd": "layer_norm", "share_att_key": True,
                   "position_biased_input": False},
    "modernbert": {**ENC, **TOKENS},
    "mt5": T5,
}
VARIANTS: list[tuple[str, dict]] = [
    ("xlm-roberta", {**ENC, "tie_word_embeddings": False}),
    ("electra", {**ENC, "tie_word_embeddings": False}),  # embedding_size 128 ≠ hidden
    ("albert", {**ENC, "embedding_size": 32, "inner_group_num": 2,
                "tie_word_embeddings": False}),
    ("mpnet", {**ENC, "tie_word_embeddings": False}),
    ("deberta-v2", {**ENC, "relative_attention": True, "pos_att_type": "p2c|c2p",
                    "share_att_key": False, "max_relative_positions": 6,
                    "conv_kernel_size": 3, "type_vocab_size": 2, "embedding_size": 16,
                    "pooler_hidden_size": 32}),
    ("deberta-v2", {**ENC, "legacy": False}),
    ("deberta-v2", {**ENC, "tie_word_embeddings": False}),
    ("deberta-v2", {**ENC, "tie_word_embeddings": False, "legacy": False}),
    ("modernbert", {**ENC, **TOKENS, "norm_bias": True, "attention_bias": True,
                    "mlp_bias": True, "classifier_bias": True, "decoder_bias": False}),
    ("modernbert", {**ENC, **TOKENS, "tie_word_embeddings": False, "num_hidden_layers": 1}),
    ("mt5", {**T5, "tie_word_embeddings": False, "feed_forward_proj": "relu"}),
]
MAIN_HEAD = {"xlm-roberta": "XLMRobertaForMaskedLM", "electra": "ElectraForPreTraining",
             "albert": "AlbertForMaskedLM", "mpnet": "MPNetForMaskedLM",
             "deberta-v2": "DebertaV2ForMaskedLM", "modernbert": "ModernBertForMaskedLM",
             "mt5": "MT5ForConditionalGeneration"}
SKIP = {"DebertaV2ForMultipleChoice"}  # built below: its pooler needs pooler_hidden_size


def test_declared():
    assert set(SMALL) <= set(SUPPORTED_MODEL_TYPES)


@pytest.mark.parametrize(
    ("model_type", "fields", "class_name"),
    [(mt, fields, cls) for mt, fields in [*SMALL.items(), *VARIANTS]
     for cls in supported_classes(mt)],
)
def test_small_configs_every_class(model_type, fields, class_name):
    check_small_config(model_type, fields, class_name)


@pytest.mark.parametrize("model_type", list(SMALL))
def test_full_size_defaults_base_and_head(model_type):
    check_defaults(model_type, MAIN_HEAD[model_type],
                   **(TOKENS if model_type == "modernbert" else {}))
