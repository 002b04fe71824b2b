"""Decoder-only language models as declarations: one :class:`Decoder` row of switches each.

Llama and its descendants differ by a handful of choices — biases on the attention
projections, q/k normalization (per head or over the full width), how many norms a layer
has, a gated or a plain MLP, tied embeddings, a mixture of experts (router, stacked experts,
shared experts, dense layers before the first MoE layer) and DeepSeek's multi-head latent
attention. :func:`build_decoder` turns a declaration and a config into the model's blocks;
the families themselves are the table in :mod:`paramlab.adapters.hf.families`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paramlab.adapters.hf.blocks import (
    Model,
    Part,
    Section,
    Stack,
    _n,
    attention,
    embedding,
    labels_head,
    linear,
    mlp,
    norms,
    tied,
)
from paramlab.adapters.hf.config import HFConfig
from paramlab.adapters.hf.memory import expanded_note
from paramlab.layers.base import Weight

DECODER_KINDS = ("Model", "ForCausalLM", "ForSequenceClassification",
                 "ForTokenClassification", "ForQuestionAnswering")
NO_QA = DECODER_KINDS[:4]
LM_ONLY = ("Model", "ForCausalLM")
LLAMA_NAMES = ("q_proj", "k_proj", "v_proj", "o_proj")
GATED_NAMES = ("gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class MoE:
    """A mixture-of-experts feed-forward: which fields size it and what it carries."""

    count: tuple[str, ...]  # the field giving the number of routed experts (and aliases)
    inner: str  # the field giving each expert's hidden width
    active: str = "num_experts_per_tok"
    router_bias: bool = False  # gpt-oss: the router is a Linear with a bias
    router_buffer: bool = False  # DeepSeek-V3: e_score_correction_bias is a buffer
    expert_bias: bool = False  # gpt-oss: the stacked experts have biases
    shared: bool = False  # DeepSeek: n_shared_experts × moe_intermediate_size gated MLP
    dense: str = ""  # which layers stay dense: "first_k" (DeepSeek) or "sparse_step" (Qwen3)


@dataclass(frozen=True)
class Decoder:
    """One decoder-only family. Switches that a config can flip name the config field;
    fixed choices of the modeling code are constants."""

    prefix: str  # class names: prefix + kind (LlamaForCausalLM)
    defaults: dict[str, Any]  # the config class's defaults for the fields read here
    kinds: tuple[str, ...] = DECODER_KINDS
    class_names: dict[str, str] = field(default_factory=dict)  # kind → class, when irregular
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # old field names
    absent: tuple[str, ...] = ()  # generic fields this family's config class does not have
    # attention
    qkv_bias: bool | str = False  # a constant, or the flag field (attention_bias)
    o_bias: bool | str = False
    attn_names: tuple[str, ...] = LLAMA_NAMES  # two names: one fused QKV matrix
    qk_norm: str = ""  # "head": one norm of head_dim; "width": over all heads; "heads":
    #                    a (heads, head_dim) weight (Cohere); "each": a norm per head (StableLM)
    qk_norm_field: str = ""  # the flag that switches the q/k norm on, when optional
    qk_norm_bias: bool = False  # Phi's q/k LayerNorms have biases
    sinks: bool = False  # gpt-oss: one learned attention-sink logit per head
    mla: bool = False  # DeepSeek's multi-head latent attention (low-rank q and kv)
    # norms: "RMSNorm", "LayerNorm" (with bias) or "LayerNorm (no bias)"
    norm: str = "RMSNorm"
    layer_norms: int = 2  # norms per layer
    parallel_field: str = ""  # StableLM use_parallel_residual: one norm fewer when true
    embed_norm: str = ""  # BLOOM normalizes the embeddings (word_embeddings_layernorm)
    # feed-forward
    gated: bool = True
    mlp_bias: bool | str = False
    mlp_names: tuple[str, ...] = GATED_NAMES  # two names when gated: a fused gate_up matrix
    moe: MoE | None = None
    # sliding-window attention (for the KV cache): which layers use it when the config does
    # not list layer_types — "every", "alternate" (Gemma 2, gpt-oss), "pattern" (Gemma 3),
    # "after_max_window" (Qwen2/3); sliding_flag switches it on (use_sliding_window)
    sliding: str = ""
    sliding_flag: str = ""
    # names and heads
    embed: str = "embed_tokens"
    layers: str = "layers"
    final_norm: str = "norm"
    lm_head_bias: bool = False
    token_head: str = "score"  # GPT-J-era models call it classifier (with a bias)

    def class_name(self, kind: str) -> str:
        return self.class_names.get(kind, self.prefix + kind)


@dataclass(frozen=True)
class Dims:
    """The sizes a decoder's config fixes, read once."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    inner: int
    vocab: int


def read_dims(c: HFConfig, d: Decoder) -> Dims:
    def get(name: str) -> int:
        return c.integer(d.aliases.get(name, (name,)), d.defaults.get(name))

    def optional(name: str, derived: int) -> int:
        """A field whose absence means the class default, and whose null (or absence, with
        no default) means ``derived``; ``derived`` alone where the class has no such field."""
        names = d.aliases.get(name, (name,))
        if name in d.absent:
            return derived
        if any(n in c.data for n in names) or d.defaults.get(name) is None:
            return c.opt_int(names) or derived
        return c.integer(names, d.defaults[name])

    hidden, heads = get("hidden_size"), get("num_attention_heads")
    kv_heads = optional("num_key_value_heads", heads)
    head_dim = optional("head_dim", hidden // heads)
    if d.defaults.get("intermediate_size") is None:  # GPT-J n_inner, BLOOM: 4 × hidden
        inner = optional("intermediate_size", 4 * hidden)
    else:
        inner = get("intermediate_size")
    return Dims(hidden, get("num_hidden_layers"), heads, kv_heads, head_dim, inner,
                get("vocab_size"))


def _switch(c: HFConfig, d: Decoder, value: bool | str) -> bool:
    """A fixed choice, or a config flag defaulting as the family's config class does."""
    return c.flag(value, d.defaults.get(value, False)) if isinstance(value, str) else value


def _norm(name: str, dim: int, count: int, kind: str) -> Part:
    return norms(name, dim, count, bias=kind == "LayerNorm", kind=kind.split(" ")[0])


def build_decoder(c: HFConfig, kind: str, d: Decoder) -> Model:
    dims = read_dims(c, d)
    layer_kinds = _layer_kinds(c, d, dims.layers)
    model = Model(d.class_name(kind), [embedding(d.embed, dims.vocab, dims.hidden)])
    if d.embed_norm:
        model.sections.append(_norm(d.embed_norm, dims.hidden, 1, d.norm))
    start = 0
    for is_moe, count in _runs(layer_kinds):
        parts = _layer(c, d, dims, is_moe)
        label = "MoEDecoderLayer" if is_moe else "DecoderLayer"
        model.sections.append(Stack(d.layers, count, label, parts, start))
        start += count
    model.sections.append(_norm(d.final_norm, dims.hidden, 1, d.norm))
    tie = c.flag("tie_word_embeddings", d.defaults["tie_word_embeddings"])
    model.sections += decoder_heads(c, kind, dims.hidden, dims.vocab, tie, f"{d.embed}.weight",
                                    lm_bias=d.lm_head_bias, token_head=d.token_head)
    _set_cache(c, d, dims, model)
    if dims.kv_heads != dims.heads and not d.mla:
        model.notes.append(f"Grouped-query attention: {dims.heads} query heads share "
                           f"{dims.kv_heads} key/value heads of size {dims.head_dim}.")
    if d.moe is not None and d.moe.router_buffer:
        model.notes.append("The router's e_score_correction_bias is a buffer, not a parameter.")
    return model


def _set_cache(c: HFConfig, d: Decoder, dims: Dims, model: Model) -> None:
    """KV-cache widths per layer (keys + values per token) and sliding windows."""
    if d.mla:
        m = Latent.read(c)
        model.cache = [m.kv_rank + m.rope] * dims.layers
        model.set_attention(dims.hidden, dims.heads,
                            [dims.heads * (m.nope + m.rope + m.v_dim)] * dims.layers)
        model.expanded_cache = [dims.heads * (m.nope + m.rope + m.v_dim)] * dims.layers
        model.expanded_layout = "latent"
        model.cache_note = ("latent attention: kv_lora_rank + qk_rope_head_dim per layer; "
                            + expanded_note("latent"))
    else:
        model.cache = [2 * dims.kv_heads * dims.head_dim] * dims.layers
        model.set_attention(dims.hidden, dims.heads,
                            [2 * dims.heads * dims.head_dim] * dims.layers)
    model.windows = sliding_windows(c, d, dims.layers)


def sliding_windows(c: HFConfig, d: Decoder, layers: int) -> list[int | None]:
    """Tokens each layer's cache keeps: ``sliding_window − 1`` for a sliding layer (what
    transformers' ``DynamicSlidingWindowLayer`` keeps), None for full attention. The layer
    types come from ``layer_types`` when the config lists them, else the family's rule."""
    window = c.data.get("sliding_window", d.defaults.get("sliding_window"))
    if not d.sliding or (d.sliding_flag and not c.flag(d.sliding_flag, False)):
        window = None
    if not isinstance(window, int) or isinstance(window, bool) or window <= 1:
        return [None] * layers
    types = c.data.get("layer_types")
    if isinstance(types, list) and len(types) == layers:
        sliding = [kind == "sliding_attention" for kind in types]
    elif d.sliding == "alternate":
        sliding = [i % 2 == 0 for i in range(layers)]
    elif d.sliding == "pattern":
        every = c.integer(("sliding_window_pattern", "_sliding_window_pattern"), 6)
        sliding = [(i + 1) % every != 0 for i in range(layers)]
    elif d.sliding == "after_max_window":
        first = c.integer("max_window_layers", d.defaults.get("max_window_layers", 28), 0)
        sliding = [i >= first for i in range(layers)]
    else:
        sliding = [True] * layers
    return [window - 1 if is_sliding else None for is_sliding in sliding]


def _layer_kinds(c: HFConfig, d: Decoder, layers: int) -> list[bool]:
    """Whether each layer is a mixture-of-experts layer."""
    moe = d.moe
    if moe is None:
        return [False] * layers
    if moe.dense == "first_k":
        first = c.integer("first_k_dense_replace", d.defaults["first_k_dense_replace"], 0)
        return [i >= first for i in range(layers)]
    if moe.dense == "sparse_step":
        step = c.integer("decoder_sparse_step", 1)
        dense = set(c.layer_list("mlp_only_layers"))
        experts = c.integer(moe.count, d.defaults[moe.count[0]], 0)
        return [i not in dense and experts > 0 and (i + 1) % step == 0 for i in range(layers)]
    return [True] * layers


def _runs(kinds: list[bool]) -> list[tuple[bool, int]]:
    out: list[tuple[bool, int]] = []
    for value in kinds:
        if out and out[-1][0] == value:
            out[-1] = (value, out[-1][1] + 1)
        else:
            out.append((value, 1))
    return out


def _layer(c: HFConfig, d: Decoder, dims: Dims, is_moe: bool) -> tuple[Part, ...]:
    parts = list(_attention(c, d, dims))
    if is_moe and d.moe is not None:
        parts += _moe(c, d, d.moe, dims)
    else:
        parts.append(mlp("mlp", dims.hidden, dims.inner, gated=d.gated,
                         bias=_switch(c, d, d.mlp_bias), names=d.mlp_names))
    count = d.layer_norms - (1 if d.parallel_field and c.flag(d.parallel_field, False) else 0)
    parts.append(_norm("norms", dims.hidden, count, d.norm))
    return tuple(parts)


def _attention(c: HFConfig, d: Decoder, dims: Dims) -> list[Part]:
    if d.mla:
        return [latent_attention(c, dims)]
    q, kv = dims.heads * dims.head_dim, dims.kv_heads * dims.head_dim
    parts = [attention("self_attn", dims.hidden, q, kv, _switch(c, d, d.qkv_bias),
                       _switch(c, d, d.o_bias), d.attn_names)]
    if d.qk_norm and (not d.qk_norm_field or c.flag(d.qk_norm_field, False)):
        parts.append(_qk_norm(d, dims))
    if d.sinks:
        parts.append(Part("self_attn.sinks", "Parameter",
                          (Weight("sinks", (dims.heads,)),), _n(dims.heads),
                          out=(None, dims.heads)))
    return parts


def _qk_norm(d: Decoder, dims: Dims) -> Part:
    """Query and key normalization: its width depends on where the family applies it."""
    hd, heads, kv = dims.head_dim, dims.heads, dims.kv_heads
    kind = "LayerNorm" if d.qk_norm_bias or d.norm.startswith("LayerNorm") else "RMSNorm"
    per = 2 if d.qk_norm_bias else 1
    shapes: list[tuple[int, ...]]
    if d.qk_norm == "head":  # one norm over head_dim, shared by every head
        shapes, expr = [(hd,), (hd,)], f"{2 * per} × {_n(hd)}"
    elif d.qk_norm == "width":  # OLMo 2: over the whole projection
        shapes, expr = [(heads * hd,), (kv * hd,)], f"{_n(heads * hd)} + {_n(kv * hd)}"
    elif d.qk_norm == "heads":  # Cohere: a (heads, head_dim) weight
        shapes, expr = [(heads, hd), (kv, hd)], f"({heads} + {kv}) × {_n(hd)}"
    else:  # "each": StableLM keeps one LayerNorm (no bias) per head
        shapes, expr = [(hd,)] * (heads + kv), f"({heads} + {kv}) × {_n(hd)}"
    weights: list[Weight] = []
    for i, shape in enumerate(shapes):
        is_query = i < heads if d.qk_norm == "each" else i == 0
        which = "q_norm" if is_query else "k_norm"
        weights.append(Weight(f"{which}.{i}.weight", shape))
        if d.qk_norm_bias:
            weights.append(Weight(f"{which}.{i}.bias", shape))
    return Part("self_attn.qk_norm", f"{kind} (q, k)", tuple(weights), expr,
                out=(None, heads * hd))


@dataclass(frozen=True)
class Latent:
    """Multi-head latent attention's sizes (DeepSeek-V2/V3 config defaults)."""

    q_rank: int | None
    kv_rank: int
    rope: int
    nope: int
    v_dim: int

    @classmethod
    def read(cls, c: HFConfig) -> Latent:
        q_rank = c.opt_int("q_lora_rank") if "q_lora_rank" in c.data else 1536
        return cls(q_rank, c.integer("kv_lora_rank", 512), c.integer("qk_rope_head_dim", 64),
                   c.integer("qk_nope_head_dim", 128), c.integer("v_head_dim", 128))


def latent_attention(c: HFConfig, dims: Dims) -> Part:
    """DeepSeek's multi-head latent attention: queries through an optional low-rank
    bottleneck (q_a → RMSNorm → q_b), keys and values through a shared compressed latent
    (kv_a, which also emits the rotary key part, → RMSNorm → kv_b)."""
    h, heads = dims.hidden, dims.heads
    m = Latent.read(c)
    q_rank, kv_rank, rope, nope, v_dim = m.q_rank, m.kv_rank, m.rope, m.nope, m.v_dim
    bias = c.flag("attention_bias", False)
    qk = heads * (nope + rope)
    pieces = [linear("q_proj", h, qk, False)] if q_rank is None else [
        linear("q_a_proj", h, q_rank, bias), norms("q_a_layernorm", q_rank, 1, False),
        linear("q_b_proj", q_rank, qk, False)]
    pieces += [linear("kv_a_proj_with_mqa", h, kv_rank + rope, bias),
               norms("kv_a_layernorm", kv_rank, 1, False),
               linear("kv_b_proj", kv_rank, heads * (nope + v_dim), False),
               linear("o_proj", heads * v_dim, h, bias)]
    weights = tuple(w for piece in pieces for w in piece.weights)
    expr = " + ".join(f"({p.expr})" if "+" in p.expr else p.expr for p in pieces)
    return Part("self_attn", "LatentAttention", weights, expr, sum(p.macs for p in pieces),
                note=f"latent KV of {kv_rank} + rotary {rope} per token", out=(None, h))


def _moe(c: HFConfig, d: Decoder, moe: MoE, dims: Dims) -> list[Part]:
    h = dims.hidden
    count = c.integer(moe.count, d.defaults[moe.count[0]])
    inner = c.integer(moe.inner, d.defaults[moe.inner])
    active = c.opt_int(moe.active) or d.defaults.get(moe.active) or count
    router = [Weight("mlp.gate.weight", (count, h))]
    if moe.router_bias:
        router.append(Weight("mlp.gate.bias", (count,)))
    if moe.router_buffer:
        router.append(Weight("mlp.gate.e_score_correction_bias", (count,), trainable=False,
                             statistic=True))
    expr = f"({_n(h)} + 1) × {count}" if moe.router_bias else f"{count} × {_n(h)}"
    parts = [Part("mlp.gate", "Router", tuple(router), expr, count * h, out=(None, count),
                  note="e_score_correction_bias is a buffer" if moe.router_buffer else "")]
    parts.append(experts("mlp.experts", h, inner, count, active, moe.expert_bias))
    if moe.shared:
        shared = inner * c.integer("n_shared_experts", d.defaults["n_shared_experts"], 0)
        parts.append(mlp("mlp.shared_experts", h, shared, gated=True,
                         bias=_switch(c, d, d.mlp_bias), names=GATED_NAMES))
    return parts


def experts(name: str, hidden: int, inner: int, count: int, active: int,
            bias: bool = False) -> Part:
    """Stacked experts: gate_up (E, 2I, H) and down (E, H, I) tensors (gpt-oss stores them
    transposed, with biases)."""
    weights = [Weight(f"{name}.gate_up_proj", (count, 2 * inner, hidden)),
               Weight(f"{name}.down_proj", (count, hidden, inner))]
    expr = f"{count} × 3 × {_n(hidden)} × {_n(inner)}"
    if bias:
        weights = [Weight(f"{name}.gate_up_proj", (count, hidden, 2 * inner)),
                   Weight(f"{name}.down_proj", (count, inner, hidden))]
        weights += [Weight(f"{name}.gate_up_proj_bias", (count, 2 * inner)),
                    Weight(f"{name}.down_proj_bias", (count, hidden))]
        expr = f"{count} × (3 × {_n(hidden)} × {_n(inner)} + 2 × {_n(inner)} + {_n(hidden)})"
    return Part(name, f"Experts ×{count}", tuple(weights), expr, active * 3 * hidden * inner,
                note=f"{active} of {count} experts run per token: MACs count {active}",
                out=(None, hidden), experts=(active, count))


def decoder_heads(c: HFConfig, kind: str, hidden: int, vocab: int, tie: bool,
                  embed: str, qa_bias: bool = True, lm_bias: bool = False,
                  token_head: str = "score") -> list[Part]:
    """Heads shared by the decoder-only families (transformers' Generic* classes)."""
    if kind == "ForCausalLM":
        if tie:
            head = tied("lm_head", hidden, vocab, embed)
            if lm_bias:  # Phi, GPT-J: the bias stays the head's own
                return [Part(head.name, "Linear (tied weight)",
                             (Weight("lm_head.bias", (vocab,)),), _n(vocab), head.macs,
                             note=head.note, out=head.out)]
            return [head]
        return [linear("lm_head", hidden, vocab, bias=lm_bias)]
    if kind == "ForSequenceClassification":
        return [labels_head("score", hidden, c.num_labels(), bias=False)]
    if kind == "ForTokenClassification":
        bias = c.flag("token_classification_bias", True) if token_head == "score" else True
        return [labels_head(token_head, hidden, c.num_labels(), bias=bias)]
    if kind == "ForQuestionAnswering":
        return [labels_head("qa_outputs", hidden, 2, bias=qa_bias)]
    return []


__all__ = ["DECODER_KINDS", "Decoder", "MoE", "Section", "build_decoder", "decoder_heads"]
