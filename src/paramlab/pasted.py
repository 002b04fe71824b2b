"""Read a model summary as users paste it: Keras 3's box table, Keras 2's ASCII table, or
torchinfo's tree, into rows of (name, type, output shape, Param #) and the printed totals.

Pasted text is untrusted and often damaged: markdown fences, ``>`` quote markers, tabs for
spaces, cells wrapped over several lines (Keras 3 wraps long names and ``Connected to``
lists; tf.keras puts each further input on a line of its own), lines a narrow terminal cut in
two. Those are repaired; anything else is a one-line :class:`PastedSummaryError` naming the
line and column and what was expected. Time and memory are bounded by :data:`MAX_CHARS` and
:data:`MAX_ROWS`, never by anything the text claims.

Formats, as printed by the versions checked: Keras 3.15.1 ``model.summary()``; tf.keras 2.x
``model.summary()`` (``Layer (type)``/``=====``/``_____`` with an optional ``Connected to``
column, e.g. TensorFlow 2.8's ``keras/utils/layer_utils.py`` ``print_summary``); torchinfo 1.8.0
``summary()`` (``Layer (type:depth-idx)`` and optional ``Input Shape`` column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from paramlab.errors import ParamlabError
from paramlab.layers.base import Shape

MAX_CHARS = 1_000_000
"""The longest text read: a summary of 5,000 rows fits in well under a megabyte."""
MAX_ROWS = 5_000
"""The most layer rows explained; more is a refusal, not a partial answer."""

Source = Literal["keras3", "keras2", "torchinfo"]


class PastedSummaryError(ParamlabError, ValueError):
    """The text is not a summary table paramlab can read; names the line and column."""


@dataclass(frozen=True)
class PastedRow:
    """One layer row as printed. Shapes drop the batch axis; ``None`` is an unknown axis."""

    line: int  # 1-based line of the pasted text where the row starts
    name: str
    type: str
    output_shapes: tuple[Shape, ...]  # empty when printed as "multiple" or "?"
    params: int | None  # None where torchinfo prints "--" or "(recursive)"
    connected_to: tuple[str, ...] = ()  # functional Keras models: the layers feeding this one
    input_shapes: tuple[Shape, ...] = ()  # torchinfo's "Input Shape" column, when shown
    depth: int = 0  # torchinfo's nesting depth (0: the model itself)
    shared: bool = False  # torchinfo's "(recursive)": a module called again, counted once

    @property
    def output_shape(self) -> Shape | None:
        return self.output_shapes[0] if len(self.output_shapes) == 1 else None


@dataclass(frozen=True)
class PastedTotals:
    """The totals printed under the table; None where the paste has no such line."""

    total: int | None = None
    trainable: int | None = None
    non_trainable: int | None = None
    optimizer: int | None = None


@dataclass(frozen=True)
class PastedSummary:
    source: Source
    model_name: str
    rows: tuple[PastedRow, ...]
    totals: PastedTotals


# ----------------------------------------------------------------------------- cleaning
_QUOTE = re.compile(r"^(\s*>)+ ?")
_BOX = "┏┳┓┃┡╇┩│├┼┤└┴┘━─"


def _clean(text: str) -> list[str]:
    """Lines without quote markers, fences, tabs and trailing spaces (numbering kept)."""
    lines = []
    for raw in text.splitlines():
        line = _QUOTE.sub("", raw).replace("\t", "    ").rstrip()
        lines.append("" if line.lstrip().startswith(("```", "~~~")) else line)
    return lines


def _check_size(text: str, where: str) -> None:
    if len(text) > MAX_CHARS:
        raise PastedSummaryError(
            f"{where}: {len(text):,} characters is more than the {MAX_CHARS:,} a pasted "
            "summary is read up to; paste the table and its totals only"
        )


# ----------------------------------------------------------------------------- cells
_INT = re.compile(r"^\d{1,3}(,\d{3})*$|^\d+$")


def _count(cell: str, where: str) -> int | None:
    text = cell.replace(" ", "")
    if text in ("--", "(recursive)", "-"):
        return None
    if not _INT.match(text) or len(text) > 30:
        raise PastedSummaryError(f"{where}: expected a parameter count such as 7,850; "
                                 f"found {cell.strip()[:40]!r}")
    return int(text.replace(",", ""))


def _dim(token: str, where: str) -> int | None:
    token = token.strip()
    if token in ("None", "?", "-1", ""):
        return None
    if not token.isdigit() or len(token) > 15:
        raise PastedSummaryError(f"{where}: expected a dimension (an integer or None) in a "
                                 f"shape; found {token[:40]!r}")
    return int(token)


def _shapes(cell: str, where: str) -> tuple[Shape, ...]:
    """``(None, 28, 28, 10)``, ``[1, 10]``, ``[(None, 40)]``, ``[(None, 10), (None, 5)]``."""
    text = cell.strip()
    if text in ("multiple", "?", "--", "-", ""):
        return ()
    inner = re.findall(r"[\[(]([^\[\]()]*)[\])]", text)
    if not inner or text[0] not in "[(" or text[-1] not in "])":
        raise PastedSummaryError(f"{where}: expected a shape such as (None, 10) or [1, 10]; "
                                 f"found {text[:40]!r}")
    shapes = []
    for group in inner:
        dims = [_dim(t, where) for t in group.split(",") if t.strip()]
        shapes.append(tuple(dims[1:]))  # the first axis is the batch
    return tuple(shapes)


def _take_bracketed(text: str, start: int) -> int:
    """End index of the balanced bracket expression starting at ``start`` (or the word)."""
    if text[start] not in "[(":
        end = start
        while end < len(text) and not text[end].isspace():
            end += 1
        return end
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "[(":
            depth += 1
        elif text[i] in "])":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def _tokens(text: str) -> list[tuple[int, str]]:
    """(column, token) pairs: bracketed shapes stay whole, other tokens split on spaces."""
    tokens, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        end = _take_bracketed(text, i)
        tokens.append((i, text[i:end]))
        i = end
    return tokens


# ----------------------------------------------------------------------------- Keras rows
# tf.keras cuts the first column at its width, type included: "batch_normalization (BatchNo".
_NAME_TYPE = re.compile(r"^\s*(?P<name>\S+?)\s*\((?P<type>[A-Za-z_][\w.]*)\)?\s*")


def _keras_row(number: int, text: str, columns: int) -> PastedRow:
    """``name (Type)  shape  count  [connected to …]`` from one (joined) row text."""
    where = f"line {number}"
    match = _NAME_TYPE.match(text)
    if match is None:
        raise PastedSummaryError(f"{where}, column 1: expected a layer as 'name (Type)'; "
                                 f"found {text.strip()[:40]!r}")
    rest = text[match.end():]
    tokens = _tokens(rest)
    if len(tokens) < 2:
        column = match.end() + 1
        raise PastedSummaryError(f"{where}, column {column}: expected an output shape and a "
                                 f"Param # after {match.group(0).strip()!r}")
    shape_col, shape = tokens[0]
    count_col, count = tokens[1]
    inputs = tuple(_INPUT.findall(" ".join(t for _, t in tokens[2:])))
    if columns < 4 and len(tokens) > 2:
        raise PastedSummaryError(f"{where}, column {match.end() + tokens[2][0] + 1}: "
                                 f"unexpected text {tokens[2][1][:40]!r} after the Param #")
    return PastedRow(
        line=number, name=match.group("name"), type=match.group("type"),
        output_shapes=_shapes(shape, f"{where}, column {match.end() + shape_col + 1}"),
        params=_count(count, f"{where}, column {match.end() + count_col + 1}"),
        connected_to=inputs,
    )


# ``dense_a[0][0]`` (Keras 3, tf.keras ≤ 2.8) or ``['dense_a[0][0]', …]`` (tf.keras ≥ 2.9):
# a layer name with its node and tensor indices.
_INPUT = re.compile(r"([^\s\[\]',]+)\[\d+\]\[\d+\]")


def _box_cells(line: str) -> list[str]:
    return [c.strip() for c in re.split("[│┃]", line)[1:-1]]


def _keras3_rows(lines: list[str], header: int) -> list[tuple[int, str]]:
    """Rows of a box table: cells of continuation lines joined to the row's cells."""
    columns = len(_box_cells(lines[header]))
    if columns < 3:
        raise PastedSummaryError(f"line {header + 1}: expected the columns Layer (type), "
                                 f"Output Shape and Param # between ┃ marks; found {columns}")
    rows: list[tuple[int, list[str]]] = []
    starts = True  # a row starts after the header's rule and after each ├ rule
    for number in range(header + 1, len(lines)):
        line = lines[number].strip()
        if line.startswith("└"):
            break
        if not line.startswith(("│", "┃")):
            starts = starts or line.startswith(("├", "┡"))
            continue
        cells = _box_cells(line)
        if len(cells) != columns:
            raise PastedSummaryError(f"line {number + 1}: expected {columns} cells between "
                                     f"│ marks; found {len(cells)}")
        if starts or not rows:
            rows.append((number + 1, cells))
            if len(rows) > MAX_ROWS:
                raise _too_many(number + 1)
        else:  # a cell Keras wrapped onto the next line
            joined = [f"{a} {b}".strip() for a, b in zip(rows[-1][1], cells, strict=True)]
            rows[-1] = (rows[-1][0], joined)
        starts = False
    return [(n, "  ".join(c[:2]) + "  " + c[2].replace(" ", "") + "  " + " ".join(c[3:]))
            for n, c in rows]


def _keras2_rows(lines: list[str], header: int) -> list[tuple[int, str]]:
    """Rows of an ASCII table; a line holding only inputs continues ``Connected to``."""
    rows: list[tuple[int, str]] = []
    for number in range(header + 1, len(lines)):
        line = lines[number]
        stripped = line.strip()
        if not stripped or set(stripped) <= set("=_-"):
            if rows and set(stripped) == {"="}:
                break  # the closing rule before the totals
            continue
        if stripped.startswith(("Total params", "Trainable params")):
            break
        if _NAME_TYPE.match(stripped) is None and rows and (
                "[" in stripped or _incomplete(rows[-1][1])):
            rows[-1] = (rows[-1][0], f"{rows[-1][1]}  {stripped}")
        else:
            rows.append((number + 1, stripped))
    return rows


def _incomplete(text: str) -> bool:
    """A row a narrow terminal cut before its Param #: the next line carries the rest."""
    match = _NAME_TYPE.match(text)
    return match is not None and len(_tokens(text[match.end():])) < 2


# ----------------------------------------------------------------------------- torchinfo
_TORCH_NAME = re.compile(r"^[\s│├└─|`]*?(?P<type>[A-Za-z_][\w.]*)(: (?P<depth>\d+)-\d+)?\s")


def _torch_columns(header: str) -> list[str]:
    return [c.strip() for c in re.split(r"\s{2,}", header.strip())][1:]


def _torch_rows(lines: list[str], header: int) -> list[PastedRow]:
    columns = _torch_columns(lines[header])
    rows: list[PastedRow] = []
    for number in range(header + 1, len(lines)):
        line = lines[number]
        stripped = line.strip()
        if not stripped or set(stripped) <= set("=-"):
            if rows and set(stripped) == {"="}:
                break
            continue
        if stripped.startswith(("Total params", "Trainable params")):
            break
        rows.append(_torch_row(number + 1, line + " ", columns))
        if len(rows) > MAX_ROWS:
            raise _too_many(number + 1)
    return rows


def _torch_row(number: int, line: str, columns: list[str]) -> PastedRow:
    match = _TORCH_NAME.match(line)
    if match is None:
        raise PastedSummaryError(f"line {number}, column 1: expected a module as "
                                 f"'├─Type: depth-index'; found {line.strip()[:40]!r}")
    tokens = [t for _, t in _tokens(line[match.end():])]
    if len(tokens) != len(columns):
        raise PastedSummaryError(
            f"line {number}, column {match.end() + 1}: expected {len(columns)} values "
            f"({', '.join(columns)}) after {match.group('type')!r}; found {len(tokens)}")
    cells = dict(zip(columns, tokens, strict=True))
    where = f"line {number}"
    return PastedRow(
        line=number, name=match.group("type"), type=match.group("type"),
        output_shapes=_shapes(cells.get("Output Shape", "--"), where),
        params=_count(cells.get("Param #", "--"), where),
        input_shapes=_shapes(cells.get("Input Shape", "--"), where),
        depth=int(match.group("depth") or 0),
        shared=cells.get("Param #") == "(recursive)",
    )


# ----------------------------------------------------------------------------- totals
_TOTAL = re.compile(r"^\s*(Total|Trainable|Non-trainable|Optimizer) params:\s*(\d[\d,]*)")
_MODEL = re.compile(r'^\s*Model: "?([^"]*)"?\s*$')


def _totals(lines: list[str]) -> PastedTotals:
    found: dict[str, int] = {}
    for line in lines:
        match = _TOTAL.match(line)
        if match and len(match.group(2)) < 30:
            key = match.group(1).lower().replace("-", "_")
            found.setdefault(key, int(match.group(2).replace(",", "")))
    return PastedTotals(found.get("total"), found.get("trainable"),
                        found.get("non_trainable"), found.get("optimizer"))


def _too_many(number: int) -> PastedSummaryError:
    return PastedSummaryError(f"line {number}: more than {MAX_ROWS:,} layer rows; paramlab "
                              "explains tables of up to that many rows")


def _join_cut_lines(lines: list[str]) -> list[str]:
    """A box line a narrow terminal cut in two: joined where it does not end on a box mark.

    The line numbers of later lines stay those of the paste (the joined part is left empty).
    """
    out = list(lines)
    for i in range(len(out) - 1):
        line = out[i].strip()
        if line and line[0] in _BOX and line[-1] not in _BOX and out[i + 1].strip():
            out[i + 1] = out[i].rstrip() + out[i + 1].strip()
            out[i] = ""
    return out


def parse_summary(text: str, where: str = "<text>") -> PastedSummary:
    """The rows and totals of the first summary table in ``text``."""
    _check_size(text, where)
    lines = _clean(text)
    header = next((i for i, line in enumerate(lines) if "Layer (type" in line), None)
    if header is None:
        raise PastedSummaryError(
            f"{where}: no summary table found: expected a header line with 'Layer (type)' "
            "(Keras model.summary()) or 'Layer (type:depth-idx)' (torchinfo summary())")
    name_match = next((m for m in map(_MODEL.match, lines[:header]) if m), None)
    model_name = name_match.group(1) if name_match else ""
    try:
        summary = _parse_table(lines, header, model_name)
    except PastedSummaryError as exc:
        raise PastedSummaryError(f"{where}: {exc}") from None
    if not summary.rows:
        raise PastedSummaryError(f"{where}: line {header + 1}: the table has a header but "
                                 "no layer rows")
    return summary


def _parse_table(lines: list[str], header: int, model_name: str) -> PastedSummary:
    head = lines[header]
    totals = _totals(lines[header:])
    if "type:depth-idx" in head:
        rows = _torch_rows(lines, header)
        return PastedSummary("torchinfo", model_name or (rows[0].type if rows else ""),
                             tuple(rows), totals)
    if "┃" in head:
        source: Source = "keras3"
        texts = _keras3_rows(_join_cut_lines(lines), header)
        columns = len(_box_cells(head))
    else:
        source = "keras2"
        texts = _keras2_rows(lines, header)
        columns = 4 if "Connected to" in head else 3
    if len(texts) > MAX_ROWS:
        raise _too_many(texts[MAX_ROWS][0])
    return PastedSummary(source, model_name,
                         tuple(_keras_row(n, t, columns) for n, t in texts), totals)
