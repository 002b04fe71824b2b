"""The experiment registry: what an experiment declares, and how the lab finds it.

An experiment is one module in ``paramlab.lab.experiments`` that defines ``EXPERIMENT``, an
:class:`Experiment`: its name, its config dataclass, its command-line options, ``run()``, its
results columns and its report section. ``paramlab run NAME``, ``paramlab report`` and
``paramlab demo`` walk :func:`registry` (timm's ``@register_model``, scikit-learn's
``all_estimators()``), so adding an experiment is one module plus its tests — no list to edit,
no ``if experiment == …`` anywhere.

This module imports only the standard library: the CLI lists experiments from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import pkgutil
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from paramlab.errors import ParamlabError
from paramlab.lab.store import Column

if TYPE_CHECKING:
    from paramlab.lab.data import Dataset
    from paramlab.lab.engine import ModelResult
    from paramlab.lab.store import RunStore

DemoLevel = Literal["quick", "default", "full"]


@dataclass
class Section:
    """One part of the report: a title, sentences drawn from the numbers, plots, tables."""

    title: str
    sentences: list[str]
    plots: list[Path] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # HTML fragments


@dataclass
class Progress:
    """Callbacks a progress bar plugs into (no-ops by default): ``start(total, done, epochs)``
    once, ``epoch(epoch, models)`` as training advances, ``model_done(row)`` per finished
    model or point."""

    start: Callable[[int, int, int], None] = lambda total, done, epochs: None
    epoch: Callable[[int, int], None] = lambda epoch, models: None
    model_done: Callable[[Any], None] = lambda result: None


@dataclass
class RunOutcome:
    """What a run did: its store (the truth), and what the console prints about it."""

    store: RunStore
    trained: int  # models or points fitted by this invocation
    skipped: int  # already in the store (resumed past)
    seconds: float
    data: Dataset | None = None  # the one data set, for experiments that have one
    results: list[ModelResult] = field(default_factory=list)
    analysis: dict[str, Any] | None = None  # experiment-level numbers (also in the run folder)
    summary: list[str] = field(default_factory=list)  # console lines under the table


@dataclass(frozen=True)
class Experiment:
    """Everything the CLI, the report and the demo need to know about one experiment.

    ``columns`` is the one declaration of the results schema: the run store makes its SQLite
    table from it and writes ``results.csv`` in its order; ``display`` names the columns the
    console table shows. ``demo(level, earlier)`` returns the config the demo runs at that
    level (``None``: not part of it); ``earlier`` maps experiment names to the outcomes of
    the experiments already run by the demo, in registry order. ``example`` is a tiny
    command line (after ``paramlab run NAME``) that the contract test runs.

    ``executors``: the experiment trains its models through ``common.execute``, so the CLI
    offers ``--executor local|ray`` (and its options) for it; set False for an experiment
    that fits in closed form or trains otherwise.
    """

    name: str
    help: str
    description: str
    config: type  # the config dataclass
    add_options: Callable[[argparse.ArgumentParser], None]
    build_config: Callable[[argparse.Namespace], Any]
    run: Callable[[Any, Path, Progress], RunOutcome]
    columns: tuple[Column, ...]
    report: Callable[[RunStore, Path], Section]  # (store, plots folder) -> section
    order: int  # place in the report and the demo: count → ratio → fits anyway → why
    display: tuple[str, ...] = ()
    demo: Callable[[DemoLevel, dict[str, RunOutcome]], Any | None] = (
        lambda level, earlier: None)
    example: tuple[str, ...] = ()
    executors: bool = True

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def registry() -> list[Experiment]:
    """Every experiment module's ``EXPERIMENT``, in report order."""
    return list(_discover().values())


def get(name: str) -> Experiment:
    """The experiment called ``name``, or a clear error listing the known ones."""
    experiments = _discover()
    if name not in experiments:
        raise ParamlabError(f"unknown experiment {name!r}; known: {', '.join(experiments)}")
    return experiments[name]


_FOUND: dict[str, Experiment] = {}


def _discover() -> dict[str, Experiment]:
    """Import each module of this package once and collect what it declares."""
    if not _FOUND:
        import paramlab.lab.experiments as package

        found = []
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            experiment = getattr(module, "EXPERIMENT", None)
            if isinstance(experiment, Experiment):
                found.append(experiment)
        for experiment in sorted(found, key=lambda e: (e.order, e.name)):
            _FOUND[experiment.name] = experiment
    return _FOUND


# ------------------------------------------------------------------ configs from dicts


def from_dict(cls: type, values: dict[str, Any], where: str = "") -> Any:
    """Build a config dataclass from a dict, nested dataclasses included, rejecting unknown
    keys (nanoGPT's configurator rule: a typo must not silently fall back to a default)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ParamlabError(f"unknown {cls.__name__} key(s){where}: {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(fields))}")
    hints = typing.get_type_hints(cls)
    built = {}
    for name, value in values.items():
        nested = _dataclass_in(hints[name])
        if nested is not None and isinstance(value, dict):
            value = from_dict(nested, value, f" in {name!r}")
        elif isinstance(value, list) and _is_tuple(hints[name]):
            value = tuple(value)
        built[name] = value
    return cls(**built)


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return hint
    for arg in typing.get_args(hint):
        if dataclasses.is_dataclass(arg) and isinstance(arg, type):
            return arg
    return None


def _is_tuple(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(typing.get_origin(a) is tuple for a in typing.get_args(hint))
    return False

