"""``--format markdown``: the same table and sections as GitHub-flavoured Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paramlab.render.blocks import Block, report_blocks
from paramlab.render.notes import footer_lines
from paramlab.render.text import table_rows

if TYPE_CHECKING:
    from paramlab.summary import Summary


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(_escape(h) for h in headers) + " |",
             "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in rows]
    return lines


def _block(block: Block) -> list[str]:
    lines = [f"**{block.title}**", ""] if block.title else []
    lines += [f"{line}  " for line in block.lines]
    if block.table:
        width = len(block.table[0])
        lines += ["", *_table(block.table[0], block.table[1:], set(range(1, width)))]
    lines += ["", *(f"- {note}" for note in block.notes)] if block.notes else []
    return lines


def render_markdown(summary: Summary) -> str:
    headers, body = table_rows(summary)
    right = {i for i, h in enumerate(headers) if h in ("Param #", "Share")}
    lines = [f"**Model: {summary.name}**", "",
             *_table(headers, [[" ".join(c) for c in cells] for cells in body], right), ""]
    lines += [f"- {line}" for line in footer_lines(summary)]
    for block in report_blocks(summary):
        lines += ["", *_block(block)]
    return "\n".join(lines) + "\n"
