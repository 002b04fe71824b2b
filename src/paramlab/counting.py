"""``paramlab.count``: anything that describes a network → :class:`~paramlab.summary.Summary`."""

from __future__ import annotations

from typing import Any

from paramlab.errors import ParamlabError, SpecError
from paramlab.graph import ModelSpec, build_graph
from paramlab.layers.base import Context
from paramlab.summary import DTYPE_BYTES, Summary, summarize

CONVENTIONS = ("keras", "torch")


def count(
    model: Any,
    *,
    convention: str | None = None,
    dtype: str = "float32",
    observations: int | None = None,
    features: int | None = None,
    other_convention: bool = True,
    options: Any = None,
) -> Summary:
    """Count the parameters of ``model`` by arithmetic, allocating no weights.

    ``model`` may be a spec string (``"784-10-10-3"``, the DSL, a zoo name, a file path),
    a :class:`~paramlab.graph.ModelSpec`, a parsed Keras/paramlab JSON ``dict``, or anything
    an adapter in :mod:`paramlab.adapters` recognizes (PyTorch modules, Keras models,
    Hugging Face configs, ONNX files). ``observations`` adds parameters-per-observation;
    ``other_convention`` also counts under the other convention so the summary can say
    where Keras and PyTorch differ. ``options`` carries adapter settings (the CLI namespace).
    """
    if convention is not None:
        _check_choice("convention", convention, CONVENTIONS)
    _check_choice("dtype", dtype, tuple(DTYPE_BYTES))
    if observations is not None and (not isinstance(observations, int) or observations <= 0):
        raise ParamlabError(
            f"observations must be a positive integer. Received: observations={observations!r}"
        )
    from paramlab.adapters import find_adapter

    adapter = find_adapter(model)
    if adapter is not None:
        summary = adapter(model, convention, options)
    else:
        spec = to_model_spec(model)
        convention = convention or "keras"
        summary = _count_spec(spec, convention)
        if other_convention:
            other = "torch" if convention == "keras" else "keras"
            summary.other_factory = lambda: _count_spec(spec, other)
    summary.dtype = dtype
    summary.observations = observations
    summary.features = features
    summary.targets = _output_units(summary)
    return summary


count_any = count


def _count_spec(spec: ModelSpec, convention: str) -> Summary:
    graph = build_graph(spec, Context(convention=convention))  # type: ignore[arg-type]
    if graph.name == "model":  # unnamed: Keras' default names for the two model kinds
        graph.name = "sequential" if graph.is_chain else "functional"
    return summarize(graph, origin=spec.origin)


def to_model_spec(model: Any) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        from paramlab.spec import parse

        return parse(model)
    if isinstance(model, dict):
        from paramlab.spec.files import parse_mapping

        return parse_mapping(model, "<dict>")
    raise SpecError(
        f"cannot count a {type(model).__name__}; expected a spec string, a file path, "
        "a ModelSpec or a JSON dict"
    )


def _output_units(summary: Summary) -> int | None:
    """Target values per observation: the last layer's output size, when fully known."""
    if not summary.layers:
        return None
    shape = summary.layers[-1].output_shape
    if not shape or isinstance(shape[0], tuple) or any(d is None for d in shape):
        return None
    size = 1
    for d in shape:
        size *= d  # type: ignore[operator]
    return size


def _check_choice(name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ParamlabError(
            f"{name} must be one of {', '.join(options)}. Received: {name}={value!r}"
        )
