"""The oracle every Hugging Face test uses: transformers itself, the model built on the meta
device (no weights allocated), counted as PyTorch counts; and the checks the family test files
share (a small config for every head class, the config class defaults)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from paramlab.adapters.hf import count_hf_config, supported_classes

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def built(class_name: str, config: Any) -> Any:
    with torch.device("meta"):
        return getattr(transformers, class_name)(config)


def torch_counts(class_name: str, config: Any) -> tuple[int, int]:
    """(total, trainable) of ``class_name`` built on the meta device, as PyTorch counts."""
    params = list(built(class_name, config).parameters())
    return (sum(p.numel() for p in params),
            sum(p.numel() for p in params if p.requires_grad))


def ours(data: dict[str, Any], **options: Any) -> tuple[int, int]:
    summary = count_hf_config(data, None, options or None)
    return summary.total, summary.trainable


def check_small_config(model_type: str, fields: dict[str, Any], class_name: str) -> None:
    """As the user writes the config and as ``save_pretrained`` writes it: transformers'
    counts exactly."""
    config = transformers.AutoConfig.for_model(model_type, **fields)
    summary = count_hf_config({"model_type": model_type, "architectures": [class_name],
                               **fields})
    assert summary.name == class_name
    expected = torch_counts(class_name, config)
    assert (summary.total, summary.trainable) == expected
    written = json.loads(config.to_json_string())
    assert ours({**written, "architectures": [class_name]}) == expected


def check_defaults(model_type: str, head: str, **fields: Any) -> None:
    """The config class's defaults: the base model (no ``architectures``) and the main head."""
    config = transformers.AutoConfig.for_model(model_type, **fields)
    written = json.loads(config.to_json_string())
    base = supported_classes(model_type)[0]
    assert ours({"model_type": model_type, **fields}) == torch_counts(base, config)
    assert ours({**written, "architectures": [head]}) == torch_counts(head, config)
