"""Reusable blocks: the tensors transformers' modules create, with the arithmetic behind them.

A :class:`Part` is one module (or a group of small ones) with its weights and formula; a
:class:`Stack` repeats parts over identical layers; a :class:`Model` lists both in module
order. Families assemble these blocks; the rows are built from them in one place
(:mod:`paramlab.adapters.hf.rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paramlab.layers.base import Shape, Weight


def _n(value: int) -> str:
    return f"{value:,}"



@dataclass(frozen=True)
class Part:
    """One module (or a group of small ones): its tensors and the arithmetic behind them."""

    name: str
    type: str
    weights: tuple[Weight, ...]
    expr: str  # the arithmetic with numbers filled in, without "= total"
    macs: int = 0
    note: str = ""
    out: Shape = ()
    experts: tuple[int, int] | None = None  # (run per token, in all): a mixture of experts

    @property
    def params(self) -> int:
        return sum(w.size for w in self.weights if not w.statistic)

    @property
    def idle(self) -> int:
        """Parameters of the experts a token does not run (each tensor's first axis is the
        expert, so every expert holds params / count)."""
        if self.experts is None:
            return 0
        active, count = self.experts
        return self.params // count * (count - active)


@dataclass(frozen=True)
class Stack:
    """``count`` identical layers (``layers.0`` … ``layers.31``), each made of ``parts``."""

    prefix: str
    count: int
    type: str
    parts: tuple[Part, ...]
    start: int = 0  # index of the first layer: a model may mix dense and MoE layers


Section = Part | Stack


@dataclass
class Model:
    """The class being counted: its name and its sections in module order."""

    name: str
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cache: list[int] = field(default_factory=list)  # KV-cache elements per token, per layer
    expanded_cache: list[int] = field(default_factory=list)  # K/V repeated to every head
    expanded_layout: str = ""  # which entry of memory.EXPANDED_IN says who stored it so
    windows: list[int | None] = field(default_factory=list)  # tokens a sliding layer keeps
    cache_note: str = ""  # how the cache is sized, when not 2 × kv_heads × head_dim
    # Attention at a context length (paramlab.activations): per layer, MACs per attended
    # (query, key) pair, heads × (d_qk + d_v); and the hidden size and heads of a layer.
    attention_widths: list[int] = field(default_factory=list)
    hidden: int = 0
    heads: int = 0

    def set_attention(self, hidden: int, heads: int, widths: list[int]) -> None:
        self.hidden, self.heads, self.attention_widths = hidden, heads, widths


def embedding(name: str, num: int, dim: int, kind: str = "Embedding") -> Part:
    return Part(name, kind, (Weight(f"{name}.weight", (num, dim)),), f"{_n(num)} × {_n(dim)}",
                out=(None, dim))


def linear(name: str, fan_in: int, fan_out: int, bias: bool = True,
           out: Shape | None = None) -> Part:
    weights = [Weight(f"{name}.weight", (fan_out, fan_in))]
    if bias:
        weights.append(Weight(f"{name}.bias", (fan_out,)))
    expr = f"({_n(fan_in)} + 1) × {_n(fan_out)}" if bias else f"{_n(fan_in)} × {_n(fan_out)}"
    return Part(name, "Linear", tuple(weights), expr, fan_in * fan_out,
                out=(None, fan_out) if out is None else out)


def tied(name: str, fan_in: int, fan_out: int, source: str) -> Part:
    """An output projection that shares ``source``: no new parameters, the MACs still run."""
    return Part(name, "Linear (tied)", (), "", fan_in * fan_out,
                note=f"weight tied to {source}: counted once", out=(None, fan_out))


def norms(name: str, dim: int, count: int, bias: bool = True, kind: str = "LayerNorm") -> Part:
    """``count`` normalization layers of width ``dim`` (weight, and bias for LayerNorm)."""
    weights: list[Weight] = []
    for i in range(count):
        suffix = f".{i}" if count > 1 else ""
        weights.append(Weight(f"{name}{suffix}.weight", (dim,)))
        if bias:
            weights.append(Weight(f"{name}{suffix}.bias", (dim,)))
    one = f"({_n(dim)} + {_n(dim)})" if bias else _n(dim)
    single = f"2 × {_n(dim)}" if bias else _n(dim)
    expr = single if count == 1 else f"{count} × {one}"
    label = kind if count == 1 else f"{kind} ×{count}"
    return Part(name, label, tuple(weights), expr, out=(None, dim))


def heads_width(hidden: int, heads: int, head_dim: int | None = None) -> int:
    """Query/key/value width: ``heads × head_dim``, the head size ``⌊hidden / heads⌋``
    unless the config gives one (BERT refuses a width heads do not divide; ELECTRA, ALBERT,
    ViT and DINOv2 build it)."""
    return heads * (head_dim or hidden // heads)


def attention(name: str, hidden: int, q: int, kv: int, qkv_bias: bool, o_bias: bool,
              names: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj"),
              kind: str = "Attention", o_in: int | None = None) -> Part:
    """Query/key/value/output projections. ``names`` of length 2 means a fused QKV matrix
    (GPT-NeoX ``query_key_value``, Phi-3 ``qkv_proj``); GPT-2's Conv1D stores (in, out).
    ``o_in``: the output projection's input width when it is not ``q`` (BERT-style output
    layers are hidden × hidden even where heads do not divide the width)."""
    weights: list[Weight] = []
    if len(names) == 2:
        weights.append(Weight(f"{names[0]}.weight", (q + 2 * kv, hidden)))
        if qkv_bias:
            weights.append(Weight(f"{names[0]}.bias", (q + 2 * kv,)))
    else:
        for proj, width in zip(names[:3], (q, kv, kv), strict=True):
            weights.append(Weight(f"{proj}.weight", (width, hidden)))
            if qkv_bias:
                weights.append(Weight(f"{proj}.bias", (width,)))
    weights.append(Weight(f"{names[-1]}.weight", (hidden, q if o_in is None else o_in)))
    if o_bias:
        weights.append(Weight(f"{names[-1]}.bias", (hidden,)))
    if q == kv == hidden:
        core = f"4 × {_n(hidden)} × {_n(hidden)}"
    elif q == kv:
        core = f"4 × {_n(hidden)} × {_n(q)}"
    else:
        core = f"{_n(hidden)} × ({_n(q)} + 2 × {_n(kv)} + {_n(q)})"
    biases = []
    if qkv_bias and o_bias and q == kv == hidden:
        biases.append(f"4 × {_n(hidden)}")
    else:
        if qkv_bias:
            biases.append(f"3 × {_n(q)}" if q == kv else f"({_n(q)} + 2 × {_n(kv)})")
        if o_bias:
            biases.append(_n(hidden))
    expr = " + ".join([core, *biases])
    return Part(name, kind, tuple(weights), expr, hidden * (2 * q + 2 * kv), out=(None, hidden))


def conv1d_attention(name: str, hidden: int, cross: bool = False) -> Part:
    """GPT-2's attention: Conv1D layers store their weight as (in, out), with biases."""
    weights: tuple[Weight, ...]
    if cross:
        weights = (Weight("c_attn.weight", (hidden, 2 * hidden)),
                   Weight("c_attn.bias", (2 * hidden,)),
                   Weight("q_attn.weight", (hidden, hidden)), Weight("q_attn.bias", (hidden,)))
    else:
        weights = (Weight("c_attn.weight", (hidden, 3 * hidden)),
                   Weight("c_attn.bias", (3 * hidden,)))
    weights += (Weight("c_proj.weight", (hidden, hidden)), Weight("c_proj.bias", (hidden,)))
    expr = f"4 × {_n(hidden)} × {_n(hidden)} + 4 × {_n(hidden)}"
    return Part(name, "CrossAttention" if cross else "Attention", weights, expr,
                4 * hidden * hidden, out=(None, hidden))


def mlp(name: str, hidden: int, inner: int, *, gated: bool, bias: bool,
        names: tuple[str, ...], transposed: bool = False) -> Part:
    """A feed-forward block. Gated (SwiGLU/GeGLU): gate, up, down — ``names`` of length 2 is
    a fused gate_up matrix (Phi-3). Plain: up and down. ``transposed``: GPT-2's Conv1D."""
    weights: list[Weight] = []
    ups = (2 if gated else 1)
    if len(names) == 2 and gated:
        weights.append(Weight(f"{names[0]}.weight", (2 * inner, hidden)))
        if bias:
            weights.append(Weight(f"{names[0]}.bias", (2 * inner,)))
    else:
        for proj in names[:-1]:
            shape = (hidden, inner) if transposed else (inner, hidden)
            weights.append(Weight(f"{proj}.weight", shape))
            if bias:
                weights.append(Weight(f"{proj}.bias", (inner,)))
    shape = (inner, hidden) if transposed else (hidden, inner)
    weights.append(Weight(f"{names[-1]}.weight", shape))
    if bias:
        weights.append(Weight(f"{names[-1]}.bias", (hidden,)))
    expr = f"{ups + 1} × {_n(hidden)} × {_n(inner)}"
    if bias:
        expr += f" + {ups} × {_n(inner)} + {_n(hidden)}" if ups > 1 else \
            f" + {_n(inner)} + {_n(hidden)}"
    return Part(name, "GatedMLP" if gated else "MLP", tuple(weights), expr,
                (ups + 1) * hidden * inner, out=(None, hidden))



def labels_head(name: str, hidden: int, labels: int, bias: bool = True) -> Part:
    return linear(name, hidden, labels, bias, out=(labels,))



def tied_or_linear(name: str, fan_in: int, fan_out: int, tie: bool, source: str) -> Part:
    """A vocabulary projection with a bias whose weight may be tied to the embedding."""
    if not tie:
        return linear(name, fan_in, fan_out)
    return Part(name, "Linear (tied weight)", (Weight(f"{name}.bias", (fan_out,)),),
                _n(fan_out), fan_in * fan_out, note=f"weight tied to {source}: counted once",
                out=(None, fan_out))



def embedding_tied(name: str, source: str, dim: int) -> Part:
    return Part(name, "Embedding (tied)", (), "", note=f"tied to {source}: counted once",
                out=(None, dim))



def parameter(name: str, shape: tuple[int, ...], trainable: bool = True) -> Part:
    """A bare ``nn.Parameter`` (class token, layer scale, logit scale)."""
    size = 1
    for dim in shape:
        size *= dim
    return Part(name, "Parameter", (Weight(name.rsplit(".", 1)[-1], shape, trainable),),
                _n(size), out=(None, shape[-1] if shape else 1))


def patch_conv(name: str, channels: int, patch: tuple[int, int], hidden: int, patches: int,
               bias: bool = True) -> Part:
    """The patch embedding: a Conv2d with kernel = stride = patch size."""
    weights = [Weight(f"{name}.weight", (hidden, channels, *patch))]
    if bias:
        weights.append(Weight(f"{name}.bias", (hidden,)))
    kernel = f"{_n(channels)} × {patch[0]} × {patch[1]}"
    expr = f"({kernel} + 1) × {_n(hidden)}" if bias else f"{kernel} × {_n(hidden)}"
    return Part(name, "Conv2d", tuple(weights), expr, channels * patch[0] * patch[1] * hidden,
                note="MACs per patch", out=(patches, hidden))
