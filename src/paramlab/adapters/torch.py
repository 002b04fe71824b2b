"""PyTorch modules: a per-module tree of parameters and buffers, counted from the module's
own tensors — never by a forward pass over real weights.

* ``requires_grad=False`` parameters are non-trainable; buffers (BatchNorm running
  statistics, ``num_batches_tracked``, registered masks) are reported apart, not as
  parameters (PyTorch convention). Under ``convention="keras"`` BatchNorm's running mean and
  variance are booked as non-trainable parameters, as Keras reports them.
* Shared (tied) parameters are counted once, at the first module that owns them; later
  owners show 0 and say whom they share with (torchinfo counts shared tensors once too).
* With ``input_size`` the module runs on the *meta* device (shapes only, no memory):
  forward hooks record each module's output shape and ``FlopCounterMode`` its FLOPs; MACs
  are FLOPs / 2 (one multiply-add = one MAC).
* An import path ``pkg.module:factory`` is built under ``torch.device("meta")``, so a model
  whose weights would not fit in memory is still summarized.
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from paramlab.errors import ConfigError, ParamlabError, require
from paramlab.layers.base import Weight, fmt
from paramlab.summary import LayerRow, Summary

_KERAS_STATISTICS = {"running_mean", "running_var"}


def count_import_path(target: str, convention: str | None, options: Any) -> Summary:
    """``pkg.module:factory_or_class`` with ``--args`` JSON, built on the meta device."""
    torch = require("torch", "torch")
    module_path, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_path)
    except Exception as exc:
        raise ConfigError(f"{target}: cannot import {module_path!r} "
                          f"({type(exc).__name__}: {exc})") from None
    factory: Any = module
    for name in attribute.split("."):
        factory = getattr(factory, name, None)
        if factory is None:
            raise ConfigError(f"{target}: {module_path!r} has no attribute {attribute!r}")
    kwargs = _kwargs(target, getattr(options, "args", None))
    try:
        with torch.device("meta"):
            model = factory(**kwargs)
    except Exception as exc:
        raise ConfigError(f"{target}: building the model failed "
                          f"({type(exc).__name__}: {exc})") from None
    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"{target}: the factory returned a {type(model).__name__}, "
                          "not a torch.nn.Module")
    summary = count_module(model, convention, options)
    summary.origin = f"pytorch {target}"
    return summary


def _kwargs(target: str, text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{target}: --args is not valid JSON ({exc.msg} at column "
                          f"{exc.colno})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{target}: --args must be a JSON object of keyword arguments")
    return value


@dataclass
class _Node:
    name: str
    module: Any
    depth: int
    weights: list[Weight] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    output_shape: Any = ()
    flops: int = 0


def count_module(module: Any, convention: str | None, options: Any) -> Summary:
    """A module tree folded at ``--depth`` (default 2); rows add up to the totals."""
    convention = convention or "torch"
    depth = getattr(options, "depth", None)
    depth = 2 if depth is None else depth
    nodes = _collect(module, convention)
    input_size = getattr(options, "input_size", None)
    if input_size:
        _trace(module, nodes, _parse_size(input_size))
    rows = _fold(nodes, depth, convention)
    return Summary(type(module).__name__, rows, convention, origin="pytorch module")


def _collect(module: Any, convention: str) -> dict[str, _Node]:
    """Each module's own parameters and buffers; a tensor seen before is only referenced."""
    owner: dict[int, str] = {}
    nodes: dict[str, _Node] = {}
    for name, sub in module.named_modules(remove_duplicate=False):
        depth = 0 if not name else name.count(".") + 1
        node = nodes.setdefault(name, _Node(name, sub, depth))
        for pname, param in sub.named_parameters(recurse=False):
            full = f"{name}.{pname}" if name else pname
            if id(param) in owner:
                if owner[id(param)] != full:
                    node.shared.append(f"{pname} shared with {owner[id(param)]}")
                continue
            owner[id(param)] = full
            node.weights.append(Weight(pname, tuple(param.shape), bool(param.requires_grad)))
        for bname, buffer in sub.named_buffers(recurse=False):
            full = f"{name}.{bname}" if name else bname
            if buffer is None or id(buffer) in owner:
                continue
            owner[id(buffer)] = full
            keras_param = convention == "keras" and bname in _KERAS_STATISTICS
            node.weights.append(Weight(bname, tuple(buffer.shape), False,
                                       statistic=not keras_param))
    return nodes


def _fold(nodes: dict[str, _Node], depth: int, convention: str) -> list[LayerRow]:
    """Rows for modules down to ``depth``; a row at the cut-off carries its whole subtree."""
    rows = []
    for name, node in nodes.items():
        leaf = not any(other.startswith(f"{name}.") or (name == "" and other)
                       for other in nodes if other != name)
        if node.depth > depth or (not leaf and node.depth < depth and not node.weights):
            continue  # containers without tensors of their own: their children have rows
        weights = list(node.weights)
        folded = node.depth == depth and not leaf
        if folded:
            weights += [w for other, child in nodes.items()
                        if other.startswith(f"{name}.") or (name == "" and other)
                        for w in child.weights]
        flops = node.flops if (leaf or folded) else 0
        rows.append(_row(node, weights, convention, flops, folded))
    return rows


def _row(node: _Node, weights: list[Weight], convention: str, flops: int,
         folded: bool) -> LayerRow:
    trainable = sum(math.prod(w.shape) for w in weights if w.trainable and not w.statistic)
    frozen = sum(math.prod(w.shape) for w in weights if not w.trainable and not w.statistic)
    buffers = sum(math.prod(w.shape) for w in weights if w.statistic)
    formula = _formula(node.module, weights, folded)
    if node.shared:
        formula = "; ".join([formula, *node.shared]) if formula else "; ".join(node.shared)
    return LayerRow(
        name=node.name or "(root)", type=type(node.module).__name__,
        output_shape=node.output_shape, params=trainable + frozen, trainable=trainable,
        non_trainable=frozen, buffers=buffers, formula=formula, macs=flops // 2,
        shared=bool(node.shared), weights=weights, depth=max(node.depth - 1, 0),
        note="shared parameters counted once" if node.shared else "",
    )


def _formula(module: Any, weights: list[Weight], folded: bool) -> str:
    """The arithmetic for common leaves; a list of tensor shapes otherwise."""
    name = type(module).__name__
    params = [w for w in weights if not w.statistic]
    total = sum(math.prod(w.shape) for w in params)
    if not params:
        return ""
    if not folded and name == "Linear":
        bias = module.bias is not None
        core = (f"({fmt(module.in_features)} + 1) × {fmt(module.out_features)}" if bias
                else f"{fmt(module.in_features)} × {fmt(module.out_features)}")
        return f"{core} = {fmt(total)}"
    if not folded and name.startswith("Conv") and hasattr(module, "kernel_size"):
        window = " × ".join(map(str, module.kernel_size))
        groups = f"/{module.groups}" if module.groups > 1 else ""
        fan = f"{window} × {module.in_channels}{groups}"
        if module.bias is not None:
            return f"({fan} + 1) × {fmt(module.out_channels)} = {fmt(total)}"
        return f"{fan} × {fmt(module.out_channels)} = {fmt(total)}"
    if not folded and name == "Embedding":
        return f"{fmt(module.num_embeddings)} × {fmt(module.embedding_dim)} = {fmt(total)}"
    if folded:
        return f"{len(params)} tensors = {fmt(total)}"
    parts = [f"{w.name} {' × '.join(map(str, w.shape)) or '1'}" for w in params]
    return " + ".join(parts) + f" = {fmt(total)}"


def _parse_size(text: Any) -> tuple[int, ...]:
    if isinstance(text, (list, tuple)):
        values = list(text)
    else:
        values = [v for v in str(text).replace("(", "").replace(")", "").split(",") if v.strip()]
    try:
        size = tuple(int(v) for v in values)
    except ValueError:
        raise ParamlabError(f"--input-size must be integers such as 1,3,224,224; received "
                            f"{text!r}") from None
    if not size or any(v <= 0 for v in size):
        raise ParamlabError(f"--input-size must be positive integers; received {text!r}")
    return size


def _trace(module: Any, nodes: dict[str, _Node], size: tuple[int, ...]) -> None:
    """Shapes and FLOPs from one forward pass on the meta device (no memory)."""
    import torch
    from torch.func import functional_call
    from torch.utils.flop_counter import FlopCounterMode

    meta = {name: torch.empty_like(t, device="meta")
            for name, t in [*module.named_parameters(), *module.named_buffers()]}
    handles = []
    for node in nodes.values():
        def hook(_: Any, __: Any, output: Any, node: _Node = node) -> None:
            if node.output_shape == ():
                node.output_shape = _shape_of(output)
        handles.append(node.module.register_forward_hook(hook))
    x = torch.empty(size, device="meta")
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            functional_call(module, meta, (x,))
    except Exception as exc:
        raise ParamlabError(f"the forward pass on an input of size {size} failed "
                            f"({type(exc).__name__}: {exc})") from None
    finally:
        for handle in handles:
            handle.remove()
    root = type(module).__name__
    counts = counter.get_flop_counts()
    for name, node in nodes.items():
        key = f"{root}.{name}" if name else root
        node.flops = int(sum(counts.get(key, {}).values()))


def _shape_of(output: Any) -> Any:
    """Output shape without the batch axis; several outputs as a tuple of shapes."""
    if hasattr(output, "shape"):
        return tuple(int(d) for d in output.shape[1:])
    if isinstance(output, (list, tuple)):
        shapes = [_shape_of(o) for o in output if hasattr(o, "shape")]
        return tuple(shapes) if shapes else ()
    return ()
