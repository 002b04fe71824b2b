"""Experiments: each module declares one study — its config dataclass (every option a field
with its flag), its plan (the models to train, the points to compute) and its ``analyze`` —
as ``EXPERIMENT``, a :class:`paramlab.lab.runner.Experiment`. Its science lives in
:mod:`paramlab.lab.science`, its sentences and plots in :mod:`paramlab.lab.report`.

``paramlab run NAME``, ``paramlab report`` and ``paramlab demo`` walk :func:`registry`
(timm's ``@register_model``, scikit-learn's ``all_estimators()``), so adding an experiment is
one module here, its science, its report module and their tests — no list to edit. No
experiment imports another.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from paramlab.errors import ParamlabError
from paramlab.lab.runner import Experiment

_FOUND: dict[str, Experiment[Any]] = {}


def registry() -> list[Experiment[Any]]:
    """Every experiment module's ``EXPERIMENT``, in report order."""
    return list(_discover().values())


def get(name: str) -> Experiment[Any]:
    """The experiment called ``name``, or a clear error listing the known ones."""
    experiments = _discover()
    if name not in experiments:
        raise ParamlabError(f"unknown experiment {name!r}; known: {', '.join(experiments)}")
    return experiments[name]


def _discover() -> dict[str, Experiment[Any]]:
    """Import each module of this package once and collect what it declares."""
    if not _FOUND:
        found = []
        for info in pkgutil.iter_modules(__path__):
            module = importlib.import_module(f"{__name__}.{info.name}")
            experiment = getattr(module, "EXPERIMENT", None)
            if isinstance(experiment, Experiment):
                found.append(experiment)
        for experiment in sorted(found, key=lambda e: (e.order, e.name)):
            _FOUND[experiment.name] = experiment
    return _FOUND
