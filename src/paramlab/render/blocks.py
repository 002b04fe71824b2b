"""The sections after the table — an adapter's notes on how it counted, ``--memory`` and
``--flops`` — as renderer-neutral blocks, so text, Markdown and HTML draw the same content
(each renderer decides only how a block looks).

The memory report's ``sections`` (:class:`paramlab.memory.MemorySection`) are drawn
generically: an adapter that knows more about its model's memory adds a section and every
renderer shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from paramlab.render import readable_memory_size as size

if TYPE_CHECKING:
    from paramlab.activations import AttentionFlops
    from paramlab.lora import LoraReport
    from paramlab.memory import FlopsReport, KVCacheReport, MemoryReport, MemorySection
    from paramlab.notes import Note
    from paramlab.summary import Summary
    from paramlab.training import TrainingReport


@dataclass
class Block:
    """A titled section: prose lines, an optional table (header row first), bullet notes."""

    title: str
    lines: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def report_blocks(summary: Summary) -> list[Block]:
    blocks = [notes_block(summary.count_notes)] if summary.count_notes else []
    if summary.tensor_file is not None:
        from paramlab.render.files import file_blocks

        blocks += file_blocks(summary.tensor_file)
    if summary.memory is not None:
        blocks.append(memory_block(summary.memory))
        if summary.memory.language_model is not None:
            blocks.append(language_model_block(summary.memory.language_model))
        blocks += [_section_block(s) for s in summary.memory.sections]
    if summary.flops_report is not None:
        blocks.append(flops_block(summary.flops_report))
    if summary.quant is not None:
        from paramlab.render.quant import quant_blocks

        blocks += quant_blocks(summary.quant)
    if summary.lora is not None:
        blocks.append(lora_block(summary.lora))
    if summary.attention_flops is not None:
        blocks.append(attention_block(summary.attention_flops))
    if summary.training_per_gpu is not None:
        blocks.append(training_block(summary.training_per_gpu))
    return blocks


def lora_block(report: LoraReport) -> Block:
    """``--lora``: what trains (as PEFT counts it) and the fine-tuning memory."""
    config, memory = report.config, report.memory
    targets = config.targets if isinstance(config.targets, str) else ",".join(config.targets)
    share = report.trainable / report.total if report.total else 0.0
    lines = [
        f"r={config.r}, alpha={config.alpha:g} (scaling {config.alpha / config.r:g}), "
        f"targets={targets}, bias={config.bias}" + (", DoRA" if config.dora else "")
        + (f", modules_to_save={','.join(config.modules_to_save)}"
           if config.modules_to_save else ""),
        f"Adapted modules: {len(report.targeted):,}",
        f"trainable params: {report.trainable:,} || all params: {report.total:,} || "
        f"trainable%: {100 * share:.4f}",  # PEFT's print_trainable_parameters() line
    ]
    if memory.quantized_params:
        double = ", double-quantized" if memory.base_storage == "nf4-dq" else ""
        lines.append(f"Frozen base: {memory.quantized_params:,} Linear weights in NF4{double} "
                     "(bitsandbytes: 4 bits each, an absmax per block of 64), the rest bfloat16")
    parts = [("Adapters (A, B" + (", DoRA magnitude" if config.dora else "") + ")",
              report.adapter_params), ("Trainable biases", report.bias_params),
             ("modules_to_save copies", report.saved_params)]
    table = [["Trainable", "params"], *([name, f"{n:,}"] for name, n in parts if n),
             ["Memory", "bytes"],
             [f"Frozen base ({memory.base_storage})", size(memory.base)],
             ["Trainable weights (fp32)", size(memory.adapter_weights)],
             ["Gradients (fp32)", size(memory.gradients)],
             ["Adam/AdamW state (fp32)", size(memory.optimizer_state)],
             ["Total, activations excluded", size(memory.total)]]
    return Block("LoRA", lines, table, [*report.assumptions, *report.notes])


def notes_block(notes: list[Note]) -> Block:
    """An adapter's notes as a "Notes:" list (drawn as lines, not bullets, so every renderer
    keeps the dash it has always printed)."""
    return Block("", lines=["Notes:", *(f" - {note.text}" for note in notes)])


def training_block(report: TrainingReport) -> Block:
    """Model states per GPU with the formula beside each number (paramlab.training)."""
    t = report.per_gpu
    s = t.setup
    how = s.sharding or "plain data parallelism"
    title = (f"Training per GPU ({how} over {s.gpus:,} GPU{'s' if s.gpus > 1 else ''}, "
             f"{s.precision} precision, {s.optimizer})")
    table = [["", "GPU", "CPU", "formula"]]
    for label, term in (("weights", t.weights), ("gradients", t.gradients),
                        ("optimizer", t.optimizer)):
        table.append([label, size(term.gpu), size(term.cpu) if term.cpu else "-",
                      term.formula])
    table.append(["total", size(t.total), size(t.cpu) if t.cpu else "-", t.total_formula])
    lines = [f"Ψ = {t.params:,} trainable parameters; optimizer {t.optimizer_state}"]
    if t.largest_layer is not None:
        layer = t.largest_layer
        lines.append(f"Largest layer: {layer.name}, {layer.params:,} parameters; gathered "
                     f"whole on one GPU (ZeRO-3/FSDP) it holds {size(layer.gathered_bytes)}: "
                     f"{layer.formula}")
    if report.activations is not None:
        a = report.activations
        recompute = {"none": "no recomputation", "selective": "selective recomputation",
                     "full": "full recomputation"}[a.checkpointing]
        flash = ", flash attention" if a.flash else ""
        lines.append(f"Activations ({recompute}{flash}): {a.layers} layers × "
                     f"{size(a.per_layer.bytes)} = {size(a.bytes)}; {a.per_layer.formula}")
    return Block(title, lines, table, list(report.notes))


def attention_block(flops: AttentionFlops) -> Block:
    """Attention scores and weighted values at a context length (paramlab.activations)."""
    return Block(f"Attention at context {flops.context:,} (per sequence, forward)", [
        f"Causal (and sliding-window) mask: {flops.causal_macs:,} MACs = "
        f"{flops.causal_flops:,} FLOPs",
        f"All s² pairs (an eager kernel, masking afterwards): {flops.dense_macs:,} MACs = "
        f"{flops.dense_flops:,} FLOPs",
    ], notes=["Per layer: attended (query, key) pairs × heads × (d_qk + d_v) MACs; not in "
              "the per-token MACs above, which count weights only."])


def memory_block(report: MemoryReport) -> Block:
    inference = ", ".join(f"{k} {size(v)}" for k, v in report.inference.items())
    acts = report.activation_elements_per_example
    lines = [
        f"Inference, weights only: {inference}",
        f"Activations per example: {acts:,} values" if acts is not None
        else "Activations: unknown (output shapes unknown; PyTorch modules need --input-size)",
    ]
    table = [["Training", "bytes/param", "weights", "gradients", "optimizer", "activations",
              "total"]]
    for row in report.training:
        act = "?" if row.activations is None else size(row.activations)
        table.append([f"{row.precision} {row.optimizer}", str(row.bytes_per_trainable_param),
                      size(row.weights), size(row.gradients), size(row.optimizer_state), act,
                      size(row.total)])
    return Block(f"Memory (batch size {report.batch_size:,})", lines, table,
                 list(report.assumptions))


def language_model_block(lm: KVCacheReport) -> Block:
    """KV cache of a language model (see paramlab.adapters.hf.memory)."""

    def per_dtype(values: dict[str, float]) -> str:
        return ", ".join(f"{k} {size(v)}" for k, v in values.items())

    sliding = f", {lm.sliding_layers} with a sliding window" if lm.sliding_layers else ""
    lines = [f"KV cache per token ({lm.layers} layers{sliding}; "
             f"{lm.cache_convention}): {lm.kv_cache_elements_per_token:,} values = "
             + per_dtype(lm.kv_cache_bytes_per_token)]
    if lm.expanded_cache_elements_per_token is not None:
        lines.append(f"KV cache per token with keys and values expanded to every query head "
                     f"(as {lm.expanded_cache_stored_by} stored it): "
                     f"{lm.expanded_cache_elements_per_token:,} values")
    if lm.context is None or lm.kv_cache_bytes is None:
        lines.append("KV cache at a context length: add --context N (and --batch-size B)")
        return Block("Language model", lines)
    where = f"context {lm.context:,} × batch {lm.batch_size:,}"
    lines.append(f"KV cache at {where}: {per_dtype(lm.kv_cache_bytes)}")
    if lm.expanded_cache_bytes is not None:
        lines.append(f"KV cache at {where}, expanded: {per_dtype(lm.expanded_cache_bytes)}")
    return Block("Language model", lines)


def flops_block(report: FlopsReport) -> Block:
    if not report.known:
        return Block("FLOPs", ["unknown — no multiply-accumulates were found (PyTorch modules "
                               "need --input-size for a forward pass)."])
    total = report.macs_per_example
    table = [["Layer", "MACs", "FLOPs (forward)", "FLOPs (fwd + bwd)", "Share"]]
    for row in report.layers:
        table.append([row.name, f"{row.macs:,}", f"{row.flops:,}",
                      f"{row.training_flops:,}", f"{row.macs / total:.1%}"])
    table.append(["Total per example", f"{total:,}",
                  f"{report.forward_flops_per_example:,}",
                  f"{report.training_flops_per_example:,}", "100.0%"])
    lines = []
    if report.batch_size > 1:
        lines.append(
            f"Batch of {report.batch_size:,}: forward "
            f"{report.forward_flops_per_example * report.batch_size:,} FLOPs, forward + "
            f"backward {report.training_flops_per_example * report.batch_size:,} FLOPs"
        )
    return Block("FLOPs", lines, table, list(report.assumptions))


def _section_block(section: MemorySection) -> Block:
    rows = [[_cell(v) for v in row] for row in section.rows]
    return Block(section.title, [], [list(section.columns), *rows] if section.columns else [],
                 list(section.notes))


def _cell(value: str | int) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def text_block(block: Block) -> str:
    """Plain text: the title, then indented lines, aligned columns and `*` notes."""
    lines = [block.title] if block.title else []
    indent = " " if block.title else ""
    lines += [f"{indent}{line}" for line in block.lines]
    if block.table:
        widths = [max(len(r[i]) for r in block.table) for i in range(len(block.table[0]))]
        lines += [
            " " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                            for i, (c, w) in enumerate(zip(r, widths, strict=True)))
            for r in block.table
        ]
    lines += [f" * {note}" for note in block.notes]
    return "\n".join(lines)
