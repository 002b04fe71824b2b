"""Reading a ``config.json``: typed fields, aliases, the config classes' defaults, and errors
that name the file and the field. Every field a family reads is recorded, and every size it
takes from a class default instead of the file, so the summary can say so."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.adapters.hf.layouts import canonical
from paramlab.errors import ConfigError


class Undeclared(Exception):
    """A config option a family's declaration does not cover: the entry point counts the
    model through transformers instead (when installed), naming this reason."""


class Fields(dict[str, Any]):
    """A config's fields that remember which were looked at (read, or tested for)."""

    def __init__(self, data: dict[str, Any]):
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return super().__contains__(key)


@dataclass
class ReadLog:
    """What one count read, shared by a config and its nested configs."""

    defaults: list[str] = field(default_factory=list)  # "text_config.hidden_size=8192"
    renamed: list[str] = field(default_factory=list)  # aliases and legacy names resolved
    configs: list[HFConfig] = field(default_factory=list)


class HFConfig:
    """Typed access to a config dict: aliases, class defaults, and errors naming the field.

    ``path`` is where the dict sits in the file (``text_config.``); ``class_defaults`` are
    the parent class's defaults for a nested config (LLaVA's CLIP tower is not
    ``CLIPVisionConfig()``), used, like the family's own defaults, only for absent fields."""

    def __init__(self, data: dict[str, Any], source: str, path: str = "",
                 class_defaults: dict[str, Any] | None = None, log: ReadLog | None = None):
        model_type = data.get("model_type")
        fields, renamed = canonical(model_type if isinstance(model_type, str) else "", data)
        self.data = Fields(fields)
        self.source = source
        self.path = path
        self.class_defaults = class_defaults or {}
        self.log = log if log is not None else ReadLog()
        self.log.configs.append(self)
        self.log.renamed += [f"{path}{line}" for line in renamed]

    def _lookup(self, names: str | tuple[str, ...]) -> tuple[str, Any]:
        names = (names,) if isinstance(names, str) else names
        for name in names:
            if name in self.data:
                return name, self.data[name]
        for name in names:
            if name in self.class_defaults:
                return name, None
        return names[0], None

    def _default(self, name: str, default: Any) -> Any:
        """The parent class's default for ``name`` if it has one, else ``default``; logged."""
        value = self.class_defaults.get(name, default)
        self.log.defaults.append(f"{self.path}{name}={value!r}")
        return value

    def error(self, field_name: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(
            f"{self.source}: expected {expected} for {field_name!r}. "
            f"Received: {field_name}={value!r}"
        )

    def integer(self, names: str | tuple[str, ...], default: int | None, minimum: int = 1) -> int:
        """A positive (or ≥ ``minimum``) integer; ``default`` when absent, error when null."""
        name, value = self._lookup(names)
        if value is None:
            if name in self.data or (default is None and name not in self.class_defaults):
                raise ConfigError(
                    f"{self.source}: missing field {name!r}: expected an integer "
                    f"(the {self.data.get('model_type')} config class has no default for it)"
                )
            value = self._default(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
            raise self.error(name, what, value)
        return value

    def opt_int(self, names: str | tuple[str, ...]) -> int | None:
        """An integer whose absence (or null) means 'derive it' (``n_inner``, ``head_dim``)."""
        name, value = self._lookup(names)
        if value is None and name not in self.class_defaults:
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
        value = self.data.get(name)
        if value is None:
            value = self._default(name, default)
        if isinstance(value, (list, tuple)) and len(value) == 2:
            if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
                return int(value[0]), int(value[1])
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, value
        raise self.error(name, "a positive integer or a [height, width] pair", value)

    def num_labels(self, default: int = 2) -> int:
        """transformers 5.25's rule: ``num_labels`` when given (it is set after
        ``id2label`` and replaces it), else ``len(id2label)``, else the class default (2;
        BartConfig says 3)."""
        id2label = self.data.get("id2label")
        if id2label is not None and not isinstance(id2label, dict):
            raise self.error("id2label", "a mapping of label ids to names", id2label)
        if self.data.get("num_labels") is not None or id2label is None:
            labels = self.integer("num_labels", default, minimum=0)
            if id2label is not None and len(id2label) != labels:
                self.log.renamed.append(f"{self.path}num_labels={labels} is used, not the "
                                        f"{len(id2label)} labels of id2label (transformers "
                                        f"sets num_labels after id2label)")
            return labels
        return len(id2label)


    def layer_list(self, name: str) -> list[int]:
        """A list of layer indices (``mlp_only_layers``); absent or null means none."""
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.error(name, "a list of layer indices", value)
        return value

    def sub(self, name: str, model_type: str, defaults: dict[str, Any] | None = None,
            value: dict[str, Any] | None = None) -> HFConfig:
        """A nested config (``text_config``, ``vision_config``, or ``value`` when the file
        lays it out otherwise): its own fields over the parent class's defaults for it."""
        if value is None:
            value = self.data.get(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(name, "a nested config object", value)
        data = {"model_type": model_type, **value}
        return HFConfig(data, f"{self.source} [{name}]", f"{self.path}{name}.",
                        defaults, self.log)

    def unread(self) -> list[str]:
        """Fields of the file (this config and its nested ones) no family looked at."""
        return [f"{c.path}{key}" for c in self.log.configs
                for key in c.data if key not in c.data.read]


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

