"""Plain-language sentences shared by the renderers: convention and data-ratio notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paramlab.render import human_count, readable_memory_size

if TYPE_CHECKING:
    from paramlab.summary import Summary

CONVENTION_NOTES = {
    "keras": (
        "Keras convention: BatchNormalization/Normalization statistics are non-trainable "
        "parameters; recurrent layers have one bias per gate."
    ),
    "torch": (
        "PyTorch convention: BatchNorm running statistics are buffers, not parameters; "
        "recurrent layers have two bias vectors (input and hidden) per gate."
    ),
}


def totals_lines(summary: Summary) -> list[str]:
    """The three Keras footer lines, byte for byte, plus buffers under the torch convention."""
    size = summary.memory_bytes
    lines = [
        f"Total params: {summary.total:,} ({readable_memory_size(size(summary.total))})",
        f"Trainable params: {summary.trainable:,} "
        f"({readable_memory_size(size(summary.trainable))})",
        f"Non-trainable params: {summary.non_trainable:,} "
        f"({readable_memory_size(size(summary.non_trainable))})",
    ]
    if summary.buffers:
        lines.append(f"Buffers (not parameters): {summary.buffers:,}")
    if summary.active_params is not None:
        lines.append(f"Active params per token: {summary.active_params:,} "
                     f"({summary.active_note})")
    return lines


def footer_lines(summary: Summary) -> list[str]:
    """Everything under the table, in order, for every renderer: totals, the dtype the sizes
    assume, MACs and FLOPs, the convention, the data ratio and the notes on the count."""
    if summary.tensor_file is not None:  # a safetensors/GGUF header: bytes as stored
        from paramlab.render.files import stored_totals

        return [*stored_totals(summary, summary.tensor_file), convention_line(summary),
                *data_ratio_lines(summary), *(note.text for note in summary.notes)]
    lines = totals_lines(summary)
    if summary.dtype != "float32":
        lines.append(f"Sizes are for {summary.dtype} parameters at "
                     f"{summary.bytes_per_param:g} bytes each.")
    lines.append(
        f"MACs per example: {summary.macs:,} (forward FLOPs ≈ 2 × MACs = {summary.flops:,})"
    )
    lines.append(convention_line(summary))
    lines += data_ratio_lines(summary)
    lines += [note.text for note in summary.notes]
    return lines


def convention_line(summary: Summary) -> str:
    line = CONVENTION_NOTES[summary.convention]
    other = summary.other
    if other is not None and (other.total, other.trainable) != (summary.total, summary.trainable):
        line += (
            f" Under the {other.convention} convention: total {other.total:,}, "
            f"trainable {other.trainable:,}, non-trainable {other.non_trainable:,}"
            + (f", buffers {other.buffers:,}" if other.buffers else "")
            + "."
        )
    elif other is not None:
        line += f" The {other.convention} convention gives the same counts."
    return line


def data_ratio_lines(summary: Summary) -> list[str]:
    """What parameters-per-observation is, and what it is not (the seeds' question)."""
    n = summary.observations
    if not n:
        return []
    params = summary.trainable
    lines = [f"Observations: {n:,}; trainable parameters per observation: {params / n:,.2f}"]
    if summary.targets:
        values = n * summary.targets
        lines.append(
            f"Target values: {values:,} ({summary.targets:,} per observation); "
            f"parameters per target value: {params / values:,.2f}"
        )
    if summary.features:
        lines.append(f"Input values: {n * summary.features:,} ({summary.features:,} features each)")
    if params > n:
        lines.append(
            f"There are {human_count(params)} parameters for {human_count(n)} observations, so the "
            "data cannot pin every weight down: many different weight settings fit the training "
            "set equally well, and refits from other seeds land on different weights. That does "
            "not by itself mean overfitting — validation loss, not this ratio, tells you whether "
            "the network generalizes (`paramlab run refit` shows it)."
        )
    else:
        lines.append(
            "There are fewer parameters than observations, as in classical regression: the data "
            "can in principle determine the weights, though a network's weights still are not "
            "unique (hidden units can be permuted)."
        )
    return lines
