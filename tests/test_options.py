"""Options declared once: every ``paramlab count`` flag is a :class:`CountOptions` field and
every field a flag, ``paramlab.count(model, **options)`` takes each of them by name, and a
keyword that is not an option is refused naming the valid ones."""

from __future__ import annotations

import argparse
import dataclasses
import json

import pytest

import paramlab
from paramlab.cli import build_parser, main
from paramlab.options import CountOptions

# The count parser's flags that choose how a result is shown, not what is counted; --data is
# the CLI's shorthand for two fields (observations and features).
PRESENTATION = {"--explain", "--json", "--format", "--data", "-h", "--help"}
# A value for each field that differs from its default, as the flag's text and as Python.
SAMPLES = {
    "convention": ("torch", "torch"), "dtype": ("float16", "float16"),
    "observations": ("13,000", 13000), "features": ("40", 40), "other_convention": (None, False),
    "args": ('{"n": 3}', '{"n": 3}'), "input_size": ("1,784", "1,784"),
    "dtypes": ("float16,long", ["float16", "long"]), "depth": ("2", 2), "base": (None, True),
    "memory": (None, True), "flops": (None, True), "batch_size": ("8", 8),
    "context": ("4096", 4096), "quant": ("Q4_K_M,nf4", ["Q4_K_M", "nf4"]),
    "kv_dtype": ("q8_0", "q8_0"), "fit": ("24GiB", "24GiB"), "fit_for": ("training", "training"),
    "lora": ("r=8,targets=dense", "r=8,targets=dense"), "lora_base": ("nf4", "nf4"),
    "gpus": ("8", 8), "zero": ("2", 2), "fsdp": ("full", "full"),
    "offload": ("optimizer,params", ["optimizer", "params"]), "precision": ("fp32", "fp32"),
    "optimizer": ("adafactor", "adafactor"), "checkpointing": ("full", "full"),
    "flash_attention": (None, True),
}
LLAMA = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96,
         "vocab_size": 100}


def count_parser() -> argparse.ArgumentParser:
    parser = build_parser(with_lab=False)
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["count"]


def flags() -> dict[str, str]:
    """Flag → destination of every optional argument of ``paramlab count``."""
    return {flag: action.dest for action in count_parser()._actions
            for flag in action.option_strings}


def test_every_flag_is_an_option_and_every_option_a_flag():
    fields = {f.name for f in dataclasses.fields(CountOptions)}
    counted = {flag: dest for flag, dest in flags().items() if flag not in PRESENTATION}
    assert set(counted.values()) == fields
    assert len(counted) == len(fields)  # one flag each
    assert set(SAMPLES) == fields


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_option_reaches_the_count_from_the_cli_and_from_python(name):
    flag = next(f for f, dest in flags().items() if dest == name and f not in PRESENTATION)
    text, value = SAMPLES[name]
    argv = ["count", "784-10-10-3", flag] + ([] if text is None else [text])
    from_cli = CountOptions.from_namespace(build_parser(with_lab=False).parse_args(argv))
    assert from_cli == CountOptions(**{name: value}) != CountOptions()
    assert CountOptions.from_keywords({name: value}) == from_cli


def test_context_reaches_the_kv_cache_from_python_as_from_the_cli(capsys, tmp_path):
    summary = paramlab.count(LLAMA, memory=True, context=4096)
    cache = summary.to_dict()["memory"]["language_model"]
    # 2 layers × (K + V) × 2 kv heads × 16 dims × 4,096 tokens × 2 bytes
    assert cache["kv_cache_bytes"]["float16/bfloat16"] == 2 * 2 * 2 * 16 * 4096 * 2
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA))
    assert main(["count", str(path), "--memory", "--context", "4096", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["memory"]["language_model"] == cache


def test_an_unknown_keyword_is_refused_naming_the_options():
    with pytest.raises(paramlab.ParamlabError) as caught:
        paramlab.count("784-10-10-3", contxt=4096)
    message = str(caught.value)
    assert "unknown option 'contxt'" in message and "Did you mean 'context'?" in message
    assert all(name in message for name in SAMPLES)
    assert paramlab.count("784-10-10-3", depth=1).total == 7993  # a known one is taken
