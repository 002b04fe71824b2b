"""EinsumDense: a Dense layer whose contraction is an einsum equation.

``"ab,bc->ac"`` is Dense; ``"abc,cde->abde"`` projects features to heads × head_dim, as
MultiHeadAttention does inside. The kernel takes each letter of its spec from the input (a
contracted or kept axis) or from ``output_shape``; the bias spans the output axes from the
first letter in ``bias_axes`` to the end, size 1 on axes not named. This is Keras'
``_analyze_einsum_string``, including ``...`` on the left or right of the input.
"""

from __future__ import annotations

import math
import re
from typing import Any

from paramlab.errors import ShapeError, SpecError
from paramlab.layers.base import (
    Args,
    Context,
    LayerResult,
    Param,
    Shape,
    Weight,
    anything,
    fmt,
    optional,
    positive_int,
    register,
    show_shape,
)

Full = list[int | None]


def _output_shape(value: Any) -> tuple[int | None, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (list, tuple)) and all(v is None or isinstance(v, int) for v in value):
        return tuple(value)
    raise ValueError("an integer or a tuple of integers (None for axes taken from the input)")


def _split(equation: str) -> tuple[str, str, str, bool, bool]:
    """(input spec, kernel spec, output spec, elided?, elided on the left?)."""
    text = re.sub(r"\.\.\.", "0", equation.replace(" ", ""))
    for pattern, elided, left in (
        (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", False, False),
        (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", True, True),
        (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", True, False),
    ):
        match = re.match(pattern, text)
        if match:
            return match.group(1), match.group(2), match.group(3), elided, left
    raise SpecError(f"EinsumDense: invalid equation {equation!r}; expected the form "
                    "'ab,bc->ac', optionally with '...' on the input's left or right")


def einsum_shapes(equation: str, bias_axes: str | None, x: Full,
                  partial: tuple[int | None, ...]) -> tuple[Full, list[int] | None, Full]:
    """(kernel shape, bias shape, full output shape) for the full input shape ``x``."""
    input_spec, weight_spec, output_spec, _, left = _split(equation)
    elided = len(x) - len(input_spec)
    out: Full = [x[0], *partial]
    if elided > 0 and left:
        for i in range(1, elided):
            out.insert(1, x[i])
    elif elided > 0:
        out.extend(x[len(x) - elided:])
    offset_in = (elided - len(x)) if left else 0
    offset_out = (elided - len(out)) if left else 0
    in_map = {d: i + offset_in for i, d in enumerate(input_spec)}
    out_map = {d: i + offset_out for i, d in enumerate(output_spec)}
    for d in input_spec:
        if d in out_map and out[out_map[d]] is not None and out[out_map[d]] != x[in_map[d]]:
            raise ShapeError(f"EinsumDense {equation!r}: output_shape {partial} disagrees with "
                             f"input {show_shape(tuple(x[1:]))} on axis {d!r}")
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise SpecError(f"EinsumDense {equation!r}: output axis {d!r} appears in neither "
                            "the input nor the kernel")
    kernel: Full = []
    for d in weight_spec:
        if d in in_map:
            kernel.append(x[in_map[d]])
        elif d in out_map:
            kernel.append(out[out_map[d]])
        else:
            raise SpecError(f"EinsumDense {equation!r}: kernel axis {d!r} appears in neither "
                            "the input nor the output")
    bias = None
    if bias_axes:
        if any(c not in output_spec for c in bias_axes):
            raise SpecError(f"EinsumDense: bias_axes {bias_axes!r} must be output axes of "
                            f"{equation!r}")
        first = min(output_spec.find(c) for c in bias_axes)
        bias = [out[out_map[c]] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left:
            bias += [1] * max(elided, 0)
    return kernel, bias, out  # type: ignore[return-value]


@register("EinsumDense", params=[
    Param("equation", anything),
    Param("output_shape", _output_shape),
    Param("activation", anything, None),
    Param("bias_axes", optional(anything), None),
    Param("lora_rank", optional(positive_int), None),
    Param("lora_alpha", anything, None),
    Param("gptq_unpacked_column_size", anything, None),
])
def einsum_dense(a: Args, inputs: list[Shape], ctx: Context) -> LayerResult:
    """Kernel (+ bias) sized by the equation; MACs = output values × contracted size."""
    (x,) = inputs
    kernel, bias, out = einsum_shapes(str(a.equation), a.bias_axes, [None, *x], a.output_shape)
    if any(d is None for d in kernel) or (bias and any(d is None for d in bias)):
        raise ShapeError(f"EinsumDense {a.equation!r} needs known sizes for its kernel; input "
                         f"{show_shape(x)} with output_shape {a.output_shape}")
    k = tuple(int(d) for d in kernel)  # type: ignore[arg-type]
    weights = [Weight("kernel", k, trainable=not a.lora_rank)]
    terms = [" × ".join(fmt(d) for d in k) or "1"]
    if bias:
        weights.append(Weight("bias", tuple(int(d) for d in bias)))  # type: ignore[arg-type]
        terms.append(" × ".join(fmt(int(d)) for d in bias))  # type: ignore[arg-type]
    if a.lora_rank:
        r = a.lora_rank
        weights += [Weight("lora_kernel_a", (*k[:-1], r)), Weight("lora_kernel_b", (r, k[-1]))]
        terms.append(f"LoRA {' × '.join(fmt(d) for d in (*k[:-1], r))} + {r} × {fmt(k[-1])}")
    total = sum(w.size for w in weights)
    output_values = math.prod(d or 1 for d in out[1:])
    input_spec, weight_spec, output_spec, _, _ = _split(str(a.equation))
    contracted = math.prod(
        int(k[i]) for i, d in enumerate(weight_spec) if d in input_spec and d not in output_spec
    )
    return LayerResult(tuple(out[1:]), weights, " + ".join(terms) + f" = {fmt(total)}",
                       macs=output_values * contracted)
