"""ONNX files: the initializers, grouped by the node that first uses them.

An ONNX graph has no layers, only nodes and initializers (the stored tensors), so a row is a
node that consumes at least one initializer. Conventions, stated where the numbers are made:

* An initializer used by several nodes (tied weights) is counted once, at its first node in
  graph order; later nodes say ``shares initializer <name> with <node>``.
* Parameters are floating-point and quantized integer (8- and 4-bit) initializers. int32/int64
  and bool initializers are shape and index constants (Reshape targets, Gather indices), not
  parameters: they are left out and said so in the note. ``Constant`` nodes are not counted.
* BatchNormalization's mean and variance inputs are statistics: buffers under the ``torch``
  convention (the default: most ONNX files come from PyTorch), non-trainable under ``keras``.
  Exporters often fold BatchNorm into the preceding Conv in inference mode, so an exported
  file can hold fewer tensors than the training model.
* Output shapes come from ``onnx.shape_inference``, without the first (batch) axis; symbolic
  dimensions show as None. MACs are computed for Conv, Gemm and MatMul with a weight
  initializer, when the output shape is fully known.
* External data is not loaded: only the tensors' dims are needed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from paramlab.errors import ConfigError, require
from paramlab.layers.base import Shape, Weight, fmt
from paramlab.options import CountOptions
from paramlab.summary import LayerRow, Summary, make_row

# TensorProto data types that hold parameters (FLOAT, UINT8, INT8, FLOAT16, DOUBLE, BFLOAT16,
# the float8 family, UINT4, INT4); the rest are shape/index constants.
PARAM_TYPES = {1, 2, 3, 10, 11, 16, 17, 18, 19, 20, 21, 22}
STATISTIC_INPUTS = {"BatchNormalization": {3, 4}}


def count_onnx(path: Any, convention: str | None, options: CountOptions | None) -> Summary:
    """Rows for the nodes that use initializers, in graph order."""
    onnx = require("onnx", "onnx")
    convention = convention or "torch"
    model = _load(onnx, Path(str(path).strip()))
    graph = model.graph
    shapes = _shapes(onnx, model)
    initializers = {init.name: init for init in graph.initializer}
    aliases = _aliases(graph, initializers)
    seen: dict[str, str] = {}
    rows: list[LayerRow] = []
    skipped = 0
    for index, node in enumerate(graph.node):
        if node.op_type == "Identity" and node.output[0] in aliases:
            continue
        used = [(i, aliases.get(name, name)) for i, name in enumerate(node.input)
                if aliases.get(name, name) in initializers]
        if not used:
            continue
        node_name = node.name or f"{node.op_type}_{index}"
        row, constants = _node_row(node, node_name, used, initializers, aliases, shapes, seen,
                                   convention)
        skipped += constants
        if row is not None:
            rows.append(row)
    unused = [init for name, init in initializers.items()
              if name not in seen and init.data_type in PARAM_TYPES]
    if unused:
        rows.append(_unused_row(unused, convention))
    summary = Summary(graph.name or Path(str(path)).stem, rows, convention, origin=str(path))
    if skipped and rows:
        rows[0].note = " ".join(filter(None, [rows[0].note, (
            f"{skipped} integer shape/index initializers in this file are constants, "
            "not parameters.")]))
    summary.activation_elements = _activations(graph, shapes)
    return summary


def _aliases(graph: Any, initializers: dict[str, Any]) -> dict[str, str]:
    """Identity outputs that are just another name for an initializer. The PyTorch exporter
    stores equal-valued tensors once and renames the copies through Identity nodes."""
    aliases: dict[str, str] = {}
    for node in graph.node:
        if node.op_type == "Identity" and node.input and node.output:
            source = aliases.get(node.input[0], node.input[0])
            if source in initializers:
                aliases[node.output[0]] = source
    return aliases


def _load(onnx: Any, path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"ONNX file not found: {path}")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError, or others, on corrupt bytes
        raise ConfigError(
            f"{path} is not a readable ONNX model (corrupt or truncated?): "
            f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        ) from exc
    if not model.graph.node and not model.graph.initializer:
        raise ConfigError(f"{path} holds no ONNX graph (empty, corrupt or truncated file)")
    return model


def _shapes(onnx: Any, model: Any) -> dict[str, Shape]:
    """Value name → shape without the batch axis, from shape inference (best effort)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # inference is optional: a model it rejects still counts
        inferred = model
    graph = inferred.graph
    shapes: dict[str, Shape] = {}
    for info in [*graph.value_info, *graph.output, *graph.input]:
        tensor_type = info.type.tensor_type
        if not tensor_type.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
        shapes[info.name] = tuple(dims[1:])
    return shapes


def _node_row(
    node: Any, name: str, used: list[tuple[int, str]], initializers: dict[str, Any],
    aliases: dict[str, str], shapes: dict[str, Shape], seen: dict[str, str], convention: str,
) -> tuple[LayerRow | None, int]:
    weights: list[Weight] = []
    shared: list[str] = []
    constants = 0
    stats = STATISTIC_INPUTS.get(node.op_type, set())
    for position, init_name in used:
        init = initializers[init_name]
        if init.data_type not in PARAM_TYPES:
            constants += init_name not in seen
            seen.setdefault(init_name, name)
            continue
        if init_name in seen:
            shared.append(f"shares initializer {init_name} with {seen[init_name]}")
            continue
        seen[init_name] = name
        weights.append(Weight(init_name, tuple(int(d) for d in init.dims), trainable=True,
                              statistic=position in stats))
    if not weights and not shared:
        return None, constants
    formula = "; ".join([*shared, _formula(weights, convention)] if weights else shared)
    output = shapes.get(node.output[0], ()) if node.output else ()
    return make_row(
        name, node.op_type, weights, convention, output_shape=output, formula=formula,
        macs=_macs(node, initializers, aliases, output), shared=bool(shared) and not weights,
        note="; ".join(shared),
    ), constants


def _formula(weights: list[Weight], convention: str) -> str:
    params = [w for w in weights if not w.statistic]
    terms = " + ".join(" × ".join(fmt(d) for d in w.shape) or "1" for w in params)
    text = f"{terms} = {fmt(sum(w.size for w in params))}" if params else ""
    stats = sum(w.size for w in weights if w.statistic)
    if stats:
        extra = f"buffers {fmt(stats)}" if convention == "torch" else (
            f"+ {fmt(stats)} statistics (non-trainable)")
        text = f"{text}; {extra}" if text else extra
    return text


def _unused_row(unused: list[Any], convention: str) -> LayerRow:
    weights = [Weight(i.name, tuple(int(d) for d in i.dims)) for i in unused]
    return make_row("(initializers no node uses)", "-", weights, convention,
                    formula=_formula(weights, convention))


def _macs(node: Any, initializers: dict[str, Any], aliases: dict[str, str],
          output: Shape) -> int:
    """Multiply-accumulates per example for the weight-bearing matmul and conv nodes (the
    weight may reach the node under an Identity alias of its initializer)."""
    if not output or any(d is None for d in output) or len(node.input) < 2:
        return 0
    weight = initializers.get(aliases.get(node.input[1], node.input[1]))
    if weight is None or len(weight.dims) < 2:
        return 0
    dims = list(weight.dims)
    outputs = math.prod(d for d in output if d is not None)  # all known: checked above
    if node.op_type == "Conv":
        return outputs * math.prod(dims[1:])  # per output: c_in/groups · k_h · k_w
    if node.op_type == "Gemm":
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return outputs * (dims[1] if trans_b else dims[0])
    if node.op_type == "MatMul":
        return outputs * dims[-2]
    return 0


def _activations(graph: Any, shapes: dict[str, Shape]) -> int | None:
    """Elements per example in every node's first output; None unless all are known."""
    total = 0
    for node in graph.node:
        if node.op_type == "Constant" or not node.output:
            continue
        shape = shapes.get(node.output[0])
        if shape is None or None in shape:
            return None
        total += math.prod(d for d in shape if d is not None)
    return total
