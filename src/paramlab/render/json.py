"""``--json``: one object with totals and per-layer rows (the shape every input kind shares)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paramlab.summary import Summary


def _shape(shape: Any) -> Any:
    if shape and isinstance(shape[0], tuple):
        return [_shape(s) for s in shape]
    return [None, *shape]


def summary_to_dict(summary: Summary) -> dict[str, Any]:
    total = summary.total  # once: a sum over the rows, so per row it would be quadratic
    data: dict[str, Any] = {
        "name": summary.name,
        "origin": summary.origin,
        "convention": summary.convention,
        "total": total,
        "trainable": summary.trainable,
        "non_trainable": summary.non_trainable,
        "buffers": summary.buffers,
        "dtype": summary.dtype,
        "bytes_per_param": summary.bytes_per_param,
        "memory_bytes": summary.memory_bytes(summary.total),
        "macs": summary.macs,
        "flops": summary.flops,
        "layers": [
            {
                "name": row.name,
                "type": row.type,
                "output_shape": _shape(row.output_shape),
                "params": row.params,
                "trainable": row.trainable,
                "non_trainable": row.non_trainable,
                "buffers": row.buffers,
                "formula": row.formula,
                "macs": row.macs,
                "share": row.params / total if total else 0.0,
                "connected_to": row.connected_to,
                "shared": row.shared,
                "weights": [
                    {
                        "name": w.name,
                        "shape": list(w.shape),
                        "trainable": w.trainable,
                        "statistic": w.statistic,
                    }
                    for w in row.weights
                ],
            }
            for row in summary.layers
        ],
    }
    if summary.observations:
        data["observations"] = summary.observations
        data["params_per_observation"] = summary.trainable / summary.observations
        if summary.targets:
            data["target_values"] = summary.observations * summary.targets
            data["params_per_target_value"] = summary.trainable / data["target_values"]
    if summary.notes:
        data["notes"] = [note.text for note in summary.notes]
    if summary.count_notes:  # a field taken from a default changes the number: say so here too
        data["count_notes"] = [{"kind": note.kind, "text": note.text, "fields": list(note.fields)}
                               for note in summary.count_notes]
    if summary.tensor_file is not None:
        from paramlab.render.files import file_to_dict

        data["file"] = file_to_dict(summary.tensor_file)
    if summary.memory is not None:
        data["memory"] = summary.memory.to_dict()
    if summary.flops_report is not None:
        data["flops"] = summary.flops_report.to_dict()
    if summary.quant is not None:
        data.update(summary.quant.to_dict())
    if summary.lora is not None:
        data["lora"] = summary.lora.to_dict()
    if summary.active_params is not None:
        data["active_params"] = summary.active_params
        data["active_params_note"] = summary.active_note
    if summary.attention_flops is not None:
        data["attention_flops"] = summary.attention_flops.to_dict()
    if summary.training_per_gpu is not None:
        data["training_per_gpu"] = summary.training_per_gpu.to_dict()
    if summary.other is not None:
        other = summary.other
        data["other_convention"] = {
            "convention": other.convention,
            "total": other.total,
            "trainable": other.trainable,
            "non_trainable": other.non_trainable,
            "buffers": other.buffers,
        }
    return data

