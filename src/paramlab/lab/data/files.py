"""User data: CSV, Parquet or .npy files with a target column. Errors name file, column, rows."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from paramlab.errors import DataError, require


def load_table(path: Path, target: str | None) -> tuple[np.ndarray, np.ndarray, str, list[str]]:
    """Features, target, task and feature names; the task is classification for integer
    targets with few distinct values, regression otherwise."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        columns, matrix = _npy(path)
    elif suffix == ".parquet":
        columns, matrix = _parquet(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        columns, matrix = _csv(path)
    else:
        raise DataError(f"{path}: unsupported file type {suffix!r}; use .csv, .parquet or .npy")
    if target is None:
        raise DataError(f"{path}: name the target column with --target (columns: "
                        f"{', '.join(columns[:20])})")
    if target not in columns:
        raise DataError(f"{path}: no target column {target!r}; columns are "
                        f"{', '.join(columns[:30])}")
    _check_finite(path, columns, matrix)
    index = columns.index(target)
    y = matrix[:, index]
    X = np.delete(matrix, index, axis=1)
    names = [c for c in columns if c != target]
    if X.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    integer = np.all(np.equal(np.mod(y, 1), 0))
    classes = np.unique(y)
    task = "classification" if integer and 2 <= len(classes) <= 50 and classes.min() >= 0 else (
        "regression")
    return X, y, task, names


def _csv(path: Path) -> tuple[list[str], np.ndarray]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle, delimiter="\t" if path.suffix == ".tsv" else ","))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read as CSV ({exc})") from None
    if len(rows) < 2:
        raise DataError(f"{path}: needs a header row and at least one data row")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    matrix = np.empty((len(body), len(header)), dtype=np.float64)
    bad: dict[str, list[int]] = {}
    for r, row in enumerate(body, start=2):  # line numbers as an editor shows them
        if len(row) != len(header):
            raise DataError(f"{path}: row {r} has {len(row)} fields; the header has "
                            f"{len(header)}")
        for c, cell in enumerate(row):
            try:
                matrix[r - 2, c] = float(cell) if cell.strip() else math.nan
            except ValueError:
                bad.setdefault(header[c], []).append(r)
    if bad:
        detail = "; ".join(f"{col!r} (rows {_rows(rows_)})" for col, rows_ in bad.items())
        raise DataError(f"{path}: non-numeric values in column(s) {detail}; encode them as "
                        "numbers or drop the columns")
    return header, matrix


def _npy(path: Path) -> tuple[list[str], np.ndarray]:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npy array ({exc})") from None
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{path}: expected a 2-D numeric array; found shape {array.shape} "
                        f"of {array.dtype}")
    return [str(i) for i in range(array.shape[1])], array.astype(np.float64)


def _parquet(path: Path) -> tuple[list[str], np.ndarray]:
    pandas = require("pandas", "lab")
    require("pyarrow", "lab")
    try:
        frame = pandas.read_parquet(path)
    except Exception as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    non_numeric = [c for c in frame.columns if not pandas.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise DataError(f"{path}: non-numeric column(s) {', '.join(map(repr, non_numeric))}")
    return [str(c) for c in frame.columns], frame.to_numpy(dtype=np.float64)


def _check_finite(path: Path, columns: list[str], matrix: np.ndarray) -> None:
    bad = ~np.isfinite(matrix)
    if bad.any():
        col = int(np.argwhere(bad.any(axis=0))[0][0])
        rows = (np.flatnonzero(bad[:, col]) + 2).tolist()  # 1-based, after the header
        raise DataError(f"{path}: column {columns[col]!r} has missing, NaN or infinite values "
                        f"in rows {_rows(rows)}")


def _rows(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:8]))
    return shown + (f" and {len(rows) - 8} more" if len(rows) > 8 else "")
