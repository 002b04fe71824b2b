"""One typed options object for a count: what ``paramlab.count`` accepts as keywords and what
the CLI's flags become, carried into the core and the adapters instead of an argparse
namespace (so the core never depends on how the command line spells an option).

Each option is declared once, here: its default, its help and its command-line flag are the
field and the field's metadata. ``paramlab count``'s parser is generated from these fields
(:func:`add_count_options`) and ``paramlab.count(model, **options)`` builds a
:class:`CountOptions` from its keywords (:meth:`CountOptions.from_keywords`), so the two
cannot drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from paramlab import fields
from paramlab.activations import CHECKPOINTING
from paramlab.lora import NF4_BASES, STORED_BYTES
from paramlab.summary import DTYPE_BYTES
from paramlab.training import FSDP_MODES, OPTIMIZERS, PRECISIONS, ZERO_STAGES


def positive_number(text: str) -> int:
    """``1.2e6`` and ``1,200,000`` as well as ``1200000``."""
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, received {text!r}") from None
    if value <= 0 or not value.is_integer():
        raise argparse.ArgumentTypeError(f"expected a positive whole number, received {text!r}")
    return int(value)


def _comma_list(text: str) -> list[str]:
    return text.split(",")


def _flag(flag: str, help: str, **argparse_options: Any) -> dict[str, Any]:
    """A field's command-line flag: the flag, its help and any other ``add_argument``
    keywords (``type``, ``choices``, ``action``, ``metavar``), in :mod:`paramlab.fields`'
    metadata layout (the lab's configs declare theirs with :func:`paramlab.fields.option`)."""
    return {"flag": flag, "help": help, "same_as": None, "group": None,
            "argparse": argparse_options}


CONVENTIONS = ("keras", "torch")
TRAINING_OPTIONS = ("gpus", "zero", "fsdp", "offload", "precision", "optimizer",
                    "checkpointing", "flash_attention")


@dataclass(frozen=True)
class CountOptions:
    """Every setting of a count; the defaults are the CLI's."""

    convention: str | None = field(default=None, metadata=_flag(
        "--convention", "how to count where frameworks differ (default: keras; torch for "
        "PyTorch modules)", choices=CONVENTIONS))
    dtype: str = field(default="float32", metadata=_flag(
        "--dtype", "bytes per parameter for the sizes shown (default float32)",
        choices=tuple(DTYPE_BYTES)))
    observations: int | None = field(default=None, metadata=_flag(
        "--observations", "training observations: prints parameters per observation",
        type=positive_number, metavar="N"))
    features: int | None = field(default=None, metadata=_flag(
        "--features", "input values per observation (--data N,F sets both)",
        type=positive_number, metavar="F"))
    other_convention: bool = field(default=True, metadata=_flag(
        "--no-other", "do not count under the other convention", action="store_false"))
    args: str | dict[str, Any] | None = field(default=None, metadata=_flag(
        "--args", "keyword arguments for a PyTorch factory or class, as JSON", metavar="JSON"))
    input_size: Any = field(default=None, metadata=_flag(
        "--input-size", "input size for a PyTorch forward pass on the meta device, e.g. "
        "1,3,224,224", metavar="DIMS"))
    dtypes: Sequence[Any] | None = field(default=None, metadata=_flag(
        "--input-dtype", "dtype of each --input-size input, e.g. long or float16,long "
        "(default: the model's own floating dtype; token ids for embedding models)",
        type=_comma_list, metavar="DTYPES"))
    depth: int | None = field(default=None, metadata=_flag(
        "--depth", "rows nested this deep (modules, blocks)", type=int))
    base: bool = field(default=False, metadata=_flag(
        "--base", "Hugging Face configs: count the base model, not the head class",
        action="store_true"))
    memory: bool = field(default=False, metadata=_flag(
        "--memory", "training and serving memory: weights, gradients, optimizer state",
        action="store_true"))
    flops: bool = field(default=False, metadata=_flag(
        "--flops", "MACs and FLOPs per layer and in total", action="store_true"))
    batch_size: int = field(default=1, metadata=_flag(
        "--batch-size", "batch size for --memory activation totals (the micro-batch per GPU "
        "for training activations)", type=positive_number,
        metavar="B"))
    context: int | None = field(default=None, metadata=_flag(
        "--context", "language models: context length (tokens) for --memory KV-cache totals, "
        "training activations and --flops attention",
        type=positive_number, metavar="N"))
    # Training per GPU (paramlab.training): any of these adds the section.
    gpus: int | None = field(default=None, metadata=_flag(
        "--gpus", "training per GPU: data-parallel GPUs (default 1)", type=positive_number,
        metavar="N"))
    zero: int | None = field(default=None, metadata=_flag(
        "--zero", "training per GPU: DeepSpeed ZeRO stage (ZeRO paper's accounting)",
        type=int, choices=ZERO_STAGES))
    fsdp: str | None = field(default=None, metadata=_flag(
        "--fsdp", "training per GPU: PyTorch FSDP sharding (full = FULL_SHARD as ZeRO-3, "
        "grad-op = SHARD_GRAD_OP as ZeRO-2)", choices=tuple(FSDP_MODES)))
    offload: Sequence[str] | None = field(default=None, metadata=_flag(
        "--offload", "training per GPU: move to CPU memory: optimizer, params (params needs "
        "--zero 3 or --fsdp full), or both as optimizer,params", type=_comma_list,
        metavar="WHAT"))
    precision: str | None = field(default=None, metadata=_flag(
        "--precision", "training per GPU: mixed (fp16/bf16 with an fp32 master copy, the "
        "default) or fp32", choices=PRECISIONS))
    optimizer: str | None = field(default=None, metadata=_flag(
        "--optimizer", "training per GPU: optimizer state to count (default adam)",
        choices=OPTIMIZERS))
    checkpointing: str | None = field(default=None, metadata=_flag(
        "--checkpointing", "training per GPU: activation recomputation for transformer "
        "activations at --context (default none)", choices=CHECKPOINTING))
    flash_attention: bool = field(default=False, metadata=_flag(
        "--flash-attention", "training per GPU: attention scores are not stored",
        action="store_true"))

    quant: Sequence[str] | None = field(default=None, metadata=_flag(
        "--quant", "Hugging Face configs: size at real bits per weight, e.g. Q4_K_M,nf4-dq,"
        "gptq-4bit-g128 (GGUF file types, nf4/fp4[-dq], int8, gptq/awq, fp8[-block], mxfp4)",
        type=_comma_list, metavar="TYPE[,TYPE…]"))
    kv_dtype: str | None = field(default=None, metadata=_flag(
        "--kv-dtype", "KV-cache storage for --fit (default: the model's dtype)",
        choices=("f32", "f16", "bf16", "fp8", "q8_0", "q4_0")))
    fit: str | None = field(default=None, metadata=_flag(
        "--fit", "memory budget, e.g. 24GiB, 24GB or 24e9: the largest context and batch "
        "and the least-compressed --quant type that fit", metavar="BYTES"))
    fit_for: str = field(default="serving", metadata=_flag(
        "--fit-for", "what --fit sizes (default serving: weights + KV cache)",
        choices=("serving", "training")))
    lora: str | Any = field(default=None, metadata=_flag(
        "--lora", "LoRA fine-tuning: trainable parameters and memory as PEFT builds them, e.g. "
        "r=16,alpha=32,targets=q_proj,v_proj (also targets=all-linear or targets=re:REGEX, "
        "bias=all|lora_only, save=MODULES, dora=true)", metavar="SPEC"))
    lora_base: str | None = field(default=None, metadata=_flag(
        "--lora-base", "--lora: how the frozen base is stored: nf4 (QLoRA), nf4-dq (double "
        "quantization) or a dtype (default: --dtype)",
        choices=(*NF4_BASES, *STORED_BYTES)))

    @property
    def training(self) -> bool:
        """Whether any training-per-GPU option was given."""
        return any(getattr(self, name) not in (None, False) for name in TRAINING_OPTIONS)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_keywords(cls, keywords: dict[str, Any]) -> CountOptions:
        """``count(model, **keywords)``'s options; an unknown keyword is an error that names
        the valid ones (and the closest, for a typo)."""
        return fields.from_keywords(cls, keywords, "count()")

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> CountOptions:
        """The CLI's flags, by field name; ``--data N,F`` sets observations and features."""
        values = {name: getattr(ns, name) for name in cls.names() if hasattr(ns, name)}
        if getattr(ns, "data", None) is not None:
            values["observations"], values["features"] = ns.data
        return cls(**values)

    def replace(self, **changes: Any) -> CountOptions:
        return dataclasses.replace(self, **changes)


def add_count_options(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`CountOptions` field, from the field's metadata."""
    fields.add_options(parser, CountOptions())
