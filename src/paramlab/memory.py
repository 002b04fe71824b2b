"""``--memory`` and ``--flops``: what a counted model costs to train, to serve and to run.

Pure arithmetic on any :class:`~paramlab.summary.Summary` (specs and adapters alike), so the
numbers are closed forms anyone can check. Assumptions, stated once here and printed with
the numbers:

* Training memory per *trainable* parameter follows the ZeRO paper's accounting
  (Rajbhandari et al., 2020, §3.1), which Hugging Face's model-memory estimator also uses:
  fp32 training keeps fp32 weights (4 bytes) and gradients (4); mixed precision (fp16 or
  bf16) keeps half-precision weights (2) and gradients (2) plus an fp32 master copy (4).
  Optimizer state is fp32: SGD none, SGD with momentum one buffer (4), Adam/AdamW two
  moments (8). Adam is therefore 16 bytes per parameter in both precisions.
  Non-trainable parameters cost their weights only; buffers (BatchNorm statistics) stay fp32.
* Inference holds the weights only, at 4/2/1/0.5 bytes for fp32, fp16/bf16, int8 and int4
  (quantization scales and zero-points are not included).
* Activations per example are the sum of the layer outputs (the elements the backward pass
  needs at least), at 4 bytes in fp32 and 2 in mixed precision, times the batch size. The
  real peak is higher (saved inputs of activations, dropout masks, workspace): a lower bound.
* FLOPs: 2 per multiply-accumulate; the backward pass costs about twice the forward (one
  matmul for input gradients, one for weight gradients), so training ≈ 3 × forward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paramlab.summary import Summary

INFERENCE_BYTES = {"float32": 4.0, "float16/bfloat16": 2.0, "int8": 1.0, "int4": 0.5}
BACKWARD_FACTOR = 2  # backward ≈ 2 × forward FLOPs


@dataclass(frozen=True)
class Recipe:
    """Bytes per trainable parameter for one precision and optimizer."""

    precision: str
    optimizer: str
    weight_bytes: int
    gradient_bytes: int
    optimizer_bytes: int  # includes the fp32 master weights in mixed precision
    activation_bytes: int

    @property
    def per_param(self) -> int:
        return self.weight_bytes + self.gradient_bytes + self.optimizer_bytes


RECIPES = [
    Recipe("fp32", "SGD", 4, 4, 0, 4),
    Recipe("fp32", "SGD + momentum", 4, 4, 4, 4),
    Recipe("fp32", "Adam/AdamW", 4, 4, 8, 4),
    Recipe("mixed fp16/bf16", "SGD", 2, 2, 4, 2),
    Recipe("mixed fp16/bf16", "SGD + momentum", 2, 2, 8, 2),
    Recipe("mixed fp16/bf16", "Adam/AdamW", 2, 2, 12, 2),
]

MEMORY_ASSUMPTIONS = [
    "Training bytes per trainable parameter as in the ZeRO paper (Rajbhandari et al. 2020): "
    "fp32 = 4 weights + 4 gradients + optimizer state; mixed precision = 2 weights + "
    "2 gradients + 4 fp32 master weights + optimizer state. Optimizer state is fp32: SGD 0, "
    "momentum 4, Adam/AdamW 8 (two moments), so Adam costs 16 bytes/parameter either way.",
    "Non-trainable parameters: weights only; buffers stay fp32.",
    "Inference: weights only; quantization scales and zero-points not included.",
    "Activations: the sum of layer outputs per example × batch size, a lower bound on the "
    "peak (saved inputs, dropout masks and workspace are not counted).",
]


def activation_elements(summary: Summary) -> int | None:
    """Elements per example in the layer outputs, or None when shapes are unknown.

    An adapter that traced a forward pass says so itself; otherwise the rows of the
    displayed tree that have no child rows are summed (a container's output is its last
    child's, so counting both would count it twice)."""
    if summary.activation_elements is not None:
        return summary.activation_elements
    rows = summary.layers
    total = 0
    for index, row in enumerate(rows):
        has_children = index + 1 < len(rows) and rows[index + 1].depth > row.depth
        if has_children or row.shared:
            continue
        size = _shape_size(row.output_shape)
        if size is None:
            return None
        total += size
    return total


def _shape_size(shape: Any) -> int | None:
    if not shape:
        return None
    if isinstance(shape[0], tuple):
        sizes = [_shape_size(s) for s in shape]
        return None if None in sizes else sum(sizes)  # type: ignore[arg-type]
    if any(d is None for d in shape):
        return None
    return math.prod(shape)


def memory_report(summary: Summary, batch_size: int = 1,
                  context: int | None = None) -> dict[str, Any]:
    """Bytes for inference and for training under every recipe, with the assumptions;
    for language models (``summary.language_model``) also the KV cache at ``context``."""
    trainable, frozen, buffers = summary.trainable, summary.non_trainable, summary.buffers
    acts = activation_elements(summary)
    lm = summary.language_model
    if acts is None and lm is not None and lm.activations_per_token and context:
        acts = lm.activations_per_token * context  # an example is a sequence of N tokens
    training = []
    for recipe in RECIPES:
        weights = (trainable + frozen) * recipe.weight_bytes + buffers * 4
        gradients = trainable * recipe.gradient_bytes
        optimizer_state = trainable * recipe.optimizer_bytes
        activations = acts * recipe.activation_bytes * batch_size if acts is not None else None
        row = {
            "precision": recipe.precision,
            "optimizer": recipe.optimizer,
            "bytes_per_trainable_param": recipe.per_param,
            "weights": weights,
            "gradients": gradients,
            "optimizer_state": optimizer_state,
            "activations": activations,
            "total": weights + gradients + optimizer_state + (activations or 0),
        }
        training.append(row)
    report = {
        "params": summary.total,
        "trainable": trainable,
        "non_trainable": frozen,
        "buffers": buffers,
        "batch_size": batch_size,
        "activation_elements_per_example": acts,
        "inference": {
            name: (summary.total + buffers) * size for name, size in INFERENCE_BYTES.items()
        },
        "training": training,
        "assumptions": MEMORY_ASSUMPTIONS,
        # More tables an adapter knows for its model (a language model's KV cache), each
        # {"title": str, "columns": [str], "rows": [[str | int]], "notes": [str]}.
        "sections": [dict(section) for section in summary.memory_sections],
    }
    if lm is not None:
        report["language_model"] = lm.report(context, batch_size)
    return report


def flops_report(summary: Summary, batch_size: int = 1) -> dict[str, Any]:
    """MACs and FLOPs per example and per batch, by layer and in total."""
    forward = summary.flops
    return {
        "known": summary.macs > 0,
        "macs_per_example": summary.macs,
        "forward_flops_per_example": forward,
        "training_flops_per_example": forward * (1 + BACKWARD_FACTOR),
        "batch_size": batch_size,
        "forward_flops_per_batch": forward * batch_size,
        "training_flops_per_batch": forward * (1 + BACKWARD_FACTOR) * batch_size,
        "layers": [
            {"name": row.name, "macs": row.macs, "flops": 2 * row.macs,
             "training_flops": 2 * row.macs * (1 + BACKWARD_FACTOR)}
            for row in summary.layers if row.macs
        ],
        "assumptions": [
            "FLOPs = 2 × MACs; element-wise ops, norms, pooling and activations count 0.",
            "Forward + backward ≈ 3 × forward: the backward pass does about twice the forward's "
            "work (gradients for the inputs and for the weights).",
        ],
    }
