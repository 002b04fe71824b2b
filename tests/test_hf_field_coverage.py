"""Field coverage, proved mechanically: every field of every declared type, changed one at a
time, against transformers on the meta device.

For each ``model_type`` paramlab declares, a small config is taken (the family tests' own),
and each field of its transformers config class (every field ``to_dict()`` writes, nested
``text_config``/``vision_config`` fields included), each alias in its ``attribute_map``,
each name its modeling code reads off the config (``config.x``, ``getattr(config, "x", …)``:
fields a file may carry that the class does not declare), and each field paramlab itself
looks up is changed alone: numbers up and down, booleans
flipped, optional sub-features (fields that are None) switched on, lists of sizes widened
and lengthened, strings set to the other values known to size tensors. Wherever transformers
builds the changed config, paramlab must give transformers' exact (total, trainable) count,
or refuse it (a one-line error), or count it through transformers (the fallback), or name
the field in its notes. A declared type without a small config here fails, so the contract
holds as types are added.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

import test_hf_configs
import test_hf_encoders
import test_hf_families
import test_hf_multimodal
from hf_oracle import torch_counts
from paramlab.adapters.hf import FAMILIES, SUPPORTED_MODEL_TYPES, count_hf_config
from paramlab.adapters.hf.config import HFConfig
from paramlab.adapters.hf.layouts import FLAT_TEXT_FIELDS, LEGACY_NAMES
from paramlab.errors import ParamlabError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

MODULES = (test_hf_configs, test_hf_families, test_hf_encoders, test_hf_multimodal)
SMALL: dict[str, dict[str, Any]] = {k: v for m in MODULES for k, v in m.SMALL.items()}
HEAD: dict[str, str] = {k: v for m in MODULES for k, v in m.MAIN_HEAD.items()}

# Fields that name or describe the file rather than the model, or whose values are
# structures this test does not vary (RoPE settings, per-layer attention kinds).
NOT_VARIED = {"model_type", "architectures", "transformers_version", "_name_or_path",
              "dtype", "torch_dtype", "id2label", "label2id", "layer_types", "rope_parameters",
              "rope_scaling", "auto_map", "quantization_config", "task_specific_params"}
NESTED = ("text_config", "vision_config")
# The other values of string fields that change which tensors a model has.
STRINGS: dict[str, list[Any]] = {
    "feed_forward_proj": ["relu", "gated-gelu", "gated-silu"],
    "position_embedding_type": ["absolute", "relative_key", "relative_key_query", "rotary"],
    "norm_rel_ebd": ["layer_norm", "none"],
    "pos_att_type": [["p2c"], ["c2p"], "p2c|c2p", None],
    "feat_extract_norm": ["group", "layer"],
    "vision_feature_layer": [[-2, -5], -1],
    "hidden_act": ["gelu", "silu"],
}


def changes(value: Any, name: str) -> list[Any]:
    """The values a field is changed to, one at a time."""
    if name in STRINGS:
        return [v for v in STRINGS[name] if v != value]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return sorted({value + 1, 2 * value or 2} | ({value // 2} if value >= 4 else set()))
    if isinstance(value, float):
        return [value * 2 if value else 0.5]
    if value is None:
        return [2, 8, True]
    if isinstance(value, list) and value and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [[2 * v for v in value], [*value, value[-1]]]
    return []


def read_by_paramlab(model_type: str, data: dict[str, Any]) -> dict[str, set[str]]:
    """Fields paramlab looks up for ``data``, present or not, per nested config ('' = top)."""
    config = HFConfig(dict(data), "<test>")
    family = FAMILIES[model_type]
    family.build(config, family.classes()[HEAD[model_type]])
    out: dict[str, set[str]] = {}
    for c in config.log.configs:
        out.setdefault(c.path.rstrip("."), set()).update(c.data.read)
    return out


def read_by_transformers(model_type: str) -> set[str]:
    """Every name the type's modeling code reads off its config."""
    auto = importlib.import_module("transformers.models.auto.configuration_auto")
    package = auto.model_type_to_module_name(model_type)
    module = importlib.import_module(f"transformers.models.{package}.modeling_{package}")
    source = inspect.getsource(module)
    return set(re.findall(r"\bconfig\.([a-z_][a-z0-9_]*)\b(?!\()", source)) | set(
        re.findall(r"getattr\(\s*(?:self\.)?config,\s*[\"'](\w+)[\"']", source))


def variations(model_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(``field=value``, config) for every field changed alone."""
    small = SMALL[model_type]
    config_class = transformers.CONFIG_MAPPING[model_type]
    full = json.loads(config_class(**small).to_json_string(use_diff=False))
    read = read_by_paramlab(model_type, {"model_type": model_type, **small})
    names = (set(full) | set(config_class.attribute_map) | read.get("", set())
             | read_by_transformers(model_type))
    for name in sorted(names - NOT_VARIED):
        if name in NESTED and isinstance(full.get(name), dict):
            yield from _nested(small, name, full[name], read.get(name, set()))
            continue
        value = small.get(name, full.get(name))
        for new in changes(value, name):
            yield f"{name}={new!r}", {**small, name: new}


def _nested(small: dict[str, Any], name: str, full: dict[str, Any],
            read: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    inner = dict(small.get(name) or {})
    for field in sorted((set(full) | read) - NOT_VARIED):
        value = inner.get(field, full.get(field))
        for new in changes(value, field):
            yield f"{name}.{field}={new!r}", {**small, name: {**inner, field: new}}


def transformers_count(model_type: str, fields: dict[str, Any]) -> tuple[int, int] | None:
    """transformers' (total, trainable), or None where it rejects the config or the build."""
    try:
        config = transformers.AutoConfig.for_model(model_type, **json.loads(json.dumps(fields)))
        return torch_counts(HEAD[model_type], config)
    except Exception:  # an invalid combination: nothing to compare
        return None


def verdict(model_type: str, label: str, fields: dict[str, Any]) -> str | None:
    """None when paramlab agrees (or refuses, or defers to transformers, or names the field);
    otherwise what differs."""
    expected = transformers_count(model_type, fields)
    if expected is None:
        return None
    data = {"model_type": model_type, "architectures": [HEAD[model_type]], **fields}
    try:
        summary = count_hf_config(json.loads(json.dumps(data)))
    except ParamlabError:
        return None
    if "built by transformers" in (summary.origin or ""):
        return None
    got = (summary.total, summary.trainable)
    field = label.split("=")[0].split(".")[-1]
    if got == expected or f"'{field}'" in "\n".join(note.text for note in summary.count_notes):
        return None
    return f"{label}: paramlab {got}, transformers {expected}"


def test_every_declared_type_has_a_small_config_and_a_head():
    assert set(SMALL) == set(HEAD) == set(SUPPORTED_MODEL_TYPES)


@pytest.mark.parametrize("model_type", SUPPORTED_MODEL_TYPES)
def test_every_field_changes_the_count_as_transformers_does(model_type):
    differences = [d for label, fields in variations(model_type)
                   if (d := verdict(model_type, label, fields)) is not None]
    assert not differences, "\n".join(differences)


# Names paramlab may look up although transformers' class neither declares nor maps them:
# the file's own metadata, the layouts transformers still reads in __post_init__, and the
# KV-cache settings (they size the cache, not a parameter).
LOOKED_UP_ANYWAY = {"model_type", "architectures", "num_labels", "id2label",
                    "text_config_dict", "vision_config_dict", "sliding_window", "layer_types",
                    "sliding_window_pattern", "_sliding_window_pattern",
                    "tie_word_embeddings"}  # a head the Qwen2.5-VL text model does not have


@pytest.mark.parametrize("model_type", SUPPORTED_MODEL_TYPES)
def test_paramlab_reads_no_name_transformers_ignores(model_type):
    """A name transformers ignores (Falcon's RW-era n_layer) must not size paramlab's count:
    every name looked up, on the small config and on an empty one (where a lookup falls
    through every spelling), is one transformers reads."""
    config_class = transformers.CONFIG_MAPPING[model_type]
    known = (set(json.loads(config_class().to_json_string(use_diff=False)))
             | set(config_class.attribute_map) | set(LEGACY_NAMES.get(model_type, {}))
             | set(FLAT_TEXT_FIELDS.get(model_type, ())) | read_by_transformers(model_type)
             | LOOKED_UP_ANYWAY)
    for data in ({"model_type": model_type, **SMALL[model_type]}, {"model_type": model_type}):
        assert read_by_paramlab(model_type, data).get("", set()) <= known
