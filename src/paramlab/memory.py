"""``--memory`` and ``--flops``: estimates derived from a Summary, with their assumptions
stated, because every such number depends on them.

Training memory per parameter (bytes), following the ZeRO paper's accounting (Rajbhandari
et al. 2020, §3.1) — weights + gradients + optimizer state:

==================  ==========  ================  ============  ==============
precision           weights     gradients         master copy   optimizer
==================  ==========  ================  ============  ==============
fp32                4           4                 –             SGD 0, momentum 4, Adam 8
fp16/bf16 mixed     2           2                 4 (fp32)      SGD 0, momentum 4, Adam 8
==================  ==========  ================  ============  ==============

so Adam costs 16 bytes per parameter in both cases. Serving needs the weights only: 4, 2, 1
or ½ byte per parameter for fp32, fp16/bf16, int8 and int4. Activation memory for training
is the sum of every layer's output size per example (kept for the backward pass), in the
activation precision; it is a lower bound (frameworks keep some inputs too) and needs shapes.
FLOPs: a multiply-accumulate is 2 FLOPs; a backward pass costs about twice the forward
(gradients with respect to inputs and to weights), so training ≈ 3 × forward.
"""

from __future__ import annotations

import math
from typing import Any

from paramlab.render import readable_memory_size
from paramlab.summary import Summary

OPTIMIZER_BYTES = {"sgd": 0, "sgd-momentum": 4, "adam": 8}
SERVING_BYTES = {"fp32": 4.0, "fp16/bf16": 2.0, "int8": 1.0, "int4": 0.5}


def activation_values(summary: Summary) -> int | None:
    """Values produced per example by all layers; None when any shape is unknown."""
    total = 0
    for row in summary.layers:
        shapes = row.output_shape
        if shapes == ():
            return None
        for shape in shapes if shapes and isinstance(shapes[0], tuple) else [shapes]:
            if any(d is None for d in shape):  # type: ignore[union-attr]
                return None
            total += math.prod(shape)  # type: ignore[arg-type]
    return total


def memory_estimate(summary: Summary, batch_size: int = 1) -> dict[str, Any]:
    params, trainable = summary.total, summary.trainable
    frozen = params - trainable
    activations = activation_values(summary)
    training = {}
    for precision, (weight_b, grad_b, master_b, act_b) in {
        "fp32": (4, 4, 0, 4), "mixed fp16/bf16": (2, 2, 4, 2),
    }.items():
        for optimizer, state_b in OPTIMIZER_BYTES.items():
            fixed = params * weight_b + trainable * (grad_b + master_b + state_b)
            per_example = activations * act_b if activations is not None else None
            total = fixed + (per_example or 0) * batch_size
            training[f"{precision} {optimizer}"] = {
                "weights_gradients_optimizer": fixed,
                "activations_per_example": per_example,
                "total": total if per_example is not None else None,
            }
    return {
        "batch_size": batch_size,
        "parameters": params,
        "frozen_parameters": frozen,
        "serving": {k: params * v for k, v in SERVING_BYTES.items()},
        "training": training,
        "activation_values_per_example": activations,
        "assumptions": "ZeRO accounting: fp32 Adam = 16 B/param (4 weights, 4 gradients, 8 "
                       "moments); mixed precision Adam = 16 B/param (2 + 2 + 4 master + 8); "
                       "frozen parameters need weights only; activations = sum of layer "
                       "outputs per example, a lower bound.",
    }


def flops_estimate(summary: Summary) -> dict[str, Any]:
    forward = 2 * summary.macs
    return {
        "macs": summary.macs,
        "forward_flops": forward,
        "training_flops": 3 * forward,
        "layers": [{"name": r.name, "macs": r.macs, "flops": 2 * r.macs}
                   for r in summary.layers],
        "convention": "1 multiply-accumulate = 1 MAC = 2 FLOPs; backward ≈ 2 × forward; "
                      "element-wise operations, pooling and normalization are not counted",
    }


def render_memory(summary: Summary, batch_size: int) -> str:
    est = memory_estimate(summary, batch_size)
    lines = [f"Memory (batch size {batch_size}):", "  Serving (weights only):"]
    lines += [f"    {name:<10} {readable_memory_size(size)}"
              for name, size in est["serving"].items()]
    lines.append("  Training (weights + gradients + optimizer state [+ activations]):")
    for name, item in est["training"].items():
        activations = item["activations_per_example"]
        extra = (f" + {readable_memory_size(activations)}/example → "
                 f"{readable_memory_size(item['total'])}" if activations is not None
                 else " (activations unknown: no shapes)")
        fixed = readable_memory_size(item["weights_gradients_optimizer"])
        lines.append(f"    {name:<29} {fixed:>10}{extra}")
    lines.append(f"  Assumptions: {est['assumptions']}")
    return "\n".join(lines)


def si(n: float) -> str:
    """30.9e9 → ``30.9 G`` (SI prefixes, as FLOP counts are written)."""
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {prefix}"
    return f"{n:g} "


def render_flops(summary: Summary) -> str:
    est = flops_estimate(summary)
    lines = [f"FLOPs per example: forward {si(est['forward_flops'])}FLOP "
             f"({est['forward_flops']:,}), training ≈ {si(est['training_flops'])}FLOP; "
             f"MACs {est['macs']:,}"]
    top = sorted((r for r in summary.layers if r.macs), key=lambda r: -r.macs)[:10]
    if top:
        width = max(len(r.name) for r in top)
        lines.append("  Largest layers by MACs:")
        lines += [f"    {r.name:<{width}} {r.macs:>16,} MACs  {r.macs / summary.macs:6.1%}"
                  for r in top]
    lines.append(f"  Convention: {est['convention']}")
    return "\n".join(lines)
