"""What report sections share: tables of rows, Keras-style architecture summaries, medians.

Below the experiments (which declare their sections) and the report (which assembles the
page); it formats, it does not compute results.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def rows_table(title: str, rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """An HTML table of the given columns, numbers right-aligned and grouped."""
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    return f"<h3>{html.escape(title)}</h3><table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return f"<td>{html.escape('' if value is None else str(value))}</td>"
    if isinstance(value, int):
        return f"<td class=n>{value:,}</td>"
    return f"<td class=n>{value:.4g}</td>"


def architecture_tables(specs: Sequence[str]) -> list[str]:
    """Keras-style summaries (paramlab count) of the given MLP specs, smallest first."""
    from paramlab import count

    summaries = sorted(((count(s), s) for s in set(specs)), key=lambda pair: pair[0].total)
    return [f"<h3>Architecture {html.escape(spec)}</h3>{summary._repr_html_()}"
            for summary, spec in summaries]
