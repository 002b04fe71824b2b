"""Recurrent layers: SimpleRNN, LSTM, GRU, ConvLSTM, and the Bidirectional and
TimeDistributed wrappers.

Convention: Keras gives each gate one bias (GRU with ``reset_after=True``, the default, two);
PyTorch's ``nn.RNN/LSTM/GRU`` always have ``bias_ih`` *and* ``bias_hh``, one more bias vector
per gate. Under ``convention="torch"`` the weights are PyTorch's.
"""

from __future__ import annotations

import math

from paramlab.errors import ShapeError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    LayerSpec,
    Param,
    Shape,
    Weight,
    anything,
    apply_layer,
    boolean,
    choice,
    conv_output_length,
    fmt,
    known,
    layer_spec,
    ntuple,
    number,
    optional,
    positive_int,
    register,
    show_shape,
)

_COMMON = [
    Param("use_bias", boolean, True),
    Param("dropout", number, 0.0),
    Param("recurrent_dropout", number, 0.0),
    Param("return_sequences", boolean, False),
    Param("return_state", boolean, False),
    Param("go_backwards", boolean, False),
    Param("stateful", boolean, False),
    Param("unroll", boolean, False),
    Param("zero_output_for_mask", boolean, False),
]
_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def _sequence_input(x: Shape, layer: str) -> tuple[int | None, int]:
    if len(x) != 2:
        raise ShapeError(
            f"{layer} expects inputs of rank 3 (batch, timesteps, features); "
            f"received input shape {show_shape(x)}"
        )
    return x[0], known(x[1], layer, "feature axis", x)


def _outputs(a: Args, steps: int | None, units: int, states: int) -> Shape | tuple[Shape, ...]:
    out: Shape = (steps, units) if a.return_sequences else (units,)
    if not a.return_state:
        return out
    return (out, *([(units,)] * states))


def _rnn_weights(kind: str, f: int, u: int, a: Args, ctx: Context) -> tuple[list[Weight], str]:
    g = _GATES[kind]
    gates = f"{g} × " if g > 1 else ""
    if ctx.convention == "torch":
        weights = [Weight("weight_ih_l0", (g * u, f)), Weight("weight_hh_l0", (g * u, u))]
        if a.use_bias:
            weights += [Weight("bias_ih_l0", (g * u,)), Weight("bias_hh_l0", (g * u,))]
            total = g * u * (f + u + 2)
            return weights, f"{gates}({fmt(f)} + {fmt(u)} + 2) × {fmt(u)} = {fmt(total)}"
        return weights, f"{gates}({fmt(f)} + {fmt(u)}) × {fmt(u)} = {fmt(g * u * (f + u))}"
    weights = [Weight("kernel", (f, g * u)), Weight("recurrent_kernel", (u, g * u))]
    if not a.use_bias:
        return weights, f"{gates}({fmt(f)} + {fmt(u)}) × {fmt(u)} = {fmt(g * u * (f + u))}"
    if kind == "GRU" and a.reset_after:
        weights.append(Weight("bias", (2, g * u)))
        total = g * u * (f + u + 2)
        return weights, f"{gates}({fmt(f)} + {fmt(u)} + 2) × {fmt(u)} = {fmt(total)}"
    weights.append(Weight("bias", (g * u,)))
    return weights, f"{gates}({fmt(f)} + {fmt(u)} + 1) × {fmt(u)} = {fmt(g * u * (f + u + 1))}"


def _note(kind: str, a: Args, ctx: Context) -> str:
    if kind == "GRU" and a.get("reset_after", True):
        return "GRU with reset_after=True has two biases per gate in Keras and PyTorch alike"
    if kind == "GRU":
        return ("GRU with reset_after=False has one bias per gate; PyTorch has no such GRU "
                "(its GRU is reset_after=True with two biases)")
    return ("Keras: one bias per gate; PyTorch: bias_ih and bias_hh, one more bias vector "
            "per gate")


def _make_rnn(kind: str) -> None:
    params = [Param("units", positive_int), *_COMMON]
    if kind == "LSTM":
        params += [Param("unit_forget_bias", boolean, True), Param("use_cudnn", anything, "auto")]
    if kind == "GRU":
        params += [Param("reset_after", boolean, True), Param("use_cudnn", anything, "auto")]

    @register(kind, params=params)
    def rnn(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """Each gate has a kernel from the inputs, a recurrent kernel from the state, a bias."""
        (x,) = inputs
        steps, f = _sequence_input(x, kind)
        u = a.units
        weights, formula = _rnn_weights(kind, f, u, a, ctx)
        macs = (steps or 1) * _GATES[kind] * u * (f + u)
        return LayerResult(_outputs(a, steps, u, _STATES[kind]), weights, formula, macs,
                           _note(kind, a, ctx))


for _kind in _GATES:
    _make_rnn(_kind)


def _make_conv_lstm(rank: int) -> None:
    name = f"ConvLSTM{rank}D"
    params = [
        Param("filters", positive_int),
        Param("kernel_size", ntuple(rank)),
        Param("strides", ntuple(rank), 1),
        Param("padding", choice("valid", "same"), "valid"),
        Param("data_format", optional(choice("channels_last", "channels_first")), None),
        Param("dilation_rate", ntuple(rank), 1),
        Param("unit_forget_bias", boolean, True),
        *_COMMON,
    ]

    @register(name, params=params)
    def conv_lstm(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """An LSTM whose four gates are convolutions: input kernel, recurrent kernel, bias."""
        (x,) = inputs
        if len(x) != rank + 2:
            raise ShapeError(
                f"{name} expects inputs of rank {rank + 3} (batch, time, {rank} spatial axes, "
                f"channels); received input shape {show_shape(x)}"
            )
        first = a.data_format == "channels_first"
        steps = x[0]
        spatial, c = (x[2:], x[1]) if first else (x[1:-1], x[-1])
        c_in = known(c, name, "channel axis", x)
        out = tuple(
            conv_output_length(d, k, a.padding, s, r)
            for d, k, s, r in zip(spatial, a.kernel_size, a.strides, a.dilation_rate,
                                  strict=True)
        )
        if any(d is not None and d <= 0 for d in out):
            raise ShapeError(f"{name}: kernel {a.kernel_size} does not fit input {show_shape(x)}")
        f, k = a.filters, math.prod(a.kernel_size)
        ktext = " × ".join(map(str, a.kernel_size))
        weights = [Weight("kernel", (*a.kernel_size, c_in, 4 * f)),
                   Weight("recurrent_kernel", (*a.kernel_size, f, 4 * f))]
        total = 4 * f * k * (c_in + f)
        formula = f"4 × {ktext} × ({fmt(c_in)} + {fmt(f)}) × {fmt(f)}"
        if a.use_bias:
            weights.append(Weight("bias", (4 * f,)))
            total += 4 * f
            formula += f" + 4 × {fmt(f)}"
        frame: Shape = (f, *out) if first else (*out, f)
        output: Shape = (steps, *frame) if a.return_sequences else frame
        shape: Shape | tuple[Shape, ...] = (output, frame, frame) if a.return_state else output
        positions = math.prod(d or 1 for d in out)
        macs = (steps or 1) * positions * 4 * f * k * (c_in + f)
        return LayerResult(shape, weights, f"{formula} = {fmt(total)}", macs,
                           "PyTorch has no ConvLSTM; counted as Keras does")


for _rank in (1, 2, 3):
    _make_conv_lstm(_rank)


@register(
    "Bidirectional",
    params=[
        Param("layer", layer_spec),
        Param("merge_mode", optional(choice("concat", "sum", "mul", "ave")), "concat"),
        Param("backward_layer", optional(layer_spec), None),
        Param("weights", anything, None),
    ],
)
def bidirectional(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Two copies of the recurrent layer, one reading backwards: twice the weights."""
    forward = _inner(a.layer, inputs, ctx, "forward")
    backward = _inner(a.backward_layer or a.layer, inputs, ctx, "backward")
    weights = [Weight(f"forward_{w.name}", w.shape, w.trainable, w.statistic)
               for w in forward.weights]
    weights += [Weight(f"backward_{w.name}", w.shape, w.trainable, w.statistic)
                for w in backward.weights]
    total = sum(w.size for w in weights)
    formula = f"2 × {fmt(total // 2)} = {fmt(total)}" if total and forward.formula else ""
    shapes = forward.output_shape
    states: tuple[Shape, ...] = ()
    if shapes and isinstance(shapes[0], tuple):
        out, *rest = shapes  # type: ignore[misc]
        states = tuple(rest) * 2
    else:
        out = shapes
    if a.merge_mode == "concat":
        merged: Shape | tuple[Shape, ...] = (*out[:-1], (out[-1] or 0) * 2)
    elif a.merge_mode is None:
        merged = (out, out)
    else:
        merged = out
    if states:
        merged = ((merged,) if a.merge_mode is not None else merged) + states  # type: ignore[operator]
    return LayerResult(merged, weights, formula, forward.macs + backward.macs, forward.note)


def _inner(spec: LayerSpec, inputs: list[Shape], ctx: Context, role: str) -> LayerResult:
    return apply_layer(spec, inputs, ctx, f" ({role} layer of Bidirectional)")[2]


@register("TimeDistributed", params=[Param("layer", layer_spec)])
def time_distributed(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """The same inner layer (same weights) applied to every time step."""
    (x,) = inputs
    if len(x) < 2:
        raise ShapeError(
            f"TimeDistributed expects inputs of rank ≥ 3 (batch, time, …); received {show_shape(x)}"
        )
    inner = apply_layer(a.layer, [x[1:]], ctx, " (inside TimeDistributed)")[2]
    out = inner.output_shape
    if out and isinstance(out[0], tuple):
        raise ShapeError("TimeDistributed cannot wrap a layer with several outputs")
    return LayerResult((x[0], *out), inner.weights, inner.formula,  # type: ignore[misc]
                       inner.macs * (x[0] or 1), inner.note)
