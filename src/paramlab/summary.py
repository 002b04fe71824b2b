"""Statistics: per-layer rows and totals from a built graph, under one convention.

Renderers never count and this module never formats: :class:`Summary` holds numbers, and
``str()``, :meth:`Summary.to_dict`, :meth:`Summary.to_markdown` and ``_repr_html_`` hand it
to :mod:`paramlab.render`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paramlab.activations import AttentionFlops
from paramlab.graph import Graph, Node
from paramlab.layers.base import Shape, Weight
from paramlab.lora import LoraReport
from paramlab.memory import FlopsReport, LanguageModel, MemoryReport, MemorySection
from paramlab.notes import Note
from paramlab.tensorfile import TensorFile
from paramlab.training import TrainingReport

if TYPE_CHECKING:
    from paramlab.quant.report import QuantReport
    from paramlab.quant.source import QuantSource

DTYPE_BYTES: dict[str, float] = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int8": 1,
    "int4": 0.5,
}


@dataclass
class LayerRow:
    """One printed row: a layer call with its parameter split and the formula behind it."""

    name: str
    type: str
    output_shape: Shape | tuple[Shape, ...]
    params: int
    trainable: int
    non_trainable: int
    buffers: int  # PyTorch convention: statistics kept as buffers, not parameters
    formula: str
    macs: int
    connected_to: list[str] = field(default_factory=list)
    shared: bool = False  # a second call of a layer whose weights were counted already
    note: str = ""
    weights: list[Weight] = field(default_factory=list)
    depth: int = 0  # nesting depth, for module trees (PyTorch adapters)


@dataclass
class Summary:
    """The result of :func:`paramlab.count`: rows, totals and the convention used."""

    name: str
    layers: list[LayerRow]
    convention: str = "keras"
    dtype: str = "float32"
    origin: str = ""
    show_connections: bool = False
    observations: int | None = None
    features: int | None = None
    targets: int | None = None  # target values per observation (outputs)
    # The same model under the other convention, computed on first use: counting twice
    # would halve the speed of every count() whose caller never asks.
    other_factory: Callable[[], Summary] | None = field(default=None, repr=False)
    _other: Summary | None = field(default=None, repr=False)
    activation_elements: int | None = None  # per example, when an adapter traced a forward pass
    # The adapter's notes on how it counted (a Hugging Face config's defaults, renamed and
    # unread fields), drawn as one "Notes:" list after the table by every renderer.
    count_notes: list[Note] = field(default_factory=list)
    # One-line notes under the totals (why shapes are missing, lazy modules).
    notes: list[Note] = field(default_factory=list)
    # --memory and --flops: reports from paramlab.memory, drawn by paramlab.render.blocks.
    memory: MemoryReport | None = None
    flops_report: FlopsReport | None = None
    # Memory tables an adapter adds for its model (see paramlab.memory.memory_report).
    memory_sections: list[MemorySection] = field(default_factory=list)
    # Decoders: KV cache widths and activations per token, for --memory.
    language_model: LanguageModel | None = None
    # Hugging Face configs: tensors and storage dtypes for --quant/--fit, and the report
    # built from them (paramlab.quant; imported for types only, the adapter attaches it).
    quant_source: QuantSource | None = None
    quant: QuantReport | None = None
    # safetensors/GGUF inputs: the header's tensors with their exact stored bytes, drawn by
    # paramlab.render.files.
    tensor_file: TensorFile | None = None
    # --lora: trainable parameters and memory of LoRA fine-tuning (paramlab.lora).
    lora: LoraReport | None = None
    # Mixture of experts: the parameters one token runs through, and how many experts that is.
    active_params: int | None = None
    active_note: str = ""
    # Adapters whose rows merge repeated layers give the true trainable tensor shapes (for
    # shape-dependent optimizer state) and the largest module (what ZeRO-3 gathers at once);
    # otherwise paramlab.training reads both off the rows.
    tensor_shapes: list[tuple[int, ...]] | None = None
    largest_module: tuple[str, int] | None = None
    # Training per GPU and attention at a context length (paramlab.training and
    # paramlab.activations), drawn by paramlab.render.blocks.
    training_per_gpu: TrainingReport | None = None
    attention_flops: AttentionFlops | None = None

    @property
    def other(self) -> Summary | None:
        if self._other is None and self.other_factory is not None:
            self._other = self.other_factory()
        return self._other

    @other.setter
    def other(self, value: Summary | None) -> None:
        self._other = value

    @property
    def total(self) -> int:
        return sum(row.params for row in self.layers)

    @property
    def trainable(self) -> int:
        return sum(row.trainable for row in self.layers)

    @property
    def non_trainable(self) -> int:
        return sum(row.non_trainable for row in self.layers)

    @property
    def buffers(self) -> int:
        return sum(row.buffers for row in self.layers)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.layers)

    @property
    def flops(self) -> int:
        """FLOPs per example, forward: 2 per multiply-accumulate."""
        return 2 * self.macs

    @property
    def bytes_per_param(self) -> float:
        return DTYPE_BYTES[self.dtype]

    def memory_bytes(self, count: int) -> float:
        return count * self.bytes_per_param

    def share(self, row: LayerRow) -> float:
        """The fraction of all parameters held by ``row``: where the parameters concentrate.
        (Sums every row: renderers take :attr:`total` once instead of calling this per row.)"""
        return row.params / self.total if self.total else 0.0

    # --- rendering, delegated
    def __str__(self) -> str:
        from paramlab.render.text import render_text

        return render_text(self)

    def to_dict(self) -> dict[str, Any]:
        from paramlab.render.json import summary_to_dict

        return summary_to_dict(self)

    def to_markdown(self) -> str:
        from paramlab.render.markdown import render_markdown

        return render_markdown(self)

    def _repr_html_(self) -> str:
        from paramlab.render.html import render_html

        return render_html(self)


def make_row(
    name: str, kind: str, weights: list[Weight], convention: str, *,
    output_shape: Shape | tuple[Shape, ...] = (), formula: str = "", macs: int = 0,
    connected_to: list[str] | None = None, shared: bool = False, note: str = "",
    depth: int = 0,
) -> LayerRow:
    """The one place a row is made, for specs and every adapter: its counts come from its
    weights under ``convention`` (:func:`row_counts`), never from the caller."""
    trainable, non_trainable, buffers = row_counts(weights, convention)
    return LayerRow(
        name=name, type=kind, output_shape=output_shape, params=trainable + non_trainable,
        trainable=trainable, non_trainable=non_trainable, buffers=buffers, formula=formula,
        macs=macs, connected_to=connected_to or [], shared=shared, note=note,
        weights=weights, depth=depth,
    )


def row_counts(weights: list[Weight], convention: str) -> tuple[int, int, int]:
    """(trainable, non-trainable, buffers) of a weight list under ``convention``.

    Keras reports statistics (BatchNorm moving mean/variance) as non-trainable parameters;
    PyTorch keeps them as buffers, which are not parameters at all.
    """
    trainable = non_trainable = buffers = 0
    for weight in weights:
        if weight.statistic and convention == "torch":
            buffers += weight.size
        elif weight.trainable and not weight.statistic:
            trainable += weight.size
        else:
            non_trainable += weight.size
    return trainable, non_trainable, buffers


def summarize(graph: Graph, origin: str = "") -> Summary:
    """One row per node (inputs hidden for plain chains, as Keras does)."""
    chain = graph.is_chain
    rows: list[LayerRow] = []
    for node in graph.nodes:
        if chain and node.type == "InputLayer":
            continue
        rows.append(_row(node, graph.ctx.convention))
    return Summary(
        graph.name, rows, graph.ctx.convention, origin=origin, show_connections=not chain
    )


def _row(node: Node, convention: str) -> LayerRow:
    weights = node.weights
    formula = node.result.formula
    if node.call > 0:
        formula = f"shared with call 0 of {node.name!r}: counted once"
    elif weights and not node.trainable:
        formula = f"{formula} (frozen: trainable=False)"
    connected = [f"{ref.layer}[{ref.call}][{ref.index}]" for ref in node.inputs]
    return make_row(
        node.name, node.type, weights, convention, output_shape=node.result.output_shape,
        formula=formula, macs=node.result.macs, connected_to=connected, shared=node.call > 0,
        note=node.result.note,
    )
