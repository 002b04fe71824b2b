"""Reading a ``config.json``: typed fields, aliases, the config classes' defaults, and errors
that name the file and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from paramlab.errors import ConfigError


class Undeclared(Exception):
    """A config option a family's declaration does not cover: the entry point counts the
    model through transformers instead (when installed), naming this reason."""


class HFConfig:
    """Typed access to a config dict: aliases, class defaults, and errors naming the field."""

    def __init__(self, data: dict[str, Any], source: str):
        self.data = data
        self.source = source
        self.notes: list[str] = []

    def _lookup(self, names: str | tuple[str, ...]) -> tuple[str, Any]:
        names = (names,) if isinstance(names, str) else names
        for name in names:
            if name in self.data:
                return name, self.data[name]
        return names[0], None

    def error(self, field_name: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(
            f"{self.source}: expected {expected} for {field_name!r}. "
            f"Received: {field_name}={value!r}"
        )

    def integer(self, names: str | tuple[str, ...], default: int | None, minimum: int = 1) -> int:
        """A positive (or ≥ ``minimum``) integer; ``default`` when absent, error when null."""
        name, value = self._lookup(names)
        if value is None:
            if name in self.data or default is None:
                raise ConfigError(
                    f"{self.source}: missing field {name!r}: expected an integer "
                    f"(the {self.data.get('model_type')} config class has no default for it)"
                )
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
            raise self.error(name, what, value)
        return value

    def opt_int(self, names: str | tuple[str, ...]) -> int | None:
        """An integer whose absence (or null) means 'derive it' (``n_inner``, ``head_dim``)."""
        name, value = self._lookup(names)
        if value is None:
            return None
        return self.integer(name, None)

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, "true or false", value)
        return value

    def text(self, name: str, default: str) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str):
            raise self.error(name, "a string", value)
        return value

    def pair(self, name: str, default: int) -> tuple[int, int]:
        """An image or patch size: one integer or a [height, width] pair."""
        value = self.data.get(name, default)
        if isinstance(value, (list, tuple)) and len(value) == 2:
            if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
                return int(value[0]), int(value[1])
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, value
        raise self.error(name, "a positive integer or a [height, width] pair", value)

    def num_labels(self, default: int = 2) -> int:
        """transformers' rule: ``len(id2label)`` when given, else ``num_labels``, else the
        class default (2; BartConfig says 3)."""
        id2label = self.data.get("id2label")
        if id2label is not None:
            if not isinstance(id2label, dict):
                raise self.error("id2label", "a mapping of label ids to names", id2label)
            return len(id2label)
        return self.integer("num_labels", default, minimum=0)


    def layer_list(self, name: str) -> list[int]:
        """A list of layer indices (``mlp_only_layers``); absent or null means none."""
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.error(name, "a list of layer indices", value)
        return value

    def sub(self, name: str, model_type: str,
            defaults: dict[str, Any] | None = None) -> HFConfig:
        """A nested config (``text_config``, ``vision_config``): its own fields over the
        parent class's defaults for it (LLaVA's CLIP tower is not CLIPVisionConfig())."""
        value = self.data.get(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(name, "a nested config object", value)
        data = {"model_type": model_type, **(defaults or {}), **value}
        return HFConfig(data, f"{self.source} [{name}]")


def load(target: Any) -> tuple[dict[str, Any], str]:
    if isinstance(target, dict):
        return target, "<dict>"
    path = Path(str(target))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with 'model_type'. "
                          f"Received: a {type(data).__name__}")
    return data, str(path)

