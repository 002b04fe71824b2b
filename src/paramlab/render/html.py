"""An HTML table for notebooks (``_repr_html_``) and reports; self-contained, no scripts."""

from __future__ import annotations

from html import escape

from paramlab.render.notes import convention_line, data_ratio_lines
from paramlab.render.text import table_rows, totals_lines
from paramlab.summary import Summary


def render_html(summary: Summary) -> str:
    headers, body = table_rows(summary)
    numeric = {"Param #", "Share"}
    head = "".join(
        f'<th style="text-align:{"right" if h in numeric else "left"}">{escape(h)}</th>'
        for h in headers
    )
    rows = []
    for cells in body:
        tds = "".join(
            f'<td style="text-align:{"right" if headers[i] in numeric else "left"}">'
            + "<br>".join(escape(line) for line in cell)
            + "</td>"
            for i, cell in enumerate(cells)
        )
        rows.append(f"<tr>{tds}</tr>")
    notes = [
        *(line.strip() for line in totals_lines(summary)),
        f"MACs per example: {summary.macs:,}",
        convention_line(summary),
        *data_ratio_lines(summary),
    ]
    items = "".join(f"<li>{escape(n)}</li>" for n in notes)
    return (
        f'<div class="paramlab-summary"><p><b>Model: {escape(summary.name)}</b></p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<ul>{items}</ul></div>"
    )
