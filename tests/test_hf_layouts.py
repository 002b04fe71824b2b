"""Config files as they are published, against transformers on the meta device.

* ``tests/data/hf_published/``: real ``config.json`` files as found on the Hub (provenance in
  SOURCES.md), most written by transformers 4.x, counted exactly — Qwen2.5-VL's flat layout
  among them, which paramlab once counted 9× too large from the class defaults.
* The legacy layouts transformers 5 still accepts, one at a time: Qwen2.5-VL's top-level
  text fields, ``tie_word_embeddings`` inside ``text_config``, CLIP's ``*_config_dict``,
  BLOOM's and Falcon's ``n_embed``, ``attribute_map`` aliases given beside the field.
* The tables in :mod:`paramlab.adapters.hf.layouts` equal the installed transformers' own.
* The notes name every size taken from a class default, and only those.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import pytest

from hf_oracle import torch_counts
from paramlab.adapters.hf import FAMILIES, SUPPORTED_MODEL_TYPES, count_hf_config, layouts

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

PUBLISHED = sorted((Path(__file__).parent / "data" / "hf_published").glob("*.json"))
LLM = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
       "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 97}
QWEN_VISION = {"hidden_size": 24, "depth": 2, "num_heads": 4, "intermediate_size": 40,
               "out_hidden_size": 32, "patch_size": 4, "spatial_merge_size": 2,
               "temporal_patch_size": 2, "in_channels": 3}
CLIP_TEXT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 48, "vocab_size": 97, "max_position_embeddings": 20}
CLIP_VISION = {"hidden_size": 24, "num_hidden_layers": 2, "num_attention_heads": 4,
               "intermediate_size": 40, "image_size": 32, "patch_size": 8}


def transformers_count(data: dict) -> tuple[int, int]:
    """transformers' (total, trainable) for a config dict as a file gives it."""
    fields = {k: v for k, v in data.items() if k != "model_type"}
    config_class = transformers.CONFIG_MAPPING[data["model_type"]]
    config = config_class.from_dict(json.loads(json.dumps(fields)))
    architectures = data.get("architectures")
    if architectures:
        return torch_counts(architectures[0], config)
    with torch.device("meta"):
        model = transformers.AutoModel.from_config(config)
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


def ours(data: dict) -> tuple[int, int]:
    summary = count_hf_config(json.loads(json.dumps(data)))
    return summary.total, summary.trainable


def notes_of(data: dict) -> str:
    return "\n".join(note.text for note in
                     count_hf_config(json.loads(json.dumps(data))).count_notes)


def test_published_files_are_there():
    assert len(PUBLISHED) >= 17
    listed = (PUBLISHED[0].parent / "SOURCES.md").read_text()
    assert all(path.name in listed for path in PUBLISHED)


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: p.stem)
def test_published_config_counts_as_transformers(path):
    data = json.loads(path.read_text())
    assert ours(data) == transformers_count(data)


def test_qwen2_5_vl_7b_as_published():
    """The Hub file: language-model fields at the top level (transformers 4.41.2)."""
    data = json.loads((PUBLISHED[0].parent / "Qwen__Qwen2.5-VL-7B-Instruct.json").read_text())
    assert "text_config" not in data and data["hidden_size"] == 3584
    assert ours(data)[0] == 8_292_166_656
    notes = notes_of(data)
    assert "the language model's fields are read from the top level" in notes
    assert "text_config.hidden_size" not in notes  # read from the file, not defaulted


@pytest.mark.parametrize("tie", [True, False])
def test_qwen2_5_vl_flat_layout_and_tie_word_embeddings(tie):
    flat = {"model_type": "qwen2_5_vl", "architectures": ["Qwen2_5_VLForConditionalGeneration"],
            **LLM, "tie_word_embeddings": tie, "vision_config": QWEN_VISION}
    assert ours(flat) == transformers_count(flat)
    nested = {"model_type": "qwen2_5_vl", "architectures": flat["architectures"],
              "text_config": {**LLM, "tie_word_embeddings": tie},
              "vision_config": {**QWEN_VISION, "model_type": "qwen2_5_vl"}}  # old vision type
    assert ours(nested) == transformers_count(nested)
    assert ours(flat) == ours(nested)  # the tie is honoured wherever the file keeps it
    assert ours(flat)[0] != ours({**flat, "tie_word_embeddings": not tie})[0]


@pytest.mark.parametrize("tie", [True, False])
def test_llava_tie_word_embeddings_in_text_config(tie):
    data = {"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"],
            "text_config": {"model_type": "llama", **LLM, "tie_word_embeddings": tie},
            "vision_config": {"model_type": "clip_vision_model", **CLIP_VISION}}
    assert ours(data) == transformers_count(data)


def test_clip_config_dicts_win_over_config():
    data = {"model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": 16,
            "text_config": CLIP_TEXT, "vision_config": CLIP_VISION,
            "text_config_dict": {**CLIP_TEXT, "hidden_size": 48},
            "vision_config_dict": {**CLIP_VISION, "num_hidden_layers": 3}}
    assert ours(data) == transformers_count(data)
    assert ours(data) != ours({k: v for k, v in data.items() if not k.endswith("_dict")})
    assert "text_config_dict is read in place of text_config" in notes_of(data)


@pytest.mark.parametrize("model_type", ["bloom", "falcon"])
def test_n_embed_written_by_older_releases(model_type):
    data = {"model_type": model_type, "architectures": [FAMILIES[model_type].prefix + "Model"],
            "hidden_size": 32, "n_embed": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "vocab_size": 97}
    assert ours(data) == transformers_count(data)
    assert "n_embed=48 (a name older releases wrote) is read as hidden_size" in notes_of(data)


def test_falcon_rw_names_are_ignored_as_transformers_ignores_them():
    """transformers 5 has no n_layer/n_head for Falcon (the RefinedWeb names): the defaults
    (32 layers, 71 heads) apply, and the notes name the two fields not read."""
    data = {"model_type": "falcon", "architectures": ["FalconModel"], "hidden_size": 142,
            "n_layer": 2, "n_head": 2, "vocab_size": 97}
    assert ours(data) == transformers_count(data)
    notes = notes_of(data)
    assert "In the file but not read: n_layer, n_head." in notes
    assert "num_hidden_layers=32" in notes and "num_attention_heads=71" in notes


@pytest.mark.parametrize(("model_type", "text_type"), [("qwen2_5_vl", None),
                                                       ("gemma3", "gemma3_text"),
                                                       ("llava", "llama")])
def test_sparse_text_config_takes_the_text_classes_defaults(model_type, text_type):
    """A nested text config that gives only its depth: every other width, the LM head's
    included, is the text config class's default, as in transformers."""
    head = {"qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
            "gemma3": "Gemma3ForConditionalGeneration",
            "llava": "LlavaForConditionalGeneration"}[model_type]
    text = {"num_hidden_layers": 1, **({"model_type": text_type} if text_type else {})}
    vision = ({**QWEN_VISION, "out_hidden_size": 8192} if model_type == "qwen2_5_vl"
              else {**CLIP_VISION, "model_type": "siglip_vision_model" if model_type ==
                    "gemma3" else "clip_vision_model"})
    data = {"model_type": model_type, "architectures": [head], "text_config": text,
            "vision_config": vision}
    assert ours(data) == transformers_count(data)
    assert "text_config.hidden_size=" in notes_of(data)


@pytest.mark.parametrize(("model_type", "fields"), [
    ("gpt2", {"n_embd": 32, "hidden_size": 48, "n_layer": 2, "n_head": 4, "vocab_size": 97}),
    ("t5", {"d_model": 32, "hidden_size": 48, "num_layers": 2, "num_heads": 4, "d_kv": 8,
            "d_ff": 40, "vocab_size": 97, "decoder_start_token_id": 0}),
    ("qwen3_moe", {**LLM, "num_experts": 4, "num_local_experts": 2, "num_experts_per_tok": 1,
                   "moe_intermediate_size": 16, "head_dim": 8}),
    ("whisper", {"d_model": 32, "encoder_layers": 2, "decoder_layers": 2, "vocab_size": 97,
                 "encoder_attention_heads": 4, "num_attention_heads": 2,
                 "decoder_attention_heads": 4, "encoder_ffn_dim": 40, "decoder_ffn_dim": 40,
                 "num_mel_bins": 8, "max_source_positions": 30, "max_target_positions": 20,
                 "decoder_start_token_id": 1, "pad_token_id": 0}),
])
def test_alias_beside_its_field_resolves_as_transformers_does(model_type, fields):
    """GPT-2's hidden_size wins over n_embd; Qwen3-MoE's num_local_experts over its field
    num_experts (the alias is the field there): the name set last wins."""
    data = {"model_type": model_type, **fields}
    assert ours(data) == transformers_count(data)
    assert "as transformers sets it" in notes_of(data)


def test_attribute_maps_and_field_roles_are_transformers():
    types = set(SUPPORTED_MODEL_TYPES) | {"qwen2_5_vl_vision"}
    installed = {t: dict(transformers.CONFIG_MAPPING[t].attribute_map) for t in sorted(types)}
    maps = {t: m for t, m in installed.items() if m}
    fields = {t: {f.name for f in dataclasses.fields(transformers.CONFIG_MAPPING[t])}
              for t in maps}
    aliases_that_are_fields = {(t, a) for t, m in maps.items() for a in m if a in fields[t]}
    targets_that_are_not = {(t, a) for t, m in maps.items() for a in m.values()
                            if a not in fields[t]}
    ours_tables = (layouts.ATTRIBUTE_MAPS, layouts.FIELD_ALIASES, layouts.NOT_FIELDS)
    assert ours_tables == (maps, aliases_that_are_fields, targets_that_are_not)


def test_flat_text_fields_are_the_text_config_classes():
    text_class = transformers.Qwen2_5_VLConfig.sub_configs_defaults["text_config"].config_class
    parameters = list(inspect.signature(text_class.__init__).parameters)[1:]
    expected = (*parameters, "rope_parameters", "rope_scaling", "rope_theta")
    assert set(layouts.FLAT_TEXT_FIELDS["qwen2_5_vl"]) == set(expected)


def test_the_release_named_in_notes_is_the_pinned_one():
    """The notes say which transformers release the arithmetic was checked against: the one
    constraints.txt pins for `make test` (updating the pin means checking again)."""
    pins = (Path(__file__).parents[1] / "constraints.txt").read_text().splitlines()
    pinned = next(line.split("==")[1] for line in pins if line.startswith("transformers=="))
    assert pinned.startswith(layouts.CHECKED_WITH + ".")


def test_defaults_are_named_and_only_those():
    partial = {"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"],
               "text_config": {"model_type": "llama", "vocab_size": 97, "hidden_size": 32},
               "vision_config": {"model_type": "clip_vision_model", **CLIP_VISION}}
    notes = notes_of(partial)
    assert "taken from the config classes' defaults" in notes
    assert "text_config.num_hidden_layers=32" in notes
    assert "text_config.intermediate_size=11008" in notes
    assert "text_config.hidden_size" not in notes and "text_config.vocab_size" not in notes
    complete = {**partial, "text_config": {"model_type": "llama", **LLM}}
    complete["vision_config"] = {**complete["vision_config"], "num_channels": 3}
    assert "defaults" not in notes_of(complete)
    assert ours(partial) == transformers_count(partial)


def test_an_unread_size_field_is_named():
    data = {"model_type": "llama", **LLM, "expert_width": 64, "attention_dropout": 0.1}
    notes = notes_of(data)
    assert "In the file but not read: expert_width." in notes
    assert "attention_dropout" not in notes
    assert "In the file but not read" not in notes_of({"model_type": "llama", **LLM})
