"""The contract every layer rule follows, the rule table, and argument normalization.

A *rule* is a pure function ``rule(args, inputs, ctx) -> LayerResult`` registered under its
Keras class name with :func:`register`. It receives arguments already normalized (Keras'
``standardize_tuple`` idea: ``kernel_size=3`` arrives as ``(3, 3)``), the input shapes without
the batch axis, and the counting :class:`Context`. It returns the output shape, every weight
the layer creates (shape, trainable, statistic), the formula with the numbers filled in and
the multiply-accumulates per example. Parameter totals are *derived* from the weights, so a
rule can never state a count that disagrees with its own weight list.

Conventions (stated where the numbers are made):

* A weight marked ``statistic`` (BatchNorm moving mean/variance, Normalization mean/variance)
  is a non-trainable *parameter* in Keras and a *buffer*, not a parameter, in PyTorch.
* MACs: one fused multiply-add is one MAC (fvcore's convention); element-wise operations,
  pooling, normalization and activations count 0 MACs. FLOPs are 2 × MACs.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from paramlab.errors import ShapeError, SpecError

Dim = int | None
Shape = tuple[Dim, ...]
"""A tensor shape *without* the batch axis; ``None`` is a dimension unknown until run time."""

Convention = Literal["keras", "torch"]


@dataclass(frozen=True)
class Weight:
    """One weight tensor a layer creates."""

    name: str
    shape: tuple[int, ...]
    trainable: bool = True
    statistic: bool = False  # Keras: non-trainable parameter; PyTorch: buffer (not counted)

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass
class LayerResult:
    """What a rule computes for one call of a layer."""

    output_shape: Shape | tuple[Shape, ...]  # a tuple of shapes for multi-output layers
    weights: list[Weight] = field(default_factory=list)
    formula: str = ""  # the arithmetic with numbers filled in; "" when the layer has no weights
    macs: int = 0  # multiply-accumulates per example (batch of one)
    note: str = ""  # a convention remark shown by --explain


@dataclass(frozen=True)
class Context:
    """Everything a rule may need besides its arguments and input shapes."""

    convention: Convention = "keras"


class Args(dict[str, Any]):
    """Normalized arguments with attribute access (``a.units``)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError as exc:
            raise AttributeError(key) from exc


# ----------------------------------------------------------------------------- converters
# A converter turns a raw value into the normalized one or raises ValueError whose text is
# the expectation ("a positive integer"); normalize() wraps it in a SpecError naming the
# layer, the argument and the received value, following Keras' API guidelines.

Converter = Callable[[Any], Any]
REQUIRED: Any = object()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(value: Any) -> int:
    if _is_int(value) and value > 0:
        return int(value)
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    raise ValueError("a positive integer")


def non_negative_int(value: Any) -> int:
    if _is_int(value) and value >= 0:
        return int(value)
    raise ValueError("a non-negative integer")


def integer(value: Any) -> int:
    if _is_int(value):
        return int(value)
    raise ValueError("an integer")


def optional(convert: Converter) -> Converter:
    """Accept ``None`` as well as whatever ``convert`` accepts."""

    def conv(value: Any) -> Any:
        if value is None:
            return None
        try:
            return convert(value)
        except ValueError as exc:
            raise ValueError(f"{exc} or None") from None

    return conv


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("true or false")


def number(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError("a number")


def anything(value: Any) -> Any:
    return value


def unit_interval(value: Any) -> float:
    """Keras' dropout rates and noise stddev: a number from 0 to 1 inclusive."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    raise ValueError("a float value between 0 and 1")


def non_negative_number(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise ValueError("a non-negative float")


# Keras 3's activation names (keras.activations.ALL_OBJECTS_DICT).
ACTIVATIONS = frozenset({
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
    "threshold",
})


def activation(value: Any) -> Any:
    """An activation name Keras knows, None, or a serialized function (a JSON object)."""
    if value is None or isinstance(value, dict) or (
        isinstance(value, str) and (value.lower() in ACTIVATIONS or ">" in value)
    ):  # "package>name": a function registered with keras.saving
        return value
    raise ValueError("an activation Keras knows (" + ", ".join(sorted(ACTIVATIONS)) + ")")


def choice(*options: str) -> Converter:
    def conv(value: Any) -> str:
        if isinstance(value, str) and value.lower() in options:
            return value.lower()
        raise ValueError("one of " + ", ".join(repr(o) for o in options))

    return conv


def ntuple(rank: int, element: Converter = positive_int) -> Converter:
    """Keras' ``standardize_tuple``: an int means the same value on every axis."""

    def conv(value: Any) -> tuple[Any, ...]:
        what = f"an integer or a tuple of {rank} integers"
        if _is_int(value):
            return (element(value),) * rank
        if isinstance(value, (list, tuple)) and len(value) == rank:
            try:
                return tuple(element(v) for v in value)
            except ValueError:
                raise ValueError(what) from None
        raise ValueError(what)

    return conv


def shape(value: Any) -> Shape:
    """A shape without batch axis: a positive int, or a sequence of positive ints/None."""
    if _is_int(value) and value > 0:
        return (int(value),)
    if isinstance(value, (list, tuple)) and all(v is None or (_is_int(v) and v > 0) for v in value):
        return tuple(value)
    raise ValueError("a shape: a tuple of positive integers (None for unknown)")


def int_tuple(value: Any) -> tuple[int, ...] | None:
    """None, one integer, or a sequence of integers (axes, shared axes): always a tuple."""
    if value is None:
        return None
    if _is_int(value):
        return (int(value),)
    if isinstance(value, (list, tuple)) and all(_is_int(v) for v in value):
        return tuple(int(v) for v in value)
    raise ValueError("an integer or a tuple of integers")


@dataclass(frozen=True)
class Param:
    """One argument a layer accepts: name, converter, default (``REQUIRED`` if none)."""

    name: str
    convert: Converter = anything
    default: Any = REQUIRED


# Keras arguments that never change a parameter count, accepted by every layer.
IGNORED_ARGS = frozenset(
    {
        "name",
        "dtype",
        "activation",
        "recurrent_activation",
        "activity_regularizer",
        "seed",
        "autocast",
        "data_format",  # checked separately by the rules that honour it
        "input_dim",
        "input_shape",
        "batch_input_shape",
        "batch_size",
        "quantization_config",
    }
)
_IGNORED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")


def is_ignored(arg: str) -> bool:
    return arg in IGNORED_ARGS or arg.endswith(_IGNORED_SUFFIXES)


# ----------------------------------------------------------------------------- the table

Rule = Callable[[Args, list[Shape], Context], LayerResult]


@dataclass(frozen=True)
class LayerType:
    """A registered layer family member: its Keras class name, arguments and rule."""

    name: str
    params: tuple[Param, ...]
    rule: Rule
    min_inputs: int = 1
    max_inputs: int | None = 1  # None: any number (merge layers)
    json_only: str = ""  # why the DSL cannot write this layer (it wraps code); "" if it can

    def normalize(
        self, positional: Sequence[Any], keyword: Mapping[str, Any], where: str = ""
    ) -> Args:
        """Bind positional and keyword arguments to this layer's declared parameters."""
        label = f"{self.name}{where}"
        if len(positional) > len(self.params):
            raise SpecError(
                f"{label} takes at most {len(self.params)} positional arguments "
                f"({', '.join(p.name for p in self.params) or 'none'}); "
                f"received {len(positional)}"
            )
        raw: dict[str, Any] = {}
        for param, value in zip(self.params, positional, strict=False):
            raw[param.name] = value
        known = {p.name for p in self.params}
        for key, value in keyword.items():
            if key in known:
                if key in raw:
                    raise SpecError(f"{label} received argument {key!r} twice")
                raw[key] = value
            elif not is_ignored(key):
                raise SpecError(_unknown_arg(label, key, known))
            elif key in _ACTIVATION_ARGS:
                _check(label, key, value, activation)
        args = Args()
        for param in self.params:
            if param.name not in raw:
                if param.default is REQUIRED:
                    raise SpecError(f"{label} is missing its required argument {param.name!r}")
                # Defaults go through the converter too: strides=1 becomes (1, 1).
                default = param.default
                args[param.name] = None if default is None else param.convert(default)
                continue
            args[param.name] = _check(label, param.name, raw[param.name], param.convert)
        return args


_ACTIVATION_ARGS = ("activation", "recurrent_activation")


def _check(label: str, name: str, value: Any, convert: Converter) -> Any:
    """``convert(value)``, or a SpecError naming the layer, the argument and the value."""
    try:
        return convert(value)
    except ValueError as exc:
        message = f"{label} expected {exc} for {name!r}. Received: {name}={value!r}"
        raise SpecError(message) from None


def _unknown_arg(label: str, key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    accepted = ", ".join(sorted(known)) or "none"
    return f"{label} has no argument {key!r}{hint}; it accepts: {accepted}"


_REGISTRY: dict[str, LayerType] = {}
_CANONICAL: dict[str, str] = {}


def lookup_key(name: str) -> str:
    """Case- and underscore-insensitive key.

    ``global_average_pooling2d`` ≡ ``GlobalAveragePooling2D``.
    """
    return name.replace("_", "").replace("-", "").lower()


def register(
    *names: str,
    params: Sequence[Param] = (),
    min_inputs: int = 1,
    max_inputs: int | None = 1,
    json_only: str = "",
) -> Callable[[Rule], Rule]:
    """Register ``rule`` under its Keras class name (first) and aliases (rest).

    ``json_only``: the reason the layer exists only in model JSON (it wraps a function or
    another framework's module, which a one-line spec cannot hold)."""

    def deco(rule: Rule) -> Rule:
        layer_type = LayerType(names[0], tuple(params), rule, min_inputs, max_inputs, json_only)
        for alias in names:
            key = lookup_key(alias)
            if key in _CANONICAL and _CANONICAL[key] != names[0]:
                raise RuntimeError(f"layer name {alias!r} registered twice")
            _CANONICAL[key] = names[0]
        _REGISTRY[names[0]] = layer_type
        return rule

    return deco


def get_layer_type(name: str) -> LayerType:
    """The registered layer type for a user-written name; suggests the closest on a miss."""
    canonical = _CANONICAL.get(name) or _CANONICAL.get(lookup_key(name))
    if canonical is not None:
        return _REGISTRY[canonical]
    from paramlab import layers  # noqa: F401  (importing the package registers every rule)

    key = lookup_key(name)
    if key in _CANONICAL:
        return _REGISTRY[_CANONICAL[key]]
    writable = [k for k, v in _CANONICAL.items() if not _REGISTRY[v].json_only]
    close = difflib.get_close_matches(key, writable, n=1, cutoff=0.6)
    hint = f"; did you mean {_REGISTRY[_CANONICAL[close[0]]].name!r}?" if close else ""
    raise SpecError(f"unknown layer {name!r}{hint}")


def layer_names() -> list[str]:
    """Every registered layer type's Keras class name (the rules register on import)."""
    from paramlab import layers  # noqa: F401

    return sorted(_REGISTRY)


# ----------------------------------------------------------------------------- arithmetic


def fmt(n: int | float) -> str:
    """Thousands separators, as Keras prints counts."""
    return f"{n:,}"


def known(dim: Dim, layer: str, what: str, shape_: Shape) -> int:
    """A dimension that must be known to count weights (e.g. Dense's input features)."""
    if dim is None:
        raise ShapeError(
            f"{layer} needs a known {what}, but its input shape is {show_shape(shape_)}"
        )
    return dim


def show_shape(shape_: Shape) -> str:
    """A shape as Keras prints it, with the batch axis: ``(None, 28, 28, 10)``."""
    return "(" + ", ".join(["None", *("None" if d is None else str(d) for d in shape_)]) + ")"


def conv_output_length(
    length: Dim, kernel: int, padding: str, stride: int, dilation: int = 1
) -> Dim:
    """Output length of a convolution or pooling window (Keras ``compute_conv_output_shape``).

    ``valid``: ceil((L − (k−1)·d) / s); ``same`` and ``causal``: ceil(L / s).
    Returns a value ≤ 0 when the window does not fit; callers turn that into a ShapeError.
    """
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        return (length - effective + stride) // stride
    return (length + stride - 1) // stride


def deconv_output_length(
    length: Dim,
    kernel: int,
    padding: str,
    stride: int,
    output_padding: int | None = None,
    dilation: int = 1,
) -> Dim:
    """Output length of a transposed convolution (Keras ``compute_conv_transpose_output_shape``)."""
    if length is None:
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(kernel - stride, 0)
        return length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


# ----------------------------------------------------------------------------- layer specs


@dataclass
class LayerSpec:
    """One layer as a user described it, before its arguments are normalized.

    Parsers (DSL, JSON, Keras config) produce these; wrapper layers (Bidirectional,
    TimeDistributed) receive their inner layer as a LayerSpec argument.
    """

    type: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    trainable: bool = True
    column: int | None = None  # where the layer starts in the spec text, for caret errors


def layer_spec(value: Any) -> LayerSpec:
    """Converter for wrapper arguments that hold another layer."""
    if isinstance(value, LayerSpec):
        return value
    raise ValueError("a layer, e.g. lstm(32)")


def apply_layer(
    spec: LayerSpec, inputs: list[Shape], ctx: Context, where: str = ""
) -> tuple[LayerType, Args, LayerResult]:
    """Normalize ``spec``'s arguments and run its rule on ``inputs``.

    The single entry point from a description to numbers: the graph calls it for every
    node, wrapper rules for the layer they wrap.
    """
    layer_type = get_layer_type(spec.type)
    args = layer_type.normalize(spec.args, spec.kwargs, where)
    count = len(inputs)
    if count < layer_type.min_inputs or (
        layer_type.max_inputs is not None and count > layer_type.max_inputs
    ):
        expected = (
            f"at least {layer_type.min_inputs}"
            if layer_type.max_inputs is None
            else str(layer_type.max_inputs)
            if layer_type.min_inputs == layer_type.max_inputs
            else f"{layer_type.min_inputs} to {layer_type.max_inputs}"
        )
        raise ShapeError(f"{layer_type.name}{where} takes {expected} input(s); received {count}")
    return layer_type, args, layer_type.rule(args, list(inputs), ctx)


# ----------------------------------------------------------------------------- recorded shapes
# A Keras 3 JSON writes the shape of every tensor a node consumes. Layers whose output shape
# cannot be computed from their config (Lambda's function is opaque; an op without a rule)
# receive those (input shapes, output shape) pairs as ``recorded_shapes``.

RECORDED = Param("recorded_shapes", anything, None)
UNKNOWN_SHAPE: Shape = ()
"""The output shape of a layer whose shape neither its config nor the JSON tells."""


def recorded_output(
    a: Args, inputs: list[Shape], layer: str
) -> tuple[Shape | tuple[Shape, ...], str]:
    """(output shape, note) from the shapes the JSON recorded for a call with ``inputs``."""
    pairs: list[tuple[Any, Any]] = list(a.get("recorded_shapes") or ())
    matches = [out for ins, out in pairs if tuple(ins) == tuple(inputs)]
    outputs = {repr(out) for _, out in pairs}
    if not matches and len(outputs) == 1:
        matches = [pairs[0][1]]  # one shape for every call: it holds whatever the inputs
    if matches:
        return _as_shape(matches[0]), "output shape as recorded in the model JSON"
    return UNKNOWN_SHAPE, (f"output shape unknown: {layer} does not declare it and the JSON "
                           "records it only where another layer consumes it")


def _as_shape(value: Any) -> Shape | tuple[Shape, ...]:
    if value and isinstance(value[0], (list, tuple)):
        return tuple(tuple(v) for v in value)
    return tuple(value)


# ----------------------------------------------------------------------------- channel layout
# Convolution, pooling, padding and upsampling layers share Keras' ``data_format`` argument:
# the channel axis is last (``channels_last``, the default) or first after the batch axis.

_SPATIAL_AXES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def data_format(value: Any) -> str:
    """Keras' ``standardize_data_format``: ``None`` means the default, ``channels_last``."""
    if value is None:
        return "channels_last"
    return choice("channels_last", "channels_first")(value)


def expect_rank(x: Shape, spatial: int, layer: str, layout: str = "channels_last") -> None:
    """Raise a ShapeError unless ``x`` has ``spatial`` axes plus a channel axis.

    The message names the axes expected, as Keras' input spec would, e.g.
    "Conv2D expects inputs of rank 4 (batch, height, width, channels)".
    """
    if len(x) == spatial + 1:
        return
    axes = list(_SPATIAL_AXES.get(spatial, ("spatial",) * spatial))
    axes = ["channels", *axes] if layout == "channels_first" else [*axes, "channels"]
    raise ShapeError(
        f"{layer} expects inputs of rank {spatial + 2} ({', '.join(['batch', *axes])}); "
        f"received input shape {show_shape(x)}"
    )


def split_channels(x: Shape, layout: str) -> tuple[Shape, Dim]:
    """(spatial axes, channel axis) of ``x`` under ``data_format`` ``layout``."""
    if layout == "channels_first":
        return x[1:], x[0]
    return x[:-1], x[-1]


def join_channels(spatial: Shape, channels: Dim, layout: str) -> Shape:
    """The inverse of :func:`split_channels`."""
    if layout == "channels_first":
        return (channels, *spatial)
    return (*spatial, channels)


def window_output(
    layer: str,
    x: Shape,
    spatial: Shape,
    window: tuple[int, ...],
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...] | None = None,
    what: str = "window",
) -> Shape:
    """Output spatial axes of a sliding window (convolution kernel or pooling window).

    Raises a ShapeError, as Keras does, where a ``valid`` window does not fit the input.
    """
    dilation = dilation or (1,) * len(window)
    out = tuple(
        conv_output_length(n, k, padding, s, d)
        for n, k, s, d in zip(spatial, window, strides, dilation, strict=True)
    )
    if any(n is not None and n <= 0 for n in out):
        least = tuple((k - 1) * d + 1 for k, d in zip(window, dilation, strict=True))
        dilated = f" (dilation_rate={dilation})" if max(dilation) > 1 else ""
        raise ShapeError(
            f"{layer}'s {' × '.join(map(str, window))} {what}{dilated} does not fit input "
            f"{show_shape(x)} with padding='{padding}': expected spatial axes of at least "
            f"{least}"
        )
    return out
