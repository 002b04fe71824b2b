"""Keras model JSON (``model.to_json()``, or ``config.json`` inside a ``.keras`` file) →
:class:`~paramlab.graph.ModelSpec`, with no Keras import.

Handles Sequential and Functional models in the Keras 3 format (``inbound_nodes`` as
``{"args": [...__keras_tensor__...], "kwargs": {...}}``) and the Keras 2 format (nested
``[name, node_index, tensor_index, kwargs]`` lists); wrapper layers whose config holds
another layer. ``trainable: false`` is read per layer: Keras writes it on every layer of a
frozen model, and its loader ignores the flag on the model itself (so does paramlab).

Shared layers: a layer with several inbound nodes becomes several calls of one LayerSpec,
counted once. Keras renumbers a layer's nodes within the serialized model, so node ``k`` of
``inbound_nodes`` is the ``k``-th call; calls are added node by node in that order, which is
exactly how :class:`~paramlab.graph.Graph` numbers calls (``TensorRef.call == node_index``).

Operations applied to tensors (``x + y``, ``keras.ops.mean(x)``, ``keras.activations.swish(x)``)
appear as nodes whose ``module`` is ``keras.src.ops…`` or ``keras.src.activations…``; they
become ``ops.<Name>`` calls (see :mod:`paramlab.layers.ops`) carrying their non-tensor
arguments. Keras 3 writes the shape of every tensor a node consumes; those shapes are handed
to the rules that cannot compute one themselves (``Lambda``, an op without a rule).

Inputs and outputs may be given as dicts (``keras.Model(inputs={"a": …}, …)``), counted in the
order Keras lists them. A nested Functional model as an output is referenced one node later
than its inbound nodes say ("Functional models start out with a built-in node", as Keras'
loader puts it), so the reference is shifted back as the loader does.

Nested models are inlined with their name as a prefix (``encoder/dense``) so every inner
layer keeps its row; a nested model called twice reuses its inner LayerSpecs, so its weights
count once. A layer object used both inside a nested model and outside it is written twice in
the JSON and cannot be told apart from two layers; like ``keras.models.model_from_json``,
it is then counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paramlab.errors import ConfigError, ParamlabError, SpecError
from paramlab.graph import Call, ModelSpec, TensorRef
from paramlab.layers.base import UNKNOWN_SHAPE, LayerSpec, Shape, get_layer_type
from paramlab.layers.ops import OPAQUE_OP, ConstantArg, TensorArg, op_type

MODEL_CLASSES = {"Sequential", "Functional", "Model"}
_DROP_KEYS = {"name", "trainable", "dtype"}  # handled here, or never affect counts

KerasRef = tuple[str, int, int]  # (layer name, node index, tensor index) as Keras writes it
_OP_MODULES = ("keras.src.ops", "keras.ops", "keras.src.activations", "keras.activations")
# Layers whose output shape paramlab cannot compute and takes from the JSON instead.
_RECORDED_SHAPE_LAYERS = {"Lambda", "TorchModuleWrapper", "ReversibleEmbedding"}


def parse_keras_config(data: dict[str, Any], filename: str) -> ModelSpec:
    """Translate a serialized Keras model into calls; every error names the file."""
    try:
        builder = _Builder(filename)
        outputs = builder.model(data, prefix="", inputs=None)
    except ParamlabError as exc:
        message = str(exc)
        if filename not in message:
            message = f"{filename}: {message}"
        raise ConfigError(message) from None
    except (TypeError, KeyError, IndexError, ValueError, AttributeError) as exc:
        # The structure is not what Keras writes (a list where an object belongs, …).
        raise ConfigError(
            f"{filename}: malformed Keras model JSON ({type(exc).__name__}: {exc})"
        ) from None
    name = _dict(data.get("config"), filename, "config").get("name") or "model"
    del outputs
    return ModelSpec(builder.calls, name=str(name), origin=f"keras json {filename}",
                     filename=filename)


def _dict(value: Any, filename: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{filename}: {where} must be an object; found {type(value).__name__}")
    return value


@dataclass
class _Builder:
    filename: str
    calls: list[Call] = field(default_factory=list)
    specs: dict[str, LayerSpec] = field(default_factory=dict)  # our name → spec (shared)

    def fail(self, message: str) -> ConfigError:
        return ConfigError(f"{self.filename}: {message}")

    # --- models
    def model(
        self, data: dict[str, Any], prefix: str, inputs: list[TensorRef] | None
    ) -> list[TensorRef]:
        """Add the calls of one (possibly nested) model; return its output tensors."""
        kind = data.get("class_name")
        if not isinstance(kind, str) or kind not in MODEL_CLASSES:
            raise self.fail(f"not a Keras model: class_name {kind!r} (expected Sequential, "
                            "Functional or Model)")
        config = _dict(data.get("config"), self.filename, f"{prefix or 'model'} config")
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise self.fail(f"model {config.get('name', '?')!r} has no 'layers' list")
        if kind == "Sequential":
            return self.sequential(layers, prefix, inputs, config)
        return self.functional(layers, config, prefix, inputs)

    def sequential(
        self,
        layers: list[Any],
        prefix: str,
        inputs: list[TensorRef] | None,
        config: dict[str, Any],
    ) -> list[TensorRef]:
        current: TensorRef | None = inputs[0] if inputs else None
        for index, layer in enumerate(layers):
            layer = _dict(layer, self.filename, f"layers[{index}]")
            cls = layer.get("class_name")
            cfg = _dict(layer.get("config", {}), self.filename, f"layers[{index}].config")
            if cls == "InputLayer":
                if current is None:
                    current = self.add(self.input_spec(cfg, prefix), [])
                continue
            if current is None:
                shape = _first_input_shape(layer, config)
                if shape is None:
                    raise self.fail(
                        "the Sequential model has no input shape: build the model or start it "
                        "with keras.Input(shape=...) before calling to_json()"
                    )
                spec = LayerSpec("InputLayer", (), {"batch_shape": shape},
                                 name=f"{prefix}input_layer")
                current = self.add(spec, [])
            if cls in MODEL_CLASSES:
                inner = f"{prefix}{cfg.get('name', 'model')}/"
                current = self.model(layer, inner, [current])[0]
                continue
            spec = self.layer_spec(layer, prefix)
            if cls in _RECORDED_SHAPE_LAYERS:
                _record(spec, _sequential_shapes(layers, index))
            current = self.add(spec, [current])
        if current is None:
            raise self.fail("the Sequential model has no layers")
        return [current]

    def functional(
        self,
        layers: list[Any],
        config: dict[str, Any],
        prefix: str,
        inputs: list[TensorRef] | None,
    ) -> list[TensorRef]:
        tensors: dict[KerasRef, TensorRef] = {}
        seen: list[tuple[KerasRef, Shape]] = []
        _collect_shapes([layer.get("inbound_nodes") for layer in layers
                         if isinstance(layer, dict)], seen)
        recorded = dict(seen)
        kinds = {_layer_name(layer): layer.get("class_name") for layer in layers
                 if isinstance(layer, dict)}
        input_names = [ref[0] for ref in _refs(config.get("input_layers"))]
        fed = dict(zip(input_names, inputs or [], strict=False))
        pending: list[tuple[dict[str, Any], list[Any]]] = []
        for index, layer in enumerate(layers):
            layer = _dict(layer, self.filename, f"layers[{index}]")
            nodes = layer.get("inbound_nodes") or []
            if not isinstance(nodes, list):
                raise self.fail(f"layers[{index}].inbound_nodes must be a list")
            pending.append((layer, list(nodes)))
        progress = True
        done: dict[str, int] = {}
        while progress:
            progress = False
            for layer, nodes in pending:
                name = _layer_name(layer)
                node_index = done.get(name, 0)
                if layer.get("class_name") == "InputLayer":
                    if node_index == 0:
                        ref = fed.get(name) or self.add(
                            self.input_spec(layer.get("config") or {}, prefix, name), []
                        )
                        tensors[(name, 0, 0)] = ref
                        done[name] = 1
                        progress = True
                    continue
                if node_index >= len(nodes):
                    continue
                node = nodes[node_index]
                is_op = _is_op(layer)
                needed = [_resolve(tensors, r) for r in _node_refs(node, every_tensor=is_op)]
                if any(r is None for r in needed):
                    continue
                shapes = _node_shapes(node, (name, node_index), recorded, is_op)
                if is_op:
                    outs = [self.add(self.op_spec(layer, node, prefix, shapes), needed)]  # type: ignore[arg-type]
                else:
                    outs = self.call(layer, needed, prefix, shapes)  # type: ignore[arg-type]
                for k, out in enumerate(outs):
                    tensors[(name, node_index, k)] = out
                done[name] = node_index + 1
                progress = True
        missing = [_layer_name(layer) for layer, nodes in pending
                   if done.get(_layer_name(layer), 0) < max(len(nodes), 1)
                   and layer.get("class_name") != "InputLayer"]
        if missing:
            raise self.fail(f"cannot connect layers {', '.join(missing[:5])}: their inputs are "
                            "never produced")
        outputs = []
        for keras_ref in _refs(config.get("output_layers")):
            found: TensorRef | None = None
            name, node_index, index = keras_ref
            if kinds.get(name) in ("Functional", "Model") and node_index > 0:
                # Keras' own loader: "Functional models start out with a built-in node"
                found = _resolve(tensors, (name, node_index - 1, index))
            found = found or _resolve(tensors, keras_ref)
            if found is None:
                raise self.fail(f"output {name!r} is not produced by any layer")
            outputs.append(found)
        return outputs

    def call(self, layer: dict[str, Any], inputs: list[TensorRef], prefix: str,
             shapes: tuple[tuple[Shape, ...], Shape | tuple[Shape, ...] | None] | None = None,
             ) -> list[TensorRef]:
        cls = layer.get("class_name")
        if cls in MODEL_CLASSES:
            inner_prefix = f"{prefix}{_layer_name(layer)}/"
            return self.model(layer, inner_prefix, inputs)
        spec = self.layer_spec(layer, prefix)
        if cls in _RECORDED_SHAPE_LAYERS and shapes is not None:
            _record(spec, shapes)
        return [self.add(spec, inputs)]

    def op_spec(self, layer: dict[str, Any], node: Any, prefix: str,
                shapes: tuple[tuple[Shape, ...], Shape | tuple[Shape, ...] | None]) -> LayerSpec:
        """An op node: its config plus the call's non-tensor arguments (``x * 2.0``'s 2.0)."""
        full = f"{prefix}{_layer_name(layer)}"
        if full in self.specs:
            return self.specs[full]
        cls = str(layer.get("class_name"))
        cfg = {k: _value(v, self.filename) for k, v in (layer.get("config") or {}).items()
               if k not in _DROP_KEYS}
        node_args = node.get("args", []) if isinstance(node, dict) else []
        node_kwargs = node.get("kwargs", {}) if isinstance(node, dict) else {}
        counter = [0]
        kwargs: dict[str, Any] = {
            "config": cfg,
            "operands": _operands(node_args, counter),
            "call_kwargs": {k: _operands(v, counter) for k, v in (node_kwargs or {}).items()},
        }
        kind = op_type(cls)
        if kind == OPAQUE_OP:
            kwargs["op"] = cls
        spec = LayerSpec(kind, (), kwargs, name=full)
        _record(spec, shapes)
        self.specs[full] = spec
        return spec

    # --- layers
    def add(self, spec: LayerSpec, inputs: list[TensorRef]) -> TensorRef:
        assert spec.name is not None
        call = sum(1 for c in self.calls if c.layer.name == spec.name)
        self.calls.append(Call(spec, inputs))
        return TensorRef(spec.name, call, 0)

    def input_spec(self, cfg: dict[str, Any], prefix: str, name: str | None = None) -> LayerSpec:
        shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
        if shape is None and cfg.get("shape") is not None:
            shape = [None, *cfg["shape"]]
        if not isinstance(shape, list):
            raise self.fail(f"input layer {cfg.get('name')!r} has no batch_shape")
        full = f"{prefix}{name or cfg.get('name') or 'input_layer'}"
        spec = self.specs.get(full) or LayerSpec("InputLayer", (), {"batch_shape": tuple(shape)},
                                                 name=full)
        self.specs[full] = spec
        return spec

    def layer_spec(self, layer: dict[str, Any], prefix: str) -> LayerSpec:
        """One LayerSpec per Keras layer, reused for every call (so shared weights count once)."""
        full = f"{prefix}{_layer_name(layer)}"
        if full in self.specs:
            return self.specs[full]
        spec = to_layer_spec(layer, self.filename)
        spec.name = full
        self.specs[full] = spec
        return spec


def to_layer_spec(layer: dict[str, Any], filename: str) -> LayerSpec:
    """A serialized Keras layer (class_name + config) as a LayerSpec; wrappers recurse."""
    cls = layer.get("class_name")
    if not isinstance(cls, str):
        raise ConfigError(f"{filename}: a layer has no class_name")
    cfg = layer.get("config") or {}
    if not isinstance(cfg, dict):
        raise ConfigError(f"{filename}: layer {cls!r} has a config that is not an object")
    try:
        get_layer_type(cls)
    except SpecError:
        raise ConfigError(
            f"{filename}: layer {cfg.get('name', '?')!r} is a {cls}, which paramlab has no "
            "rule for (a custom layer, or one newer than paramlab)"
        ) from None
    kwargs = {k: _value(v, filename) for k, v in cfg.items() if k not in _DROP_KEYS}
    if "batch_input_shape" in kwargs and cls != "InputLayer":
        kwargs.pop("batch_input_shape")
    trainable = cfg.get("trainable", True)
    return LayerSpec(cls, (), kwargs, name=cfg.get("name"), trainable=trainable is not False)


def _value(value: Any, filename: str) -> Any:
    if isinstance(value, list):
        return tuple(_value(v, filename) for v in value)
    if _is_layer(value):
        return to_layer_spec(value, filename)
    return value


def _is_layer(value: Any) -> bool:
    """A serialized layer inside a config (a wrapper's ``layer``), not an initializer/policy:
    Keras 3 marks its module; Keras 2 layer configs carry a name, initializer configs don't."""
    if not (isinstance(value, dict) and "class_name" in value and "config" in value):
        return False
    module = value.get("module")
    if module is not None:
        return str(module).startswith("keras.layers")
    return isinstance(value["config"], dict) and "name" in value["config"]


def _resolve(tensors: dict[KerasRef, TensorRef], ref: KerasRef) -> TensorRef | None:
    """Our tensor for a Keras reference; output k > 0 of a multi-output layer is derived
    from its output 0 (nested models register every output explicitly)."""
    if ref in tensors:
        return tensors[ref]
    first = tensors.get((ref[0], ref[1], 0))
    if first is None:
        return None
    return TensorRef(first.layer, first.call, first.index + ref[2])


def _layer_name(layer: dict[str, Any]) -> str:
    name = layer.get("name") or (layer.get("config") or {}).get("name")
    if not isinstance(name, str):
        raise ConfigError("a layer has no name")
    return name


def _refs(value: Any) -> list[KerasRef]:
    """``input_layers``/``output_layers``: one [name, node, tensor], a list of them, or a dict
    (``keras.Model(inputs={"a": …})``), in the order Keras flattens them (dicts by key)."""
    if not value:
        return []
    if isinstance(value, dict):  # flattened in sorted key order, as keras.tree does
        return [ref for _, item in sorted(value.items()) for ref in _refs(item)]
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [(value[0], int(value[1]), int(value[2]))]
    return [ref for item in value for ref in _refs(item)]


def _is_op(layer: dict[str, Any]) -> bool:
    """A Keras 3 operation node (``keras.ops`` or an activation function), not a layer."""
    return str(layer.get("module") or "").startswith(_OP_MODULES)


def _operands(value: Any, counter: list[int]) -> Any:
    """An op's call arguments with each tensor replaced by its position among the inputs."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            counter[0] += 1
            return TensorArg(counter[0] - 1)
        if value.get("class_name") == "__slice__":
            cfg = value.get("config") or {}
            return slice(cfg.get("start"), cfg.get("stop"), cfg.get("step"))
        if value.get("class_name") == "__ellipsis__":
            return Ellipsis
        if value.get("class_name") in ("__tensor__", "__numpy__"):
            return ConstantArg(_nested_shape((value.get("config") or {}).get("value")))
        return {k: _operands(v, counter) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_operands(v, counter) for v in value)
    return value


def _nested_shape(value: Any) -> tuple[int, ...]:
    """The shape of a constant written as nested lists."""
    shape: list[int] = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def _batchless(shape: Any) -> Shape | None:
    if isinstance(shape, list) and shape:
        return tuple(shape[1:])
    return None


def _collect_shapes(value: Any, found: list[tuple[KerasRef, Shape]]) -> None:
    """The shape Keras wrote for every tensor in ``value``, without the batch axis."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            cfg = value.get("config") or {}
            history, shape = cfg.get("keras_history"), _batchless(cfg.get("shape"))
            if isinstance(history, list) and len(history) == 3 and shape is not None:
                found.append(((str(history[0]), int(history[1]), int(history[2])), shape))
            return
        for _, item in sorted(value.items()):
            _collect_shapes(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_shapes(item, found)


def _node_shapes(node: Any, call: tuple[str, int], recorded: dict[KerasRef, Shape],
                 every_tensor: bool) -> tuple[tuple[Shape, ...], Shape | tuple[Shape, ...] | None]:
    """(input shapes, output shape) of one node as the JSON records them; the output is
    known only where a later node consumes it."""
    found: list[tuple[KerasRef, Shape]] = []
    _collect_shapes(node.get("args", []) if isinstance(node, dict) else [], found)
    if isinstance(node, dict):
        kwargs = node.get("kwargs") or {}
        for key in kwargs if every_tensor else _INPUT_KWARGS:
            _collect_shapes(kwargs.get(key), found)
    outputs = {k[2]: shape for k, shape in recorded.items() if k[:2] == call}
    out: Shape | tuple[Shape, ...] | None = None
    if list(outputs) == [0]:
        out = outputs[0]
    elif outputs:  # several outputs (ops.split): those nothing consumes stay unknown
        out = tuple(outputs.get(k, UNKNOWN_SHAPE) for k in range(max(outputs) + 1))
    return tuple(shape for _, shape in found), out


def _sequential_shapes(
    layers: list[Any], index: int
) -> tuple[tuple[Shape, ...], Shape | tuple[Shape, ...] | None]:
    """In a Sequential model a layer's output is the next layer's ``build_config`` input."""
    def built(i: int) -> Shape | None:
        if 0 <= i < len(layers) and isinstance(layers[i], dict):
            build = layers[i].get("build_config") or {}
            return _batchless(build.get("input_shape")) if isinstance(build, dict) else None
        return None

    own = built(index)
    return ((own,) if own is not None else ()), built(index + 1)


def _record(spec: LayerSpec, shapes: tuple[tuple[Shape, ...], Any]) -> None:
    """Add one call's recorded (inputs, output) to the spec, for rules that need them."""
    inputs, output = shapes
    if output is None:
        return
    previous = spec.kwargs.get("recorded_shapes") or ()
    spec.kwargs["recorded_shapes"] = (*previous, (inputs, output))


# Keyword arguments whose tensors are layer inputs, in the order the layer's rule takes them
# (MultiHeadAttention's call(query, value, key)); other tensor keywords — mask,
# attention_mask, initial_state — never change a count and are not inputs of our rules.
_INPUT_KWARGS = ("inputs", "query", "value", "key")


def _node_refs(node: Any, every_tensor: bool = False) -> list[KerasRef]:
    """Input tensors of one inbound node, in call order, in either Keras format.

    ``every_tensor``: an op's tensors all count as inputs, keyword arguments included."""
    found: list[KerasRef] = []
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        _collect(node.get("args", []), found)
        kwargs = node.get("kwargs") or {}
        for key in kwargs if every_tensor else _INPUT_KWARGS:
            _collect(kwargs.get(key), found)
        return found
    for entry in node:  # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
        found.append((entry[0], int(entry[1]), int(entry[2])))
        kwargs = entry[3] if len(entry) > 3 and isinstance(entry[3], dict) else {}
        for key in _INPUT_KWARGS:
            value = kwargs.get(key)
            if value is not None and _is_keras2_ref(value):
                found.append((value[0], int(value[1]), int(value[2])))
            else:
                _collect(value, found)
    return found


def _is_keras2_ref(value: Any) -> bool:
    """tf.keras writes a tensor inside call kwargs as ``[layer_name, node_index, tensor_index]``."""
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, int) for v in value[1:]))


def _collect(value: Any, found: list[KerasRef]) -> None:
    """Every ``__keras_tensor__`` in ``value``, depth first (merge layers nest a list; a dict
    of tensors, fed to a nested model, is flattened by key as keras.tree does)."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = value["config"]["keras_history"]
            found.append((history[0], int(history[1]), int(history[2])))
            return
        for _, item in sorted(value.items()):
            _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def _first_input_shape(layer: dict[str, Any], model_config: dict[str, Any]) -> Any:
    cfg = layer.get("config") or {}
    shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
    if shape is None:
        build = layer.get("build_config") or model_config.get("build_input_shape")
        if isinstance(build, dict):
            shape = build.get("input_shape")
        elif isinstance(build, list):
            shape = build
    return tuple(shape) if isinstance(shape, list) else None
