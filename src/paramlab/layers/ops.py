"""Keras 3 operation nodes: ``x + y``, ``keras.ops.mean(x)``, ``keras.activations.swish(x)``.

When Keras 3 code applies an operation to a symbolic tensor, the functional JSON records an
*operation* node (``Silu``, ``Add``, ``GetItem``, …) rather than a layer. An operation owns no
variables, so every rule here has 0 parameters and 0 MACs (element-wise work, fvcore's
convention); they matter to a count only through the shapes they hand on.

Shapes follow ``keras.ops``: they are computed on the *full* shape, batch axis included
(``ops.transpose(x, (0, 2, 1))`` numbers the batch as axis 0, NumPy broadcasting aligns from
the right including the batch), then the first axis is dropped again. An op without a rule
here, or one whose arguments a rule cannot follow (a tensor used as an index), takes its output
shape from the JSON, which records it wherever a later node consumes the tensor.

Rules are registered as ``ops.<ClassName>`` so they never collide with the layer of the same
name (the ``Reshape`` op takes a full ``newshape``, the layer a ``target_shape`` without batch).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    RECORDED,
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    anything,
    recorded_output,
    register,
    show_shape,
)

Full = tuple[int | None, ...]  # a shape with its first (batch) axis
OPAQUE_OP = "KerasOp"


@dataclass(frozen=True)
class TensorArg:
    """A tensor among an op's call arguments: input number ``index`` of the node."""

    index: int


@dataclass(frozen=True)
class ConstantArg:
    """A constant array among an op's call arguments (``x + np.ones((4, 5))``): its shape."""

    shape: tuple[int, ...]


class _CannotFollow(Exception):
    """A rule cannot compute this call's shape; the JSON's recorded shape is used instead."""


_OPS: set[str] = set()
_OP_ONLY = "an op node exists only in Keras model JSON; use the matching layer (add, multiply…)"
_PARAMS = [
    Param("config", anything, None),
    Param("operands", anything, ()),
    Param("call_kwargs", anything, None),
    RECORDED,
]
ShapeFn = Callable[[list[Full], dict[str, Any], tuple[Any, ...]], Full | list[Full]]


def op_type(class_name: str) -> str:
    """The rule name for a Keras op class: ``ops.<Name>`` if it has a rule, else KerasOp."""
    return f"ops.{class_name}" if class_name in _OPS else OPAQUE_OP


def _op(*names: str) -> Callable[[ShapeFn], ShapeFn]:
    """Register ``fn(full input shapes, config + call kwargs, operands)`` for each op name."""

    def deco(fn: ShapeFn) -> ShapeFn:
        for name in names:
            if name.lower() not in {op.lower() for op in _OPS}:  # Relu and ReLU: one rule
                register(f"ops.{name}", params=_PARAMS, min_inputs=0, max_inputs=None,
                         json_only=_OP_ONLY)(_rule(name, fn))
            _OPS.add(name)
        return fn

    return deco


def _rule(name: str, fn: ShapeFn) -> Callable[[Args, list[Shape], Context], LayerResult]:
    def rule(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        options = {**(a.config or {}), **_plain(a.call_kwargs or {})}
        full = [(None, *x) for x in inputs]
        try:
            out = fn(full, options, tuple(a.operands or ()))
        except _CannotFollow:
            shape, note = recorded_output(a, inputs, f"the {name} op")
            return LayerResult(shape, note=note)
        if isinstance(out, list):  # several outputs (Split)
            return LayerResult(tuple(tuple(o[1:]) for o in out))
        return LayerResult(tuple(out[1:]) if out else ())

    return rule


def _plain(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Call keyword arguments that are constants (tensors are inputs, not options)."""
    return {k: v for k, v in kwargs.items() if not isinstance(v, TensorArg)}


@register(OPAQUE_OP, params=[Param("op", anything, "?"), *_PARAMS], min_inputs=0,
          max_inputs=None, json_only=_OP_ONLY)
def keras_op(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """An op without a shape rule here: 0 parameters, the shape the JSON recorded."""
    shape, note = recorded_output(a, inputs, f"the {a.op} op")
    return LayerResult(shape, note=note)


# ----------------------------------------------------------------------------- helpers


def _broadcast(shapes: Sequence[Full], op: str) -> Full:
    """NumPy broadcasting, aligned from the right; an unknown axis stays unknown unless the
    other side is a known size other than 1 (Keras' ``broadcast_shapes``)."""
    rank = max((len(s) for s in shapes), default=0)
    out: list[int | None] = []
    for k in range(rank):
        dims = [s[len(s) - rank + k] for s in shapes if len(s) - rank + k >= 0]
        known_dims = {d for d in dims if d is not None and d != 1}
        if len(known_dims) > 1:
            raise ShapeError(f"the {op} op cannot broadcast shapes "
                             + " and ".join(str(s) for s in shapes))
        if known_dims:
            out.append(known_dims.pop())
        elif None in dims:
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _operand_shapes(operands: tuple[Any, ...], inputs: list[Full]) -> list[Full]:
    """The shape of every operand: a tensor's, () for a Python number."""
    shapes = []
    for value in operands:
        if isinstance(value, TensorArg):
            shapes.append(inputs[value.index])
        elif isinstance(value, ConstantArg):
            shapes.append(value.shape)
        elif isinstance(value, (int, float, bool)) or value is None:
            shapes.append(())
        else:
            raise _CannotFollow
    return shapes


def _flat_length(x: Full) -> int | None:
    """Values in a flattened tensor: unknown if any axis (the batch) is."""
    return None if None in x else math.prod(d for d in x if d is not None)


def _axis(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise _CannotFollow
    return axis % rank


def _names(text: str) -> list[str]:
    """Op class names written as one string of words."""
    return text.split()


def _listed(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _axes(value: Any, rank: int) -> list[int] | None:
    if value is None:
        return None
    return sorted(_axis(int(v), rank) for v in _listed(value))


# ----------------------------------------------------------------------------- element-wise

_UNARY = _names(
    # keras.ops.numpy
    "Abs Absolute Arccos Arccosh Arcsin Arcsinh Arctan Arctanh BitwiseInvert BitwiseNot Cbrt "
    "Ceil Clip Conj Conjugate Copy Cos Cosh Deg2rad EmptyLike Exp Exp2 Expm1 Fabs Flip Fliplr "
    "Flipud Floor FullLike I0 Imag Isfinite Isinf Isnan Isneginf Isposinf Isreal Log Log10 "
    "Log1p Log2 LogicalNot NanToNum Negative OnesLike Rad2deg Real Reciprocal Roll Round Sign "
    "Signbit Sin Sinc Sinh Sort Argsort Sqrt Square Tan Tanh Tril Triu Trunc ZerosLike "
    # keras.ops.nn, keras.ops.math, keras.ops.core, keras.activations
    "Celu Elu Gelu HardShrink HardSigmoid HardSilu HardTanh LeakyRelu LogSigmoid LogSoftmax "
    "Relu Relu6 Selu Sigmoid Silu SoftShrink Softmax Softplus Softsign SparsePlus "
    "SparseSigmoid Sparsemax Squareplus TanhShrink Threshold Normalize LayerNorm RMSNorm "
    "Erf Erfc Erfinv Rsqrt Cast SaturateCast StopGradient ConvertToTensor Mish ReLU"
)


@_op(*_UNARY)
def _same(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Element-wise: the first tensor's shape."""
    if not inputs:
        raise _CannotFollow
    return inputs[0]


_BINARY = _names(
    "Add Subtract Multiply Divide DivideNoNan TrueDivide FloorDivide Power Maximum Minimum "
    "Mod Fmod Fmax Fmin Equal NotEqual Greater GreaterEqual Less LessEqual LogicalAnd "
    "LogicalOr LogicalXor Arctan2 Hypot Heaviside Logaddexp Logaddexp2 Nextafter Gcd Lcm "
    "Ldexp LeftShift RightShift BitwiseAnd BitwiseOr BitwiseXor BitwiseLeftShift "
    "BitwiseRightShift Where"
)


@_op(*_BINARY)
def _broadcasting(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Every operand (tensor or number) broadcast together, NumPy-style."""
    return _broadcast(_operand_shapes(operands, inputs), "element-wise")


# ----------------------------------------------------------------------------- reductions

_REDUCTIONS = _names(
    "Mean Sum Max Min Amax Amin Prod Std Var All Any Logsumexp Median Nanmean Nansum Nanmax "
    "Nanmin Nanprod Nanstd Nanvar Nanmedian Ptp CountNonzero Argmax Argmin Average Norm"
)


@_op(*_REDUCTIONS)
def _reduce(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Drops the reduced axes (all of them for ``axis=None``) or keeps them as 1s."""
    (x, *_) = inputs
    axes = _axes(options.get("axis"), len(x))
    if axes is None:
        axes = list(range(len(x)))
    if options.get("keepdims"):
        return tuple(1 if k in axes else d for k, d in enumerate(x))
    return tuple(d for k, d in enumerate(x) if k not in axes)


# ----------------------------------------------------------------------------- shape ops


@_op("Moments")
def _moments(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]
             ) -> list[Full]:
    """Mean and variance over ``axes``: two reduced outputs."""
    reduced = _reduce(inputs, {"axis": options.get("axes"), **options}, operands)
    return [reduced, reduced]  # type: ignore[list-item]


@_op("Cumsum", "Cumprod")
def _cumulative(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Same shape along ``axis``; flattened when ``axis`` is None."""
    if options.get("axis") is None:
        return (_flat_length(inputs[0]),)
    return inputs[0]


@_op("TopK")
def _top_k(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> list[Full]:
    """Values and indices of the ``k`` largest along the last axis."""
    (x,) = inputs
    shape = (*x[:-1], int(options.get("k", 1)))
    return [shape, shape]


@_op("Glu")
def _glu(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Halves ``axis``: one half gates the other."""
    (x,) = inputs
    axis = _axis(int(options.get("axis", -1)), len(x))
    return tuple((d // 2 if d is not None else None) if k == axis else d for k, d in enumerate(x))


@_op("Tile")
def _tile(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Each axis times its repeat, repeats aligned from the right (NumPy's tile)."""
    (x,) = inputs
    repeats = _listed(options.get("repeats"))
    if not all(isinstance(r, int) for r in repeats):
        raise _CannotFollow
    rank = max(len(x), len(repeats))
    x = (1,) * (rank - len(x)) + x
    repeats = (1,) * (rank - len(repeats)) + repeats
    return tuple(None if d is None else d * r for d, r in zip(x, repeats, strict=True))


@_op("Repeat")
def _repeat(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    (x,) = inputs
    repeats, axis = options.get("repeats"), options.get("axis")
    if not isinstance(repeats, int):
        raise _CannotFollow
    if axis is None:
        length = _flat_length(x)
        return (None if length is None else length * repeats,)
    index = _axis(int(axis), len(x))
    return tuple((None if d is None else d * repeats) if k == index else d
                 for k, d in enumerate(x))


@_op("BroadcastTo")
def _broadcast_to(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]
                  ) -> Full:
    shape = options.get("shape")
    if not isinstance(shape, (list, tuple)):
        raise _CannotFollow
    return tuple(shape)


@_op("Pad")
def _pad(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Adds (before, after) to each axis."""
    (x,) = inputs
    width = options.get("pad_width")
    if isinstance(width, int):
        width = ((width, width),) * len(x)
    if not isinstance(width, (list, tuple)) or len(width) != len(x):
        raise _CannotFollow
    pairs = [(w, w) if isinstance(w, int) else tuple(w) for w in width]
    return tuple(None if d is None else d + sum(p) for d, p in zip(x, pairs, strict=True))


@_op("Resize")
def _resize(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Images (batch, height, width, channels) to ``size``."""
    (x,) = inputs
    height, width = options.get("size") or (None, None)
    if len(x) != 4:
        raise _CannotFollow
    if options.get("data_format") == "channels_first":
        return (x[0], x[1], height, width)
    return (x[0], height, width, x[3])


@_op("Take")
def _take(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Constant indices along ``axis`` replace that axis by the indices' shape."""
    x = inputs[0]
    indices = operands[1] if len(operands) > 1 else None
    axis = options.get("axis")
    if axis is None or isinstance(indices, TensorArg):
        raise _CannotFollow
    if isinstance(indices, int):
        shape: tuple[int, ...] = ()
    elif isinstance(indices, ConstantArg):
        shape = indices.shape
    elif isinstance(indices, tuple):
        shape = (len(indices),)
    else:
        raise _CannotFollow
    index = _axis(int(axis), len(x))
    return (*x[:index], *shape, *x[index + 1:])


@_op("Dot")
def _dot(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """NumPy dot: the last axis of a with the second-to-last of b."""
    a, b = _operand_shapes(operands, inputs)
    if not a or not b:
        return _broadcast([a, b], "dot")
    if len(b) == 1:
        return a[:-1]
    return (*a[:-1], *b[:-2], b[-1])


@_op("Reshape")
def _reshape(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """``newshape`` counts the batch axis; a -1 takes what is left, unknown if any axis is."""
    (x,) = inputs
    target = options.get("newshape")
    if not isinstance(target, (list, tuple)):
        raise _CannotFollow
    if -1 not in target:
        return tuple(target)
    if any(d is None for d in x):
        return tuple(None if d == -1 else d for d in target)
    fixed = math.prod(d for d in target if d != -1)
    return tuple(math.prod(x) // fixed if d == -1 else d for d in target)  # type: ignore[arg-type]


@_op("Transpose")
def _transpose(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    (x,) = inputs
    axes = options.get("axes")
    if axes is None:
        return tuple(reversed(x))
    return tuple(x[_axis(int(k), len(x))] for k in axes)


@_op("Swapaxes", "Moveaxis")
def _move(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    (x,) = inputs
    out = list(x)
    if "axis1" in options:
        i, j = _axis(options["axis1"], len(x)), _axis(options["axis2"], len(x))
        out[i], out[j] = out[j], out[i]
        return tuple(out)
    src = [_axis(int(v), len(x)) for v in _listed(options.get("source"))]
    dst = [_axis(int(v), len(x)) for v in _listed(options.get("destination"))]
    rest = [d for k, d in enumerate(x) if k not in src]
    for position, source in sorted(zip(dst, src, strict=True)):
        rest.insert(position, x[source])
    return tuple(rest)


@_op("ExpandDims")
def _expand_dims(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    (x,) = inputs
    values = _listed(options.get("axis"))
    rank = len(x) + len(values)
    axes = sorted(_axis(int(v), rank) for v in values)
    out = list(x)
    for axis in axes:
        out.insert(axis, 1)
    return tuple(out)


@_op("Squeeze")
def _squeeze(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    (x,) = inputs
    axes = _axes(options.get("axis"), len(x))
    if axes is None:
        return tuple(d for d in x if d != 1)
    return tuple(d for k, d in enumerate(x) if k not in axes)


@_op("Ravel")
def _ravel(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    return (_flat_length(inputs[0]),)


@_op("Concatenate")
def _concatenate(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Sizes add up along ``axis``; the other axes broadcast as Keras' shape inference does."""
    axis = options.get("axis", 0)
    if not inputs or axis is None:
        raise _CannotFollow
    index = _axis(int(axis), len(inputs[0]))
    sizes = [x[index] for x in inputs]
    out = list(_broadcast([tuple(1 if k == index else d for k, d in enumerate(x))
                           for x in inputs], "concatenate"))
    out[index] = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
    return tuple(out)


@_op("Stack")
def _stack(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """A new axis of size len(inputs) at ``axis``."""
    if not inputs:
        raise _CannotFollow
    shape = list(_broadcast(inputs, "stack"))
    shape.insert(_axis(int(options.get("axis", 0)), len(shape) + 1), len(inputs))
    return tuple(shape)


@_op("Split")
def _split(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> list[Full]:
    """``indices_or_sections``: n equal parts, or the cut points along ``axis``."""
    (x,) = inputs
    axis = _axis(int(options.get("axis", 0)), len(x))
    cuts = options.get("indices_or_sections")
    length = x[axis]
    if isinstance(cuts, int) and not isinstance(cuts, bool):
        sizes: list[int | None] = [None if length is None else length // cuts] * cuts
    elif isinstance(cuts, (list, tuple)) and length is not None:
        bounds = [0, *cuts, length]
        sizes = [max(b - a, 0) for a, b in itertools.pairwise(bounds)]
    else:
        raise _CannotFollow
    return [tuple(size if k == axis else d for k, d in enumerate(x)) for size in sizes]


@_op("Matmul")
def _matmul(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """NumPy matmul: (…, n, k) @ (…, k, m) → (…, n, m), leading axes broadcast."""
    a, b = _operand_shapes(operands, inputs)
    if len(a) < 1 or len(b) < 1:
        raise _CannotFollow
    if len(b) == 1:
        return a[:-1]
    if len(a) == 1:
        return (*b[:-2], b[-1])
    batch = _broadcast([a[:-2], b[:-2]], "matmul")
    return (*batch, a[-2], b[-1])


@_op("Einsum")
def _einsum(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """``subscripts`` like ``"bqd,bkd->bqk"``: each output letter's size from an operand."""
    subscripts = options.get("subscripts")  # Keras keeps it in the op's config
    tensors = [v for v in operands if not isinstance(v, str)]
    if not isinstance(subscripts, str) or "->" not in subscripts or "." in subscripts:
        raise _CannotFollow
    lhs, rhs = subscripts.replace(" ", "").split("->")
    if len(lhs.split(",")) != len(tensors):
        raise _CannotFollow
    sizes: dict[str, int | None] = {}
    for letters, x in zip(lhs.split(","), _operand_shapes(tuple(tensors), inputs), strict=True):
        if len(letters) != len(x):
            raise _CannotFollow
        for letter, d in zip(letters, x, strict=True):
            if sizes.get(letter) is None or sizes[letter] == 1:
                sizes[letter] = d
    return tuple(sizes[letter] for letter in rhs)


@_op("OneHot")
def _one_hot(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """A new axis of ``num_classes`` at ``axis`` (last by default)."""
    (x,) = inputs
    classes = options.get("num_classes")
    if not isinstance(classes, int):
        raise _CannotFollow
    axis = options.get("axis", -1)
    out = list(x)
    out.insert(len(out) + 1 + axis if axis < 0 else axis, classes)
    return tuple(out)


@_op("GetItem")
def _get_item(inputs: list[Full], options: dict[str, Any], operands: tuple[Any, ...]) -> Full:
    """Basic indexing: integers drop an axis, slices shorten it, None adds one, ``...``
    stands for the axes not named. Tensors as indices are followed from the JSON."""
    x = inputs[0]
    key = operands[1] if len(operands) > 1 else None
    items = list(key) if isinstance(key, tuple) else [key]
    if any(isinstance(item, TensorArg) for item in items):
        raise _CannotFollow
    named = sum(1 for item in items if item is not None and item is not Ellipsis)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at:at + 1] = [slice(None)] * (len(x) - named)
    out: list[int | None] = []
    axis = 0
    for item in items:
        if item is None:
            out.append(1)
            continue
        if axis >= len(x):
            raise ShapeError(f"GetItem: too many indices for a tensor of shape {show_shape(x[1:])}")
        if isinstance(item, slice):
            length = x[axis]
            out.append(None if length is None else len(range(*item.indices(length))))
        elif not isinstance(item, int):
            raise _CannotFollow
        axis += 1
    return (*out, *x[axis:])
