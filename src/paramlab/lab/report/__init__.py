"""``paramlab report RUN_DIR``: PNG plots and one self-contained ``report.html``.

The page needs no network: plots are embedded as base64 PNG, styles inline, no scripts. It
answers the seed question in plain sentences computed from the run's own numbers. Each
experiment has one report module here, named after its module in
:mod:`paramlab.lab.experiments` (``random-labels`` → ``report/random_labels.py``), with

* ``section(store, analysis, plots_dir) -> Section``: its part of the page, from the typed
  analysis the runner stored (read back with ``from_json``) and the results rows;
* ``console_lines(store, analysis) -> list[str]``: what ``paramlab run`` prints under its
  table.

A demo folder's runs appear in registry order, so the page reads count → ratio → fits
anyway → why; a folder holding two or more measures of capacity (effective dimension,
intrinsic dimension, pruning, the generalization bound) opens with
:mod:`paramlab.lab.report.capacity`, which sets them side by side.
"""

from __future__ import annotations

import base64
import html
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from paramlab.errors import DataError
from paramlab.lab.experiments import get, registry
from paramlab.lab.report.section import Section
from paramlab.lab.runner import Experiment
from paramlab.lab.store import RunStore


def module_for(experiment: Experiment[Any]) -> ModuleType:
    """The report module of ``experiment``: ``paramlab.lab.report.<its module's name>``."""
    return importlib.import_module(f"{__name__}.{experiment.name.replace('-', '_')}")


def section(store: RunStore, plots_dir: Path) -> Section:
    """The report section of the run in ``store``."""
    experiment = get(store.experiment)
    return module_for(experiment).section(  # type: ignore[no-any-return]
        store, experiment.read_analysis(store), plots_dir)


def console_lines(experiment: Experiment[Any], store: RunStore) -> list[str]:
    """What ``paramlab run`` prints under the results table for this run."""
    lines = getattr(module_for(experiment), "console_lines", None)
    return [] if lines is None else list(lines(store, experiment.read_analysis(store)))


def find_runs(run_dir: Path) -> list[RunStore]:
    """The run itself, or (for a demo folder) the runs in its subfolders."""
    if (run_dir / "store.sqlite").exists():
        return [RunStore.open(run_dir)]
    runs = [RunStore.open(p.parent) for p in sorted(run_dir.glob("*/store.sqlite"))]
    order = {experiment.name: rank for rank, experiment in enumerate(registry())}
    runs.sort(key=lambda store: order.get(store.experiment, len(order)))
    if not runs:
        raise DataError(f"{run_dir}: no paramlab run here (no store.sqlite in it or its "
                        "subfolders); make one with `paramlab run sweep --out DIR`")
    return runs


def build_report(run_dir: Path) -> Path:
    """Write plots and report.html into ``run_dir``; return the HTML path."""
    import matplotlib

    matplotlib.use("Agg")
    plots_dir = run_dir / "plots"
    plots_dir.mkdir(exist_ok=True)
    from paramlab.lab.report import capacity

    runs = find_runs(run_dir)
    sections = []
    for store in runs:
        if not store.rows():
            raise DataError(f"{store.path}: the run has no finished models yet")
        sections.append(section(store, plots_dir))
    # a folder with several measures of one network's capacity opens with them side by side
    summary = capacity.section(runs, plots_dir)
    if summary is not None:
        sections.insert(0, summary)
    target = run_dir / "report.html"
    target.write_text(_page(run_dir, sections), encoding="utf-8")
    return target


# ------------------------------------------------------------------ page


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
td,th{border:1px solid #ddd;padding:3px 8px}td.n{text-align:right}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
.answer{background:#f5f8ff;padding:.5em 1.2em;border-left:4px solid #4a6fd0}
"""


def _embed(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(path.stem.replace("_", " "))
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'


def _page(run_dir: Path, sections: list[Section]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>paramlab report — "
             f"{html.escape(run_dir.name)}</title><style>{_STYLE}</style></head><body>",
             "<h1>How can a network with more parameters than observations fit and still "
             "generalize?</h1>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2><div class=answer>")
        parts += [f"<p>{html.escape(s)}</p>" for s in section.sentences]
        parts.append("</div>")
        parts += [_embed(p) for p in section.plots]
        parts += section.tables
    parts.append("</body></html>")
    return "\n".join(parts)
