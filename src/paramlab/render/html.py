"""An HTML table for notebooks (``_repr_html_``) and reports; self-contained, no scripts."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from paramlab.render.blocks import Block, report_blocks
from paramlab.render.notes import footer_lines
from paramlab.render.text import table_rows

if TYPE_CHECKING:
    from paramlab.summary import Summary


def _table(headers: list[str], rows: list[list[list[str]]], right: set[int]) -> str:
    def align(i: int) -> str:
        return "right" if i in right else "left"

    head = "".join(f'<th style="text-align:{align(i)}">{escape(h)}</th>'
                   for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td style="text-align:{align(i)}">'
                         + "<br>".join(escape(line) for line in cell) + "</td>"
                         for i, cell in enumerate(cells)) + "</tr>"
        for cells in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _items(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>" if lines else ""


def _block(block: Block) -> str:
    parts = [f"<p><b>{escape(block.title)}</b></p>"] if block.title else []
    parts += [f"<p>{escape(line)}</p>" for line in block.lines]
    if block.table:
        width = len(block.table[0])
        parts.append(_table(block.table[0], [[[c] for c in row] for row in block.table[1:]],
                            set(range(1, width))))
    parts.append(_items(block.notes))
    return "".join(parts)


def render_html(summary: Summary) -> str:
    headers, body = table_rows(summary)
    right = {i for i, h in enumerate(headers) if h in ("Param #", "Share")}
    sections = "".join(_block(block) for block in report_blocks(summary))
    return (
        f'<div class="paramlab-summary"><p><b>Model: {escape(summary.name)}</b></p>'
        f"{_table(headers, body, right)}{_items(footer_lines(summary))}{sections}</div>"
    )
