"""The parsers never crash: arbitrary text yields a summary or a clean ParamlabError."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramlab
from paramlab.errors import ParamlabError
from paramlab.spec.files import parse_mapping

_ALPHABET = st.sampled_from(
    [
        *list("()[]<>=*,;.-+\"' \n#_0123456789"),
        "input",
        "dense",
        "conv2d",
        "lstm",
        "add",
        "flatten",
        "x",
        "y",
        "padding",
        "same",
        "true",
        "none",
        "1e3",
        "-1",
        "1.5",
        ">",
        "*",
    ]
)


def _count_or_clean_error(text: str) -> None:
    try:
        summary = paramlab.count(text)
    except ParamlabError as exc:
        assert str(exc).strip(), "errors must say something"
        assert "\n" not in str(exc), "errors are one line"
        return
    assert summary.total >= 0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_dsl_tokens_never_crash(text: str) -> None:
    _count_or_clean_error(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text: str) -> None:
    if "\x00" in text:
        return
    _count_or_clean_error(text)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 50) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "layers",
                    "type",
                    "input",
                    "inputs",
                    "class_name",
                    "config",
                    "units",
                    "name",
                    "dense",
                    "repeat",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_arbitrary_json_never_crashes(data: object) -> None:
    json.dumps(data)
    try:
        model = parse_mapping(data, "fuzz.json")
        paramlab.count(model)
    except ParamlabError as exc:
        assert "\n" not in str(exc)
