"""``--quant``, ``--kv-dtype`` and ``--fit`` drawn as blocks for text/Markdown/HTML, from a
:class:`~paramlab.quant.report.QuantReport` (no arithmetic here; its JSON is its
``to_dict``, as for the other typed reports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paramlab.render.blocks import Block

if TYPE_CHECKING:
    from paramlab.quant.report import QuantReport


def quant_blocks(report: QuantReport) -> list[Block]:
    blocks = []
    rows = [*report.sizes, *([report.stored] if report.stored else [])]
    if rows:
        table = [["Format", "bytes", "GB (10⁹)", "GiB (2³⁰)", "bits/weight", "by storage type"]]
        for q in rows:
            label = f"{q.name} (stored)" if q is report.stored else q.name
            split = ", ".join(f"{k} {v / 1e9:,.2f} GB" for k, v in q.by_type.items())
            table.append([label, f"{q.bytes:,}", f"{q.bytes / 1e9:,.2f}",
                          f"{q.bytes / 2**30:,.2f}", f"{q.bits_per_weight:.3f}", split])
        notes = list(dict.fromkeys(n for q in rows for n in q.notes))
        blocks.append(Block("Quantized sizes", [], table, notes))
    lines = []
    if report.kv_bytes_per_token is not None:
        lines.append(f"KV cache per token at {report.kv_dtype}: {report.kv_bytes_per_token:,} "
                     "bytes")
    if report.kv_bytes_at_context is not None:
        lines.append(f"KV cache at --context × --batch-size, {report.kv_dtype}: "
                     f"{report.kv_bytes_at_context:,} bytes ({gb(report.kv_bytes_at_context)})")
    if report.fit_budget is not None:
        lines.append(f"Budget: {report.fit_budget:,} bytes ({gb(report.fit_budget)}), "
                     f"{report.fit_mode}")
        for a in report.fit:
            answer = "nothing fits" if a.value is None else _value(a.value)
            terms = " + ".join(f"{n} {gb(b)}" for n, b in a.terms)
            lines += [f"{a.question}: {answer}", f"  {terms} = {gb(a.total)}",
                      f"  decided by: {a.decided_by}"]
        blocks.append(Block("Fit", lines, [], list(report.notes)))
    elif lines or report.notes:
        blocks.append(Block("KV cache", lines, [], list(report.notes)))
    return blocks


def gb(value: int) -> str:
    """Decimal gigabytes, as model files are listed (42.51 GB), with GiB beside."""
    return f"{value / 1e9:,.2f} GB ({value / 2**30:,.2f} GiB)"


def _value(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value
