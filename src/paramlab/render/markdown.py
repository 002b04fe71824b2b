"""``--format markdown``: the same table as GitHub-flavoured Markdown."""

from __future__ import annotations

from paramlab.render.notes import convention_line, data_ratio_lines
from paramlab.render.text import table_rows, totals_lines
from paramlab.summary import Summary


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(summary: Summary) -> str:
    headers, body = table_rows(summary)
    align = ["---:" if h in ("Param #", "Share") else "---" for h in headers]
    lines = [
        f"**Model: {summary.name}**",
        "",
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join(align) + " |",
    ]
    for cells in body:
        lines.append("| " + " | ".join(_escape(" ".join(c)) for c in cells) + " |")
    lines.append("")
    lines += [f"- {line.strip()}" for line in totals_lines(summary)]
    lines.append(f"- MACs per example: {summary.macs:,}")
    lines.append(f"- {convention_line(summary)}")
    lines += [f"- {line}" for line in data_ratio_lines(summary)]
    return "\n".join(lines) + "\n"
