"""ONNX files: initializers are the parameters, grouped by the first node that uses them;
an initializer used by several nodes is counted once, at its first user, and marked. Shapes
come from ONNX shape inference over the graph's value info. ONNX has no notion of
trainability: every initializer is reported as a (trainable) parameter."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from paramlab.errors import ConfigError, require
from paramlab.layers.base import Weight, fmt
from paramlab.summary import LayerRow, Summary


def count_onnx(target: Any, convention: str | None, options: Any) -> Summary:
    onnx = require("onnx", "onnx")
    path = Path(str(target))
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    try:
        model = onnx.load(str(path), load_external_data=False)
        onnx.checker.check_model(model)
    except Exception as exc:  # protobuf raises several types for bad files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not a valid ONNX model ({first})") from None
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # shapes are optional; counts do not need them
        inferred = model
    graph = inferred.graph
    sizes = {init.name: tuple(int(d) for d in init.dims) for init in graph.initializer}
    shapes = _value_shapes(graph)
    first_user: dict[str, str] = {}
    rows = []
    for index, node in enumerate(graph.node):
        name = node.name or f"{node.op_type}_{index}"
        weights, shared = [], []
        for tensor in node.input:
            if tensor not in sizes:
                continue
            if tensor in first_user:
                shared.append(f"{tensor} shared with {first_user[tensor]}")
                continue
            first_user[tensor] = name
            weights.append(Weight(tensor, sizes[tensor]))
        if not weights and not shared:
            continue
        total = sum(math.prod(w.shape) for w in weights)
        parts = [f"{w.name} {' × '.join(map(str, w.shape)) or '1'}" for w in weights]
        formula = " + ".join(parts) + f" = {fmt(total)}" if parts else ""
        if shared:
            formula = "; ".join([f for f in (formula, *shared) if f])
        output = shapes.get(node.output[0], ()) if node.output else ()
        rows.append(LayerRow(name=name, type=node.op_type, output_shape=output, params=total,
                             trainable=total, non_trainable=0, buffers=0, formula=formula,
                             macs=0, shared=bool(shared), weights=weights))
    unused = [n for n in sizes if n not in first_user]
    if unused:
        total = sum(math.prod(sizes[n]) for n in unused)
        rows.append(LayerRow(name="(unused initializers)", type="Initializer", output_shape=(),
                             params=total, trainable=total, non_trainable=0, buffers=0,
                             formula=f"{len(unused)} tensors = {fmt(total)}", macs=0))
    return Summary(graph.name or path.stem, rows, convention or "torch",
                   origin=f"onnx {path}")


def _value_shapes(graph: Any) -> dict[str, tuple[Any, ...]]:
    """Output shapes without the first (batch) axis, where shape inference knows them."""
    shapes = {}
    for value in [*graph.value_info, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if not dims:
            continue
        shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
        shapes[value.name] = shape[1:]
    return shapes
