"""``paramlab explain``: every row of a pasted summary matched to the formula that gives its
Param #, by paramlab's own layer rules.

No formula is restated here. For each row the layer is *built* through the rule registry
(:func:`~paramlab.layers.base.apply_layer`) with a configuration inferred from the row: units,
filters and widths from its output shape; the fan-in from the previous row's output shape (or
the rows named in ``Connected to``, or torchinfo's ``Input Shape``). Where no row tells the
fan-in (the first layer of a Keras Sequential summary), it is solved from the count: every
rule's count is linear in its fan-in (and an Embedding's in its vocabulary), so two probe
builds give the line and the count gives the point on it; the solution is then built once
more and must reproduce the count exactly. A row whose count no configuration reproduces is
flagged with what the layer would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from paramlab.errors import ParamlabError
from paramlab.layers.base import Context, LayerSpec, Shape, apply_layer, fmt, show_shape
from paramlab.pasted import PastedRow, PastedSummary
from paramlab.summary import row_counts

Status = Literal["explained", "flagged", "no parameters", "unchecked", "container"]

# torchinfo prints PyTorch class names; these are the Keras layers with the same weights.
TORCH_TYPES = {
    "Linear": "Dense", "Conv1d": "Conv1D", "Conv2d": "Conv2D", "Conv3d": "Conv3D",
    "BatchNorm1d": "BatchNormalization", "BatchNorm2d": "BatchNormalization",
    "BatchNorm3d": "BatchNormalization", "LayerNorm": "LayerNormalization",
    "Embedding": "Embedding", "LSTM": "LSTM", "GRU": "GRU", "RNN": "SimpleRNN",
    "ReLU": "ReLU", "Flatten": "Flatten", "Dropout": "Dropout",
}
_NESTED = frozenset({"Sequential", "Functional", "Model"})  # Keras models inside a model
# Kernel sizes tried, most common first, where neither kernel nor input channels are known.
_KERNELS = (3, 1, 5, 7, 2, 4, 6, 9, 11, 8, 10, 12, 13, 14, 15)


@dataclass(frozen=True)
class RowExplanation:
    """One pasted row: how its Param # comes about, or why it cannot."""

    row: PastedRow
    status: Status
    layer: str = ""  # the paramlab layer type the row was built as
    formula: str = ""  # the rule's arithmetic: the count's own when explained, else expected
    reading: str = ""  # where each number came from (output shape, previous row, the count)
    message: str = ""  # flagged/unchecked: what was expected instead
    trainable: int = 0
    non_trainable: int = 0
    note: str = ""  # the rule's convention remark (BatchNorm's moving statistics)


@dataclass(frozen=True)
class TotalCheck:
    """A printed total against the rows re-added (and the rules' trainable split)."""

    label: str
    printed: int
    computed: int
    exact: bool  # False where some rows were not checked, so ``computed`` is a lower bound
    how: str

    @property
    def ok(self) -> bool:
        return self.printed == self.computed if self.exact else self.printed >= self.computed


@dataclass(frozen=True)
class PastedExplanation:
    summary: PastedSummary
    convention: str
    rows: tuple[RowExplanation, ...]
    totals: tuple[TotalCheck, ...] = field(default=())

    @property
    def flagged(self) -> int:
        return sum(r.status == "flagged" for r in self.rows) + sum(
            not t.ok for t in self.totals)


# ----------------------------------------------------------------------------- building
@dataclass(frozen=True)
class _Try:
    """One configuration to build: keyword arguments, input shapes, and how it was read."""

    kwargs: dict[str, Any]
    inputs: list[Shape]
    reading: str


@dataclass(frozen=True)
class _Solve:
    """A configuration with one unknown whole number (``what``), solved from the count."""

    make: Callable[[int], _Try]
    what: str


@dataclass(frozen=True)
class _Built:
    attempt: _Try
    total: int
    trainable: int
    non_trainable: int
    formula: str
    note: str


def _build(layer: str, attempt: _Try, convention: str) -> _Built | None:
    spec = LayerSpec(layer, kwargs=dict(attempt.kwargs))
    try:
        _, _, result = apply_layer(spec, attempt.inputs, Context(convention))  # type: ignore[arg-type]
    except ParamlabError:
        return None
    trainable, non_trainable, _ = row_counts(result.weights, convention)
    return _Built(attempt, trainable + non_trainable, trainable, non_trainable,
                  result.formula, result.note)


def _solve(layer: str, probe: _Solve, target: int, convention: str) -> tuple[_Built | None, str]:
    """(the build whose count is ``target``, or None with the two nearest as the reason)."""
    one, two = _build(layer, probe.make(1), convention), _build(layer, probe.make(2), convention)
    if one is None or two is None or two.total <= one.total:
        return None, ""
    slope = two.total - one.total
    steps, rest = divmod(target - one.total, slope)
    if rest == 0 and steps >= 0:
        built = _build(layer, probe.make(steps + 1), convention)
        if built is not None and built.total == target:
            return built, ""
    below = max(steps + 1, 1)
    near = [b for n in (below, below + 1) if (b := _build(layer, probe.make(n), convention))]
    return None, (f"no whole number of {probe.what} gives {fmt(target)}: "
                  + "; ".join(f"{b.attempt.reading}: {b.formula}" for b in near))


# ----------------------------------------------------------------------------- families
def _n(count: int, word: str) -> str:
    """``1 unit``, ``10 units``."""
    return f"{fmt(count)} {word}{'' if count == 1 else 's'}"


def _channels_axis(convention: str) -> int:
    return 0 if convention == "torch" else -1


def _dense(out: Shape, given: Shape | None, where: str, conv: str) -> Iterator[_Try | _Solve]:
    m = out[-1] or 0  # explain_row builds only rows whose last axis is printed
    for bias in (True, False):
        kwargs = {"units": m, "use_bias": bias}
        if given:
            yield _Try(kwargs, [given], f"{_n(given[-1] or 0, 'input')} from {where}, "
                       f"{_n(m, 'unit')} from the output shape{'' if bias else ', no bias'}")
        else:
            yield _Solve(lambda n, kw=kwargs, b=bias: _Try(  # type: ignore[misc]
                kw, [(n,)], f"{_n(n, 'input')} (from the count), {_n(m, 'unit')}"
                f"{'' if b else ', no bias'}"), "inputs")


def _conv(rank: int) -> Callable[..., Iterator[_Try | _Solve]]:
    def family(out: Shape, given: Shape | None, where: str, conv: str) -> Iterator[_Try | _Solve]:
        axis = _channels_axis(conv)
        filters = out[axis] or 0
        channels = given[axis] if given and len(given) == rank + 1 else None
        if channels:
            yield from _conv_known(rank, filters, channels, where, conv)
        else:
            yield from _conv_unknown(rank, filters, conv)
    return family


def _conv_input(rank: int, channels: int, conv: str) -> Shape:
    """A convolution input with ``channels``; the spatial axes do not change the count."""
    return (channels, *(None,) * rank) if conv == "torch" else (*(None,) * rank, channels)


def _conv_args(rank: int, filters: int, kernel: Any, bias: bool, conv: str,
               groups: int = 1) -> dict[str, Any]:
    layout = "channels_first" if conv == "torch" else "channels_last"
    return {"filters": filters, "kernel_size": kernel, "use_bias": bias, "data_format": layout,
            "groups": groups}


def _conv_known(rank: int, filters: int, channels: int, where: str,
                conv: str) -> Iterator[_Try | _Solve]:
    """Input channels known: a square kernel, else any kernel area, else depthwise groups."""
    inputs = [_conv_input(rank, channels, conv)]
    source = f"{_n(channels, 'input channel')} from {where}, {_n(filters, 'filter')}"
    for bias in (True, False):
        tail = "" if bias else ", no bias"
        for k in _KERNELS:
            window = " × ".join([str(k)] * rank)
            yield _Try(_conv_args(rank, filters, k, bias, conv), inputs,
                       f"{window} kernel over {source}{tail}")
    for bias in (True, False):
        tail = "" if bias else ", no bias"
        yield _Solve(lambda a, b=bias, t=tail: _Try(  # type: ignore[misc]
            _conv_args(rank, filters, (a,) + (1,) * (rank - 1), b, conv), inputs,
            f"a kernel of {_n(a, 'position')} (not a square: k₁ × k₂ = {a}) over {source}{t}"),
            "kernel positions")
    if channels > 1 and filters % channels == 0:  # depthwise: one group per input channel
        for bias in (True, False):
            for k in _KERNELS:
                window = " × ".join([str(k)] * rank)
                yield _Try(_conv_args(rank, filters, k, bias, conv, channels), inputs,
                           f"{window} depthwise kernel (groups={channels}) over {source}"
                           f"{'' if bias else ', no bias'}")


def _conv_unknown(rank: int, filters: int, conv: str) -> Iterator[_Try | _Solve]:
    """Input channels unknown: kernel × channels is one number; the commonest kernel first."""
    for bias in (True, False):
        tail = "" if bias else ", no bias"
        for k in _KERNELS:
            window = " × ".join([str(k)] * rank)
            kwargs = _conv_args(rank, filters, k, bias, conv)
            yield _Solve(lambda c, kw=kwargs, w=window, t=tail: _Try(  # type: ignore[misc]
                kw, [_conv_input(rank, c, conv)], f"{w} kernel (assumed) over "
                f"{_n(c, 'input channel')} (from the count), {_n(filters, 'filter')}{t}"),
                "input channels")


def _normalization(layer: str) -> Callable[..., Iterator[_Try | _Solve]]:
    def family(out: Shape, given: Shape | None, where: str, conv: str) -> Iterator[_Try | _Solve]:
        axes: list[Any] = [1 if conv == "torch" and layer == "BatchNormalization" else -1]
        if layer == "LayerNormalization":  # PyTorch's normalized_shape may span trailing axes
            axes += [list(range(-k, 0)) for k in range(2, len(out) + 1)]
        for axis in axes:
            for center, scale in ((True, True), (True, False), (False, True), (False, False)):
                extra = "" if center and scale else f", center={center}, scale={scale}"
                yield _Try({"axis": axis, "center": center, "scale": scale}, [out],
                           f"features along axis {axis} of the output shape{extra}")
    return family


def _embedding(out: Shape, given: Shape | None, where: str, conv: str) -> Iterator[_Try | _Solve]:
    d = out[-1] or 0
    yield _Solve(lambda n: _Try({"input_dim": n, "output_dim": d}, [out[:-1]],
                                f"a vocabulary of {fmt(n)} (from the count), {fmt(d)} dimensions "
                                "from the output shape"), "vocabulary entries")


def _recurrent(layer: str) -> Callable[..., Iterator[_Try | _Solve]]:
    def family(out: Shape, given: Shape | None, where: str, conv: str) -> Iterator[_Try | _Solve]:
        units = out[-1] or 0
        features = given[-1] if given and len(given) >= 2 else None
        variants: list[dict[str, Any]] = [{"use_bias": True}, {"use_bias": False}]
        if layer == "GRU" and conv == "keras":
            variants += [{"use_bias": True, "reset_after": False}]
        for extra in variants:
            kwargs = {"units": units, "return_sequences": len(out) > 1, **extra}
            tail = "".join(f", {k}={v}" for k, v in extra.items() if v is not True)
            if given and features:
                yield _Try(kwargs, [given], f"{_n(features, 'input feature')} from {where}, "
                           f"{_n(units, 'unit')}{tail}")
            else:
                yield _Solve(lambda n, kw=kwargs, t=tail: _Try(  # type: ignore[misc]
                    kw, [(None, n)], f"{_n(n, 'input feature')} (from the count), "
                    f"{_n(units, 'unit')}{t}"), "input features")
    return family


def _input_layer(out: Shape, given: Shape | None, where: str,
                 conv: str) -> Iterator[_Try | _Solve]:
    yield _Try({"shape": list(out)}, [], "the model's input")


def _fixed(**kwargs: Any) -> Callable[..., Iterator[_Try | _Solve]]:
    """Weightless layers with a required argument that cannot change their count (0)."""
    def family(out: Shape, given: Shape | None, where: str, conv: str) -> Iterator[_Try | _Solve]:
        arguments = {k: (list(out) if v is _OUT else v) for k, v in kwargs.items()}
        yield _Try(arguments, [given or out], "its arguments do not change the count")
    return family


_OUT = object()  # stands for the row's output shape in _fixed's arguments

_FAMILIES: dict[str, Callable[..., Iterator[_Try | _Solve]]] = {
    "Dense": _dense, "InputLayer": _input_layer, "Dropout": _fixed(rate=0.5),
    "Activation": _fixed(activation="linear"),
    "Reshape": _fixed(target_shape=_OUT), "Embedding": _embedding,
    **{f"Conv{r}D": _conv(r) for r in (1, 2, 3)},
    **{n: _normalization(n) for n in ("BatchNormalization", "LayerNormalization")},
    **{n: _recurrent(n) for n in ("LSTM", "GRU", "SimpleRNN")},
}


def _without_arguments(out: Shape, given: Shape | None, where: str,
                       conv: str) -> Iterator[_Try | _Solve]:
    """Layers whose count needs no argument (Flatten, Dropout's rate does not matter)."""
    yield _Try({}, [given or out], "no arguments needed")


# ----------------------------------------------------------------------------- rows
def _layer_type(row: PastedRow, source: str) -> str | None:
    """The registered type; a type tf.keras cut short ("BatchNo") where one name fits."""
    from paramlab.layers.base import get_layer_type, layer_names

    name = TORCH_TYPES.get(row.type, row.type) if source == "torchinfo" else row.type
    try:
        return get_layer_type(name).name
    except ParamlabError:
        fits = [n for n in layer_names() if n.startswith(name)] if len(name) >= 3 else []
        return fits[0] if len(fits) == 1 else None


def explain_row(row: PastedRow, given: Shape | None, where: str, authoritative: bool,
                source: str, convention: str) -> RowExplanation:
    """Match one row's Param # to a configuration of its layer type."""
    if row.params is None:
        return RowExplanation(row, "container", message="no count printed for this row")
    layer = _layer_type(row, source)
    out = row.output_shape
    if row.type in _NESTED:
        return RowExplanation(row, "unchecked", message="a nested model: its Param # is the "
                              "total of its own layers; paste its own summary to explain them")
    if layer is None:
        return RowExplanation(row, "unchecked", message=f"paramlab has no rule for a layer of "
                              f"type {row.type!r}, so its {fmt(row.params)} is not checked")
    if out is None or not out or out[-1] is None:
        return RowExplanation(row, "unchecked", layer, message="its output shape is not "
                              "printed in full, so the layer cannot be rebuilt")
    family = _FAMILIES.get(layer, _without_arguments)
    hint = given if authoritative else None
    result = _match(layer, family(out, given, where, convention), row.params, convention)
    if result is None and given is not None and not authoritative:
        result = _match(layer, family(out, hint, where, convention), row.params, convention)
    if result is None and row.params == 0 and family is _without_arguments:
        return RowExplanation(row, "unchecked", layer, message=f"{layer} could not be rebuilt "
                              "from the row alone; its 0 is not checked")
    if isinstance(result, _Built):
        status: Status = "explained" if result.total else "no parameters"
        return RowExplanation(row, status, layer, result.formula, result.attempt.reading,
                              trainable=result.trainable, non_trainable=result.non_trainable,
                              note=result.note)
    return _flag(row, layer, family(out, given, where, convention), convention, result)


def _match(layer: str, attempts: Iterator[_Try | _Solve], target: int,
           convention: str) -> _Built | str | None:
    """The first configuration whose count is ``target``; else the first reason found."""
    reason: str | None = None
    for attempt in attempts:
        if isinstance(attempt, _Solve):
            built, why = _solve(layer, attempt, target, convention)
            reason = reason or why or None
        else:
            built = _build(layer, attempt, convention)
        if built is not None and built.total == target:
            return built
    return reason


def _flag(row: PastedRow, layer: str, attempts: Iterator[_Try | _Solve], convention: str,
          reason: str | None) -> RowExplanation:
    first = next(attempts, None)
    if isinstance(first, _Try):
        built = _build(layer, first, convention)
        if built is not None:
            message = (f"no {layer} with {first.reading} gives {fmt(row.params or 0)}: "
                       f"{built.formula}")
            return RowExplanation(row, "flagged", layer, built.formula, first.reading, message)
    return RowExplanation(row, "flagged", layer, message=reason or (
        f"no {layer} whose output shape is {show_shape(row.output_shape or ())} gives "
        f"{fmt(row.params or 0)}"))


# ----------------------------------------------------------------------------- the table
def explain(summary: PastedSummary, convention: str | None = None) -> PastedExplanation:
    """Every row explained or flagged, and the printed totals re-added."""
    chosen = convention or ("torch" if summary.source == "torchinfo" else "keras")
    outputs: dict[str, Shape] = {}
    rows = []
    previous: Shape | None = None
    for index, row in enumerate(summary.rows):
        given, where, authoritative = _input_of(summary, index, outputs, previous)
        if row.shared:
            rows.append(RowExplanation(row, "no parameters", reading="a module called again; "
                                       "its weights are counted on its first row"))
        elif row.params is None and not _has_children(summary, index):
            rows.append(RowExplanation(row, "no parameters", reading="torchinfo prints -- for "
                                       "a module without parameters of its own"))
        else:
            rows.append(explain_row(row, given, where, authoritative, summary.source, chosen))
        if row.output_shape is not None:
            outputs.setdefault(row.name, row.output_shape)
            if not _has_children(summary, index):
                previous = row.output_shape
    done = tuple(rows)
    return PastedExplanation(summary, chosen, done, _check_totals(summary, done))


def _has_children(summary: PastedSummary, index: int) -> bool:
    rows = summary.rows
    return index + 1 < len(rows) and rows[index + 1].depth > rows[index].depth


def _input_of(summary: PastedSummary, index: int, outputs: dict[str, Shape],
              previous: Shape | None) -> tuple[Shape | None, str, bool]:
    """(input shape, where it came from, whether a mismatch is the count's fault)."""
    row = summary.rows[index]
    if row.input_shapes:
        shown = row.input_shapes[0]
        return shown, f"the printed input shape {show_shape(shown)}", True
    if row.connected_to:
        first = row.connected_to[0]
        if first in outputs:
            return outputs[first], f"{first}'s output {show_shape(outputs[first])}", True
        return None, "", False
    if previous is None:
        return None, "", False
    where = f"the previous row's output {show_shape(previous)}"
    # torchinfo lists modules, not the tensors between them: forward() may reshape in between.
    return previous, where, summary.source != "torchinfo"


def _check_totals(summary: PastedSummary,
                  rows: tuple[RowExplanation, ...]) -> tuple[TotalCheck, ...]:
    printed = summary.totals
    added = sum(r.row.params or 0 for r in rows)
    optimizer = printed.optimizer or 0
    non_trainable = sum(r.non_trainable for r in rows)
    checks = []
    if printed.total is not None:
        extra = f" + {fmt(optimizer)} optimizer variables" if optimizer else ""
        checks.append(TotalCheck("Total params", printed.total, added + optimizer, True,
                                 f"the rows' Param # re-added{extra}"))
    if printed.non_trainable is not None:
        how = "at least the statistics the rules book as non-trainable" + (
            " (BatchNormalization's moving mean and variance)" if non_trainable else "")
        if printed.non_trainable > non_trainable:  # the table does not mark frozen layers
            how += "; the rest are weights of frozen layers (trainable=False)"
        checks.append(TotalCheck("Non-trainable params", printed.non_trainable, non_trainable,
                                 False, how))
    if None not in (printed.trainable, printed.total, printed.non_trainable):
        rest = (printed.total or 0) - (printed.non_trainable or 0) - optimizer
        checks.append(TotalCheck("Trainable params", printed.trainable or 0, rest, True,
                                 "the printed total less non-trainable" + (
                                     " and optimizer" if optimizer else "")))
    return tuple(checks)
