"""The architecture graph: layer calls in order, with shapes inferred as they are added.

Data flows one way: a parser produces a :class:`ModelSpec` (a list of calls, convention-free);
:func:`build_graph` runs every call through its layer rule under one counting
:class:`~paramlab.layers.base.Context` and records input shapes, output shapes and weights.
A layer called more than once (a shared layer) owns its weights at its first call only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from paramlab.errors import ParamlabError, ShapeError, SpecError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    LayerSpec,
    Shape,
    Weight,
    apply_layer,
    get_layer_type,
    lookup_key,
)


@dataclass(frozen=True)
class TensorRef:
    """One tensor in the graph: output ``index`` of call number ``call`` of layer ``layer``."""

    layer: str
    call: int = 0
    index: int = 0


@dataclass
class Call:
    """Apply ``layer`` to ``inputs``; ``None`` means the output of the previous call."""

    layer: LayerSpec
    inputs: list[TensorRef] | None = None


@dataclass
class ModelSpec:
    """A parsed architecture: what to build, independent of any counting convention."""

    calls: list[Call]
    name: str = "model"
    source: str | None = None  # the spec text, so errors can point at a column
    origin: str = ""  # "mlp", "dsl", "json", "keras", "zoo: …" — shown in the summary
    filename: str | None = None  # the file it came from, named in every error


@dataclass
class Node:
    """One call of a layer, with everything the statistics need."""

    name: str
    type: str
    call: int
    inputs: list[TensorRef]
    input_shapes: list[Shape]
    result: LayerResult
    args: Args
    trainable: bool

    @property
    def outputs(self) -> list[Shape]:
        out = self.result.output_shape
        if out and isinstance(out[0], tuple):
            return list(out)  # type: ignore[arg-type]
        return [out]  # type: ignore[list-item]

    @property
    def weights(self) -> list[Weight]:
        """Weights this node owns: all of them at a layer's first call, none when shared."""
        if self.call > 0:
            return []
        if self.trainable:
            return self.result.weights
        return [Weight(w.name, w.shape, False, w.statistic) for w in self.result.weights]


@functools.lru_cache(maxsize=512)
def snake_case(name: str) -> str:
    """Keras' ``to_snake_case``, used for automatic layer names (``Conv2D`` → ``conv2d``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


@dataclass
class Graph:
    """Nodes in the order they were added, which is a topological order."""

    name: str
    ctx: Context
    source: str | None = None
    nodes: list[Node] = field(default_factory=list)
    _nodes_by_ref: dict[tuple[str, int], Node] = field(default_factory=dict)
    _layers: dict[str, LayerSpec] = field(default_factory=dict)  # name → spec
    _names: dict[int, str] = field(default_factory=dict)  # id(spec) → name, for shared layers
    _name_counts: dict[str, int] = field(default_factory=dict)
    _calls: dict[str, int] = field(default_factory=dict)  # calls so far per layer name

    def add(self, spec: LayerSpec, inputs: Sequence[TensorRef] | None = None) -> Node:
        """Add one call of ``spec``; infer its output shape from its inputs' shapes.

        Nothing is recorded when the rule raises, so a caller may try another layer.
        """
        name = self._layer_name(spec)
        call = self._calls.get(name, 0)
        refs = self._resolve_inputs(spec, inputs)
        shapes = [self._shape_of(ref, spec) for ref in refs]
        where = f" (layer {name!r})"
        try:
            layer_type, args, result = apply_layer(spec, shapes, self.ctx, where)
        except ParamlabError as exc:
            raise _locate(exc, spec, where, self.source) from None
        node = Node(name, layer_type.name, call, refs, shapes, result, args, spec.trainable)
        self.nodes.append(node)
        self._nodes_by_ref[(name, call)] = node
        self._calls[name] = call + 1
        if call == 0:
            self._layers[name] = spec
            self._names[id(spec)] = name
            if spec.name is None:  # an automatic name: the next one of its kind counts on
                base, _, number = name.rpartition("_")
                if number.isdigit():
                    self._name_counts[base] = int(number) + 1
                else:
                    self._name_counts[name] = 1
        return node

    def _layer_name(self, spec: LayerSpec) -> str:
        """The spec's own name, the name it got at its first call, or a Keras-style new one."""
        known_name = self._names.get(id(spec))
        if known_name is not None and self._layers.get(known_name) is spec:
            return known_name
        if spec.name is not None:
            if spec.name in self._layers:
                raise SpecError(
                    f"two different layers are named {spec.name!r}; layer names must be unique",
                    self.source,
                    spec.column,
                )
            return spec.name
        base = snake_case(get_layer_type(spec.type).name)
        count = self._name_counts.get(base, 0)
        name = base if count == 0 else f"{base}_{count}"
        while name in self._layers:
            count += 1
            name = f"{base}_{count}"
        return name

    def _resolve_inputs(
        self, spec: LayerSpec, inputs: Sequence[TensorRef] | None
    ) -> list[TensorRef]:
        if inputs is not None:
            return list(inputs)
        if not self.nodes or lookup_key(spec.type) in ("input", "inputlayer"):
            return []  # an input starts a new tensor; it never chains
        last = self.nodes[-1]
        if len(last.outputs) != 1:
            raise ShapeError(
                f"{last.name!r} has {len(last.outputs)} outputs; name the one "
                f"{spec.type} should take"
            )
        return [TensorRef(last.name, last.call, 0)]

    def _shape_of(self, ref: TensorRef, spec: LayerSpec) -> Shape:
        node = self._nodes_by_ref.get((ref.layer, ref.call))
        if node is None:
            raise SpecError(
                f"{spec.type} takes input {ref.layer!r}, which is not defined before it",
                self.source,
                spec.column,
            )
        if ref.index >= len(node.outputs):
            raise SpecError(f"{ref.layer!r} has no output number {ref.index}")
        return node.outputs[ref.index]

    @property
    def is_chain(self) -> bool:
        """True when every layer feeds the next: Keras prints such models without inputs."""
        for prev, node in zip(self.nodes, self.nodes[1:], strict=False):
            if node.inputs != [TensorRef(prev.name, prev.call, 0)]:
                return False
        return not any(n.call > 0 for n in self.nodes)


def _locate(exc: ParamlabError, spec: LayerSpec, where: str, source: str | None) -> ParamlabError:
    """Name the layer (and the spec column) in an error raised inside a rule."""
    message = str(exc)
    if where.strip(" ()") not in message:
        message = f"{where.strip(' ()')}: {message}"
    column = exc.column if exc.column is not None else spec.column
    return type(exc)(message, exc.text or source, column)


def build_graph(model: ModelSpec, ctx: Context | None = None) -> Graph:
    """Run every call of ``model`` through its rule; raise at the first impossible layer."""
    graph = Graph(model.name, ctx or Context(), model.source)
    for call in model.calls:
        try:
            graph.add(call.layer, call.inputs)
        except ParamlabError as exc:
            if model.filename is None or model.filename in str(exc):
                raise
            raise type(exc)(f"{model.filename}: {exc}", exc.text, exc.column) from None
    if not graph.nodes:
        raise SpecError("the model has no layers")
    return graph
