"""Spec files: paramlab's own YAML/JSON layer lists, Keras model JSON and ``.keras`` archives.

The paramlab layer file holds the same layers as the DSL::

    name: residual
    inputs: {x: [32, 32, 64]}         # or  input: [28, 28, 1]  for a single input
    layers:
      - conv2d: {filters: 64, kernel_size: 3, padding: same}
      - batch_normalization
      - {type: relu, name: y}
      - {type: add, inputs: [x, y]}   # graphs: name the inputs of a layer
      - dense: 10                     # a scalar or a list is positional
      - {type: dense, units: 64, repeat: 3}

Each entry is a layer name, a one-key mapping ``{layer: arguments}``, or a mapping with
``type`` and keyword arguments plus ``name``, ``inputs``, ``trainable`` and ``repeat``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from paramlab.errors import ConfigError, SpecError, require
from paramlab.graph import Call, ModelSpec, TensorRef
from paramlab.layers.base import LayerSpec

_RESERVED = {"type", "name", "inputs", "trainable", "repeat"}


def parse_file(path: Path) -> ModelSpec:
    """Read ``path`` by its extension; the error names the file and what is wrong."""
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return parse_mapping(_read_keras_archive(path), str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file as text ({exc})") from None
    if suffix in (".yaml", ".yml"):
        yaml = require("yaml", "yaml")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
    return parse_mapping(data, str(path))


def _read_keras_archive(path: Path) -> Any:
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError) as exc:
        raise ConfigError(
            f"{path}: not a readable .keras archive with a config.json inside ({exc})"
        ) from None


def parse_mapping(data: Any, filename: str) -> ModelSpec:
    """Dispatch on content: Keras model JSON, or paramlab's own layer list."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"{filename}: expected a JSON/YAML object describing a model; "
            f"found a {type(data).__name__}"
        )
    if "class_name" in data and "config" in data:
        from paramlab.spec.keras_json import parse_keras_config

        return parse_keras_config(data, filename)
    if "layers" in data:
        return _parse_layer_file(data, filename)
    raise ConfigError(
        f"{filename}: not a model description: expected a 'layers' list (paramlab), "
        "'class_name' and 'config' (Keras model JSON) or 'model_type' (Hugging Face config)"
    )


def _parse_layer_file(data: dict[str, Any], filename: str) -> ModelSpec:
    calls: list[Call] = []
    if "input" in data:
        calls.append(
            Call(
                LayerSpec(
                    "InputLayer", (_shape(data["input"], filename, "input"),), name="input_layer"
                )
            )
        )
    named_inputs = data.get("inputs") or {}
    if not isinstance(named_inputs, dict):
        raise ConfigError(f"{filename}: 'inputs' must map names to shapes, e.g. {{x: [8]}}")
    for name, shape in named_inputs.items():
        calls.append(
            Call(
                LayerSpec(
                    "InputLayer", (_shape(shape, filename, f"inputs.{name}"),), name=str(name)
                )
            )
        )
    layers = data["layers"]
    if not isinstance(layers, list) or not layers:
        raise ConfigError(f"{filename}: 'layers' must be a non-empty list")
    for index, entry in enumerate(layers):
        calls += _entry_calls(entry, f"{filename}: layers[{index}]")
    return ModelSpec(calls, name=str(data.get("name", "model")), origin=f"file {filename}",
                     filename=filename)


def _shape(value: Any, filename: str, where: str) -> tuple[Any, ...]:
    if isinstance(value, int):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    raise ConfigError(f"{filename}: {where} must be a shape such as [28, 28, 1]; found {value!r}")


def _entry_calls(entry: Any, where: str) -> list[Call]:
    if isinstance(entry, str):
        return [Call(LayerSpec(entry))]
    if not isinstance(entry, dict) or not entry:
        raise ConfigError(f"{where}: expected a layer name or a mapping; found {entry!r}")
    if "type" in entry:
        layer_type = entry["type"]
        kwargs = {k: _value(v) for k, v in entry.items() if k not in _RESERVED}
        args: tuple[Any, ...] = ()
    elif len(entry) == 1:
        layer_type, raw = next(iter(entry.items()))
        args, kwargs = _arguments(raw)
        entry = {}
    else:
        keys = ", ".join(map(str, entry))
        raise ConfigError(
            f"{where}: a layer mapping needs a 'type' key or a single layer name; found keys {keys}"
        )
    if not isinstance(layer_type, str):
        raise ConfigError(f"{where}: the layer type must be a string; found {layer_type!r}")
    repeat = entry.get("repeat", 1)
    if not isinstance(repeat, int) or repeat < 1:
        raise ConfigError(f"{where}: repeat must be a positive integer; found {repeat!r}")
    inputs = entry.get("inputs")
    refs = [_ref(i, where) for i in inputs] if inputs is not None else None
    trainable = entry.get("trainable", True)
    if not isinstance(trainable, bool):
        raise ConfigError(f"{where}: trainable must be true or false; found {trainable!r}")
    calls = []
    for k in range(repeat):
        name = entry.get("name") if repeat == 1 else None
        spec = LayerSpec(layer_type, args, dict(kwargs), name, trainable)
        calls.append(Call(spec, refs if k == 0 else None))
    return calls


def _arguments(raw: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if raw is None:
        return (), {}
    if isinstance(raw, dict):
        return (), {k: _value(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return tuple(_value(v) for v in raw), {}
    return (_value(raw),), {}


def _value(value: Any) -> Any:
    """Lists become tuples (shapes, kernel sizes); nested layer mappings become LayerSpecs."""
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    if isinstance(value, dict) and len(value) == 1:
        ((key, raw),) = value.items()
        if isinstance(key, str) and key[:1].isalpha():
            from paramlab.layers.base import get_layer_type

            try:
                get_layer_type(key)
            except SpecError:  # not a layer name: keep the mapping as data
                return value
            args, kwargs = _arguments(raw)
            return LayerSpec(key, args, kwargs)
    if isinstance(value, dict) and "type" in value:
        kwargs = {k: _value(v) for k, v in value.items() if k != "type"}
        return LayerSpec(value["type"], (), kwargs)
    return value


def _ref(value: Any, where: str) -> TensorRef:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: inputs must be layer names; found {value!r}")
    name, _, index = value.partition(".")
    if index and not index.isdigit():
        raise ConfigError(f"{where}: input {value!r}: expected NAME or NAME.OUTPUT_NUMBER")
    return TensorRef(name, 0, int(index or 0))
