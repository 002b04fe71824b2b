"""What report sections share: tables of rows, Keras-style architecture summaries, medians.

Below the experiments (which declare their sections) and the report (which assembles the
page); it formats, it does not compute results.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from paramlab.lab.report import numbers


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def rows_table(title: str, rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """An HTML table of the given columns, numbers right-aligned and formatted for people
    (:mod:`.numbers`), collapsed behind its title: the plots above it show the same rows."""
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    return collapsed(f"{title} ({len(rows):,} rows)", f"<table><tr>{head}</tr>{body}</table>")


def collapsed(title: str, content: str) -> str:
    """``content`` behind a ``<details>`` disclosure titled ``title`` (closed on screen;
    the page's print style opens every one)."""
    return (f"<details><summary>{html.escape(title)}</summary>"
            f"<div class=scroll>{content}</div></details>")


def _cell(value: Any) -> str:
    text = html.escape(numbers.cell(value))
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f"<td class=n>{text}</td>" if numeric else f"<td>{text}</td>"


def architecture_tables(specs: Sequence[str]) -> list[str]:
    """Keras-style summaries (paramlab count) of the given MLP specs, smallest first."""
    from paramlab import count

    summaries = sorted(((count(s), s) for s in set(specs)), key=lambda pair: pair[0].total)
    return [collapsed(f"Architecture {spec}: {summary.total:,} parameters, layer by layer",
                      summary._repr_html_()) for summary, spec in summaries]
