"""Types without a declaration, counted exactly by transformers' own modeling code.

The class named in ``architectures`` (or the ``AutoModel`` base class) is built from the
config on the meta device — shapes only, no memory for weights — and counted through the
PyTorch adapter, so the count is ``sum(p.numel() for p in model.parameters())`` of the real
class. Slower than arithmetic (transformers is imported and the model built), and without
the formulas: the summary says so.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from paramlab.errors import ConfigError, MissingExtraError, ParamlabError
from paramlab.notes import Note
from paramlab.options import CountOptions
from paramlab.summary import Summary

INSTALL = "pip install 'paramlab[hf]'"


class NoDeclarationError(MissingExtraError):
    """No declaration for this type, and transformers is not there to build it."""

    def __init__(self, reason: ConfigError):
        self.module, self.extra = "transformers", "hf"
        ParamlabError.__init__(
            self, f"{reason}. Without a declaration paramlab counts a model through "
            f"transformers itself, which is not installed; install it with: {INSTALL}")


def count_with_transformers(data: dict[str, Any], source: str, class_name: str | None,
                            options: Any, reason: ConfigError) -> Summary:
    """Build ``class_name`` (None: the base model) on the meta device and count it."""
    try:
        torch = importlib.import_module("torch")
        transformers = importlib.import_module("transformers")
    except ImportError as exc:
        raise NoDeclarationError(reason) from exc
    from paramlab.adapters.torch import count_module

    model_type = str(data.get("model_type"))
    config = _config(transformers, model_type, data, reason)
    build = _builder(transformers, class_name, reason)
    name = class_name or "the base model (AutoModel)"
    try:
        with torch.device("meta"):
            model = build(config)
    except Exception as exc:  # transformers' code on the user's config: report, don't crash
        raise ConfigError(f"{source}: transformers could not build {name}: "
                          f"{type(exc).__name__}: {' '.join(str(exc).split())}") from exc
    summary = count_module(model, "torch", _module_options(options))
    summary.name = class_name or type(model).__name__
    summary.origin = f"hf config: {source} ({model_type}, built by transformers)"
    summary.count_notes.append(Note(
        f"Counted by transformers {transformers.__version__}: {summary.name} built from the "
        f"config on the meta device (paramlab has no declaration for "
        f"{class_name or model_type!r}). Exact, as sum(p.numel() for p in "
        "model.parameters()); rows follow the module tree, without formulas.", "counted"))
    return summary


def _config(transformers: Any, model_type: str, data: dict[str, Any],
            reason: ConfigError) -> Any:
    try:
        config_class = transformers.CONFIG_MAPPING[model_type]
    except KeyError:
        raise ConfigError(f"{reason}. transformers {transformers.__version__} does not know "
                          f"{model_type!r} either.") from None
    fields = {k: v for k, v in data.items() if k != "model_type"}
    try:
        return config_class.from_dict(fields)
    except Exception as exc:
        raise ConfigError(f"{reason}. transformers rejected the config: "
                          f"{type(exc).__name__}: {' '.join(str(exc).split())}") from exc


def _builder(transformers: Any, class_name: str | None, reason: ConfigError) -> Any:
    if class_name is None:
        return transformers.AutoModel.from_config
    model_class = getattr(transformers, class_name, None)
    if model_class is None:
        raise reason
    return model_class


def _module_options(options: Any) -> CountOptions:
    """The PyTorch adapter takes a :class:`CountOptions`; a dict of options becomes one."""
    if isinstance(options, CountOptions):
        return options
    if isinstance(options, dict):
        known = {f.name for f in dataclasses.fields(CountOptions)}
        return CountOptions(**{k: v for k, v in options.items() if k in known})
    return CountOptions()
