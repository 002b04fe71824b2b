"""``--explain``: the arithmetic in words, layer by layer, as the seed tutorials count."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from paramlab.render import shape_text
from paramlab.render.notes import convention_line

if TYPE_CHECKING:
    from paramlab.summary import LayerRow, Summary


def _weights_sentence(row: LayerRow) -> str:
    parts = []
    for weight in row.weights:
        dims = " × ".join(f"{d:,}" for d in weight.shape) or "1"
        kind = (
            "buffer"
            if weight.statistic and row.buffers
            else "non-trainable"
            if (weight.statistic or not weight.trainable)
            else "trainable"
        )
        parts.append(f"{weight.name} {dims} = {math.prod(weight.shape):,} ({kind})")
    return "; ".join(parts)


def _dense_words(row: LayerRow) -> str:
    kernel = next((w for w in row.weights if w.name == "kernel"), None)
    if kernel is None:
        return ""
    n, m = kernel.shape
    bias = any(w.name == "bias" for w in row.weights)
    text = (
        f"each of its {m:,} units is connected to all {n:,} inputs through a weight "
        f"({n:,} × {m:,} = {n * m:,})"
    )
    if bias:
        text += f", and each unit has one bias ({m:,})"
    return text


def _conv_words(row: LayerRow) -> str:
    kernel = next((w for w in row.weights if w.name == "kernel"), None)
    if kernel is None or len(kernel.shape) < 3:
        return ""
    *window, c_in, c_out = kernel.shape
    size = " × ".join(map(str, window))
    text = (
        f"each of its {c_out:,} filters has a {size} window over {c_in:,} input channels "
        f"({math.prod(window) * c_in:,} weights per filter)"
    )
    if any(w.name == "bias" for w in row.weights):
        text += " plus one bias"
    return text


_WORDS = {
    "Dense": _dense_words,
    "Conv1D": _conv_words,
    "Conv2D": _conv_words,
    "Conv3D": _conv_words,
}


def render_explain(summary: Summary) -> str:
    lines = [f'How the {summary.total:,} parameters of "{summary.name}" add up:', ""]
    for index, row in enumerate(summary.layers, 1):
        head = f"{index}. {row.name} ({row.type}) → output {shape_text(row.output_shape)}"
        if row.shared:
            lines.append(f"{head}: a second use of a shared layer; its weights are counted once.")
            continue
        if not row.weights:
            lines.append(f"{head}: no parameters; it only {_verb(row.type)}.")
        else:
            words = _WORDS.get(row.type, lambda r: "")(row)
            lines.append(f"{head}: {words + ': ' if words else ''}{row.formula} parameters.")
            lines.append(f"   Weights: {_weights_sentence(row)}.")
        if row.note:  # also for rows without weights (a Lambda's shape: recorded or unknown)
            lines.append(f"   Note: {row.note.rstrip('.')}.")
    counted = [row for row in summary.layers if row.params]
    if counted:
        sum_text = " + ".join(f"{row.params:,}" for row in counted)
        lines += [
            "",
            f"Total: {sum_text} = {summary.total:,} parameters"
            f" ({summary.trainable:,} trainable, {summary.non_trainable:,} non-trainable).",
        ]
    lines.append(convention_line(summary))
    return "\n".join(lines)


def _verb(layer_type: str) -> str:
    if layer_type in ("Flatten", "Reshape", "Permute", "RepeatVector"):
        return "rearranges its input"
    if "Pool" in layer_type:
        return "summarizes windows of its input"
    if layer_type == "InputLayer":
        return "declares the input shape"
    if "Dropout" in layer_type or "Noise" in layer_type:
        return "perturbs activations during training"
    return "transforms its input element by element or combines its inputs"
