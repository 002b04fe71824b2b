"""``--quant``, ``--kv-dtype`` and ``--fit`` drawn: blocks for text/Markdown/HTML and the
JSON object, from a :class:`~paramlab.quant.report.QuantReport` (no arithmetic here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paramlab.render.reports import Block

if TYPE_CHECKING:
    from paramlab.quant.fit import FitAnswer
    from paramlab.quant.report import QuantReport
    from paramlab.quant.size import QuantSize


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


def quant_json(report: QuantReport) -> dict[str, Any]:
    data: dict[str, Any] = {"quantized": {q.name: _size(q) for q in report.sizes},
                            "kv_cache": {"dtype": report.kv_dtype,
                                         "bytes_per_token": report.kv_bytes_per_token,
                                         "bytes": report.kv_bytes_at_context},
                            "quant_notes": list(report.notes)}
    if report.stored is not None:
        data["stored_quantization"] = _size(report.stored)
    if report.fit_budget is not None:
        data["fit"] = {"budget": report.fit_budget, "for": report.fit_mode,
                       "answers": [_answer(a) for a in report.fit]}
    return data


def _size(q: QuantSize) -> dict[str, Any]:
    return {"name": q.name, "bytes": q.bytes, "bits_per_weight": q.bits_per_weight,
            "parameters": q.parameters, "by_type": dict(q.by_type), "notes": list(q.notes)}


def _answer(a: FitAnswer) -> dict[str, Any]:
    return {"question": a.question, "value": a.value, "total": a.total, "budget": a.budget,
            "terms": dict(a.terms), "decided_by": a.decided_by}
