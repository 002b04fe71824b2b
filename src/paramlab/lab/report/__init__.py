"""``paramlab report RUN_DIR``: PNG plots and one self-contained ``report.html``.

The page needs no network: plots are embedded as base64 PNG, styles inline, no scripts. It
answers the seed question in plain sentences computed from the run's own numbers.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.errors import DataError
from paramlab.lab.store import RunStore


@dataclass
class Section:
    title: str
    sentences: list[str]
    plots: list[Path] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # HTML fragments


def find_runs(run_dir: Path) -> list[RunStore]:
    """The run itself, or (for a demo folder) the runs in its subfolders."""
    if (run_dir / "store.sqlite").exists():
        return [RunStore.open(run_dir)]
    runs = [RunStore.open(p.parent) for p in sorted(run_dir.glob("*/store.sqlite"))]
    runs.sort(key=lambda store: store.config().get("experiment") != "sweep")  # sweep first
    if not runs:
        raise DataError(f"{run_dir}: no paramlab run here (no store.sqlite in it or its "
                        "subfolders); make one with `paramlab run sweep --out DIR`")
    return runs


def build_report(run_dir: Path) -> Path:
    """Write plots and report.html into ``run_dir``; return the HTML path."""
    import matplotlib

    matplotlib.use("Agg")
    sections = []
    for store in find_runs(run_dir):
        rows = store.rows()
        if not rows:
            raise DataError(f"{store.path}: the run has no finished models yet")
        experiment = store.config().get("experiment")
        plots_dir = run_dir / "plots"
        plots_dir.mkdir(exist_ok=True)
        if experiment == "refit":
            sections.append(_refit_section(store, rows, plots_dir))
        else:
            sections.append(_sweep_section(store, rows, plots_dir))
    target = run_dir / "report.html"
    target.write_text(_page(run_dir, sections), encoding="utf-8")
    return target


# ------------------------------------------------------------------ sweep


def _sweep_section(store: RunStore, rows: list[dict[str, Any]], plots: Path) -> Section:
    from paramlab.lab.report import plots as draw

    observations = rows[0]["observations"]
    loss_plot = draw.loss_vs_params(rows, observations, plots / "val_loss_vs_params.png")
    fit_plot = draw.train_vs_val(rows, observations, plots / "train_vs_val.png")
    curves = draw.learning_curves(store.history(), rows, plots / "learning_curves.png")
    return Section(
        f"Sweep: {len(rows)} random architectures",
        sweep_sentences(rows, store.config()),
        [loss_plot, fit_plot, curves],
        [_results_table(rows), *_architecture_tables(rows)],
    )


def sweep_sentences(rows: list[dict[str, Any]], config: dict[str, Any]) -> list[str]:
    """The seed question answered from this run's numbers."""
    n = rows[0]["observations"]
    over = [r for r in rows if r["params"] > n]
    under = [r for r in rows if r["params"] <= n]
    largest = max(rows, key=lambda r: r["params"])
    smallest = min(rows, key=lambda r: r["params"])
    best = min(rows, key=lambda r: r["val_loss"])
    data = config.get("data", {}).get("data", "the data")
    lines = [
        f"{len(rows)} networks were trained on {n:,} observations of {data}; "
        f"{len(over)} of them have more trainable parameters than observations.",
        f"The largest ({largest['spec']}) has {largest['params']:,} parameters — "
        f"{largest['params'] / n:,.1f} per observation — and reached validation loss "
        f"{largest['val_loss']:.4f} (training loss {largest['train_loss']:.4f}); the smallest "
        f"({smallest['spec']}, {smallest['params']:,} parameters) reached "
        f"{smallest['val_loss']:.4f}.",
        f"The best validation loss, {best['val_loss']:.4f}, came from {best['spec']} with "
        f"{best['params']:,} parameters ({best['params'] / n:,.2f} per observation).",
    ]
    if over and under:
        median_over = _median([r["val_loss"] for r in over])
        median_under = _median([r["val_loss"] for r in under])
        verdict = "lower" if median_over < median_under else "higher"
        lines.append(
            f"Median validation loss is {median_over:.4f} for the networks with more "
            f"parameters than observations and {median_under:.4f} for the others — {verdict} "
            "for the over-parameterized ones. Having more parameters than observations did "
            "not by itself ruin generalization."
        )
    gap = _median([r["val_loss"] - r["train_loss"] for r in over]) if over else None
    if gap is not None:
        lines.append(
            f"For the over-parameterized networks the median gap between validation and "
            f"training loss is {gap:.4f}: the training data constrain the function, not each "
            "weight. The weights are not determined by the data — see the refits — yet the "
            "predictions are."
        )
    return lines


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _results_table(rows: list[dict[str, Any]]) -> str:
    head = ("<tr><th>model</th><th>hidden</th><th>params</th><th>params / obs.</th>"
            "<th>train loss</th><th>val loss</th><th>test loss</th><th>epochs</th></tr>")
    body = "".join(
        f"<tr><td>{html.escape(r['model_id'])}</td><td>{html.escape(r['hidden'])}</td>"
        f"<td class=n>{r['params']:,}</td><td class=n>{r['params_per_observation']:,.2f}</td>"
        f"<td class=n>{r['train_loss']:.4f}</td><td class=n>{r['val_loss']:.4f}</td>"
        f"<td class=n>{r['test_loss']:.4f}</td><td class=n>{r['epochs']}</td></tr>"
        for r in sorted(rows, key=lambda r: r["params"])
    )
    return f"<h3>Every model</h3><table>{head}{body}</table>"


def _architecture_tables(rows: list[dict[str, Any]]) -> list[str]:
    """Keras-style summaries (paramlab count) of the smallest and largest architectures."""
    from paramlab import count

    picks = {min(rows, key=lambda r: r["params"])["spec"],
             max(rows, key=lambda r: r["params"])["spec"]}
    return [f"<h3>Architecture {html.escape(spec)}</h3>{count(spec)._repr_html_()}"
            for spec in sorted(picks, key=lambda s: count(s).total)]


# ------------------------------------------------------------------ refit


def _refit_section(store: RunStore, rows: list[dict[str, Any]], plots: Path) -> Section:
    from paramlab.lab.report import plots as draw

    analysis_path = store.path / "analysis.json"
    if not analysis_path.exists():
        raise DataError(f"{store.path}: the refit analysis (analysis.json) is missing; "
                        "run `paramlab run refit` to the end")
    analysis = json.loads(analysis_path.read_text())
    plot = draw.refit_spread(analysis, plots / "refit_spread.png")
    return Section(
        f"Refits: {rows[0]['spec']} with {len(rows)} seeds",
        refit_sentences(analysis, rows),
        [plot],
        _architecture_tables(rows[:1]),
    )


def refit_sentences(analysis: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    n = analysis["observations"] or rows[0]["observations"]
    params = analysis["params"] or rows[0]["params"]
    return [
        f"{len(rows)} refits of {rows[0]['spec']} ({params:,} parameters for {n:,} "
        f"observations, {params / n:,.1f} per observation) differ only in their random seed.",
        f"Their validation losses are within {analysis['val_loss_spread']:.1%} of each other "
        f"(mean {analysis['val_loss_mean']:.4f}).",
        f"Their weights are far apart: the mean relative distance between two refits is "
        f"{analysis['weight_distance']:.0%} (cosine similarity {analysis['weight_cosine']:.2f});"
        f" after matching hidden units across refits it is still "
        f"{analysis['aligned_distance']:.0%} (cosine {analysis['aligned_cosine']:.2f}).",
        f"Their test predictions differ by {analysis['prediction_difference']:.1%} of the "
        "targets' spread.",
        "This is the seed answer, measured: the data determine the predictions, not the "
        "parameters. The goal of fitting is a good predictor, and many very different weight "
        "settings are equally good ones.",
    ]


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
