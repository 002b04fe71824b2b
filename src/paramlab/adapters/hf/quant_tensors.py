"""A Hugging Face model's tensors as :mod:`paramlab.quant` sizes them: every parameter tensor
of the family's blocks (the same blocks the count uses), named as transformers names it."""

from __future__ import annotations

from collections.abc import Iterator

from paramlab.adapters.hf.blocks import Model, Part, Stack
from paramlab.quant.tensors import Tensor


def model_tensors(model: Model) -> tuple[Tensor, ...]:
    """Every parameter tensor, layer by layer, as transformers names it."""
    out: list[Tensor] = []
    for section in model.sections:
        if isinstance(section, Part):
            out += [Tensor(w.name, tuple(w.shape), False) for w in section.weights
                    if not w.statistic]
            continue
        out += list(_stack_tensors(section))
    return tuple(out)


def _stack_tensors(stack: Stack) -> Iterator[Tensor]:
    for i in range(stack.start, stack.start + stack.count):
        for part in stack.parts:
            for w in part.weights:
                if w.statistic:
                    continue
                # a part's weights are named from the part (q_proj.weight under self_attn)
                # or in full (mlp.gate.weight under mlp.gate)
                local = w.name if w.name.startswith(f"{part.name}.") else \
                    f"{part.name}.{w.name}"
                linear = len(w.shape) >= 2 and not w.name.endswith("bias")
                yield Tensor(f"{stack.prefix}.{i}.{local}", tuple(w.shape), linear)
