"""The one-line architecture language: Keras layer names and arguments, chained with ``>``.

Examples::

    input(28, 28, 1) > conv2d(10, 3, padding="same") > conv2d(10, 3) > flatten > dense(3)
    input(40) > dense(64, activation="relu") * 3 > dense(1)
    input(100, 8) > (lstm(32, return_sequences=true) > dropout(0.2)) * 2 > dense(1)
    input(50) > embedding(1000, 16) > bidirectional(lstm(8)) > dense(2)
    input(64, 64, 3) > random_flip > resizing(32, 32) > conv2d(8, 3) > flatten > dense(2)
    input(20, 8) > rnn(lstm_cell(16)) > dense(1)
    input(10, 32) > group_query_attention(8, 4, 2) > einsum_dense("abc,cd->abd", (10, 4))

Every Keras layer with a rule can be written, preprocessing and augmentation layers included;
``Lambda``, the framework wrappers and Keras op nodes exist only in model JSON (they hold code
or come from ``keras.ops``), and the DSL says so.

A residual block names tensors with ``name = chain`` and merges them with ``[a, b] > layer``;
statements are separated by ``;`` or new lines::

    x = input(32, 32, 64)
    y = x > conv2d(64, 3, padding="same") > batch_normalization > relu
    y = y > conv2d(64, 3, padding="same") > batch_normalization
    [x, y] > add > relu > global_average_pooling2d > dense(10)

Grammar (informal)::

    program   := statement ((";" | newline) statement)*
    statement := [NAME "="] source (">" element)*
    source    := "[" NAME ("," NAME)* "]" | NAME | element
    element   := (layer | "(" element (">" element)* ")") ["*" INT]
    layer     := IDENT ["(" [arg ("," arg)*] ")"]
    arg       := [IDENT "="] value
    value     := number | string | true | false | none | IDENT | layer
               | "(" values ")" | "[" values "]"

Layer names are case- and underscore-insensitive. A bare identifier as an argument value is
a string (``activation=relu``); an identifier followed by ``(`` is a nested layer
(``bidirectional(lstm(8))``). A statement that starts with a layer other than ``input``
continues from where the previous statement ended. ``NAME.1`` picks output 1 of a
multi-output layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from paramlab.errors import SpecError
from paramlab.graph import Call, ModelSpec, TensorRef
from paramlab.layers.base import LayerSpec, lookup_key

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r]+|\#[^\n]*)
  | (?P<newline>\n)
  | (?P<number>[+-]?(?:\d+\.\d*|(?<![\w)\]])\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>[()\[\],=>*;.])
    """,
    re.VERBOSE,
)
_CONSTANTS = {"true": True, "false": False, "none": None, "null": None}
# Limits that keep bad input from exhausting memory or the stack (each raises a SpecError
# at its column): far above real networks — the deepest Keras applications have ~1,000
# layers, and a transformer written out layer by layer a few thousand.
MAX_LAYERS = 20_000  # layer calls in one spec, repetitions included
MAX_NESTING = 50  # parentheses, brackets and layers nested inside each other


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, ident, op, newline, end
    text: str
    column: int

    @property
    def value(self) -> Any:
        if self.kind == "number":
            number = float(self.text)
            is_int = re.fullmatch(r"[+-]?\d+", self.text) is not None
            return int(self.text) if is_int else number
        if self.kind == "string":
            return self.text[1:-1]
        return self.text


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise SpecError(f"unexpected character {text[position]!r}", text, position)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over the token list; every error carries its column."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.calls: list[Call] = []
        self.names: dict[str, TensorRef] = {}
        self.last: TensorRef | None = None
        self.nesting = 0

    # --- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def at(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def take(self) -> Token:
        token = self.tok
        self.pos += 1
        return token

    def expect(self, text: str, what: str) -> Token:
        if not self.at(text):
            self.fail(f"expected {what}")
        return self.take()

    def fail(self, message: str, token: Token | None = None) -> None:
        token = token or self.tok
        found = "the end of the spec" if token.kind == "end" else repr(token.text)
        if token.kind == "newline":
            found = "a line break"
        raise SpecError(
            f"{message} at column {token.column + 1}, found {found}", self.text, token.column
        )

    def enter(self) -> None:
        """One level deeper (a group, a tuple, a nested layer); refused past MAX_NESTING,
        before Python's own recursion limit ends the parse in a RecursionError."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.fail(f"the spec nests deeper than {MAX_NESTING} levels")

    def leave(self) -> None:
        self.nesting -= 1

    def skip_separators(self) -> None:
        while self.tok.kind == "newline" or self.at(";"):
            self.take()

    # --- grammar
    def program(self) -> ModelSpec:
        self.skip_separators()
        if self.tok.kind == "end":
            raise SpecError(
                "the spec is empty; write layers such as input(784) > dense(10)", self.text, 0
            )
        while self.tok.kind != "end":
            self.statement()
            if self.tok.kind not in ("end", "newline") and not self.at(";"):
                self.fail("expected '>', ';' or the end of the spec")
            self.skip_separators()
        return ModelSpec(self.calls, source=self.text, origin="dsl")

    def statement(self) -> None:
        target = None
        if self.tok.kind == "ident" and self.peek().kind == "op" and self.peek().text == "=":
            target = self.take().text
            self.take()
        self.source()
        while self.at(">"):
            self.take()
            self.element()
        if target is not None:
            self.names[target] = self._last_or_fail()

    def _last_or_fail(self) -> TensorRef:
        if self.last is None:
            self.fail("expected a layer")
        assert self.last is not None
        return self.last

    def source(self) -> None:
        if self.at("["):
            open_bracket = self.take()
            refs = [self.reference()]
            while self.at(","):
                self.take()
                refs.append(self.reference())
            self.expect("]", "',' or ']' closing the list of inputs")
            if not self.at(">"):
                self.fail("expected '>' and a layer after a list of inputs", open_bracket)
            self.take()
            self.element(first_inputs=refs)
        elif self.tok.kind == "ident" and self.tok.text in self.names and not self._called():
            self.last = self.reference()
        else:
            self.element()

    def _called(self) -> bool:
        nxt = self.peek()
        return nxt.kind == "op" and nxt.text == "("

    def reference(self) -> TensorRef:
        token = self.tok
        if token.kind != "ident":
            self.fail("expected the name of a tensor defined earlier")
        if token.text not in self.names:
            known_names = ", ".join(self.names) or "none yet"
            self.fail(f"unknown tensor {token.text!r} (defined: {known_names})")
        self.take()
        ref = self.names[token.text]
        if self.at("."):
            self.take()
            if self.tok.kind != "number" or not isinstance(self.tok.value, int):
                self.fail("expected an output number after '.'")
            ref = TensorRef(ref.layer, ref.call, self.take().value)
        return ref

    def element(self, first_inputs: list[TensorRef] | None = None) -> None:
        """A layer or a parenthesized group, optionally repeated with ``* n``."""
        start = self.pos
        calls_before = len(self.calls)
        self._element_once(first_inputs)
        if not self.at("*"):
            return
        self.take()
        count_token = self.tok
        if (
            count_token.kind != "number"
            or not isinstance(count_token.value, int)
            or count_token.value < 1
        ):
            self.fail("expected a positive whole number of repetitions after '*'")
        per_copy = len(self.calls) - calls_before
        if calls_before + per_copy * count_token.value > MAX_LAYERS:
            self.fail(f"'* {count_token.value:,}' would make "
                      f"{calls_before + per_copy * count_token.value:,} layers; a spec may "
                      f"have at most {MAX_LAYERS:,}", count_token)
        self.take()
        end = self.pos
        for _ in range(count_token.value - 1):
            self.pos = start
            self._element_once(None)
        self.pos = end

    def _element_once(self, inputs: list[TensorRef] | None) -> None:
        if self.at("("):
            self.enter()
            self.take()
            self.element(inputs)
            while self.at(">"):
                self.take()
                self.element()
            self.expect(")", "')' closing the group")
            self.leave()
            return
        if len(self.calls) >= MAX_LAYERS:
            self.fail(f"a spec may have at most {MAX_LAYERS:,} layers")
        spec = self.layer()
        call = Call(spec, inputs)
        if lookup_key(spec.type) in ("input", "inputlayer"):
            call = Call(spec, [])  # an input starts a new tensor; it never chains
        elif inputs is None and self.last is not None:
            call = Call(spec, [self.last])
        self.calls.append(call)
        self.last = TensorRef(self._name_placeholder(spec), 0, 0)

    def _name_placeholder(self, spec: LayerSpec) -> str:
        """Give every DSL layer a name now, so later statements can refer to it."""
        if spec.name is None:
            spec.name = f"__auto_{len(self.calls)}"
        return spec.name

    def layer(self) -> LayerSpec:
        token = self.tok
        if token.kind != "ident":
            self.fail("expected a layer name")
        if token.text.lower() in _CONSTANTS:
            self.fail("expected a layer name")
        self._refuse_json_only(token)
        self.take()
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if self.at("("):
            self.take()
            if not self.at(")"):
                self.argument(args, kwargs)
                while self.at(","):
                    self.take()
                    if self.at(")"):
                        break
                    self.argument(args, kwargs)
            self.expect(")", "',' or ')' closing the argument list")
        if (
            lookup_key(token.text) in ("input", "inputlayer")
            and args
            and all(isinstance(a, int) or a is None for a in args)
        ):
            args = [tuple(args)]
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        if name is not None and not isinstance(name, str):
            self.fail("expected a string for name=", token)
        if not isinstance(trainable, bool):
            self.fail("expected true or false for trainable=", token)
        return LayerSpec(token.text, tuple(args), kwargs, name, trainable, token.column)

    def _refuse_json_only(self, token: Token) -> None:
        """Lambda and the framework wrappers hold code: they come only from model JSON."""
        from paramlab.layers.base import get_layer_type

        try:
            reason = get_layer_type(token.text).json_only
        except SpecError:
            return  # unknown names are reported with a suggestion once the spec is parsed
        if reason:
            raise SpecError(f"{reason} (column {token.column + 1})", self.text, token.column)

    def argument(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        if self.tok.kind == "ident" and self.peek().kind == "op" and self.peek().text == "=":
            key = self.take().text
            self.take()
            if key in kwargs:
                self.fail(f"argument {key!r} given twice")
            kwargs[key] = self.value()
            return
        if kwargs:
            self.fail("positional argument after a keyword argument")
        args.append(self.value())

    def value(self) -> Any:
        token = self.tok
        if token.kind in ("number", "string"):
            self.take()
            return token.value
        if token.kind == "ident":
            if token.text.lower() in _CONSTANTS:
                self.take()
                return _CONSTANTS[token.text.lower()]
            if self._called():
                self.enter()
                layer = self.layer()
                self.leave()
                return layer
            self.take()
            return token.text
        if self.at("(") or self.at("["):
            self.enter()
            closer = ")" if self.take().text == "(" else "]"
            items: list[Any] = []
            while not self.at(closer):
                items.append(self.value())
                if not self.at(","):
                    break
                self.take()
            self.expect(closer, f"',' or {closer!r}")
            self.leave()
            return tuple(items)
        self.fail("expected a value")
        return None


def parse_dsl(text: str) -> ModelSpec:
    """Parse the one-line language into a :class:`ModelSpec`; errors carry a column."""
    model = _Parser(text).program()
    _drop_placeholder_names(model)
    return model


def _drop_placeholder_names(model: ModelSpec) -> None:
    """Turn placeholder names back into Keras-style automatic names (``dense_1``)."""
    renames: dict[str, str] = {}
    used = {
        c.layer.name for c in model.calls if c.layer.name and not c.layer.name.startswith("__auto_")
    }
    counters: dict[str, int] = {}
    from paramlab.graph import snake_case
    from paramlab.layers.base import get_layer_type

    for call in model.calls:
        spec = call.layer
        if spec.name is None or not spec.name.startswith("__auto_"):
            continue
        try:
            base = snake_case(get_layer_type(spec.type).name)
        except SpecError as exc:
            raise SpecError(str(exc), model.source, spec.column) from None
        index = counters.get(base, 0)
        name = base if index == 0 else f"{base}_{index}"
        while name in used:
            index += 1
            name = f"{base}_{index}"
        counters[base] = index + 1
        used.add(name)
        renames[spec.name] = name
        spec.name = name
    for call in model.calls:
        if call.inputs:
            call.inputs = [
                TensorRef(renames.get(r.layer, r.layer), r.call, r.index) for r in call.inputs
            ]
