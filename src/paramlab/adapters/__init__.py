"""Adapters: models that are not specs (PyTorch modules, live Keras models, Hugging Face
configs, ONNX files, safetensors and GGUF headers) counted straight into a
:class:`~paramlab.summary.Summary`.

Detection here must stay cheap: it never imports torch, keras or onnx. An adapter is
``adapter(target, convention, options) -> Summary``; ``convention`` may be None (the
adapter's own default) and ``options`` is a :class:`~paramlab.options.CountOptions` or None.
Adapters build their rows with :func:`paramlab.summary.make_row`, so every input kind
splits trainable / non-trainable / buffers the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike, fspath
from typing import Any

from paramlab.options import CountOptions
from paramlab.summary import Summary

Adapter = Callable[[Any, "str | None", "CountOptions | None"], Summary]


def _module_prefixes(obj: Any) -> set[str]:
    return {cls.__module__.split(".")[0] for cls in type(obj).__mro__}


def find_adapter(target: Any) -> Adapter | None:
    """The adapter that handles ``target``, or None when it is a spec for the core."""
    if isinstance(target, str):
        return _find_for_string(target)
    if isinstance(target, PathLike):  # a pathlib.Path to a tensor file
        return _find_for_string(fspath(target)) if _is_tensor_file(fspath(target)) else None
    prefixes = _module_prefixes(target)
    if "keras" in prefixes:  # before torch: on the torch backend a Keras model is a Module too
        from paramlab.adapters.keras import count_keras_model

        return count_keras_model
    if "torch" in prefixes:
        from paramlab.adapters.torch import count_module

        return count_module
    if isinstance(target, dict) and "model_type" in target:
        from paramlab.adapters.hf import count_hf_config

        return count_hf_config
    return None


def _find_for_string(text: str) -> Adapter | None:
    import re
    from pathlib import Path

    stripped = text.strip()
    if _is_tensor_file(stripped):
        from paramlab.adapters.files import count_tensor_file

        return count_tensor_file
    if stripped.lower().endswith(".onnx"):
        from paramlab.adapters.onnx import count_onnx

        return count_onnx
    if stripped.lower().endswith(".json") and Path(stripped).is_file():
        if _is_hf_config(Path(stripped)):
            from paramlab.adapters.hf import count_hf_config

            return count_hf_config
        return None
    if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", stripped):
        from paramlab.adapters.torch import count_import_path

        return count_import_path
    return None


def _is_tensor_file(text: str) -> bool:
    from paramlab.adapters.files import is_tensor_file

    return is_tensor_file(text)


def _is_hf_config(path: Any) -> bool:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "model_type" in data and "class_name" not in data
