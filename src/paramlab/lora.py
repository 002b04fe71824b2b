"""``--lora`` and ``--lora-base``: what LoRA and QLoRA fine-tuning trains and what it holds.

Pure arithmetic on a count's rows, following PEFT 0.21.2 (``peft/tuners/lora/layer.py``,
``model.py``, ``tuners/tuners_utils.py``):

* Targets: a list of names matches a module whose name equals one of them or ends with
  ``"." + name`` (PEFT's ``check_target_module_exists``); a single string is a regular
  expression matched against the whole name (``re.fullmatch``); ``"all-linear"`` takes every
  Linear (and GPT-2 ``Conv1D``) except the output head (PEFT's
  ``_maybe_include_all_linear_layers`` drops ``get_output_embeddings()``). A target that
  matches nothing, or matches a module LoRA cannot adapt, is an error, as in PEFT.
* Shapes: Linear ``in → out`` adds A (r × in) and B (out × r); Embedding ``num × dim`` adds
  A (r × num) and B (dim × r); Conv with ``c_in`` channels and kernel ``k`` adds A, a conv
  ``c_in → r`` with the same kernel and no bias (r × c_in × k), and B, a 1×1 conv ``r → c_out``
  (c_out × r). DoRA (``use_dora``) adds a magnitude vector of ``out`` (Embedding: ``dim``).
* Trainable: the adapters; ``bias="all"`` every parameter whose name contains "bias",
  ``"lora_only"`` the biases of the targeted modules; ``modules_to_save`` a trainable copy of
  each named module (the original stays, frozen, so the total grows by the copy too).

Memory: the frozen base at its stored dtype, or its Linear weights (the output head kept, as
transformers' bitsandbytes integration keeps it) in NF4 as bitsandbytes 0.50 packs them
(:func:`paramlab.quant.formats.bnb_4bit`, the bytes each tensor holds, quant state included);
adapters, their gradients and Adam's two moments in fp32 (PEFT's ``autocast_adapter_dtype``
default keeps adapters fp32): 16 bytes per trainable parameter. Activations are left to
``--memory``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from paramlab.errors import ParamlabError
from paramlab.quant.formats import bnb_4bit

PEFT_VERSION = "0.21.2"
ALL_LINEAR = "all-linear"
BIAS_MODES = ("none", "all", "lora_only")
NF4_BASES = ("nf4", "nf4-dq")
# Bytes per trainable parameter: fp32 adapter (4) + fp32 gradient (4) + Adam's two fp32 moments (8).
ADAPTER_WEIGHT_BYTES, ADAPTER_GRADIENT_BYTES, ADAPTER_OPTIMIZER_BYTES = 4, 4, 8
STORED_BYTES = {"float64": 8.0, "float32": 4.0, "float16": 2.0, "bfloat16": 2.0,
                "int8": 1.0, "int4": 0.5}

Kind = Literal["linear", "embedding", "conv", "other"]

# Layer types that store a Linear's weight as (in, out): Keras' Dense and GPT-2's Conv1D.
_IN_OUT_TYPES = frozenset({"Dense", "Conv1D"})
_LINEAR_TYPES = frozenset({"Linear", "Dense", "Conv1D"})


class _Weight(Protocol):
    name: str
    shape: tuple[int, ...]
    statistic: bool

    @property
    def size(self) -> int: ...


class _Row(Protocol):
    """What the inventory reads of a row (a :class:`paramlab.summary.LayerRow`)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def weights(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class LoraConfig:
    """PEFT's ``LoraConfig`` fields that change a count (``lora_alpha`` changes only the
    scaling, alpha / r, and is kept for the report)."""

    r: int = 8
    alpha: float = 8.0
    targets: tuple[str, ...] | str = ()  # a tuple: names (suffix match); a str: a regex
    bias: str = "none"
    modules_to_save: tuple[str, ...] = ()
    dora: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.r, int) or isinstance(self.r, bool) or self.r <= 0:
            raise ParamlabError(f"lora r must be a positive integer. Received: r={self.r!r}")
        if self.bias not in BIAS_MODES:
            raise ParamlabError(f"lora bias must be one of {', '.join(BIAS_MODES)}. "
                                f"Received: bias={self.bias!r}")
        if not self.targets:
            raise ParamlabError("lora needs targets, e.g. targets=q_proj,v_proj or "
                                "targets=all-linear")
        if isinstance(self.targets, str):
            try:
                re.compile(self.targets)
            except re.error as error:
                raise ParamlabError(f"lora targets: {self.targets!r} is not a regular "
                                    f"expression ({error})") from None

    def to_dict(self) -> dict[str, Any]:
        targets = self.targets if isinstance(self.targets, str) else list(self.targets)
        return {"r": self.r, "alpha": self.alpha, "targets": targets, "bias": self.bias,
                "modules_to_save": list(self.modules_to_save), "use_dora": self.dora}


_KEYS = ("r", "alpha", "targets", "bias", "save", "dora")
_LISTS = ("targets", "save")


def parse_lora(text: str) -> LoraConfig:
    """``r=16,alpha=32,targets=q_proj,v_proj`` → :class:`LoraConfig`. A piece without ``=``
    continues the list before it (targets, save); ``targets=re:PATTERN`` takes the rest of
    the text as one regular expression; ``dora=true``; ``bias=all|lora_only``."""
    values: dict[str, list[str]] = {}
    key = ""
    rest = text
    while rest:
        piece, _, rest = rest.partition(",")
        name, eq, value = piece.partition("=")
        if eq and name.strip() in _KEYS:
            key = name.strip()
            if key in values:
                raise ParamlabError(f"--lora: {key!r} given twice in {text!r}")
            if key == "targets" and value.startswith("re:"):
                values[key], values["re"] = [value[3:] + ("," + rest if rest else "")], []
                key, rest = "re", ""
                continue
            values[key] = [value]
        elif not eq and key in _LISTS:
            values[key].append(piece)
        else:
            raise ParamlabError(f"--lora: cannot read {piece!r} in {text!r}; expected "
                                f"key=value with keys {', '.join(_KEYS)}")
    return _config(values, text)


def _config(values: dict[str, list[str]], text: str) -> LoraConfig:
    def one(key: str, default: str) -> str:
        return values.get(key, [default])[0]

    try:
        r, alpha = int(one("r", "8")), float(one("alpha", "8"))
    except ValueError:
        raise ParamlabError(f"--lora: r must be an integer and alpha a number in {text!r}")\
            from None
    dora = one("dora", "false").lower()
    if dora not in ("true", "false"):
        raise ParamlabError(f"--lora: dora must be true or false. Received: dora={dora!r}")
    targets: tuple[str, ...] | str = tuple(t.strip() for t in values.get("targets", []) if t)
    if "re" in values or targets == (ALL_LINEAR,):  # a regex or all-linear: one string
        targets = values["targets"][0]
    return LoraConfig(r=r, alpha=alpha, targets=targets, bias=one("bias", "none"),
                      modules_to_save=tuple(s for s in values.get("save", []) if s),
                      dora=dora == "true")


@dataclass(frozen=True)
class Module:
    """A module of the counted model as LoRA sees it: its kind and widths, and its own
    parameters (``params``, of which ``bias`` in biases)."""

    name: str
    type: str
    kind: Kind
    in_features: int = 0  # Embedding: num_embeddings; Conv: in_channels
    out_features: int = 0  # Embedding: embedding_dim; Conv: out_channels
    kernel: int = 1  # Conv: the product of the kernel sizes
    params: int = 0
    bias: int = 0
    weight: int = 0  # elements of the main weight (what NF4 quantizes for a Linear)
    groups: int = 1  # Conv: B is grouped as the base is (in_features is then per group)
    fused: bool = False  # holds 3-D non-conv weights: a Mixture-of-Experts' fused experts

    def adapter_params(self, r: int, dora: bool) -> int:
        """A and B (and DoRA's magnitude): PEFT's ``update_layer`` shapes. A grouped conv's
        A reads all ``in_channels`` and its B is a grouped 1×1 conv (out × r / groups)."""
        a = r * self.in_features * self.groups * self.kernel
        b = self.out_features * r // self.groups
        return a + b + (self.out_features if dora else 0)


def modules_from_rows(rows: Iterable[_Row], in_out: bool = False) -> list[Module]:
    """Every module named by the rows, with its kind. Rows of PyTorch modules carry full
    parameter names; rows of a Hugging Face config are parts (``layers.0 self_attn``) whose
    tensors are named within the part, so the module is the part's path joined with the
    tensor's (``layers.0.self_attn.q_proj``). ``in_out``: 2-D weights stored (in, out), as in
    GPT-2's Conv1D, for configs whose rows cannot say so themselves."""
    modules: dict[str, Module] = {}
    for row in rows:
        path = row.name.replace(" ", ".")
        groups: dict[str, list[_Weight]] = {}
        for weight in row.weights:
            if not weight.statistic:
                groups.setdefault(_module_name(path, weight.name), []).append(weight)
        if not groups:
            modules.setdefault(path, Module(path, row.type, "other"))
        for name, weights in groups.items():
            modules[name] = _module(name, row.type, weights, in_out)
    return list(modules.values())


def _module_name(path: str, weight: str) -> str:
    """The module holding ``weight`` in a row at ``path``: PyTorch names are full paths,
    Keras names (``sequential/dense/kernel``) belong to the row's layer, and a Hugging Face
    part's tensors are named within the part."""
    if "/" in weight:
        return path
    if weight.startswith(path + "."):
        return weight.rsplit(".", 1)[0]
    prefix = weight.rsplit(".", 1)[0] if "." in weight else ""
    if not prefix or path == prefix or path.endswith("." + prefix):  # "layers.0 mlp.gate"
        return path
    return f"{path}.{prefix}"


def _module(name: str, kind: str, weights: list[_Weight], in_out: bool) -> Module:
    main = [w for w in weights if not _is_bias(w.name)]
    bias = sum(w.size for w in weights if _is_bias(w.name))
    params = sum(w.size for w in weights)
    fused = not kind.startswith("Conv") and any(len(w.shape) >= 3 for w in main)
    if len(main) != 1 or fused:
        return Module(name, kind, "other", params=params, bias=bias, fused=fused)
    shape = main[0].shape
    size = main[0].size
    if kind.endswith("Embedding") and len(shape) == 2:
        return Module(name, kind, "embedding", shape[0], shape[1], params=params, bias=bias,
                      weight=size)
    if len(shape) == 2 and "Embedding" not in kind and "Norm" not in kind:
        fan_in, fan_out = (shape[0], shape[1]) if in_out or kind in _IN_OUT_TYPES else (
            shape[1], shape[0])
        return Module(name, kind, "linear", fan_in, fan_out, params=params, bias=bias,
                      weight=size)
    if len(shape) >= 3 and kind.startswith("Conv") and "Transpose" not in kind:
        if kind[-2:] in ("1D", "2D", "3D"):  # Keras: (*kernel, in, out)
            kernel, c_in, c_out = math.prod(shape[:-2]), shape[-2], shape[-1]
        else:  # PyTorch: (out, in / groups, *kernel)
            kernel, c_in, c_out = math.prod(shape[2:]), shape[1], shape[0]
        return Module(name, kind, "conv", c_in, c_out, kernel, params, bias, size)
    return Module(name, kind, "other", params=params, bias=bias)


def _is_bias(name: str) -> bool:
    return name.replace("/", ".").rsplit(".", 1)[-1] == "bias"


def _matches(target: tuple[str, ...] | str, name: str) -> bool:
    if isinstance(target, str):
        return re.fullmatch(target, name) is not None
    return any(name == key or name.endswith("." + key) for key in target)


def select(modules: Sequence[Module], config: LoraConfig, output_head: str | None) -> list[Module]:
    """The modules LoRA adapts, as PEFT chooses them; an empty or unsupported match is an
    error naming what exists."""
    saved = [m for m in modules if _saved(config.modules_to_save, m.name)]
    if config.targets == ALL_LINEAR:
        fused = next((m for m in modules if m.fused), None)
        if fused is not None:
            raise ParamlabError(
                f"lora targets=all-linear: {fused.name!r} ({fused.type}) holds fused expert "
                f"weights, which PEFT {PEFT_VERSION} adapts through target_parameters with "
                "model-specific ranks; paramlab does not count that: name the targets instead")
        chosen = [m for m in modules if m.kind == "linear" and m.name != output_head]
    else:
        chosen = [m for m in modules if _matches(config.targets, m.name)]
    chosen = [m for m in chosen if m not in saved]
    unsupported = [m for m in chosen if m.kind == "other"]
    if unsupported:
        m = unsupported[0]
        raise ParamlabError(
            f"lora target {_show(config.targets)} matches {m.name!r} ({m.type}), which LoRA "
            "cannot adapt: PEFT supports Linear, Embedding and Conv layers (and GPT-2 Conv1D)")
    if not chosen:
        names = sorted({m.name.rsplit(".", 1)[-1] for m in modules if m.kind != "other"})
        raise ParamlabError(
            f"lora target {_show(config.targets)} matches no module; names that LoRA can "
            f"adapt: {', '.join(names) or 'none'}")
    return chosen


def _saved(names: tuple[str, ...], module: str) -> bool:
    """PEFT's modules_to_save match: the name is a whole dotted component run of the path."""
    return any(module == n or module.endswith("." + n) for n in names)


def _show(targets: tuple[str, ...] | str) -> str:
    return repr(targets) if isinstance(targets, str) else repr(",".join(targets))


LORA_ASSUMPTIONS = (
    f"Adapters as PEFT {PEFT_VERSION} builds them; trainable counts equal "
    "print_trainable_parameters().",
    "Adapters, their gradients and Adam/AdamW's two moments in fp32 (PEFT keeps adapters fp32 "
    "by default): 16 bytes per trainable parameter; the frozen base holds weights only.",
    "Activations are not included: see --memory (the base's activations are still kept for "
    "the backward pass through the adapters).",
)


@dataclass(frozen=True)
class LoraMemory:
    """Bytes to fine-tune with LoRA: the frozen base as stored (or quantized) and the
    trainable parameters with their gradients and Adam state."""

    base_storage: str
    base: int
    quantized_params: int  # parameters held in NF4 (0 unless the base is nf4)
    adapter_weights: int
    gradients: int
    optimizer_state: int

    @property
    def total(self) -> int:
        return self.base + self.adapter_weights + self.gradients + self.optimizer_state

    def to_dict(self) -> dict[str, Any]:
        return {"base_storage": self.base_storage, "base": self.base,
                "quantized_params": self.quantized_params,
                "adapter_weights": self.adapter_weights, "gradients": self.gradients,
                "optimizer_state": self.optimizer_state, "total": self.total}


@dataclass(frozen=True)
class LoraReport:
    """``--lora``: the adapted modules, what trains and what it costs in memory."""

    config: LoraConfig
    targeted: tuple[str, ...]
    adapter_params: int  # A and B (and DoRA magnitudes)
    bias_params: int  # biases made trainable by bias="all" or "lora_only"
    saved_params: int  # trainable copies of modules_to_save
    base_params: int  # the model before LoRA
    memory: LoraMemory
    assumptions: tuple[str, ...] = LORA_ASSUMPTIONS
    notes: tuple[str, ...] = ()  # how the module names were formed, where they differ

    @property
    def trainable(self) -> int:
        return self.adapter_params + self.bias_params + self.saved_params

    @property
    def total(self) -> int:
        """All parameters of the PEFT model (PEFT's ``all_param``)."""
        return self.base_params + self.adapter_params + self.saved_params

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "peft_version": PEFT_VERSION,
                "targeted_modules": list(self.targeted), "trainable": self.trainable,
                "adapter_params": self.adapter_params, "bias_params": self.bias_params,
                "modules_to_save_params": self.saved_params, "base_params": self.base_params,
                "total": self.total,
                "trainable_share": self.trainable / self.total if self.total else 0.0,
                "memory": self.memory.to_dict(), "assumptions": list(self.assumptions),
                "notes": list(self.notes)}


def lora_report(modules: Sequence[Module], config: LoraConfig, base: str,
                output_head: str | None = None, notes: tuple[str, ...] = ()) -> LoraReport:
    """LoRA on ``modules`` (:func:`modules_from_rows`) under ``config``; ``base`` is the
    frozen base's storage: a dtype name of :data:`STORED_BYTES`, ``nf4`` or ``nf4-dq``."""
    if base not in STORED_BYTES and base not in NF4_BASES:
        raise ParamlabError(f"lora base must be one of {', '.join([*STORED_BYTES, *NF4_BASES])}."
                            f" Received: {base!r}")
    chosen = select(modules, config, output_head)
    saved = [m for m in modules if _saved(config.modules_to_save, m.name)]
    if config.modules_to_save and not saved:
        raise ParamlabError(f"lora save={','.join(config.modules_to_save)} matches no module")
    if config.bias == "all":  # a saved module's original stays frozen, bias included
        bias = sum(m.bias for m in modules if m not in saved)
    else:
        bias = sum(m.bias for m in chosen) if config.bias == "lora_only" else 0
    adapters = sum(m.adapter_params(config.r, config.dora) for m in chosen)
    saved_params = sum(m.params for m in saved)
    base_params = sum(m.params for m in modules)
    trainable = adapters + bias + saved_params
    memory = _memory(modules, base, output_head, trainable)
    return LoraReport(config, tuple(m.name for m in chosen), adapters, bias, saved_params,
                      base_params, memory, notes=notes)


def _memory(modules: Sequence[Module], base: str, output_head: str | None,
            trainable: int) -> LoraMemory:
    total = sum(m.params for m in modules)
    if base in NF4_BASES:
        # transformers' bitsandbytes integration quantizes Linear weights, not the head;
        # the rest (embeddings, norms, biases, the head) stays at the compute dtype (bf16).
        quantized = [m for m in modules if m.kind == "linear" and m.name != output_head]
        q_params = sum(m.weight for m in quantized)
        nf4 = sum(bnb_4bit((m.weight,), base == "nf4-dq") for m in quantized)
        base_bytes = nf4 + int((total - q_params) * STORED_BYTES["bfloat16"])
    else:
        q_params, base_bytes = 0, math.ceil(total * STORED_BYTES[base])
    return LoraMemory(base, base_bytes, q_params, trainable * ADAPTER_WEIGHT_BYTES,
                      trainable * ADAPTER_GRADIENT_BYTES, trainable * ADAPTER_OPTIMIZER_BYTES)
