"""Options declared once (paramlab.fields): flags generated from config fields, configs built
by name from a command line, validation named as the caller spelled it — for a toy config and
for every registered lab experiment."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import pytest

from paramlab import fields
from paramlab.errors import ParamlabError
from paramlab.fields import OptionError, option, require
from paramlab.lab.executors import ExecutorOptions
from paramlab.lab.experiments import registry


@dataclass
class Inner:
    rate: float = option(0.5, flag="--rate", type=float, help="a rate")
    inner_seed: int = option(0, same_as="seed")


@dataclass
class Outer:
    spec: str = option("4-8-1", flag="SPEC", help="a positional argument")
    inner: Inner = option(default_factory=lambda: Inner(rate=0.25))
    top_k: int = option(3, flag="--top-k", type=int, help="how many")
    seed: int = option(0, flag="--seed", type=int)
    internal: str = "kept"  # no flag: not on the command line

    def validate(self) -> None:
        require(self.top_k >= 1, "top_k", f"must be at least 1; received {self.top_k}")


def _parse(argv: list[str]) -> Outer:
    parser = argparse.ArgumentParser()
    fields.add_options(parser, Outer())
    return fields.from_namespace(Outer, parser.parse_args(argv))


def test_flags_build_the_config_by_name_with_nested_defaults_and_same_as() -> None:
    assert _parse(["1-2-3"]) == Outer("1-2-3", Inner(0.25, 0), 3, 0)  # the nested default
    built = _parse(["1-2-3", "--rate", "0.75", "--top-k", "9", "--seed", "7"])
    assert built == Outer("1-2-3", Inner(0.75, 7), 9, 7, "kept")


def test_validation_names_the_keyword_in_python_and_the_flag_on_the_command_line() -> None:
    with pytest.raises(OptionError) as raised:
        Outer(top_k=0).validate()
    assert str(raised.value) == "top_k must be at least 1; received 0"
    as_flag = raised.value.as_flag(fields.flags(Outer()))
    assert str(as_flag) == "--top-k must be at least 1; received 0"


def test_from_keywords_names_the_closest_option() -> None:
    with pytest.raises(ParamlabError, match=r"unknown option 'topk'\. Did you mean 'top_k'"):
        fields.from_keywords(Outer, {"topk": 2}, "study()")


@dataclass(frozen=True)
class Point:
    x: float


@dataclass(frozen=True)
class Holder:
    points: tuple[Point, ...]
    span: tuple[int, int]
    maybe: Point | None = None


def test_from_dict_reads_nested_dataclasses_and_tuples_back_from_json() -> None:
    held = Holder((Point(1.0), Point(2.0)), (1, 3), Point(0.5))
    assert fields.from_dict(Holder, json.loads(json.dumps(dataclasses.asdict(held)))) == held
    with pytest.raises(ParamlabError, match="unknown Holder key"):
        fields.from_dict(Holder, {"points": [], "span": [1, 2], "typo": 1})


def test_list_and_range_parsers_refuse_bad_text() -> None:
    assert fields.int_range("2..5") == (2, 5) and fields.int_range("4") == (4, 4)
    assert fields.float_list("0, 0.5,1") == (0.0, 0.5, 1.0)
    for parse, text in ((fields.int_range, "a..b"), (fields.float_list, "x"),
                        (fields.int_list, "1.5")):
        with pytest.raises(argparse.ArgumentTypeError, match="received"):
            parse(text)
    with pytest.raises(OptionError, match=r"ridge values must be in \[0, ∞\]; received -1"):
        fields.check_list("ridge", (0.0, -1.0), low=0)
    with pytest.raises(OptionError, match="ridge needs at least one value"):
        fields.check_list("ridge", ())


def _flagged(config: Any) -> list[tuple[str, Any]]:
    """(dotted path, value) of every field with a flag."""
    out = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out += [(f"{f.name}.{p}", v) for p, v in _flagged(value)]
        elif (f.metadata or {}).get("flag"):
            out.append((f.name, value))
    return out


@pytest.mark.parametrize("experiment", registry(), ids=lambda e: e.name)
def test_every_flag_of_an_experiment_reaches_its_config_field(experiment: Any) -> None:
    """Each option, set on the command line, changes exactly the field that declares it:
    every CLI option is reachable from Python (the field) and the other way round."""
    defaults = experiment.config()
    parser = argparse.ArgumentParser()
    fields.add_options(parser, defaults)
    dests = {a.dest: a for a in parser._actions if a.dest != "help"}
    paths = _flagged(defaults)
    assert {p.replace(".", "__") for p, _ in paths} == set(dests)
    positional = ["4-8-1" for a in dests.values() if not a.option_strings]
    for path, _ in paths:
        ns = parser.parse_args(positional)
        marker = object()
        setattr(ns, path.replace(".", "__"), marker)
        built = fields.from_namespace(experiment.config, ns)
        owner = built
        for part in path.split(".")[:-1]:
            owner = getattr(owner, part)
        assert getattr(owner, path.split(".")[-1]) is marker, path


def test_executor_options_validate_with_flags() -> None:
    with pytest.raises(OptionError) as raised:
        ExecutorOptions(workers=0).validate()
    assert str(raised.value.as_flag(fields.flags(ExecutorOptions()))) == \
        "--workers must be ≥ 1; received 0"
