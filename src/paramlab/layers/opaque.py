"""Layers whose computation the JSON does not describe: Lambda and the framework wrappers.

* ``Lambda`` wraps a Python function: Keras creates no variables for it, so 0 parameters.
  Its output shape is the ``output_shape`` it declares, else the shape the JSON records where
  a later layer consumes it, else unknown (said in a note).
* ``TorchModuleWrapper`` serializes its ``torch.nn.Module`` with ``torch.save`` (a pickle).
  Keras counts the module's parameters; paramlab reads their shapes from the pickle with an
  unpickler that imports and runs nothing (every class it names becomes an inert stand-in),
  so a model file cannot execute code here — the reason Keras itself refuses to load it in
  safe mode.
* ``JaxLayer``, ``FlaxLayer`` and ``TFSMLayer`` keep their parameters in JAX/Flax variables or
  a TensorFlow SavedModel that the JSON does not contain: a clean error says so.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

from paramlab.errors import SpecError
from paramlab.layers.base import (
    RECORDED,
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    Weight,
    anything,
    fmt,
    recorded_output,
    register,
)


def _declared(value: Any) -> Shape | None:
    """A declared output shape (without batch axis), when it is a plain shape."""
    if isinstance(value, (list, tuple)) and all(v is None or isinstance(v, int) for v in value):
        return tuple(value)
    return None


@register("Lambda", params=[Param("function", anything, None),
                            Param("output_shape", anything, None),
                            Param("mask", anything, None),
                            Param("arguments", anything, None),
                            RECORDED],
          max_inputs=None,  # a Lambda may take a list of tensors
          json_only="Lambda wraps a Python function, which a spec cannot hold")
def lambda_layer(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """0 parameters: Keras creates no variables for a wrapped function."""
    declared = _declared(a.output_shape)
    if declared is not None:
        return LayerResult(declared, note="output shape as the Lambda declares it")
    shape, note = recorded_output(a, inputs, "a Lambda")
    return LayerResult(shape, note=f"a Lambda's function is opaque: 0 parameters; {note}")


def _no_framework(name: str, framework: str, where: str) -> None:
    def rule(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        raise SpecError(
            f"{name} keeps its parameters in {where}, which the model JSON does not contain: "
            f"paramlab cannot count it without its framework ({framework}); count the live "
            "model instead, with paramlab.count(model)"
        )

    register(name, params=[Param("call_fn", anything, None), Param("init_fn", anything, None),
                           Param("params", anything, None), Param("state", anything, None),
                           Param("module", anything, None), Param("method", anything, None),
                           Param("variables", anything, None),
                           Param("native_serialization_platforms", anything, None),
                           Param("filepath", anything, None),
                           Param("call_endpoint", anything, None),
                           Param("call_training_endpoint", anything, None),
                           Param("trainable", anything, None)], max_inputs=None,
                   json_only=f"{name} wraps {framework} code, which a spec cannot hold")(rule)


_no_framework("JaxLayer", "JAX", "JAX arrays")
_no_framework("FlaxLayer", "Flax", "Flax variables")
_no_framework("TFSMLayer", "TensorFlow", "a TensorFlow SavedModel on disk")


# ----------------------------------------------------------------------------- TorchModuleWrapper


class _Inert:
    """Stands in for any class a pickle names: accepts any arguments, keeps its state."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Inert:
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = state[0] or {}  # (dict, slots) as object.__reduce_ex__ writes it
        if isinstance(state, dict):
            self.__dict__.update(state)


class _Tensor:
    def __init__(self, size: Any) -> None:
        self.size = tuple(int(d) for d in size)


class _Parameter:
    def __init__(self, tensor: Any, requires_grad: Any = True, *rest: Any) -> None:
        self.size = tensor.size if isinstance(tensor, _Tensor) else ()
        self.requires_grad = bool(requires_grad)


def _rebuild_tensor(storage: Any, offset: Any, size: Any, *rest: Any) -> _Tensor:
    return _Tensor(size)


@functools.cache
def _shape_unpickler() -> Any:
    """An Unpickler that reads tensor shapes out of a ``torch.save`` pickle and imports
    nothing: every global it names resolves to an inert stand-in (built on first use, so
    counting a spec never imports pickle)."""
    import pickle

    known = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _Parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _Parameter,
        ("collections", "OrderedDict"): OrderedDict,
    }

    class ShapeUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            return known.get((module, name)) or type(name, (_Inert,),
                                                    {"__module__": "paramlab.inert"})

        def persistent_load(self, pid: Any) -> Any:
            return _Inert()

    return ShapeUnpickler


def torch_module_weights(encoded: Any) -> list[Weight]:
    """The parameters of a base64 ``torch.save`` archive, shared ones once."""
    import base64
    import binascii
    import io
    import pickle
    import zipfile

    try:
        raw = base64.b64decode(str(encoded).encode("ascii"))
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
            root = _shape_unpickler()(io.BytesIO(archive.read(name))).load()
    except (binascii.Error, zipfile.BadZipFile, StopIteration, pickle.UnpicklingError,
            EOFError, ValueError, TypeError, AttributeError, KeyError) as exc:
        raise SpecError(f"TorchModuleWrapper: its 'module' is not a torch.save archive "
                        f"({type(exc).__name__})") from None
    weights: list[Weight] = []
    seen: set[int] = set()
    _walk(root, "", weights, seen)
    return weights


def _walk(module: Any, prefix: str, weights: list[Weight], seen: set[int]) -> None:
    state = getattr(module, "__dict__", {})
    for name, param in (state.get("_parameters") or {}).items():
        if isinstance(param, _Parameter) and id(param) not in seen:
            seen.add(id(param))
            weights.append(Weight(prefix + name, param.size, param.requires_grad))
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            _walk(child, f"{prefix}{name}.", weights, seen)


@register("TorchModuleWrapper", params=[Param("module", anything),
                                        Param("output_shape", anything, None), RECORDED],
          max_inputs=None, json_only="TorchModuleWrapper wraps a PyTorch module; count the "
                                     "module itself with paramlab.count(module)")
def torch_module_wrapper(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """The wrapped module's parameters, as Keras tracks them (``module.parameters()``)."""
    weights = torch_module_weights(a.module)
    declared = _declared(a.output_shape)
    shape, note = recorded_output(a, inputs, "a TorchModuleWrapper")
    if not a.recorded_shapes and declared:
        shape, note = declared[1:], "output shape as the wrapper declares it"
    total = sum(w.size for w in weights)
    formula = f"{len(weights)} torch parameters = {fmt(total)}" if weights else ""
    return LayerResult(shape, weights, formula, note=note)
