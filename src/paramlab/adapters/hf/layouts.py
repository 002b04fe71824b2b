"""How transformers 5 reads a ``config.json`` written by any release: field aliases, names
older releases wrote, and layouts it still accepts (flat text fields, ``*_config_dict``).

A file on the Hub is read as transformers reads it, or the count is of another model. These
tables are transformers 5.25's, copied as data so that counting needs no transformers;
``tests/test_hf_layouts.py`` compares each with the installed transformers, so a release
that changes one fails a named test (``make test-latest``) instead of miscounting.
"""

from __future__ import annotations

from typing import Any

# The transformers release these tables, and every family's arithmetic, were checked against.
CHECKED_WITH = "5.25"

# The config classes' ``attribute_map``: an alias a file may use for a field. transformers
# sets the alias after the field, so where a file has both, the alias wins.
ATTRIBUTE_MAPS: dict[str, dict[str, str]] = {
    "bart": {"num_attention_heads": "encoder_attention_heads", "hidden_size": "d_model",
             "num_hidden_layers": "encoder_layers"},
    "bloom": {"num_hidden_layers": "n_layer", "num_attention_heads": "n_head"},
    "convnext": {"num_hidden_layers": "num_stages"},
    "deepseek_v2": {"num_experts": "n_routed_experts"},
    "deepseek_v3": {"num_local_experts": "n_routed_experts",
                    "num_mtp_layers": "num_nextn_predict_layers"},
    "distilbert": {"hidden_size": "dim", "num_attention_heads": "n_heads",
                   "num_hidden_layers": "n_layers"},
    "gemma3": {"image_token_id": "image_token_index", "boi_token_id": "boi_token_index",
               "eoi_token_id": "eoi_token_index"},
    "gpt2": {"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
             "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"},
    "gpt_oss": {"num_experts": "num_local_experts"},
    "gptj": {"max_position_embeddings": "n_positions", "hidden_size": "n_embd",
             "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"},
    "llava": {"image_token_id": "image_token_index"},
    "mixtral": {"num_experts": "num_local_experts"},
    "mt5": {"hidden_size": "d_model", "num_attention_heads": "num_heads",
            "num_hidden_layers": "num_layers", "head_dim": "d_kv"},
    "qwen2_5_vl_vision": {"num_attention_heads": "num_heads", "num_hidden_layers": "depth"},
    "qwen3_moe": {"num_experts": "num_local_experts"},
    "swin": {"num_attention_heads": "num_heads", "num_hidden_layers": "num_layers"},
    "t5": {"hidden_size": "d_model", "num_attention_heads": "num_heads",
           "num_hidden_layers": "num_layers", "head_dim": "d_kv"},
    "whisper": {"num_key_value_heads": "encoder_attention_heads",
                "num_attention_heads": "encoder_attention_heads", "hidden_size": "d_model",
                "num_hidden_layers": "encoder_layers"},
}

# Where the usual roles are swapped: an alias that is the dataclass field, and an attribute
# that is not one (set in ``__post_init__``, so a file's value for it comes last).
FIELD_ALIASES = frozenset({("qwen3_moe", "num_experts"), ("deepseek_v3", "num_mtp_layers")})
NOT_FIELDS = frozenset({("qwen3_moe", "num_local_experts"),
                        ("deepseek_v3", "num_nextn_predict_layers"), ("swin", "num_layers")})

# Names older releases wrote that a config class's ``__post_init__`` still takes in place of
# a field (and, like an alias, in preference to it).
LEGACY_NAMES: dict[str, dict[str, str]] = {
    "bloom": {"n_embed": "hidden_size"},
    "falcon": {"n_embed": "hidden_size"},
}

# Qwen2.5-VL files written by transformers 4.x keep the language model's fields at the top
# level; with no ``text_config``, transformers 5 moves these (Qwen2_5_VLTextConfig's fields,
# and the RoPE settings) into it and leaves every other field where it is.
FLAT_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "qwen2_5_vl": (
        "transformers_version", "architectures", "output_hidden_states", "return_dict",
        "dtype", "chunk_size_feed_forward", "is_encoder_decoder", "id2label", "label2id",
        "problem_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "num_key_value_heads", "hidden_act", "max_position_embeddings",
        "initializer_range", "rms_norm_eps", "use_cache", "use_sliding_window",
        "sliding_window", "max_window_layers", "layer_types", "attention_dropout",
        "rope_parameters", "bos_token_id", "eos_token_id", "pad_token_id", "rope_scaling",
        "rope_theta"),
}

# Types whose files may carry ``text_config_dict`` / ``vision_config_dict`` (CLIP before
# transformers 4.23): transformers 5 builds the towers from those, not from ``*_config``.
CONFIG_DICTS = frozenset({"clip"})

# Composite types whose language model may carry ``tie_word_embeddings`` (files written
# before transformers 5 put it there): transformers 5 ties when the top level says false
# (or nothing) and the text config says true.
TIE_FROM_TEXT = frozenset({"llava", "qwen2_5_vl"})


def canonical(model_type: str, data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``data`` with every alias and legacy name resolved onto the attribute it sets, as
    transformers 5 resolves them, and a sentence for each one that decided something.

    transformers sets a config's dataclass fields first and every other name after
    (``__post_init__``), through ``attribute_map``; so where one attribute is given under
    several names, the last name that is not a dataclass field wins (``hidden_size`` over
    GPT-2's ``n_embd``, but Qwen3-MoE's ``num_local_experts`` over its field
    ``num_experts``)."""
    renames = {**ATTRIBUTE_MAPS.get(model_type, {}), **LEGACY_NAMES.get(model_type, {})}
    out = {key: value for key, value in data.items() if key not in renames}
    said = []
    for target in dict.fromkeys(renames.values()):
        given = [key for key in data if key == target or renames.get(key) == target]
        if not given:
            continue
        late = [key for key in given if not _is_field(model_type, key)]
        winner = (late or given)[-1]
        out[target] = data[winner]
        if winner in LEGACY_NAMES.get(model_type, {}):
            said.append(f"{winner}={data[winner]!r} (a name older releases wrote) is read as "
                        f"{target}")
        overridden = [f"{key}={data[key]!r}" for key in given
                      if key != winner and data[key] != data[winner]]
        if overridden:
            said.append(f"{winner}={data[winner]!r} sets {target}, over "
                        f"{', '.join(overridden)}, as transformers sets it")
    return out, said


def _is_field(model_type: str, name: str) -> bool:
    """Whether transformers' config class has ``name`` as a dataclass field."""
    if name in ATTRIBUTE_MAPS.get(model_type, {}):
        return (model_type, name) in FIELD_ALIASES
    if name in LEGACY_NAMES.get(model_type, {}):
        return False
    return (model_type, name) not in NOT_FIELDS


def nested_text(model_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The text config of a flat (transformers 4.x) layout, as transformers 5 builds it; None
    when the type has no flat layout or the file nests its text config."""
    fields = FLAT_TEXT_FIELDS.get(model_type)
    if fields is None or data.get("text_config") is not None:
        return None
    return {name: data[name] for name in fields if name in data}
