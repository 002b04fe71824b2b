"""Training memory per GPU: weights, gradients and optimizer state under ZeRO, FSDP and offload.

Pure arithmetic on parameter counts and tensor shapes; the renderers format it. The accounting
is the ZeRO paper's (Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
Parameter Models", arXiv 1910.02054, §3.1 and §5): with Ψ parameters, mixed-precision training
holds 2Ψ bytes of half-precision weights, 2Ψ of half-precision gradients and KΨ of optimizer
state, K = 12 for Adam (an fp32 master copy and two fp32 moments). On N data-parallel GPUs

* stage 0 (plain data parallelism): (2 + 2 + K)Ψ per GPU;
* stage 1 (P_os, optimizer state sharded): 4Ψ + KΨ/N;
* stage 2 (P_os+g, gradients too): 2Ψ + (2 + K)Ψ/N;
* stage 3 (P_os+g+p, weights too): (4 + K)Ψ/N.

PyTorch FSDP's ``FULL_SHARD`` shards as stage 3 and ``SHARD_GRAD_OP`` as stage 2. fp32
training keeps 4-byte weights and gradients and no master copy (K = 8 for Adam).

Optimizers other than Adam have states sized by their own code, per tensor, from the actual
shapes (:func:`optimizer_state_bytes`): 8-bit Adam as bitsandbytes allocates it, Adafactor's
factored second moment as transformers' ``Adafactor`` allocates it.

Offload moves bytes to CPU memory and says how many: ``optimizer`` moves the optimizer state
(ZeRO-Offload, FSDP ``CPUOffload``), ``params`` moves the weight shard too (DeepSpeed allows it
with stage 3 only). The largest layer is the most parameters one module owns directly: ZeRO-3
and FSDP gather a module's full weights before they use it, so that many stay on the GPU at
once whatever N is, and a ``device_map`` cannot split it across devices.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from paramlab.activations import ModelActivations, model_activations
from paramlab.errors import ParamlabError

if TYPE_CHECKING:
    from paramlab.layers.base import Weight
    from paramlab.memory import LanguageModel

PRECISIONS = ("mixed", "fp32")
OPTIMIZERS = ("adam", "adam8bit", "adafactor", "sgd", "momentum")
ZERO_STAGES = (0, 1, 2, 3)
FSDP_MODES = {"full": 3, "grad-op": 2}  # FULL_SHARD, SHARD_GRAD_OP
OFFLOADS = ("optimizer", "params")

# bitsandbytes' Optimizer2State.init_state (checked on bitsandbytes 0.46.0–0.50.2): a tensor
# with fewer than min_8bit_size elements keeps fp32 states; a larger one keeps two uint8 states
# and one fp32 absmax per block of each. Releases before 0.46.0 used blocks of 2048.
BNB_MIN_8BIT_SIZE = 4096
BNB_BLOCK = 256
BNB_QMAPS = 2 * 256 * 4  # the signed and unsigned quantization maps, shared by all tensors


@dataclass(frozen=True)
class Setup:
    """How the model is trained: precision, optimizer, sharding over ``gpus``, offload."""

    gpus: int = 1
    zero: int = 0
    sharding: str = ""  # "ZeRO-2", "FSDP SHARD_GRAD_OP"; "" for plain data parallelism
    precision: str = "mixed"
    optimizer: str = "adam"
    offload: tuple[str, ...] = ()

    @classmethod
    def make(cls, gpus: int = 1, zero: int | None = None, fsdp: str | None = None,
             precision: str = "mixed", optimizer: str = "adam",
             offload: Iterable[str] = ()) -> Setup:
        """Validated settings; ``zero`` and ``fsdp`` are two names for one choice."""
        offload = tuple(offload.split(",") if isinstance(offload, str) else offload)
        _choice("precision", precision, PRECISIONS)
        _choice("optimizer", optimizer, OPTIMIZERS)
        for item in offload:
            _choice("offload", item, OFFLOADS)
        if not isinstance(gpus, int) or gpus <= 0:
            raise ParamlabError(f"gpus must be a positive integer. Received: gpus={gpus!r}")
        if zero is not None and fsdp is not None:
            raise ParamlabError("zero and fsdp name the same choice: give one of them "
                                f"(received zero={zero!r}, fsdp={fsdp!r})")
        stage, label = 0, ""
        if fsdp is not None:
            _choice("fsdp", fsdp, tuple(FSDP_MODES))
            stage = FSDP_MODES[fsdp]
            label = "FSDP FULL_SHARD" if fsdp == "full" else "FSDP SHARD_GRAD_OP"
        elif zero is not None:
            _choice("zero", zero, ZERO_STAGES)
            stage, label = zero, f"ZeRO-{zero}" if zero else ""
        if "params" in offload and stage < 3:
            raise ParamlabError("offload params needs sharded weights (zero=3 or "
                                f"fsdp='full'); received zero stage {stage}")
        return cls(gpus, stage, label, precision, optimizer, offload)

    @property
    def weight_bytes(self) -> int:
        return 2 if self.precision == "mixed" else 4


def _choice(name: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        raise ParamlabError(f"{name} must be one of {', '.join(map(str, allowed))}. "
                            f"Received: {name}={value!r}")


@dataclass(frozen=True)
class OptimizerState:
    """Optimizer bytes for all trainable tensors, before sharding, and how they are made."""

    bytes: int
    formula: str


def optimizer_state_bytes(shapes: Iterable[tuple[int, ...]], optimizer: str,
                          precision: str) -> OptimizerState:
    """The optimizer's bytes over the trainable tensors ``shapes``.

    Mixed precision adds the fp32 master copy (4 bytes per parameter) that the optimizer
    updates, as in the ZeRO paper's K. States are fp32 unless said otherwise."""
    shapes = list(shapes)
    params = sum(math.prod(s) for s in shapes)
    master = 4 * params if precision == "mixed" else 0
    master_text = "4Ψ fp32 master + " if master else ""
    if optimizer == "adam":
        state, text = 8 * params, "8Ψ (two fp32 moments)"
    elif optimizer == "momentum":
        state, text = 4 * params, "4Ψ (one fp32 momentum buffer)"
    elif optimizer == "sgd":
        state, text = 0, "0 (no state)"
    elif optimizer == "adam8bit":
        sizes = [math.prod(s) for s in shapes]
        state = sum(_adam8bit_bytes(size) for size in sizes)
        if any(size >= BNB_MIN_8BIT_SIZE for size in sizes):
            state += BNB_QMAPS
        text = (f"{state:,} bytes (bitsandbytes 8-bit Adam: 2 uint8 states + 2 fp32 absmax per "
                f"{BNB_BLOCK} values; tensors under {BNB_MIN_8BIT_SIZE:,} values keep 8 "
                f"bytes of fp32 states)")
    else:
        state = 4 * sum(_adafactor_elements(s) for s in shapes)
        text = (f"{state:,} bytes (Adafactor, no first moment: a fp32 row + column second moment "
                f"per matrix, a full one per vector)")
    return OptimizerState(master + state, master_text + text)


def _adam8bit_bytes(size: int) -> int:
    """bitsandbytes' Adam8bit state for one tensor of ``size`` values (see BNB_BLOCK)."""
    if size < BNB_MIN_8BIT_SIZE:
        return 8 * size
    blocks = -(-size // BNB_BLOCK)
    return 2 * size + 2 * 4 * blocks


def _adafactor_elements(shape: tuple[int, ...]) -> int:
    """transformers' Adafactor (``_get_options``: factored when the tensor has 2+ dims):
    ``exp_avg_sq_row`` of shape[:-1] and ``exp_avg_sq_col`` of shape[:-2] + shape[-1:];
    a vector keeps a full ``exp_avg_sq``. torch.optim.Adafactor keeps the same sizes."""
    if len(shape) < 2:
        return math.prod(shape)
    return math.prod(shape[:-1]) + math.prod(shape[:-2]) * shape[-1]


@dataclass(frozen=True)
class Term:
    """One component on each GPU (and on the CPU, when offloaded), with its arithmetic."""

    gpu: int
    cpu: int
    expr: str  # "2Ψ / 64"

    @property
    def formula(self) -> str:
        where = " on the CPU" if self.cpu else ""
        return f"{self.expr}{where} = {self.gpu + self.cpu:,}"


@dataclass(frozen=True)
class LargestLayer:
    """The module owning the most parameters directly: what ZeRO-3/FSDP gathers at once."""

    name: str
    params: int
    gathered_bytes: int  # its weights and gradients at full size on one GPU
    formula: str


@dataclass(frozen=True)
class TrainingPerGPU:
    """Model-state bytes per GPU (activations are separate: :mod:`paramlab.activations`)."""

    setup: Setup
    params: int  # Ψ, the trainable parameters
    frozen: int  # parameters that are not trained: weights only
    weights: Term
    gradients: Term
    optimizer: Term
    optimizer_state: str  # what K is made of
    largest_layer: LargestLayer | None

    @property
    def total(self) -> int:
        return self.weights.gpu + self.gradients.gpu + self.optimizer.gpu

    @property
    def cpu(self) -> int:
        return self.weights.cpu + self.gradients.cpu + self.optimizer.cpu

    @property
    def total_formula(self) -> str:
        terms = [t.expr for t in (self.weights, self.gradients, self.optimizer) if t.gpu]
        return f"{' + '.join(terms) or '0'} = {self.total:,}"


def training_per_gpu(shapes: Iterable[tuple[int, ...]], setup: Setup, frozen: int = 0,
                     largest: tuple[str, int] | None = None) -> TrainingPerGPU:
    """Bytes per GPU for training the tensors ``shapes`` (trainable) under ``setup``.

    ``frozen`` parameters (not trained) cost their weights only and are sharded with the
    weights. ``largest`` is (module name, parameters) of the largest module."""
    shapes = list(shapes)
    psi = sum(math.prod(s) for s in shapes)
    n, stage, w = setup.gpus, setup.zero, setup.weight_bytes
    state = optimizer_state_bytes(shapes, setup.optimizer, setup.precision)
    weights = _shard(w * (psi + frozen), f"{w}Ψ" if not frozen else
                     f"{w}(Ψ + {frozen:,} frozen)", n, stage >= 3, "params" in setup.offload)
    gradients = _shard(w * psi, f"{w}Ψ", n, stage >= 2, False)
    k = state.bytes / psi if psi else 0.0
    optimizer = _shard(state.bytes, f"{k:.6g}Ψ", n, stage >= 1,
                       "optimizer" in setup.offload)
    layer = None
    if largest is not None:
        name, count = largest
        layer = LargestLayer(name, count, 2 * w * count,
                             f"{w} bytes × {count:,} weights + {w} × {count:,} gradients")
    return TrainingPerGPU(setup, psi, frozen, weights, gradients, optimizer,
                          f"K = {k:.6g}: {state.formula}", layer)


def _shard(total: int, text: str, gpus: int, sharded: bool, offloaded: bool) -> Term:
    """One component: whole or split over ``gpus`` (a shard rounds up), on GPU or CPU."""
    share = -(-total // gpus) if sharded else total
    expr = f"{text} / {gpus}" if sharded and gpus > 1 else text
    return Term(0, share, expr) if offloaded else Term(share, 0, expr)


# What other estimators compute, for the notes and the docs (read from their sources).
ESTIMATORS = (
    "accelerate estimate-memory (accelerate 1.15, commands/estimate.py): 'Training using Adam' "
    "is the largest of four stages, not their sum: max(model 4Ψ, gradients 4Ψ, optimizer 8Ψ, "
    "step 16Ψ) = 16Ψ in float32 and max(4Ψ, 6Ψ, 8Ψ, 8Ψ) = 8Ψ for float16; no sharding.",
    "DeepSpeed 0.19 estimate_zero2_model_states_mem_needs: GPU 2Ψ + 18Ψ/N (fp16 weights whole; "
    "fp16 and fp32 gradients, fp32 master and Adam moments sharded), 2Ψ with CPU offload; "
    "estimate_zero3_model_states_mem_needs: 4 × largest layer + 18Ψ/N, and CPU sizes times "
    "a 1.5 buffer factor.",
)


class _Row(Protocol):
    """What this module reads of a row (a :class:`paramlab.summary.LayerRow`)."""

    name: str
    params: int
    depth: int
    shared: bool
    weights: list[Weight]


class Counted(Protocol):
    """What this module reads of a count (a :class:`paramlab.summary.Summary`), named
    structurally so the summary can carry a :class:`TrainingReport` without a cycle."""

    @property
    def name(self) -> str: ...
    @property
    def layers(self) -> Sequence[_Row]: ...
    @property
    def trainable(self) -> int: ...
    @property
    def non_trainable(self) -> int: ...
    @property
    def tensor_shapes(self) -> list[tuple[int, ...]] | None: ...
    @property
    def largest_module(self) -> tuple[str, int] | None: ...
    @property
    def language_model(self) -> LanguageModel | None: ...


@dataclass(frozen=True)
class TrainingReport:
    """Training per GPU for a counted model: model states, and activations where known."""

    per_gpu: TrainingPerGPU
    activations: ModelActivations | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """``--json``'s ``training_per_gpu``: bytes per GPU (and on the CPU when offloaded),
        each term with its formula."""
        t, s = self.per_gpu, self.per_gpu.setup
        layer, acts = t.largest_layer, self.activations
        return {
            "gpus": s.gpus, "zero_stage": s.zero, "sharding": s.sharding,
            "precision": s.precision, "optimizer_kind": s.optimizer,
            "offload": list(s.offload),
            "trainable_params": t.params, "frozen_params": t.frozen,
            "weights": t.weights.gpu, "gradients": t.gradients.gpu,
            "optimizer": t.optimizer.gpu, "total": t.total, "cpu": t.cpu,
            "terms": {name: {"gpu": term.gpu, "cpu": term.cpu, "formula": term.formula}
                      for name, term in (("weights", t.weights), ("gradients", t.gradients),
                                         ("optimizer", t.optimizer))},
            "total_formula": t.total_formula,
            "optimizer_state": t.optimizer_state,
            "largest_layer": None if layer is None else {
                "name": layer.name, "params": layer.params,
                "gathered_bytes": layer.gathered_bytes, "formula": layer.formula},
            "activations": None if acts is None else {
                "layers": acts.layers, "bytes_per_layer": acts.per_layer.bytes,
                "bytes": acts.bytes, "formula": acts.per_layer.formula,
                "checkpointing": acts.checkpointing, "flash_attention": acts.flash},
            "notes": list(self.notes),
        }


def training_report(summary: Counted, setup: Setup, context: int | None = None,
                    batch: int = 1, checkpointing: str = "none",
                    flash: bool = False) -> TrainingReport:
    """Model states per GPU from the summary's tensors; activations for a language model
    whose layer sizes are known, at ``context`` tokens and micro-batch ``batch`` per GPU."""
    shapes = summary_shapes(summary)
    notes = list(ESTIMATORS)
    if shapes is None:
        if setup.optimizer in ("adam8bit", "adafactor"):
            raise ParamlabError(f"optimizer {setup.optimizer!r} sizes its state from each "
                                f"tensor's shape, and the shapes of {summary.name!r}'s "
                                f"{summary.trainable:,} trainable parameters are not all "
                                "known; use adam, momentum or sgd")
        shapes = [(summary.trainable,)] if summary.trainable else []
    largest = summary.largest_module or largest_row(summary)
    per_gpu = training_per_gpu(shapes, setup, summary.non_trainable, largest)
    acts = None
    lm = summary.language_model
    if lm is not None and lm.hidden and lm.heads and context:
        acts = model_activations(len(lm.cache), context, batch, lm.hidden, lm.heads,
                                 checkpointing, flash)
        notes.append("Activations: Korthikanti et al. 2022 (arXiv 2205.05198) for a GPT-3 "
                     "layer (LayerNorm, 4h GeLU MLP, dropout masks) in 16-bit: an estimate "
                     "for other layer designs (a SwiGLU MLP or no dropout stores other "
                     "amounts).")
    elif context is None and lm is not None:
        notes.append("Activations: add --context N for a transformer's activations per GPU.")
    else:
        notes.append("Activations: not modelled for this kind of model here (see --memory's "
                     "lower bound).")
    return TrainingReport(per_gpu, acts, tuple(notes))


def summary_shapes(summary: Counted) -> list[tuple[int, ...]] | None:
    """The trainable tensors' shapes: the adapter's, else the weights of rows without child
    rows; None when those do not add up to the trainable count (a container's own
    parameters, say)."""
    if summary.tensor_shapes is not None:
        return list(summary.tensor_shapes)
    shapes = [w.shape for row in _leaf_rows(summary) for w in row.weights
              if w.trainable and not w.statistic]
    return shapes if sum(math.prod(s) for s in shapes) == summary.trainable else None


def largest_row(summary: Counted) -> tuple[str, int] | None:
    """The row without child rows that holds the most parameters (a layer, a module)."""
    rows = [row for row in _leaf_rows(summary) if row.params]
    if not rows:
        return None
    row = max(rows, key=lambda r: r.params)
    return row.name, row.params


def _leaf_rows(summary: Counted) -> list[_Row]:
    rows = summary.layers
    return [row for i, row in enumerate(rows) if not row.shared
            and not (i + 1 < len(rows) and rows[i + 1].depth > row.depth)]


def per_gpu_cost(summary: Counted, setup: Setup, checkpointing: str = "none",
                 flash: bool = False) -> Callable[[int, int], tuple[tuple[str, int], ...]]:
    """``--fit-for training``'s cost of (micro-batch, context) on one GPU under ``setup``:
    the model states per GPU and Korthikanti et al.'s activations (the
    :data:`paramlab.quant.fit.TrainingCost` the fit search takes)."""
    report = training_report(summary, setup)
    lm = summary.language_model
    if lm is None or not (lm.hidden and lm.heads):
        raise ParamlabError("--fit-for training with --gpus/--zero/--fsdp/--offload needs a "
                            "transformer's layer sizes (a Hugging Face decoder config) for its "
                            "activations per GPU")
    layers, hidden, heads = len(lm.cache), lm.hidden, lm.heads
    how = setup.sharding or "no sharding"
    states = (f"weights, gradients and optimizer state per GPU ({how}, {setup.optimizer})",
              report.per_gpu.total)

    def cost(batch: int, context: int) -> tuple[tuple[str, int], ...]:
        acts = model_activations(layers, context, batch, hidden, heads, checkpointing, flash)
        recompute = "no" if checkpointing == "none" else checkpointing
        return states, (f"activations per GPU (Korthikanti et al., {recompute} "
                        "recomputation)", acts.bytes)

    return cost
