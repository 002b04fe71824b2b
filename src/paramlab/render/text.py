"""The Keras 3 ``model.summary()`` layout, with a Formula and a Share column added.

Drawn by hand with the same box characters Keras' rich table uses, so that ``paramlab
count`` answers without importing rich (the CLI must start in well under 0.15 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paramlab.render import shape_text
from paramlab.render.blocks import report_blocks, text_block
from paramlab.render.notes import footer_lines

if TYPE_CHECKING:
    from paramlab.summary import LayerRow, Summary


def table_rows(summary: Summary) -> tuple[list[str], list[list[list[str]]]]:
    """Headers and cells (each cell a list of lines), shared by text and Markdown."""
    headers = ["Layer (type)", "Output Shape", "Param #"]
    if summary.show_connections:
        headers.append("Connected to")
    headers += ["Formula", "Share"]
    body = []
    total = summary.total  # once: a sum over the rows, so per row it would be quadratic
    for row in summary.layers:
        cells = [
            [f"{'  ' * row.depth}{row.name} ({row.type})"],
            [shape_text(row.output_shape)],
            [f"{row.params:,}"],
        ]
        if summary.show_connections:
            cells.append(_connections(row))
        cells += [[row.formula or "-"], [_share(row.params, total)]]
        body.append(cells)
    return headers, body


def _connections(row: LayerRow) -> list[str]:
    if not row.connected_to:
        return ["-"]
    return [f"{c}," for c in row.connected_to[:-1]] + [row.connected_to[-1]]


def _share(params: int, total: int) -> str:
    if params == 0:
        return "-"
    share = params / total
    return f"{share:.1%}" if share >= 0.001 else "<0.1%"


def render_table(headers: list[str], body: list[list[list[str]]], right: set[int]) -> str:
    widths = [len(h) for h in headers]
    for cells in body:
        for i, cell in enumerate(cells):
            widths[i] = max(widths[i], *(len(line) for line in cell))

    def line(left: str, fill: str, sep: str, end: str) -> str:
        return left + sep.join(fill * (w + 2) for w in widths) + end

    def cells_line(values: list[str], bar: str) -> str:
        parts = [
            f" {v.rjust(w) if i in right else v.ljust(w)} "
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return bar + bar.join(parts) + bar

    out = [line("┏", "━", "┳", "┓"), cells_line(headers, "┃"), line("┡", "━", "╇", "┩")]
    for index, cells in enumerate(body):
        if index:
            out.append(line("├", "─", "┼", "┤"))
        height = max(len(c) for c in cells)
        for k in range(height):
            out.append(cells_line([c[k] if k < len(c) else "" for c in cells], "│"))
    out.append(line("└", "─", "┴", "┘"))
    return "\n".join(out)


def render_text(summary: Summary) -> str:
    headers, body = table_rows(summary)
    right = {2, len(headers) - 1}
    parts = [f'Model: "{summary.name}"', render_table(headers, body, right)]
    parts += [" " + line for line in footer_lines(summary)]
    parts += ["\n" + text_block(block) for block in report_blocks(summary)]
    return "\n".join(parts)
