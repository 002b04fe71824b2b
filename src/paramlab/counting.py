"""``paramlab.count``: anything that describes a network → :class:`~paramlab.summary.Summary`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from paramlab.errors import ParamlabError, SpecError
from paramlab.graph import ModelSpec, build_graph
from paramlab.layers.base import Context
from paramlab.notes import Note
from paramlab.options import CONVENTIONS, CountOptions
from paramlab.summary import DTYPE_BYTES, Summary, summarize

if TYPE_CHECKING:
    from paramlab.lora import LoraReport, Module


def count(model: Any, *, options: CountOptions | None = None, **keywords: Any) -> Summary:
    """Count the parameters of ``model`` by arithmetic, allocating no weights.

    ``model`` may be a spec string (``"784-10-10-3"``, the DSL, a zoo name, a file path),
    a :class:`~paramlab.graph.ModelSpec`, a parsed Keras/paramlab JSON ``dict``, or anything
    an adapter in :mod:`paramlab.adapters` recognizes (PyTorch modules, Keras models,
    Hugging Face configs, ONNX files). The keywords are the CLI's options, every field of
    :class:`~paramlab.options.CountOptions` by name (``memory=True, context=4096``;
    ``input_size`` runs a PyTorch forward pass on a meta copy, as torchinfo's
    ``summary(model, input_size=…)`` does; ``observations`` adds parameters per observation);
    an unknown keyword is an error naming the valid ones. ``options`` gives them all at once.
    """
    if options is None:
        options = CountOptions.from_keywords(keywords)
    elif keywords:
        raise ParamlabError("count() takes either options= or keyword options, not both")
    elif not isinstance(options, CountOptions):  # an argparse namespace or look-alike
        options = CountOptions.from_namespace(options)
    _check(options)
    from paramlab.adapters import find_adapter

    adapter = find_adapter(model)
    if adapter is not None:
        summary = adapter(model, options.convention, options)
    else:
        spec = to_model_spec(model)
        chosen = options.convention or "keras"
        summary = _count_spec(spec, chosen)
        if options.other_convention:
            other = "torch" if chosen == "keras" else "keras"
            summary.other_factory = lambda: _count_spec(spec, other)
    summary.dtype = options.dtype
    summary.observations = options.observations
    summary.features = options.features
    summary.targets = _output_units(summary)
    _attach_reports(summary, options)
    if options.lora is not None:
        summary.lora = _lora(summary, model, adapter, options)
    return summary


LORA_DEPTH = 64  # every module its own row: LoRA targets leaf modules by name


def _lora(summary: Summary, model: Any, adapter: Any, options: CountOptions) -> LoraReport:
    """LoRA on the model's modules, counted again at full depth when an adapter folded
    them into the rows shown (the display keeps the depth asked for)."""
    from paramlab.lora import LoraConfig, lora_report, modules_from_rows, parse_lora

    config = options.lora
    if isinstance(config, str):
        config = parse_lora(config)
    if not isinstance(config, LoraConfig):
        raise ParamlabError("lora must be a spec string such as 'r=16,targets=q_proj,v_proj' "
                            f"or a paramlab.lora.LoraConfig. Received: {type(config).__name__}")
    fine = summary
    if adapter is not None:
        fine = adapter(model, options.convention, options.replace(
            depth=LORA_DEPTH, memory=False, flops=False, lora=None, input_size=None))
    # GPT-2 configs: the rows are parts, whose Conv1D weights are stored (in, out).
    in_out = fine.origin.startswith("hf config") and fine.origin.endswith("(gpt2)")
    modules = _with_groups(modules_from_rows(fine.layers, in_out=in_out), model)
    hf_config = fine.origin.startswith("hf config")
    head = _output_head(model, [m.name for m in modules if m.kind == "linear"], hf_config)
    return lora_report(modules, config, options.lora_base or options.dtype, head,
                       HF_CONFIG_NAMES if hf_config else ())


HF_CONFIG_NAMES = (
    "Module names are paramlab's config rows joined with the tensor names "
    "(layers.0.self_attn.q_proj), without the base-model prefix (model., bert.): name targets "
    "by their last parts, as PEFT's suffix match does; a regex may need the prefix left open.",)


def _with_groups(modules: list[Module], model: Any) -> list[Module]:
    """PyTorch convolutions' ``groups``, which weight shapes do not show (in_channels is
    ``shape[1] × groups``) and LoRA's shapes depend on."""
    named = getattr(model, "named_modules", None)
    if not callable(named):
        return modules
    groups = {name: m.groups for name, m in named() if getattr(m, "groups", 1) != 1
              and hasattr(m, "kernel_size")}
    return [dataclasses.replace(m, groups=groups[m.name]) if m.name in groups else m
            for m in modules]


# Hugging Face heads that get_output_embeddings() returns (causal and masked LMs): the
# module "all-linear" leaves out and bitsandbytes leaves unquantized.
HF_OUTPUT_HEADS = ("lm_head", "predictions.decoder", "lm_head.decoder", "generator_lm_head")


def _output_head(model: Any, linear: list[str], hf_config: bool) -> str | None:
    """The output embedding's module name: asked of a transformers model, looked up by name
    for a config, and none for other models (as PEFT's all-linear excludes none there)."""
    get = getattr(model, "get_output_embeddings", None)
    if callable(get) and hasattr(model, "named_modules"):
        head = get()
        return next((name for name, m in model.named_modules() if m is head), None)
    if hf_config:
        return next((name for name in reversed(linear)
                     if any(name == h or name.endswith("." + h) for h in HF_OUTPUT_HEADS)),
                    None)
    return None


def _check(options: CountOptions) -> None:
    if options.convention is not None:
        _check_choice("convention", options.convention, CONVENTIONS)
    _check_choice("dtype", options.dtype, tuple(DTYPE_BYTES))
    for name in ("observations", "batch_size"):
        value = getattr(options, name)
        if value is not None and (not isinstance(value, int) or value <= 0):
            raise ParamlabError(f"{name} must be a positive integer. Received: {name}={value!r}")


def _attach_reports(summary: Summary, options: CountOptions) -> None:
    """``memory``/``flops``/``quant``/training per GPU: data on the summary, which the
    renderers draw."""
    cost = None
    if options.training:
        from paramlab.training import Setup, per_gpu_cost, training_report

        setup = Setup.make(options.gpus or 1, options.zero, options.fsdp,
                           options.precision or "mixed", options.optimizer or "adam",
                           options.offload or ())
        recompute = options.checkpointing or "none"
        summary.training_per_gpu = training_report(
            summary, setup, options.context, options.batch_size, recompute,
            options.flash_attention)
        if options.fit is not None and options.fit_for == "training":
            cost = per_gpu_cost(summary, setup, recompute, options.flash_attention)
    stored = getattr(summary.quant_source, "stored", None)
    if options.quant or options.fit is not None or options.kv_dtype or (
            options.memory and stored):  # a quantized checkpoint: its stored size too
        from paramlab.sizing import quant_report

        summary.quant = quant_report(summary, options, cost)
    if not (options.memory or options.flops):
        return
    from paramlab.memory import flops_report, memory_report

    if options.memory:
        summary.memory = memory_report(summary, options.batch_size, options.context)
    if options.flops:
        summary.flops_report = flops_report(summary, options.batch_size)
        lm = summary.language_model
        if lm is not None and options.context:
            from paramlab.activations import language_model_attention

            summary.attention_flops = language_model_attention(lm, options.context)
            if summary.attention_flops is None:
                summary.notes.append(Note("Attention FLOPs at --context: not known for this "
                                          "family (its attention widths are not declared).",
                                          "macs"))


count_any = count


def _count_spec(spec: ModelSpec, convention: str) -> Summary:
    graph = build_graph(spec, Context(convention=convention))  # type: ignore[arg-type]
    if graph.name == "model":  # unnamed: Keras' default names for the two model kinds
        graph.name = "sequential" if graph.is_chain else "functional"
    return summarize(graph, origin=spec.origin)


def to_model_spec(model: Any) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, str):
        from paramlab.spec import parse

        return parse(model)
    if isinstance(model, dict):
        from paramlab.spec.files import parse_mapping

        return parse_mapping(model, "<dict>")
    raise SpecError(
        f"cannot count a {type(model).__name__}; expected a spec string, a file path, "
        "a ModelSpec or a JSON dict"
    )


def _output_units(summary: Summary) -> int | None:
    """Target values per observation: the last layer's output size, when fully known."""
    if not summary.layers:
        return None
    shape = summary.layers[-1].output_shape
    if not shape or isinstance(shape[0], tuple) or any(d is None for d in shape):
        return None
    size = 1
    for d in shape:
        size *= d  # type: ignore[operator]
    return size


def _check_choice(name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ParamlabError(
            f"{name} must be one of {', '.join(options)}. Received: {name}={value!r}"
        )
