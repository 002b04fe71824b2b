"""Recurrent layers: SimpleRNN, LSTM, GRU, ConvLSTM1D/2D/3D and the wrappers around them.

A recurrent layer keeps one kernel from the input and one recurrent kernel from its own
state for each *gate* (1 for SimpleRNN, 3 for GRU, 4 for LSTM), plus biases::

    gates × ((inputs + units + biases) × units)

Keras keeps one bias vector per gate, except GRU with ``reset_after=True`` (the default),
which keeps two (bias shape ``(2, 3·units)``). PyTorch's ``nn.RNN``/``nn.LSTM``/``nn.GRU``
always keep two (``bias_ih`` and ``bias_hh``), so under the torch convention these rules emit
PyTorch's weights and the counts grow by one bias vector per gate.

MACs per example: every timestep multiplies the input by the kernel and the state by the
recurrent kernel; an unknown number of timesteps counts as one.
"""

from __future__ import annotations

import math
from typing import Any

from paramlab.errors import ShapeError, SpecError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    LayerSpec,
    Param,
    Shape,
    Weight,
    activation,
    anything,
    apply_layer,
    boolean,
    choice,
    conv_output_length,
    fmt,
    get_layer_type,
    known,
    layer_spec,
    ntuple,
    number,
    optional,
    positive_int,
    register,
    show_shape,
)

# Arguments every Keras RNN layer accepts that never change its weights.
_RNN_COMMON = [
    Param("dropout", number, 0.0),
    Param("recurrent_dropout", number, 0.0),
    Param("return_sequences", boolean, False),
    Param("return_state", boolean, False),
    Param("go_backwards", boolean, False),
    Param("stateful", boolean, False),  # states are not weights: counts do not change
    Param("unroll", boolean, False),
    Param("zero_output_for_mask", boolean, False),
]
# Keras' positional order starts units, activation, (recurrent_activation,) use_bias.
_ACTIVATION = Param("activation", activation, "tanh")
_RECURRENT_ACTIVATION = Param("recurrent_activation", activation, "sigmoid")


def _steps(x: Shape, layer: str, rank: int = 1) -> tuple[int | None, Shape]:
    """Split ``(timesteps, *step_shape)``; the step must have ``rank`` axes (features last)."""
    if len(x) != rank + 1:
        step = "features" if rank == 1 else f"{rank - 1} spatial axes and channels"
        raise ShapeError(
            f"{layer} expects inputs of rank {rank + 2} (batch, timesteps, {step}); "
            f"received input shape {show_shape(x)}"
        )
    return x[0], x[1:]


def _sequence_outputs(
    a: Args, timesteps: int | None, state: Shape, n_states: int
) -> Shape | tuple[Shape, ...]:
    """Keras' RNN output: the last state or every state, then the states if asked for."""
    output = (timesteps, *state) if a.return_sequences else state
    if a.return_state:
        return (output, *([state] * n_states))
    return output


def _gates_formula(gates: int, terms: str, biases: int, units: int, total: int) -> str:
    inner = f"({terms}{f' + {biases}' if biases else ''}) × {fmt(units)}"
    if gates == 1:
        return f"{inner} = {fmt(total)}"
    return f"{gates} × ({inner}) = {fmt(total)}"


def _recurrent(
    a: Args, inputs: list[Shape], ctx: Context, layer: str, gates: int, keras_biases: int
) -> LayerResult:
    """Shared arithmetic of SimpleRNN, LSTM and GRU, in either convention."""
    timesteps, (features,) = _steps(inputs[0], layer)
    n = known(features, layer, "last axis (features)", inputs[0])
    weights, formula, step_macs = _cell_weights(a, n, ctx, gates, keras_biases)
    n_states = 2 if layer == "LSTM" else 1
    output = _sequence_outputs(a, timesteps, (a.units,), n_states)
    note = _torch_note(a, ctx, layer, gates * a.units)
    return LayerResult(output, weights, formula, (timesteps or 1) * step_macs, note)


def _cell_weights(
    a: Args, n: int, ctx: Context, gates: int, keras_biases: int
) -> tuple[list[Weight], str, int]:
    """(weights, formula, MACs per timestep) of one recurrent cell reading ``n`` features."""
    u = a.units
    width = gates * u
    torch = ctx.convention == "torch"
    biases = (2 if torch else keras_biases) if a.use_bias else 0
    if torch:
        weights = [Weight("weight_ih_l0", (width, n)), Weight("weight_hh_l0", (width, u))]
        if biases:
            weights += [Weight("bias_ih_l0", (width,)), Weight("bias_hh_l0", (width,))]
    else:
        weights = [Weight("kernel", (n, width)), Weight("recurrent_kernel", (u, width))]
        if biases:
            weights.append(Weight("bias", (2, width) if biases == 2 else (width,)))
    total = sum(w.size for w in weights)
    formula = _gates_formula(gates, f"{fmt(n)} + {fmt(u)}", biases, u, total)
    return weights, formula, (n + u) * width


def _torch_note(a: Args, ctx: Context, layer: str, width: int) -> str:
    """Why the torch count differs from Keras' (or why it does not)."""
    if ctx.convention != "torch" or not a.use_bias:
        return ""
    module = {"SimpleRNN": "nn.RNN", "LSTM": "nn.LSTM", "GRU": "nn.GRU"}[layer]
    if layer == "GRU" and a.reset_after:
        return (
            "Keras GRU(reset_after=True) already keeps two bias vectors, shape (2, "
            f"{width}), as PyTorch's nn.GRU does (bias_ih_l0, bias_hh_l0): the counts agree"
        )
    if layer == "GRU":
        return (
            "Keras GRU(reset_after=False) applies the reset gate before the recurrent "
            "product and keeps one bias; PyTorch's nn.GRU has no such variant, so this "
            f"counts nn.GRU's two biases (bias_ih_l0, bias_hh_l0): {fmt(width)} more than Keras"
        )
    return (
        f"PyTorch's {module} keeps two bias vectors (bias_ih_l0 and bias_hh_l0) where Keras "
        f"keeps one: {fmt(width)} more parameters than Keras' {layer}"
    )


@register(
    "SimpleRNN",
    params=[Param("units", positive_int), _ACTIVATION, Param("use_bias", boolean, True),
            *_RNN_COMMON],
)
def simple_rnn(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """h_t = act(x_t·W + h_{t−1}·U + b): one gate."""
    return _recurrent(a, inputs, ctx, "SimpleRNN", gates=1, keras_biases=1)


@register(
    "LSTM",
    params=[Param("units", positive_int), _ACTIVATION, _RECURRENT_ACTIVATION,
            Param("use_bias", boolean, True), Param("unit_forget_bias", boolean, True),
            *_RNN_COMMON, Param("use_cudnn", anything, "auto")],
)
def lstm(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Four gates (input, forget, cell, output); returns h, and h and c as states."""
    return _recurrent(a, inputs, ctx, "LSTM", gates=4, keras_biases=1)


@register(
    "GRU",
    params=[Param("units", positive_int), _ACTIVATION, _RECURRENT_ACTIVATION,
            Param("use_bias", boolean, True), *_RNN_COMMON,
            Param("reset_after", boolean, True), Param("use_cudnn", anything, "auto")],
)
def gru(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Three gates (update, reset, candidate); reset_after=True keeps a second bias."""
    return _recurrent(a, inputs, ctx, "GRU", gates=3, keras_biases=2 if a.reset_after else 1)


# ----------------------------------------------------------------------------- ConvLSTM


def _conv_lstm_params(rank: int) -> list[Param]:
    return [
        Param("filters", positive_int),
        Param("kernel_size", ntuple(rank)),
        Param("strides", ntuple(rank), (1,) * rank),
        Param("padding", choice("valid", "same"), "valid"),
        Param("data_format", optional(choice("channels_last", "channels_first")), None),
        Param("dilation_rate", ntuple(rank), (1,) * rank),
        _ACTIVATION,
        _RECURRENT_ACTIVATION,
        Param("use_bias", boolean, True),
        Param("unit_forget_bias", boolean, True),
        *_RNN_COMMON,
    ]


def _conv_lstm(a: Args, inputs: list[Shape], ctx: Context, rank: int) -> LayerResult:
    """An LSTM whose kernels are convolutions: the input convolution follows the layer's
    padding and strides, the recurrent one is always 'same' with stride 1 on the state."""
    layer = f"ConvLSTM{rank}D"
    if max(a.strides) > 1 and max(a.dilation_rate) > 1:
        raise SpecError(
            f"{layer} does not support strides > 1 together with dilation_rate > 1. "
            f"Received: strides={a.strides}, dilation_rate={a.dilation_rate}"
        )
    timesteps, step = _steps(inputs[0], layer, rank + 1)
    first = a.data_format == "channels_first"
    channels, spatial = (step[0], step[1:]) if first else (step[-1], step[:-1])
    c = known(channels, layer, "channel axis", inputs[0])
    out_spatial = tuple(
        conv_output_length(length, k, a.padding, s, d)
        for length, k, s, d in zip(spatial, a.kernel_size, a.strides, a.dilation_rate, strict=True)
    )
    if any(d is not None and d <= 0 for d in out_spatial):
        raise ShapeError(
            f"{layer}: kernel_size={a.kernel_size} with dilation_rate={a.dilation_rate} does "
            f"not fit the spatial axes of input {show_shape(inputs[0])} with padding='valid'"
        )
    f = a.filters
    state = (f, *out_spatial) if first else (*out_spatial, f)
    weights = [
        Weight("kernel", (*a.kernel_size, c, 4 * f)),
        Weight("recurrent_kernel", (*a.kernel_size, f, 4 * f)),
    ]
    if a.use_bias:
        weights.append(Weight("bias", (4 * f,)))
    window = " × ".join(fmt(k) for k in a.kernel_size)
    total = sum(w.size for w in weights)
    terms = f"{window} × {fmt(c)} + {window} × {fmt(f)}"
    formula = _gates_formula(4, terms, 1 if a.use_bias else 0, f, total)
    positions = math.prod(d or 1 for d in out_spatial)
    macs = (timesteps or 1) * positions * math.prod(a.kernel_size) * (c + f) * 4 * f
    note = "PyTorch has no built-in ConvLSTM; counted as Keras does" if (
        ctx.convention == "torch") else ""
    return LayerResult(_sequence_outputs(a, timesteps, state, 2), weights, formula, macs, note)


@register("ConvLSTM1D", params=_conv_lstm_params(1))
def conv_lstm1d(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Input (timesteps, length, channels)."""
    return _conv_lstm(a, inputs, ctx, 1)


@register("ConvLSTM2D", params=_conv_lstm_params(2))
def conv_lstm2d(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Input (timesteps, rows, cols, channels)."""
    return _conv_lstm(a, inputs, ctx, 2)


@register("ConvLSTM3D", params=_conv_lstm_params(3))
def conv_lstm3d(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Input (timesteps, depth, rows, cols, channels)."""
    return _conv_lstm(a, inputs, ctx, 3)


# ----------------------------------------------------------------------------- wrappers


def _split_outputs(result: LayerResult, return_state: bool) -> tuple[Shape, list[Shape]]:
    """(output, states) of a recurrent layer's result."""
    if return_state:
        output, *states = result.output_shape
        return output, states  # type: ignore[return-value]
    return result.output_shape, []  # type: ignore[return-value]


def _merge(mode: str | None, forward: Shape, backward: Shape) -> list[Shape]:
    """Bidirectional's merge of the two directions' outputs."""
    if mode is None:
        return [forward, backward]
    if mode == "concat":
        if forward[:-1] != backward[:-1]:
            raise ShapeError(
                "Bidirectional cannot concatenate forward output "
                f"{show_shape(forward)} with backward output {show_shape(backward)}"
            )
        f, b = forward[-1], backward[-1]
        last = None if f is None or b is None else f + b
        return [(*forward[:-1], last)]
    if forward != backward:
        raise ShapeError(
            f"Bidirectional merge_mode={mode!r} needs equal outputs; received forward "
            f"{show_shape(forward)} and backward {show_shape(backward)}"
        )
    return [forward]


def _direction_weights(weights: list[Weight], ctx: Context, backward: bool) -> list[Weight]:
    """Keras names the halves forward_/backward_; PyTorch suffixes the backward one _reverse."""
    if ctx.convention == "torch" and all(w.name.endswith("_l0") for w in weights):
        suffix = "_reverse" if backward else ""
        return [Weight(w.name + suffix, w.shape, w.trainable, w.statistic) for w in weights]
    prefix = "backward_" if backward else "forward_"
    return [Weight(prefix + w.name, w.shape, w.trainable, w.statistic) for w in weights]


@register(
    "Bidirectional",
    params=[
        Param("layer", layer_spec),
        Param("merge_mode", optional(choice("concat", "sum", "mul", "ave")), "concat"),
        Param("weights", anything, None),  # initial values only
        Param("backward_layer", optional(layer_spec), None),
    ],
)
def bidirectional(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Two copies of a recurrent layer, one reading the sequence backwards: twice the weights.

    Without ``backward_layer`` the backward copy is the forward layer's config with
    ``go_backwards=True``, exactly as Keras builds it.
    """
    fwd_type, fwd_args, fwd = apply_layer(a.layer, inputs, ctx, " (forward layer)")
    if "go_backwards" not in fwd_args:
        raise SpecError(
            f"Bidirectional wraps a recurrent layer (LSTM, GRU, SimpleRNN, ConvLSTM…); "
            f"received {fwd_type.name}"
        )
    if a.backward_layer is None:
        bwd_args = Args(fwd_args, go_backwards=True)
        bwd_type, bwd = fwd_type, fwd_type.rule(bwd_args, list(inputs), ctx)
    else:
        bwd_type, bwd_args, bwd = apply_layer(a.backward_layer, inputs, ctx, " (backward layer)")
        if "go_backwards" not in bwd_args:
            raise SpecError(
                f"Bidirectional's backward_layer must be recurrent; received {bwd_type.name}"
            )
    _check_directions(fwd_args, bwd_args)
    out_f, states_f = _split_outputs(fwd, fwd_args.return_state)
    out_b, states_b = _split_outputs(bwd, bwd_args.return_state)
    outputs = _merge(a.merge_mode, out_f, out_b) + states_f + states_b
    weights = _direction_weights(fwd.weights, ctx, False)
    weights += _direction_weights(bwd.weights, ctx, True)
    formula = _bidirectional_formula(fwd, bwd)
    note = fwd.note and f"each direction: {fwd.note}"
    output = outputs[0] if len(outputs) == 1 else tuple(outputs)
    return LayerResult(output, weights, formula, fwd.macs + bwd.macs, note)


def _check_directions(fwd: Args, bwd: Args) -> None:
    """Keras' _verify_layer_config: opposite directions, same outputs and statefulness."""
    if fwd.go_backwards == bwd.go_backwards:
        raise SpecError(
            "Bidirectional's forward and backward layers need different go_backwards; "
            f"both are go_backwards={fwd.go_backwards}"
        )
    for attr in ("stateful", "return_sequences", "return_state"):
        if fwd[attr] != bwd[attr]:
            raise SpecError(
                f"Bidirectional's forward and backward layers need the same {attr}; "
                f"received {fwd[attr]} and {bwd[attr]}"
            )


def _bidirectional_formula(fwd: LayerResult, bwd: LayerResult) -> str:
    n_f = sum(w.size for w in fwd.weights)
    n_b = sum(w.size for w in bwd.weights)
    if fwd.formula == bwd.formula:
        return f"2 directions × {fmt(n_f)} = {fmt(n_f + n_b)} (each: {fwd.formula})"
    return (
        f"{fmt(n_f)} + {fmt(n_b)} = {fmt(n_f + n_b)} "
        f"(forward: {fwd.formula}; backward: {bwd.formula})"
    )


@register("TimeDistributed", params=[Param("layer", layer_spec)])
def time_distributed(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """The same layer on every timestep: its weights once, its MACs once per timestep."""
    (x,) = inputs
    if len(x) < 2:
        raise ShapeError(
            "TimeDistributed expects inputs of rank 3 or more (batch, timesteps, …); "
            f"received input shape {show_shape(x)}"
        )
    inner_type, _, inner = apply_layer(a.layer, [x[1:]], ctx, " (inside TimeDistributed)")
    out = inner.output_shape
    if out and isinstance(out[0], tuple):
        raise ShapeError(
            f"TimeDistributed cannot wrap {inner_type.name}, which has several outputs"
        )
    formula = inner.formula and f"{inner.formula} (one copy shared by all timesteps)"
    macs = (x[0] or 1) * inner.macs
    return LayerResult((x[0], *out), list(inner.weights), formula, macs, inner.note)


# ----------------------------------------------------------------------------- RNN(cell)
# keras.layers.RNN runs a cell over the timesteps: the cell owns the weights, exactly those of
# the matching layer (LSTMCell inside RNN ≡ LSTM). A cell applied on its own maps one step's
# features to its state; StackedRNNCells chains cells, each reading the previous one's output.

_CELL_COMMON = [Param("dropout", number, 0.0), Param("recurrent_dropout", number, 0.0)]
_CELLS: dict[str, tuple[int, int, int, list[Param]]] = {
    # cell → (gates, Keras bias vectors, states, its parameters after units)
    "SimpleRNNCell": (1, 1, 1, [_ACTIVATION, Param("use_bias", boolean, True)]),
    "LSTMCell": (4, 1, 2, [_ACTIVATION, _RECURRENT_ACTIVATION, Param("use_bias", boolean, True),
                           Param("unit_forget_bias", boolean, True)]),
    "GRUCell": (3, 1, 1, [_ACTIVATION, _RECURRENT_ACTIVATION, Param("use_bias", boolean, True),
                          Param("reset_after", boolean, True)]),
}


def _cell_rule(name: str, gates: int, keras_biases: int) -> None:
    @register(name, params=[Param("units", positive_int), *_CELLS[name][3], *_CELL_COMMON])
    def cell(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
        """One timestep: (features,) → (units,), with the weights of the matching layer."""
        x = inputs[0]
        if len(x) != 1:
            raise ShapeError(f"{name} reads one timestep (batch, features); received input "
                             f"shape {show_shape(x)}")
        n = known(x[0], name, "feature axis", x)
        biases = 2 if name == "GRUCell" and a.reset_after else keras_biases
        weights, formula, macs = _cell_weights(a, n, ctx, gates, biases)
        return LayerResult((a.units,), weights, formula, macs)


for _cell_name, _spec in _CELLS.items():
    _cell_rule(_cell_name, _spec[0], _spec[1])


def _cells(value: Any) -> tuple[LayerSpec, ...]:
    if isinstance(value, LayerSpec):
        return (value,)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, LayerSpec) for v in value):
        return tuple(value)
    raise ValueError("a cell or a list of cells, e.g. lstm_cell(8)")


def _flat_cells(cells: tuple[LayerSpec, ...]) -> list[LayerSpec]:
    """A StackedRNNCells is its cells, in order (Keras builds a list of cells into one)."""
    flat: list[LayerSpec] = []
    for spec in cells:
        kind = get_layer_type(spec.type)
        if kind.name == "StackedRNNCells":
            flat += _flat_cells(kind.normalize(spec.args, spec.kwargs).cells)
        else:
            flat.append(spec)
    return flat


def _stack(cells: tuple[LayerSpec, ...], step: Shape, ctx: Context, where: str
           ) -> tuple[Shape, list[Shape], LayerResult]:
    """(last output, every state, combined result) of cells applied one after the other."""
    states: list[Shape] = []
    weights: list[Weight] = []
    formulas: list[str] = []
    macs = 0
    flat = _flat_cells(cells)
    for index, spec in enumerate(flat):
        kind, _, inner = apply_layer(spec, [step], ctx, f"{where} (cell {index})")
        if kind.name not in _CELLS:
            raise SpecError(f"{where.strip()}: expected recurrent cells (SimpleRNNCell, LSTMCell, "
                            f"GRUCell); received {kind.name}")
        step = inner.output_shape  # type: ignore[assignment]
        states += [step] * _CELLS[kind.name][2]
        prefix = f"cell_{index}/" if len(flat) > 1 else ""
        weights += [Weight(prefix + w.name, w.shape, w.trainable, w.statistic)
                    for w in inner.weights]
        formulas.append(inner.formula)
        macs += inner.macs
    total = sum(w.size for w in weights)
    formula = formulas[0] if len(formulas) == 1 else " + ".join(
        f"({f.rsplit(' = ', 1)[0]})" for f in formulas) + f" = {fmt(total)}"
    return step, states, LayerResult(step, weights, formula, macs)


@register("StackedRNNCells", params=[Param("cells", _cells)])
def stacked_rnn_cells(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Cells in sequence within one timestep: each reads the previous cell's output."""
    return _stack(a.cells, inputs[0], ctx, "StackedRNNCells")[2]


@register("RNN", params=[Param("cell", _cells), *(p for p in _RNN_COMMON if "dropout" not in
                                                   p.name)])
def rnn(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """``keras.layers.RNN(cell)``: the cell's weights once, its MACs once per timestep."""
    timesteps, step = _steps(inputs[0], "RNN")
    out, states, cell = _stack(a.cell, step, ctx, "RNN")
    output = (timesteps, *out) if a.return_sequences else out
    shape: Shape | tuple[Shape, ...] = (output, *states) if a.return_state else output
    return LayerResult(shape, cell.weights, cell.formula, (timesteps or 1) * cell.macs)
