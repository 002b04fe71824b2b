"""Options declared once: a config dataclass field carries its default, its help, its
command-line flag and its parser, and everything else is generated from it.

``paramlab count``'s flags come from :class:`paramlab.options.CountOptions`' fields and every
lab study's flags from its config dataclass (nested configs such as the data and training
options included), so a default, a help text or a flag exists in exactly one place (tyro and
simple-parsing build argparse from dataclasses the same way). Validation names a field as the
caller spelled it: :class:`OptionError` carries the field's name and the CLI rewrites it as the
flag (``--top-k must be at least 1``), while Python callers read the keyword
(``top_k must be at least 1``).

Only the standard library: the count CLI imports this at start-up.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import MISSING, Field, field
from typing import Any, TypeVar

from paramlab.errors import ParamlabError

T = TypeVar("T")


class OptionError(ParamlabError):
    """A config value out of its range. ``str()`` names the field as a Python keyword;
    :meth:`as_flag` names it as the command line spells it."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"{name} {problem}")
        self.name = name
        self.problem = problem

    def as_flag(self, flags: dict[str, str]) -> ParamlabError:
        flag = flags.get(self.name)
        return ParamlabError(f"{flag} {self.problem}") if flag else self


def option(default: Any = MISSING, *, help: str = "", flag: str | None = None,
           default_factory: Callable[[], Any] | Any = MISSING, same_as: str | None = None,
           group: str | None = None, **argparse_options: Any) -> Any:
    """A dataclass field with its command-line flag. ``flag`` is ``--name`` (or a bare
    ``NAME`` for a positional argument); ``argparse_options`` are ``add_argument``'s
    ``type``, ``choices``, ``action``, ``metavar``. ``same_as``: a field with no flag of its
    own that the CLI fills from another field's flag (the data seed from ``--seed``).
    ``group``: the ``--help`` section it is listed under."""
    metadata = {"flag": flag, "help": help, "same_as": same_as, "group": group,
                "argparse": argparse_options}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def require(ok: bool, name: str, problem: str) -> None:
    """Raise :class:`OptionError` for field ``name`` unless ``ok``."""
    if not ok:
        raise OptionError(name, problem)


def _flag(option_field: Field[Any]) -> str | None:
    return option_field.metadata.get("flag") if option_field.metadata else None


def _dest(path: str) -> str:
    """The argparse destination of the field at ``path`` (``train.lr`` → ``train__lr``):
    unique even where two nested configs have fields of the same name."""
    return path.replace(".", "__")


def _walk(config: Any, prefix: str = "") -> Iterator[tuple[str, Field[Any], Any]]:
    """(dotted path, field, value) for every field of ``config`` and its nested configs."""
    for option_field in dataclasses.fields(config):
        value = getattr(config, option_field.name)
        path = f"{prefix}{option_field.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            yield from _walk(value, f"{path}.")
        else:
            yield path, option_field, value


def flags(config: Any) -> dict[str, str]:
    """Field name → flag, for every field of ``config`` (nested configs included) that has
    a flag; nested fields are listed under their own name."""
    found = {}
    for path, option_field, _ in _walk(config):
        flag = _flag(option_field)
        if flag:
            found[path.rsplit(".", 1)[-1]] = flag
    return found


def add_options(parser: argparse.ArgumentParser, defaults: Any) -> None:
    """One argument per flagged field of ``defaults`` (a config instance: its values are the
    defaults shown), nested configs included."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for path, option_field, value in _walk(defaults):
        flag = _flag(option_field)
        if not flag:
            continue
        meta = option_field.metadata
        title = meta.get("group")
        target: argparse.ArgumentParser | argparse._ArgumentGroup = parser
        if title:
            target = groups.setdefault(title, parser.add_argument_group(title))
        extra = dict(meta.get("argparse", {}))
        help_text = meta["help"]
        if isinstance(value, str | int | float) and not isinstance(value, bool) and \
                "default" not in help_text:
            help_text = f"{help_text} (default {value})".lstrip()
        if flag.startswith("-"):
            if not {"metavar", "choices", "action"} & set(extra):
                extra["metavar"] = flag.lstrip("-").upper().replace("-", "_")
            target.add_argument(flag, dest=_dest(path), default=value, help=help_text,
                                **extra)
        else:
            target.add_argument(_dest(path), metavar=flag, help=meta["help"], **extra)


def from_namespace(cls: type[T], ns: argparse.Namespace, defaults: T | None = None) -> T:
    """The config the command line asked for, built by field name from ``ns``; fields with
    no flag keep ``defaults``' values (or take their ``same_as`` flag's)."""
    base = defaults if defaults is not None else cls()
    return _build(base, ns, "")  # type: ignore[no-any-return]


def _build(base: Any, ns: argparse.Namespace, prefix: str) -> Any:
    values = {}
    for option_field in dataclasses.fields(base):
        if not option_field.init:
            continue
        path = f"{prefix}{option_field.name}"
        value = getattr(base, option_field.name)
        same_as = option_field.metadata.get("same_as")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = _build(value, ns, f"{path}.")
        elif _flag(option_field) and hasattr(ns, _dest(path)):
            value = getattr(ns, _dest(path))
        elif same_as and hasattr(ns, _dest(same_as)):
            value = getattr(ns, _dest(same_as))
        values[option_field.name] = value
    return type(base)(**values)


def from_keywords(cls: type[T], keywords: dict[str, Any], caller: str) -> T:
    """``cls(**keywords)``, an unknown keyword answered with the valid ones (and the
    closest, for a typo)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = [name for name in keywords if name not in names]
    if unknown:
        close = difflib.get_close_matches(unknown[0], names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ParamlabError(f"{caller} got an unknown option {unknown[0]!r}.{hint} "
                            f"Options: {', '.join(names)}")
    return cls(**keywords)


def from_dict(cls: type[T], values: dict[str, Any], where: str = "") -> T:
    """Build a dataclass from a dict as JSON gives it back — nested dataclasses, tuples and
    tuples of dataclasses included — rejecting unknown keys (nanoGPT's configurator rule: a
    typo must not silently fall back to a default)."""
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ParamlabError(f"unknown {cls.__name__} key(s){where}: {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(known))}")
    hints = typing.get_type_hints(cls)
    return cls(**{name: _typed(hints[name], value, f" in {name!r}")
                  for name, value in values.items()})


def _typed(hint: Any, value: Any, where: str) -> Any:
    """``value`` (from JSON) as the type ``hint`` names: dicts become dataclasses, lists
    become tuples (of dataclasses) where the field is a tuple."""
    nested = _dataclass_in(hint)
    if nested is not None and isinstance(value, dict):
        return from_dict(nested, value, where)
    if isinstance(value, list):
        item = _tuple_item(hint)
        if item is not None:
            return tuple(_typed(item, v, where) for v in value)
        inner = [a for a in typing.get_args(hint) if typing.get_origin(a) is list]
        if inner:
            return [_typed(typing.get_args(inner[0])[0], v, where) for v in value]
        if typing.get_origin(hint) is list and typing.get_args(hint):
            return [_typed(typing.get_args(hint)[0], v, where) for v in value]
    return value


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return hint
    for arg in typing.get_args(hint):
        if dataclasses.is_dataclass(arg) and isinstance(arg, type) and \
                typing.get_origin(hint) in (typing.Union, types.UnionType):
            return arg
    return None


def _tuple_item(hint: Any) -> Any | None:
    """The item type of ``tuple[X, ...]`` (also inside ``| None``); ``Any`` for other
    tuples; None when the hint is not a tuple."""
    candidates = [hint, *typing.get_args(hint)] if typing.get_origin(hint) in (
        typing.Union, types.UnionType) else [hint]
    for candidate in candidates:
        if typing.get_origin(candidate) is tuple:
            args = typing.get_args(candidate)
            return args[0] if len(args) == 2 and args[1] is Ellipsis else Any
    return None


# ------------------------------------------------------------------ option values from text


def int_range(text: str) -> tuple[int, int]:
    """``1..3`` (or a single number) as an inclusive range."""
    lo, sep, hi = text.partition("..")
    try:
        low, high = int(lo), int(hi if sep else lo)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected MIN..MAX such as 1..3; received {text!r}") from None
    return low, high


def float_list(text: str) -> tuple[float, ...]:
    """``0,0.2,0.5`` as a tuple of floats (``""`` is the empty tuple, refused later by the
    config with a message that names the option)."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 0,0.5,1; received {text!r}") from None


def int_list(text: str) -> tuple[int, ...]:
    """``64,512`` as a tuple of integers."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 64,512; received {text!r}") from None


def word_list(text: str) -> tuple[str, ...]:
    """``true,shuffled`` as a tuple of words (checked against the allowed ones by the
    config, which names the option)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def check_list(name: str, values: Sequence[float], *, low: float | None = None,
               high: float | None = None, low_open: bool = False) -> None:
    """Refuse an empty list or a value outside [low, high] (``low_open``: (low, high])."""
    require(bool(values), name, "needs at least one value; received an empty list")
    for value in values:
        below = low is not None and (value <= low if low_open else value < low)
        bracket = "(" if low_open else "["
        require(not below and not (high is not None and value > high), name,
                f"values must be in {bracket}{low}, {'∞' if high is None else high}]; "
                f"received {value:g}")


MAX_GRID_COUNT = 10_000  # a MIN..MAX:COUNT grid longer than this is a typo, not a sweep
DEFAULT_GRID_COUNT = 20  # MIN..MAX without :COUNT


def parse_grid(text: str, option: str = "--dims") -> tuple[int, ...]:
    """The lab's one grid grammar (``--dims``, ``--widths``, ``--features``, ``--n-train``):
    ``10,100,1000``, a single ``200``, or ``MIN..MAX:COUNT``: COUNT values spaced geometrically
    from MIN to MAX and rounded, each at least one above the last (so COUNT distinct values
    when the range holds them); returned ascending, without duplicates."""
    spec = text.replace(" ", "")
    try:
        if ".." in spec:
            low_text, _, rest = spec.partition("..")
            high_text, _, count_text = rest.partition(":")
            low, high = int(low_text), int(high_text)
            count = int(count_text) if count_text else DEFAULT_GRID_COUNT
            if low < 1 or high < low or not 1 <= count <= MAX_GRID_COUNT:
                raise ValueError
            ratio = (high / low) ** (1 / max(1, count - 1))
            values: set[int] = set()
            for i in range(count):  # rounding must not merge neighbours: step up instead
                values.add(min(high, max(round(low * ratio**i), max(values, default=0) + 1)))
        else:
            values = {int(part) for part in spec.split(",") if part}
    except ValueError:
        raise ParamlabError(f"{option}: expected a list such as 2,4,8 or MIN..MAX:COUNT such "
                            f"as 2..300:19 (positive integers, 1 <= MIN <= MAX, COUNT from 1 "
                            f"to {MAX_GRID_COUNT:,}); received {text!r}") from None
    if not values or min(values) < 1:
        raise ParamlabError(f"{option}: needs at least one positive integer; received "
                            f"{text!r}")
    return tuple(sorted(values))




def grid(flag: str) -> Callable[[str], tuple[int, ...]]:
    """The parser of a grid option: a bad grid is one line naming ``flag``."""
    return lambda text: parse_grid(text, flag)
