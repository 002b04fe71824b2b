"""``--lora``: trainable parameters against PEFT's own ``get_peft_model``.

The oracle is PEFT (0.21.2): each case builds a small real model with transformers or
PyTorch, wraps it with ``get_peft_model`` and reads ``get_nb_trainable_parameters()`` — the
numbers ``print_trainable_parameters()`` prints. paramlab counts the same model twice: the
PyTorch module itself, and (for transformers models) its config as JSON, which paramlab
builds by arithmetic alone. Keras' own ``Dense.enable_lora`` is the oracle for Keras models.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paramlab
from paramlab.errors import ParamlabError
from paramlab.lora import LoraConfig, parse_lora
from paramlab.quant.formats import bnb_4bit

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

LLAMA = ("llama", {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                   "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 67,
                   "tie_word_embeddings": False}, "AutoModelForCausalLM")
GPT2 = ("gpt2", {"n_embd": 32, "n_layer": 2, "n_head": 4, "vocab_size": 67, "n_positions": 16},
        "AutoModelForCausalLM")
QWEN2 = ("qwen2", LLAMA[1], "AutoModelForCausalLM")  # q/k/v biases
NEOX = ("gpt_neox", {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "vocab_size": 67}, "AutoModelForCausalLM")
BERT = ("bert", {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 48, "vocab_size": 67, "max_position_embeddings": 16},
        "AutoModelForSequenceClassification")


def hf_model(family: tuple[str, dict, str]) -> tuple[object, dict]:
    """A tiny transformers model and its config as the JSON paramlab reads."""
    model_type, fields, auto = family
    config = transformers.AutoConfig.for_model(model_type, **fields)
    torch.manual_seed(0)
    model = getattr(transformers, auto).from_config(config)
    data = json.loads(config.to_json_string())
    data["architectures"] = [type(model).__name__]
    return model, data


def peft_numbers(model: object, **config: object) -> tuple[int, int]:
    """(trainable, all) parameters of ``get_peft_model(model, LoraConfig(**config))``."""
    wrapped = peft.get_peft_model(model, peft.LoraConfig(**config))
    return wrapped.get_nb_trainable_parameters()


def ours(model: object, **options: object) -> tuple[int, int]:
    report = paramlab.count(model, **options).lora
    assert report is not None
    return report.trainable, report.total


def spec(config: dict) -> str:
    """The ``--lora`` text for a PEFT config."""
    targets = config["target_modules"]
    parts = [f"r={config['r']}", "alpha=16",
             "targets=" + (targets if isinstance(targets, str) else ",".join(targets))]
    if "bias" in config:
        parts.append(f"bias={config['bias']}")
    if config.get("use_dora"):
        parts.append("dora=true")
    if "modules_to_save" in config:
        parts.append("save=" + ",".join(config["modules_to_save"]))  # type: ignore[arg-type]
    return ",".join(parts)


CASES = [
    (LLAMA, {"r": 8, "target_modules": ["q_proj", "v_proj"]}),
    (LLAMA, {"r": 4, "target_modules": "all-linear"}),
    (LLAMA, {"r": 4, "target_modules": ["gate_proj", "down_proj", "embed_tokens"]}),
    (LLAMA, {"r": 2, "target_modules": ["q_proj", "o_proj"], "use_dora": True}),
    (LLAMA, {"r": 4, "target_modules": ["q_proj"], "modules_to_save": ["lm_head"]}),
    (GPT2, {"r": 8, "target_modules": ["c_attn"], "fan_in_fan_out": True}),
    (GPT2, {"r": 4, "target_modules": ["c_attn", "c_fc"], "fan_in_fan_out": True,
            "use_dora": True}),
    (GPT2, {"r": 4, "target_modules": ["c_proj"], "fan_in_fan_out": True, "bias": "lora_only"}),
    (BERT, {"r": 8, "target_modules": ["query", "value"]}),
    (BERT, {"r": 8, "target_modules": ["query", "value"], "bias": "all"}),
    (BERT, {"r": 4, "target_modules": ["dense"], "bias": "lora_only"}),
    (BERT, {"r": 4, "target_modules": ["query", "key"], "modules_to_save": ["classifier"]}),
    (BERT, {"r": 4, "target_modules": "all-linear"}),
    (BERT, {"r": 4, "target_modules": ["query"], "bias": "all",
            "modules_to_save": ["classifier"]}),
    (LLAMA, {"r": 4, "target_modules": ["embed_tokens"], "use_dora": True}),
    (QWEN2, {"r": 4, "target_modules": ["q_proj", "v_proj", "o_proj"], "bias": "lora_only"}),
    (QWEN2, {"r": 4, "target_modules": "all-linear", "bias": "all"}),
    (NEOX, {"r": 4, "target_modules": ["query_key_value", "dense_4h_to_h"], "bias": "all"}),
]


@pytest.mark.parametrize(("family", "config"), CASES,
                         ids=[f"{f[0]}-{i}" for i, (f, _) in enumerate(CASES)])
def test_trainable_equals_peft(family: tuple[str, dict, str], config: dict) -> None:
    model, data = hf_model(family)
    text = spec(config)
    from_module = ours(model, lora=text)
    from_config = ours(data, lora=text)
    expected = peft_numbers(model, lora_alpha=16, **config)
    assert from_module == expected
    assert from_config == expected


def test_regex_target_matches_full_names_as_peft() -> None:
    model, _ = hf_model(LLAMA)
    pattern = r".*layers\.1\.self_attn\.(q|v)_proj"
    counted = ours(model, lora=f"r=8,targets=re:{pattern}")  # first: PEFT edits the model
    assert counted == peft_numbers(model, r=8, target_modules=pattern)


class Net(torch.nn.Module):
    """Linear, Conv2d and Embedding: LoRA's three shapes in one plain PyTorch model."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(50, 12)
        self.conv = torch.nn.Conv2d(3, 10, 3)
        self.grouped = torch.nn.Conv1d(4, 8, 3, groups=2)
        self.body = torch.nn.Sequential(torch.nn.Linear(12, 20), torch.nn.ReLU(),
                                        torch.nn.Linear(20, 5))


@pytest.mark.parametrize("config", [
    {"r": 4, "target_modules": ["conv", "embed", "body.0"]},
    {"r": 3, "target_modules": ["conv", "0", "2"], "use_dora": True},
    {"r": 2, "target_modules": "all-linear", "bias": "all"},
    {"r": 2, "target_modules": ["conv"], "bias": "lora_only", "modules_to_save": ["2"]},
    {"r": 4, "target_modules": ["grouped", "conv"], "use_dora": True},
])
def test_torch_module_equals_peft(config: dict) -> None:
    torch.manual_seed(0)
    expected = peft_numbers(Net(), lora_alpha=16, **config)
    assert ours(Net(), lora=spec(config)) == expected


def test_keras_dense_equals_enable_lora() -> None:
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, name="hidden"),
                              keras.layers.Dense(3, name="out")])
    report = paramlab.count(model, lora="r=4,targets=hidden").lora
    before = model.count_params()
    model.get_layer("hidden").enable_lora(4)
    added = {w.path.rsplit("/", 1)[-1]: math.prod(w.shape) for w in model.weights}
    assert report is not None
    assert report.adapter_params == added["lora_kernel_a"] + added["lora_kernel_b"]
    assert report.total == model.count_params() > before


def test_qlora_memory_quantizes_linear_weights_but_not_the_head() -> None:
    model, data = hf_model(LLAMA)
    report = paramlab.count(data, lora="r=8,targets=all-linear", lora_base="nf4").lora
    assert report is not None
    linear = [m for n, m in model.named_modules()
              if isinstance(m, torch.nn.Linear) and n != "lm_head"]
    assert report.memory.quantized_params == sum(m.weight.numel() for m in linear)
    rest = sum(p.numel() for p in model.parameters()) - report.memory.quantized_params
    nf4 = sum(bnb_4bit(tuple(m.weight.shape), False) for m in linear)
    assert report.memory.base == nf4 + 2 * rest
    assert report.memory.total == report.memory.base + 16 * report.trainable


def test_stored_base_follows_dtype() -> None:
    _, data = hf_model(LLAMA)
    report = paramlab.count(data, lora="r=8,targets=q_proj", dtype="bfloat16").lora
    assert report is not None
    assert report.memory.base == 2 * report.base_params


def test_parse_lora_lists_and_regex() -> None:
    config = parse_lora("r=16,alpha=32,targets=q_proj,v_proj,bias=all,save=score,dora=true")
    assert config == LoraConfig(16, 32.0, ("q_proj", "v_proj"), "all", ("score",), True)
    assert parse_lora("targets=re:.*(q|k),v").targets == ".*(q|k),v"
    assert parse_lora("targets=all-linear").targets == "all-linear"


@pytest.mark.parametrize(("text", "message"), [
    ("r=0,targets=q_proj", "r must be a positive integer"),
    ("r=8", "lora needs targets"),
    ("r=8,targets=q_proj,bias=some", "bias must be one of"),
    ("r=8,tragets=q_proj", "cannot read 'tragets=q_proj'"),
    ("r=x,targets=q", "r must be an integer"),
    ("targets=re:(q|", "is not a regular expression"),
])
def test_bad_specs_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(ParamlabError, match=message):
        parse_lora(text)


def test_target_matching_nothing_names_the_modules() -> None:
    _, data = hf_model(LLAMA)
    with pytest.raises(ParamlabError, match=r"matches no module; names .*q_proj"):
        paramlab.count(data, lora="r=8,targets=query")
    with pytest.raises(ValueError, match="not found in the base model"):
        peft_numbers(hf_model(LLAMA)[0], r=8, target_modules=["query"])


def test_target_on_unsupported_module_is_refused_like_peft() -> None:
    model, _ = hf_model(LLAMA)
    with pytest.raises(ParamlabError, match="cannot adapt"):
        paramlab.count(model, lora="r=8,targets=self_attn")
    with pytest.raises(ValueError, match="not supported"):
        peft_numbers(model, r=8, target_modules=["self_attn"])


def test_cli_json_matches_python_and_errors_exit_2(tmp_path, capsys) -> None:
    from paramlab.cli import main

    _, data = hf_model(LLAMA)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    text = "r=8,alpha=16,targets=q_proj,v_proj"
    assert main(["count", str(path), "--lora", text, "--lora-base", "nf4", "--json"]) == 0
    lora = json.loads(capsys.readouterr().out)["lora"]
    expected = paramlab.count(data, lora=text, lora_base="nf4").lora
    assert expected is not None
    assert lora["trainable"] == expected.trainable and lora["memory"]["base_storage"] == "nf4"
    assert lora["memory"]["total"] == expected.memory.total
    assert main(["count", str(path), "--lora", "r=8,targets=nothing"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "matches no module" in error


def test_spec_models_take_keras_layer_names() -> None:
    report = paramlab.count("784-10-10-3", lora="r=2,targets=dense_1").lora
    assert report is not None  # dense_1 is 10 → 10: A 2 × 10, B 10 × 2
    assert report.targeted == ("dense_1",) and report.adapter_params == 2 * 10 + 10 * 2


@pytest.mark.parametrize("double", [False, True])
def test_qlora_base_equals_a_bitsandbytes_quantized_model(tmp_path, double: bool) -> None:
    """The frozen base's bytes equal what transformers + bitsandbytes hold for the same model
    loaded in 4 bits: each parameter's storage plus its quant state (absmax, NF4 code and,
    double-quantized, the second-level absmax, its 256-entry map and the offset)."""
    pytest.importorskip("bitsandbytes")
    model, data = hf_model(LLAMA)
    model.save_pretrained(tmp_path)
    quantization = transformers.BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=double,
        bnb_4bit_compute_dtype=torch.bfloat16)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(
        tmp_path, quantization_config=quantization, dtype=torch.bfloat16, device_map="cpu")
    held = 0
    for parameter in loaded.parameters():
        tensors = [parameter]
        state = getattr(parameter, "quant_state", None)
        if state is not None:
            tensors += [state.absmax, state.code]
            if state.nested:
                tensors += [state.state2.absmax, state.state2.code, state.offset]
        held += sum(t.numel() * t.element_size() for t in tensors)
    base = "nf4-dq" if double else "nf4"
    report = paramlab.count(data, lora="r=8,targets=q_proj", lora_base=base).lora
    assert report is not None
    assert report.memory.base == held


def test_every_renderer_draws_the_report() -> None:
    summary = paramlab.count("784-128-10", lora="r=8,targets=dense,dense_1", lora_base="nf4")
    for drawn in (str(summary), summary.to_markdown(), summary._repr_html_()):
        assert "LoRA" in drawn and "8,400" in drawn
    assert summary.to_dict()["lora"]["trainable"] == 8 * (784 + 128) + 8 * (128 + 10)
    assert "LoRA" not in str(paramlab.count("784-128-10"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80) | st.builds("targets=re:{}".format, st.text(max_size=20)))
def test_lora_spec_parser_never_crashes(text: str) -> None:
    try:
        parse_lora(text)
    except ParamlabError as error:
        assert "\n" not in str(error)


def test_text_output_carries_peft_printed_line(capsys) -> None:
    model, data = hf_model(LLAMA)
    drawn = str(paramlab.count(data, lora="r=8,targets=q_proj,v_proj"))
    peft.get_peft_model(model, peft.LoraConfig(r=8, target_modules=["q_proj", "v_proj"])) \
        .print_trainable_parameters()
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("trainable params: ") and printed in drawn


def test_all_linear_on_fused_experts_is_refused() -> None:
    """PEFT 0.21.2 maps all-linear on a Mixtral onto its fused expert parameters with doubled
    ranks (utils/transformers_weight_conversion.py); paramlab refuses rather than guess."""
    mixtral = ("mixtral", {**LLAMA[1], "num_local_experts": 4, "num_experts_per_tok": 2},
               "AutoModelForCausalLM")
    model, data = hf_model(mixtral)
    for counted in (data, model):
        with pytest.raises(ParamlabError, match="fused expert weights"):
            paramlab.count(counted, lora="r=4,targets=all-linear")
    explicit = "r=4,targets=q_proj,gate"  # the router is a Linear-shaped weight: allowed
    assert ours(data, lora=explicit) == ours(model, lora=explicit) == peft_numbers(
        model, r=4, target_modules=["q_proj", "gate"])


def test_config_names_are_explained_where_they_differ_from_transformers() -> None:
    model, data = hf_model(LLAMA)
    from_config = paramlab.count(data, lora="r=4,targets=q_proj").lora
    from_module = paramlab.count(model, lora="r=4,targets=q_proj").lora
    assert from_config is not None and from_module is not None
    assert from_config.targeted[0] == "layers.0.self_attn.q_proj"
    assert from_module.targeted[0] == "model.layers.0.self_attn.q_proj"  # transformers' name
    assert "without the base-model prefix" in " ".join(from_config.notes)
    assert from_module.notes == ()
