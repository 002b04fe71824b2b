"""PyTorch modules counted as a module tree: parameters, buffers, sharing, shapes and MACs.

Users arrive with a model rather than a spec, so this adapter reads the live ``nn.Module``:
every number comes from the tensors' shapes (``numel``), never from their values, so a model
built on the ``meta`` device — no storage at all — counts exactly like a real one. Models
named by an import path (``"pkg.module:factory"``) are always built under
``torch.device("meta")``, which is how a model too large for memory is still summarized.

Conventions, stated where the numbers are made:

* Rows partition the parameters: a row that is expanded (its children have rows of their
  own) holds only its *direct* parameters; a row at the depth limit is folded and holds its
  whole subtree. The totals are therefore the sum of the rows.
* A tensor reachable from two places (tied embeddings, a module registered twice) is counted
  once, at its first place in registration order — as ``model.parameters()`` does; later
  places say ``shares weight with <first place>``.
* ``requires_grad=False`` makes a parameter non-trainable. Buffers are the persistent ones
  (what ``state_dict`` saves). Under the ``torch`` convention they are buffers, not parameters;
  under the ``keras`` convention floating-point buffers (BatchNorm running mean/variance) are
  non-trainable parameters, as Keras' moving statistics are, and integer counters such as
  ``num_batches_tracked`` (which Keras does not have) are left out.
* With ``input_size`` one forward pass runs on a *meta copy* of the model (``deepcopy`` with
  every tensor mapped to a meta tensor of its shape, so no storage is copied): the user's
  model is never touched — not its tensors, devices, hooks nor training flags. (Swapping
  tensors in place with ``torch.func.functional_call`` is not safe: a module registered
  under two names is swapped twice and keeps meta tensors.) The copy is what is counted, so
  lazy modules have their shapes after that pass. The probe input takes the model's own
  floating dtype (token ids for models with an ``nn.Embedding``) unless ``dtypes`` says.
  Output shapes come from forward hooks, without the first (batch) axis; MACs come from
  ``torch.utils.flop_counter.FlopCounterMode`` (matmuls, convolutions, attention; one MAC =
  2 FLOPs; element-wise ops, norms and activations count 0), divided by the batch size.
* What cannot be measured is said, not raised: ScriptModules and forwards the meta device
  cannot run (``.item()``, copies to a real device) are counted without shapes, and lazy
  modules without an input size count 0 for their uninitialized parameters — each with a
  one-line note on the summary. A forward that fails for any other reason means the input
  size is wrong: a ShapeError.
"""

from __future__ import annotations

import copy
import importlib
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any

from paramlab.errors import ConfigError, ShapeError, require
from paramlab.layers.base import Shape, Weight, fmt
from paramlab.notes import Note
from paramlab.options import CountOptions
from paramlab.summary import LayerRow, Summary, make_row

DEFAULT_DEPTH = 2
LAZY_NOTE = "uninitialized (lazy)"


# --------------------------------------------------------------------------- import paths
def count_import_path(text: str, convention: str | None, options: CountOptions | None) -> Summary:
    """Build ``"pkg.module:factory"`` on the meta device (``--args`` as keyword arguments)."""
    torch = require("torch", "torch")
    options = options or CountOptions()
    target = text.strip()
    factory = _resolve(target)
    kwargs = _kwargs(options.args, target)
    try:
        with torch.device("meta"):
            model = factory(**kwargs)
    except Exception as exc:  # the user's code: any failure is a config problem of theirs
        raise ConfigError(
            f"{target!r} raised {type(exc).__name__} when built: {_one_line(exc)}"
        ) from exc
    if not isinstance(model, torch.nn.Module):
        raise ConfigError(
            f"{target!r} returned a {type(model).__name__}; expected a torch.nn.Module"
        )
    summary = count_module(model, convention, options)
    summary.origin = target
    return summary


def _resolve(target: str) -> Any:
    module_name, _, attr_path = target.partition(":")
    if "" not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: modules in the working directory import
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"cannot import module {module_name!r} for {target!r}: "
            f"{type(exc).__name__}: {_one_line(exc)}"
        ) from exc
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise ConfigError(
                f"module {module_name!r} has no attribute {attr_path!r} (from {target!r})"
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"{target!r} is a {type(obj).__name__}; expected a class or factory")
    return obj


def _kwargs(text: str | dict[str, Any] | None, target: str) -> dict[str, Any]:
    if not text:
        return {}
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f"--args for {target!r} is not valid JSON ({exc}). Received: {text!r}"
        ) from None
    if not isinstance(value, dict):
        raise ConfigError(
            f"--args for {target!r} must be a JSON object of keyword arguments. Received: {text!r}"
        )
    return value


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --------------------------------------------------------------------------- the module tree
@dataclass
class _Place:
    """One module at one place in the tree: its qualified name and nesting level."""

    name: str
    module: Any
    level: int  # 0 for the root's children
    folded: bool
    shares: list[str] = field(default_factory=list)


def count_module(module: Any, convention: str | None, options: CountOptions | None) -> Summary:
    """One row per module down to ``options.depth`` (default 2), deeper modules folded.

    The user's module is only read: a forward pass (``options.input_size``) runs on a meta
    copy of it, which is then what is counted, so lazy modules have their shapes."""
    torch = require("torch", "torch")
    options = options or CountOptions()
    convention = convention or "torch"
    depth = DEFAULT_DEPTH if options.depth is None else options.depth
    notes: list[Note] = []
    probe, trace = _measure(module, options, torch, notes)
    type_names = _type_names(module, probe)
    places = _places(probe, depth, type_names)
    seen: dict[int, str] = {}
    rows = [_place_row(place, places, convention, seen, trace, type_names) for place in places]
    if trace and places[0].module is not probe:
        _add_root_macs(probe, rows, places, trace)
    lazy = [row.name for row in rows if row.note.startswith(LAZY_NOTE)]
    if lazy:
        notes.append(Note(f"{len(lazy)} lazy module(s) are uninitialized ("
                          f"{', '.join(lazy[:3])}{', …' if len(lazy) > 3 else ''}): their "
                          "parameters have no shape before the first forward and count 0; give "
                          "input_size (--input-size) to measure them on a meta copy.",
                          "shapes", tuple(lazy)))
    summary = Summary(type_names[id(probe)], rows, convention, origin="torch.nn.Module")
    summary.activation_elements = trace.activations if trace else None
    summary.notes += notes
    if options.other_convention:
        other = "keras" if convention == "torch" else "torch"
        recount = options.replace(input_size=None, other_convention=False)
        summary.other_factory = lambda: count_module(probe, other, recount)
    return summary


def _type_names(module: Any, probe: Any) -> dict[int, str]:
    """Class names of the user's modules, keyed by the probe's modules: the meta copy of a
    ``LazyLinear`` has become a ``Linear``, and a ScriptModule knows its original class."""
    torch = sys.modules["torch"]
    names = {id(sub): type(sub).__name__ for sub in probe.modules()}
    for orig, sub in zip(module.modules(), probe.modules(), strict=False):  # same walk order
        names[id(sub)] = (orig.original_name if isinstance(orig, torch.jit.ScriptModule)
                          else type(orig).__name__)
    return names


def _add_root_macs(module: Any, rows: list[LayerRow], places: list[_Place], trace: _Trace) -> None:
    """Work done in the root's own ``forward`` (a tied LM head's ``h @ embed.T``) gets a row,
    so the per-row MACs still add up to the model's."""
    root = type(module).__name__
    residual = trace.subtree_macs(root) - sum(
        trace.subtree_macs(p.name) for p in places if p.level == 0
    )
    if residual:
        rows.append(make_row(f"({root})", root, [], "torch",
                             output_shape=trace.shapes.get(id(module), ()),
                             formula="operations in forward() itself", macs=residual))


def _places(root: Any, depth: int, type_names: dict[int, str]) -> list[_Place]:
    """Pre-order walk; the root is a row of its own only when it is a leaf or folded whole,
    or when it holds parameters directly (a ``cls_token`` on the model itself)."""
    root_name = type_names[id(root)]
    if depth <= 0 or not list(root.children()):
        return [_Place(root_name, root, 0, folded=True)]
    places: list[_Place] = []
    if _direct_tensors(root):
        places.append(_Place(f"({root_name})", root, 0, folded=False))

    def walk(module: Any, prefix: str, level: int) -> None:
        for name, child in module._modules.items():  # named_children() hides a second place
            if child is None:
                continue
            qualified = f"{prefix}{name}"
            folded = level + 1 >= depth or not list(child.children())
            places.append(_Place(qualified, child, level, folded))
            if not folded:
                walk(child, qualified + ".", level + 1)

    walk(root, "", 0)
    return places


def _direct_tensors(module: Any) -> list[tuple[str, Any, bool]]:
    """(name, tensor, is_buffer) held by ``module`` itself, persistent buffers only."""
    skip: set[str] = getattr(module, "_non_persistent_buffers_set", set())
    tensors = [(n, p, False) for n, p in module._parameters.items() if p is not None]
    tensors += [(n, b, True) for n, b in module._buffers.items() if b is not None and n not in skip]
    return tensors


def _tensors(place: _Place) -> list[tuple[str, Any, bool]]:
    """The tensors a row answers for: its own, or its whole subtree when folded."""
    if not place.folded:
        return [(f"{place.name}.{n}", t, b) for n, t, b in _direct_tensors(place.module)]
    found = []
    for sub_name, sub in place.module.named_modules(remove_duplicate=False):
        prefix = ".".join(p for p in (place.name, sub_name) if p and not p.startswith("("))
        found += [(f"{prefix}.{n}" if prefix else n, t, b) for n, t, b in _direct_tensors(sub)]
    return found


def _place_row(
    place: _Place, places: list[_Place], convention: str, seen: dict[int, str],
    trace: _Trace | None, type_names: dict[int, str],
) -> LayerRow:
    torch = sys.modules["torch"]
    weights: list[Weight] = []
    shared_with: list[str] = []
    lazy: list[str] = []
    for name, tensor, is_buffer in _tensors(place):
        key = id(tensor)
        if key in seen:
            if seen[key] not in shared_with:
                shared_with.append(seen[key])
            continue
        seen[key] = name
        if torch.nn.parameter.is_lazy(tensor):
            lazy.append(name.rsplit(".", 1)[-1])
            continue
        weight = _weight(name, tensor, is_buffer, convention)
        if weight is not None:
            weights.append(weight)
    formula = _formula(place, weights, convention)
    notes = []
    if shared_with:
        owners = ", ".join(_owner(n) for n in shared_with)
        formula = f"shares weight with {owners}" + (f"; {formula}" if formula else "")
        notes.append(f"shares weight with {', '.join(shared_with)}")
    if lazy:
        formula = f"{LAZY_NOTE}: {', '.join(lazy)} not counted" + (
            f"; {formula}" if formula else "")
        notes.insert(0, f"{LAZY_NOTE}: {', '.join(lazy)}")
    return make_row(
        place.name, type_names[id(place.module)], weights, convention,
        output_shape=trace.shapes.get(id(place.module), ()) if trace else (),
        formula=formula,
        macs=trace.row_macs(place, places) if trace else 0,
        shared=bool(shared_with) and not weights,
        note="; ".join(notes),
        depth=place.level,
    )


def _owner(tensor_name: str) -> str:
    """``encoder.embed.weight`` → ``encoder.embed`` (the module that owns it)."""
    return tensor_name.rsplit(".", 1)[0] if "." in tensor_name else tensor_name


def _weight(name: str, tensor: Any, is_buffer: bool, convention: str) -> Weight | None:
    shape = tuple(int(d) for d in tensor.shape)
    if not is_buffer:
        return Weight(name, shape, trainable=bool(tensor.requires_grad))
    if convention == "keras" and not tensor.is_floating_point():
        return None  # num_batches_tracked: an integer counter Keras does not keep
    return Weight(name, shape, trainable=False, statistic=True)


# --------------------------------------------------------------------------- formulas
def _formula(place: _Place, weights: list[Weight], convention: str) -> str:
    """The arithmetic for the common leaves; a folded block as the sum of its children;
    otherwise the tensor shapes summed."""
    if not weights:
        return ""
    module = place.module
    params = [w for w in weights if not w.statistic]
    total = sum(w.size for w in params)
    closed_form: str | None = None
    if place.folded and list(module.children()):
        closed_form = _block_formula(place, params, total)
    elif place.folded:
        closed_form = _leaf_formula(module, type(module).__name__, params, total)
    terms = " + ".join(_shape_term(w) for w in params)
    text = closed_form or (f"{terms} = {fmt(total)}" if terms else "")
    frozen = sum(w.size for w in params if not w.trainable)
    if frozen:
        text += f" (frozen: {fmt(frozen)} with requires_grad=False)"
    stats = sum(w.size for w in weights if w.statistic)
    if stats:
        extra = (f"buffers {fmt(stats)}" if convention == "torch"
                 else f"+ {fmt(stats)} running statistics, non-trainable in Keras")
        text = f"{text}; {extra}" if text else extra
    return text


def _block_formula(place: _Place, params: list[Weight], total: int) -> str:
    """``conv1 4,096 + bn1 128 + … = 70,400``: a folded block by its direct children."""
    parts: dict[str, int] = {}
    prefix = f"{place.name}." if not place.name.startswith("(") and len(place.name) else ""
    for weight in params:
        rest = weight.name[len(prefix):] if weight.name.startswith(prefix) else weight.name
        head = rest.split(".", 1)[0]
        parts[head] = parts.get(head, 0) + weight.size
    if len(parts) == 1:
        return f"{fmt(total)}"
    return " + ".join(f"{k} {fmt(v)}" for k, v in parts.items()) + f" = {fmt(total)}"


def _shape_term(weight: Weight) -> str:
    label = weight.name.rsplit(".", 1)[-1]
    dims = " × ".join(fmt(d) for d in weight.shape) or "1"
    return f"{label} {dims}"


def _leaf_formula(module: Any, kind: str, params: list[Weight], total: int) -> str | None:
    """Closed forms for the layers users look up most; None falls back to shapes."""
    names = {w.name.rsplit(".", 1)[-1] for w in params}
    bias = "bias" in names
    if kind == "Linear" and names <= {"weight", "bias"} and "weight" in names:
        n, m = module.in_features, module.out_features
        return f"({fmt(n)} + 1) × {fmt(m)} = {fmt(total)}" if bias else (
            f"{fmt(n)} × {fmt(m)} = {fmt(total)}")
    # transformers' GPT-2 ``Conv1D`` is a Linear stored (in, out) with no kernel_size: shapes.
    if (kind.startswith("Conv") and hasattr(module, "kernel_size") and "weight" in names
            and names <= {"weight", "bias"}):
        return _conv_formula(module, kind, bias, total)
    if kind == "Embedding" and names == {"weight"}:
        return f"{fmt(module.num_embeddings)} × {fmt(module.embedding_dim)} = {fmt(total)}"
    if kind.startswith(("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm")) and (
        names == {"weight", "bias"}
    ):
        size = total // 2
        return f"2 × {fmt(size)} (γ, β) = {fmt(total)}"
    return None


def _conv_formula(module: Any, kind: str, bias: bool, total: int) -> str:
    """Conv: (k·c_in/groups + 1) × c_out; transposed: k·c_in·c_out/groups + c_out."""
    kernel = "·".join(str(k) for k in module.kernel_size)
    groups = module.groups
    if kind.startswith("ConvTranspose"):
        text = f"{kernel}·{module.in_channels}·{module.out_channels // groups}"
        return f"{text} + {fmt(module.out_channels)} = {fmt(total)}" if bias else (
            f"{text} = {fmt(total)}")
    text = f"{kernel}·{module.in_channels // groups}"
    if bias:
        return f"({text} + 1) × {fmt(module.out_channels)} = {fmt(total)}"
    return f"{text} × {fmt(module.out_channels)} = {fmt(total)}"


# --------------------------------------------------------------------------- the forward pass
@dataclass
class _Trace:
    """What one meta-device forward pass saw, keyed by module identity and tracker name."""

    shapes: dict[int, Shape]
    flops: dict[str, int]  # FlopCounterMode: qualified name → FLOPs of the whole subtree
    root: str
    batch: int
    activations: int  # elements per example in the outputs of the leaf modules

    def subtree_macs(self, name: str) -> int:
        key = self.root if name.startswith("(") or name == self.root else f"{self.root}.{name}"
        return self.flops.get(key, 0) // 2 // self.batch

    def row_macs(self, place: _Place, places: list[_Place]) -> int:
        """Folded rows take their subtree; expanded rows what their children do not cover."""
        if place.name.startswith("("):
            covered = sum(self.subtree_macs(p.name) for p in places if p.level == 0
                          and p is not place)
            return self.subtree_macs(place.name) - covered
        total = self.subtree_macs(place.name)
        if place.folded:
            return total
        children = [p for p in places if p.level == place.level + 1
                    and p.name.rsplit(".", 1)[0] == place.name]
        return total - sum(self.subtree_macs(c.name) for c in children)


def _input_sizes(value: Any) -> list[tuple[int, ...]]:
    """``"1,3,224,224"``, ``(1, 3, 224, 224)`` or, for several inputs, a list of such sizes
    (torchinfo's ``input_size``); the batch axis first."""
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], (tuple, list)):
        return [_input_size(v, value) for v in value]
    return [_input_size(value, value)]


def _input_size(part: Any, whole: Any) -> tuple[int, ...]:
    if isinstance(part, (tuple, list)):
        parts = [str(p) for p in part]
    else:
        parts = str(part).replace("x", ",").replace("×", ",").split(",")
    try:
        dims = tuple(int(p) for p in parts if p.strip())
    except ValueError:
        dims = ()
    if not dims or any(d <= 0 for d in dims):
        raise ShapeError(
            f"--input-size must be positive integers with the batch axis first, such as "
            f"1,3,224,224. Received: {whole!r}"
        )
    return dims


def _measure(module: Any, options: CountOptions, torch: Any,
             notes: list[Note]) -> tuple[Any, _Trace | None]:
    """(the module to count, what its forward pass saw): a traced meta copy, or the user's
    module itself when no input size is given or the forward cannot run on meta tensors
    (the reason goes to ``notes``)."""
    if options.input_size is None:
        return module, None
    sizes = _input_sizes(options.input_size)
    missing = "Output shapes and MACs are missing:"
    if isinstance(module, torch.jit.ScriptModule):
        notes.append(Note(f"{missing} a ScriptModule's compiled forward cannot be traced on "
                          "the meta device; parameters are counted from its tensors.", "shapes"))
        return module, None
    failures: list[BaseException] = []
    for dtypes in _dtype_choices(module, options.dtypes, len(sizes), torch):
        try:
            probe = _meta_copy(module, torch)
        except Exception as exc:  # a module deepcopy cannot copy (locks, open files)
            notes.append(Note(f"{missing} the model could not be copied for a meta-device "
                              f"forward pass ({type(exc).__name__}: {_one_line(exc)}).",
                              "shapes"))
            return module, None
        try:
            return probe, _traced_pass(probe, sizes, dtypes, torch)
        except Exception as exc:  # the user's forward: any failure is reported, never raised raw
            failures.append(exc)
    first = failures[0]
    if any(_meta_limitation(exc) for exc in failures):
        reason = next(exc for exc in failures if _meta_limitation(exc))
        notes.append(Note(f"{missing} the forward pass of {type(module).__name__} cannot run "
                          f"on the meta device ({type(reason).__name__}: "
                          f"{_one_line(reason)[:160]}).", "shapes"))
        return module, None
    raise ShapeError(
        f"the forward pass of {type(module).__name__} with input size "
        f"{sizes[0] if len(sizes) == 1 else sizes} failed on the meta device: "
        f"{type(first).__name__}: {_one_line(first)}"
    ) from first


def _meta_limitation(exc: BaseException) -> bool:
    """Failures of the meta device rather than of the input size: reading values
    (``.item()``, ``.tolist()``, data-dependent shapes) or copying to a real device."""
    return isinstance(exc, NotImplementedError) or "meta" in str(exc).lower()


def _dtype_choices(module: Any, dtypes: Any, inputs: int, torch: Any) -> list[list[Any]]:
    """The probe inputs' dtypes to try. Given ``dtypes`` are used as they are; otherwise the
    model's own floating dtype (a half or bfloat16 model gets half or bfloat16 inputs), with
    integer token ids tried first for models with an ``nn.Embedding``."""
    if dtypes is not None:
        chosen = [_torch_dtype(d, torch) for d in dtypes]
        if len(chosen) == 1:
            chosen *= inputs
        if len(chosen) != inputs:
            raise ShapeError(f"dtypes must name one dtype per input ({inputs}). "
                             f"Received: dtypes={list(dtypes)!r}")
        return [chosen]
    floating = next((t.dtype for t in [*module.parameters(), *module.buffers()]
                     if not torch.nn.parameter.is_lazy(t) and t.is_floating_point()),
                    torch.get_default_dtype())
    has_embedding = any(isinstance(m, torch.nn.Embedding) for m in module.modules())
    order = [torch.long, floating] if has_embedding else [floating, torch.long]
    return [[dtype] * inputs for dtype in order]


def _torch_dtype(value: Any, torch: Any) -> Any:
    if isinstance(value, torch.dtype):
        return value
    dtype = getattr(torch, str(value), None)
    if not isinstance(dtype, torch.dtype):
        raise ShapeError(f"dtypes must be torch dtypes or their names (float16, long, …). "
                         f"Received: {value!r}")
    return dtype


def _meta_copy(module: Any, torch: Any) -> Any:
    """A structural copy of ``module`` whose tensors are meta tensors of the same shapes,
    dtypes and ``requires_grad``: ``deepcopy`` with every tensor pre-entered in its memo, so
    no storage is copied, a tensor or module reachable from two places stays one object
    (tied weights, a module registered twice), and nothing of the user's is touched. The
    copy's hooks are dropped — the user's hooks must not see (or record) the probe pass —
    except those that are the module's own methods, how lazy modules initialize."""
    memo: dict[int, Any] = {}
    for sub in module.modules():
        tensors = [*sub._parameters.values(), *sub._buffers.values(),
                   *(v for v in vars(sub).values() if isinstance(v, torch.Tensor))]
        for tensor in tensors:
            if tensor is not None and id(tensor) not in memo:
                memo[id(tensor)] = _meta_like(tensor, torch)
    probe = copy.deepcopy(module, memo)
    for sub in probe.modules():
        for attribute in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                          "_backward_pre_hooks"):
            hooks = getattr(sub, attribute, {})
            for key in [k for k, hook in hooks.items() if getattr(hook, "__self__", None)
                        is not sub]:  # kept: a module's own methods (lazy initialization)
                del hooks[key]
    return probe


def _traced_pass(module: Any, sizes: list[tuple[int, ...]], dtypes: list[Any],
                 torch: Any) -> _Trace:
    from torch.utils.flop_counter import FlopCounterMode

    shapes: dict[int, Shape] = {}
    leaf_elements = [0]

    def hook(mod: Any, _inputs: Any, output: Any) -> None:
        tensor = _first_tensor(output, torch)
        if tensor is None:
            return
        shapes.setdefault(id(mod), tuple(int(d) for d in tensor.shape[1:]))
        if not list(mod.children()):
            leaf_elements[0] += math.prod(tensor.shape[1:])

    for sub in module.modules():
        sub.register_forward_hook(hook)  # on the probe, which is thrown away afterwards
    inputs = [torch.zeros(size, dtype=dtype, device="meta")
              for size, dtype in zip(sizes, dtypes, strict=True)]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(*inputs)
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    return _Trace(shapes, flops, type(module).__name__, sizes[0][0], leaf_elements[0])


def _meta_like(tensor: Any, torch: Any) -> Any:
    if torch.nn.parameter.is_lazy(tensor):  # shapeless until the first forward
        if isinstance(tensor, torch.nn.UninitializedBuffer):
            return torch.nn.UninitializedBuffer(device="meta", dtype=tensor.dtype)
        return torch.nn.UninitializedParameter(tensor.requires_grad, "meta", tensor.dtype)
    meta = torch.empty_like(tensor, device="meta")
    if isinstance(tensor, torch.nn.Parameter):
        return torch.nn.Parameter(meta, requires_grad=tensor.requires_grad)
    return meta


def _first_tensor(output: Any, torch: Any) -> Any:
    """The first tensor in a module's output (LSTMs return ``(out, (h, c))``)."""
    if isinstance(output, torch.Tensor):
        return output
    values = output.values() if isinstance(output, dict) else output
    if isinstance(values, (tuple, list)) or isinstance(output, dict):
        for item in values:
            found = _first_tensor(item, torch)
            if found is not None:
                return found
    return None
