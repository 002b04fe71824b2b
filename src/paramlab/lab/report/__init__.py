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
from paramlab.lab.report.section import Answer, Section
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

    from paramlab.lab.report import answer as answer_module
    from paramlab.lab.report import capacity
    from paramlab.lab.report import why as why_report

    matplotlib.use("Agg")
    plots_dir = run_dir / "plots"
    plots_dir.mkdir(exist_ok=True)
    sections: dict[str, Section] = {}
    analyses: dict[str, Any] = {}
    rows: dict[str, list[Any]] = {}
    record = why_report.WhyRecord.read(run_dir)
    if record is not None:
        sections["count"] = why_report.count_section(record)
    runs = find_runs(run_dir)
    # a folder with several measures of one network's capacity opens with them side by side
    side_by_side = capacity.section(runs, plots_dir)
    if side_by_side is not None:
        sections["capacity"] = side_by_side
    for store in runs:
        if not store.rows():
            raise DataError(f"{store.path}: the run has no finished models yet")
        experiment = get(store.experiment)
        key = experiment.name if experiment.name not in sections else store.path.name
        analyses[key] = experiment.read_analysis(store)
        rows[key] = store.rows()
        sections[key] = module_for(experiment).section(store, analyses[key], plots_dir)
    if record is None:
        answer = answer_module.demo_answer(sections, analyses, rows)
    else:
        missing = why_report.missing_section(record)
        if missing is not None:
            sections["missing"] = missing
        sections["budget"] = why_report.budget_section(record)
        answer = why_report.answer(record, sections, analyses, rows)
    target = run_dir / "report.html"
    target.write_text(_page(run_dir, answer, list(sections.values())), encoding="utf-8")
    return target


# ------------------------------------------------------------------ page


# Narrow screens: images and wide tables scroll inside their box, not the page. Print: every
# collapsed table opens (::details-content, Chromium 131+) and nothing breaks across a figure.
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
td,th{border:1px solid #ddd;padding:3px 8px}td.n{text-align:right}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.5em 0}
.answer{background:#f5f8ff;padding:.5em 1.2em;border-left:4px solid #4a6fd0}
.finding{font-weight:600}
#summary{background:#fbfbf3;border:1px solid #e4e2c8;padding:.2em 1.2em 1em}
#summary h2{margin-top:.6em}
.scroll{overflow-x:auto}
details{margin:.6em 0}summary{cursor:pointer;color:#33a}
@media (max-width:600px){body{margin:1em auto;font-size:15px}h1{font-size:1.3em}}
@media print{body{max-width:none;margin:0}summary{color:#222}
details::details-content{content-visibility:visible;display:block}
img,table{break-inside:avoid}h2{break-after:avoid}}
"""


def _embed(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = html.escape(path.stem.replace("_", " "))
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'


def _summary(answer: Answer, sections: list[Section]) -> list[str]:
    """The page's first section: the question, the answer (each claim linked to its
    evidence) and the table of contents with each section's one-line finding."""
    claims = "".join(f"<li>{html.escape(c.text)} <a href='#{c.anchor}'>(evidence)</a></li>"
                     for c in answer.claims)
    contents = "".join(f"<li><a href='#{s.anchor}'>{html.escape(s.title)}</a> — "
                       f"{html.escape(s.headline)}</li>" for s in sections)
    return ["<section id=summary><h2>Summary</h2>",
            f"<p><strong>The question:</strong> {html.escape(answer.question)}</p>",
            f"<p><strong>The answer, from this run's numbers:</strong></p><ol>{claims}</ol>",
            f"<nav><h3>Contents</h3><ol>{contents}</ol></nav></section>"]


def _page(run_dir: Path, answer: Answer, sections: list[Section]) -> str:
    parts = [f"<!doctype html><html lang=en><head><meta charset='utf-8'>"
             "<meta name=viewport content='width=device-width, initial-scale=1'>"
             f"<title>paramlab report — {html.escape(run_dir.name)}</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>paramlab report: {html.escape(run_dir.name)}</h1>",
             *_summary(answer, sections)]
    for section in sections:
        parts.append(f"<section id={section.anchor}><h2>{html.escape(section.title)}</h2>"
                     f"<p class=finding>{html.escape(section.headline)}</p><div class=answer>")
        # a section without a finding of its own leads with its first sentence: not twice
        body = section.sentences if section.finding else section.sentences[1:]
        parts += [f"<p>{html.escape(s)}</p>" for s in body]
        parts.append("</div>")
        parts += [_embed(p) for p in section.plots]
        parts += section.tables
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
