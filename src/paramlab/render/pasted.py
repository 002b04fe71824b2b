"""``paramlab explain``: a pasted summary's rows and totals, explained, as text, Markdown or
JSON. Formats only; the matching is :mod:`paramlab.explain_pasted`'s."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from paramlab.layers.base import fmt

if TYPE_CHECKING:
    from paramlab.explain_pasted import PastedExplanation, RowExplanation, TotalCheck

_SOURCES = {"keras3": "Keras 3 model.summary()", "keras2": "Keras 2 model.summary()",
            "torchinfo": "torchinfo summary()"}


def _count(row: RowExplanation) -> str:
    return "--" if row.row.params is None else fmt(row.row.params)


def _head(row: RowExplanation) -> str:
    """``dense_1 (Dense)``; torchinfo rows have a type only."""
    return f"{row.row.name} ({row.row.type})" if row.row.name != row.row.type else row.row.type


def row_sentence(row: RowExplanation) -> str:
    """``dense_1 (Dense): 40 inputs … : (40 + 1) × 256 = 10,496``, or the flag."""
    head = _head(row)
    if row.status == "explained":
        note = f" [{row.note}]" if row.note else ""
        return f"{head}: {row.reading}: {row.formula}{note}"
    if row.status == "no parameters":
        return f"{head}: 0 parameters ({row.reading})"
    if row.status == "container":
        return f"{head}: a container; its modules are the rows below it"
    mark = "FLAGGED" if row.status == "flagged" else "not checked"
    return f"{head}: {mark}: {row.message}"


def _total_sentence(check: TotalCheck) -> str:
    relation = "=" if check.exact else "≥"
    verdict = "ok" if check.ok else "MISMATCH"
    return (f"{check.label}: printed {fmt(check.printed)}; {check.how} {relation} "
            f"{fmt(check.computed)}: {verdict}")


def _verdict(result: PastedExplanation) -> str:
    flagged = result.flagged
    return ("Every row's count is given by its layer's formula." if not flagged
            else f"{flagged} row(s) or total(s) flagged: no formula gives the printed count.")


def render_text(result: PastedExplanation) -> str:
    summary = result.summary
    name = f' "{summary.model_name}"' if summary.model_name else ""
    lines = [f"A {_SOURCES[summary.source]} table{name}, {len(summary.rows)} rows "
             f"({result.convention} convention):", ""]
    for row in result.rows:
        indent = "  " * row.row.depth
        lines.append(f"line {row.row.line:>4}  {_count(row):>12}  {indent}{row_sentence(row)}")
    lines += ["", *(_total_sentence(t) for t in result.totals), "", _verdict(result)]
    return "\n".join(lines) + "\n"


def render_markdown(result: PastedExplanation) -> str:
    lines = [f"**{_SOURCES[result.summary.source]}** ({result.convention} convention)", "",
             "| Line | Layer | Param # | Status | How |", "| ---: | --- | ---: | --- | --- |"]
    for row in result.rows:
        how = row_sentence(row).split(": ", 1)[-1].replace("|", "\\|")
        lines.append(f"| {row.row.line} | {_head(row)} | {_count(row)} | "
                     f"{row.status} | {how} |")
    lines += ["", *(f"- {_total_sentence(t)}" for t in result.totals), "", _verdict(result)]
    return "\n".join(lines) + "\n"


def to_dict(result: PastedExplanation) -> dict[str, Any]:
    rows = []
    for row in result.rows:
        entry = asdict(row)
        entry.update(entry.pop("row"))
        entry["explanation"] = row_sentence(row)
        rows.append(entry)
    return {
        "source": result.summary.source, "model": result.summary.model_name,
        "convention": result.convention, "flagged": result.flagged, "rows": rows,
        "totals": [{**asdict(t), "ok": t.ok} for t in result.totals],
    }


def render_json(result: PastedExplanation) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"
