"""Rows and notes from a family's :class:`~paramlab.adapters.hf.blocks.Model`: the one place
where parts and stacks become :class:`~paramlab.summary.LayerRow` objects, at every depth."""

from __future__ import annotations

from collections.abc import Iterable

from paramlab.adapters.hf.blocks import Model, Part, Section, Stack, _n
from paramlab.layers.base import Shape, Weight
from paramlab.notes import Note
from paramlab.summary import LayerRow, row_counts


def rows(sections: Iterable[Section], depth: int) -> list[LayerRow]:
    """Depth 0: one row per stack; 1: one row per sub-block over all layers; 2+: per layer."""
    out: list[LayerRow] = []
    for section in sections:
        if isinstance(section, Part):
            out.append(_part_row(section, section.name, 1))
        elif depth <= 0:
            out.append(_stack_row(section))
        elif depth == 1:
            out += [_part_row(part, f"{_span(section)} {part.name}", section.count)
                     for part in section.parts]
        else:
            out += [_part_row(part, f"{section.prefix}.{i} {part.name}", 1)
                    for i in range(section.start, section.start + section.count)
                    for part in section.parts]
    return out


def _span(stack: Stack) -> str:
    first, last = stack.start, stack.start + stack.count - 1
    return f"{stack.prefix}.{first}" if last == first else f"{stack.prefix}.{first}-{last}"


def _part_row(part: Part, name: str, repeat: int) -> LayerRow:
    weights = list(part.weights)
    if repeat > 1:
        weights = [Weight(w.name, (repeat, *w.shape), w.trainable, w.statistic)
                   for w in weights]
    total = part.params * repeat
    if not part.expr:
        formula = part.note
    elif repeat > 1:
        formula = f"{repeat} × ({part.expr}) = {_n(total)}"
    else:
        formula = part.expr if part.expr == _n(total) else f"{part.expr} = {_n(total)}"
    kind = part.type if repeat == 1 else f"{part.type} ×{repeat}"
    return _row(name, kind, part.out, weights, formula, part.macs * repeat,
                part.note if part.expr else "")


def _stack_row(stack: Stack) -> LayerRow:
    per_layer = [part.params for part in stack.parts]
    total = sum(per_layer) * stack.count
    formula = f"{stack.count} × ({' + '.join(_n(p) for p in per_layer)}) = {_n(total)}"
    weights = [Weight(f"{part.name}.{w.name}", (stack.count, *w.shape), w.trainable, w.statistic)
               for part in stack.parts for w in part.weights]
    macs = sum(part.macs for part in stack.parts) * stack.count
    return _row(_span(stack), f"{stack.type} ×{stack.count}", stack.parts[-1].out, weights,
                formula, macs, "")


def _row(name: str, kind: str, out: Shape, weights: list[Weight], formula: str, macs: int,
         note: str) -> LayerRow:
    trainable, non_trainable, buffers = row_counts(weights, "torch")
    return LayerRow(name=name, type=kind, output_shape=out, params=trainable + non_trainable,
                    trainable=trainable, non_trainable=non_trainable, buffers=buffers,
                    formula=formula, macs=macs, note=note, weights=weights)


def notes(model: Model, why: str, read: list[Note]) -> list[Note]:
    """The count's notes in print order: what was counted, ties, the family's layout notes,
    what was ``read`` from somewhere other than the file's fields, and what MACs cover."""
    lines = [Note(f"Counted: {why}. Parameters as sum(p.numel() for p in model.parameters()) "
                  "in transformers 5: tied tensors counted once, buffers (position ids, rotary "
                  "frequencies, final_logits_bias) are not parameters.", "counted")]
    tied_rows = [p for p in _all_parts(model.sections) if "tied" in p.note]
    if tied_rows:
        lines.append(Note("Tied: " + "; ".join(f"{p.name} ({p.note})" for p in tied_rows)
                          + ".", "tied", tuple(p.name for p in tied_rows)))
    lines += [Note(line, "layout") for line in model.notes]
    lines += read
    lines.append(Note("MACs are per token, forward, matrix multiplications only (1 MAC per "
                      "linear weight, FLOPs ≈ 2 × MACs); attention scores, which grow with the "
                      "sequence length, are not included.", "macs"))
    return lines


def _all_parts(sections: Iterable[Section]) -> Iterable[Part]:
    for section in sections:
        if isinstance(section, Part):
            yield section
        else:
            yield from section.parts


def _placed(sections: Iterable[Section]) -> Iterable[tuple[str, Part, int]]:
    """Each part with the name of its first module (``layers.0``) and how many layers hold it."""
    for section in sections:
        if isinstance(section, Part):
            yield "", section, 1
        else:
            for part in section.parts:
                yield f"{section.prefix}.{section.start}.", part, section.count


def trainable_shapes(model: Model) -> list[tuple[int, ...]]:
    """Every trainable tensor with the shape transformers gives it (one per layer of a
    stack), for optimizers whose state depends on shapes (Adafactor, 8-bit Adam)."""
    return [w.shape for _, part, repeat in _placed(model.sections)
            for w in part.weights if w.trainable and not w.statistic for _ in range(repeat)]


def largest_module(model: Model) -> tuple[str, int] | None:
    """The module owning the most parameters directly (DeepSpeed's ``model_to_params``:
    ``m.parameters(recurse=False)`` over ``model.modules()``): a weight's module is its name
    without the last component (a bare parameter belongs to its part)."""
    owners: dict[str, int] = {}
    for prefix, part, _ in _placed(model.sections):
        for weight in part.weights:
            if weight.statistic:
                continue
            module = weight.name.rsplit(".", 1)[0] if "." in weight.name else ""
            if not module.startswith(part.name):
                module = f"{part.name}.{module}" if module else part.name
            owners[prefix + module] = owners.get(prefix + module, 0) + weight.size
    if not owners:
        return None
    name = max(owners, key=lambda key: owners[key])
    return name, owners[name]


def idle_expert_params(model: Model) -> int | None:
    """Parameters of the routed experts a token skips, over all layers; None without experts."""
    parts = [(part, repeat) for _, part, repeat in _placed(model.sections) if part.experts]
    if not parts:
        return None
    return sum(part.idle * repeat for part, repeat in parts)


def experts_note(model: Model) -> str:
    """``2 of 8 routed experts run per token in 32 MoE layers``."""
    runs = [(part.experts, repeat) for _, part, repeat in _placed(model.sections)
            if part.experts]
    layers = sum(repeat for _, repeat in runs)
    kinds = sorted({experts for experts, _ in runs if experts})
    which = ", ".join(f"{active} of {count}" for active, count in kinds)
    return f"{which} routed experts run per token in {layers} MoE layer(s)"
