"""Tensor files counted from their headers alone: ``.safetensors`` files, folders with a
``model.safetensors.index.json`` (or one ``.safetensors`` file), and ``.gguf`` files.

The readers (:mod:`.safetensors`, :mod:`.gguf`) return a :class:`~.tensors.TensorFile`;
this module turns it into a :class:`~paramlab.summary.Summary`. Conventions, stated where
the numbers are made:

* What is stored is what is counted: a tied weight that ``save_pretrained`` did not store
  is not counted (as ``model.num_parameters()`` counts it once); ``config.json`` beside the
  file, when present, says which tie transformers would re-create (see :func:`tie_notes`).
* Integer tensors (position ids, counters) and PyTorch BatchNorm running statistics are
  buffers under the torch convention (the default here) and non-trainable under keras.
* Bytes are the format's own: element bits / 8 (safetensors), whole ggml blocks (GGUF).
* Without ``--depth`` each tensor is a row; with it, a tree by dotted name prefix, a row at
  the depth limit folding everything under it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from paramlab.errors import ConfigError
from paramlab.layers.base import Weight, fmt
from paramlab.notes import Note
from paramlab.options import CountOptions
from paramlab.summary import LayerRow, Summary, make_row
from paramlab.tensorfile import StoredTensor, TensorFile

SUFFIXES = (".safetensors", ".gguf", ".safetensors.index.json")
MAX_CONFIG_BYTES = 10_000_000
DIGITS = re.compile(r"(\d+)")


def header_error(path: str, offset: int, message: str) -> ConfigError:
    """The one shape of a header error: file, byte offset, what was wrong and expected."""
    return ConfigError(f"{path}: byte {offset:,}: {message}")


def is_tensor_file(text: str) -> bool:
    """Cheap: a path with a tensor-file suffix, or a folder holding safetensors."""
    if text.lower().endswith(SUFFIXES):
        return True
    try:
        path = Path(text)
        return path.is_dir() and any(path.glob("*.safetensors"))
    except (OSError, ValueError):  # a spec string too long or odd to be a path
        return False


def read_tensor_file(path: Path) -> TensorFile:
    """Dispatch on what ``path`` is: a GGUF file, a safetensors file, an index or a folder."""
    from paramlab.adapters.files.gguf import read_gguf
    from paramlab.adapters.files.safetensors import INDEX_NAME, read_index, read_safetensors

    if path.name.lower().endswith(".safetensors.index.json"):
        path = path.parent
    if path.is_dir():
        if (path / INDEX_NAME).is_file():
            return read_index(path)
        files = sorted(path.glob("*.safetensors"))
        if len(files) != 1:
            names = ", ".join(f.name for f in files[:4]) or "none"
            raise ConfigError(f"{path}: a folder needs {INDEX_NAME} or exactly one "
                              f".safetensors file; found {len(files)} ({names}): name one")
        path = files[0]
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    if path.suffix.lower() == ".gguf":
        return read_gguf(path)
    return read_safetensors(path)


def count_tensor_file(target: Any, convention: str | None,
                      options: CountOptions | None) -> Summary:
    """Rows from the header(s) of ``target``; the file's bytes ride along for the renderers."""
    path = Path(os.fspath(target).strip() if isinstance(target, str) else os.fspath(target))
    tensor_file = read_tensor_file(path)
    depth = options.depth if options is not None else None
    summary = _summary(tensor_file, convention or "torch", depth)
    summary.notes += [*tensor_file.notes, *tie_notes(tensor_file)]
    if options is None or options.other_convention:
        other = "keras" if summary.convention == "torch" else "torch"
        summary.other_factory = lambda: _summary(tensor_file, other, depth)
    return summary


def _summary(tensor_file: TensorFile, convention: str, depth: int | None) -> Summary:
    tensors = tuple(sorted(tensor_file.tensors, key=_natural))
    rows = (tensor_rows(tensors, convention) if depth is None
            else prefix_rows(tensors, depth, convention))
    name = Path(tensor_file.path).name
    summary = Summary(name, rows, convention, origin=f"{tensor_file.format} {tensor_file.path}")
    summary.tensor_file = tensor_file
    return summary


def _natural(tensor: StoredTensor) -> list[Any]:
    """Rows by name with numbers in numeric order (layers.2 before layers.10); storage order
    (by offset, or dtype alignment) reads as noise. Splitting on digit runs puts text at even
    and numbers at odd places, so two keys always compare like with like."""
    parts: list[Any] = DIGITS.split(tensor.name)
    parts[1::2] = [int(p) for p in parts[1::2]]
    return parts


def _weight(tensor: StoredTensor) -> Weight:
    return Weight(tensor.name, tensor.shape, trainable=True, statistic=tensor.buffer)


def tensor_rows(tensors: tuple[StoredTensor, ...], convention: str) -> list[LayerRow]:
    """One row per tensor, in storage order; the formula ends in the stored bytes."""
    rows = []
    for t in tensors:
        dims = " × ".join(fmt(d) for d in t.shape) or "1 (scalar)"
        formula = f"{dims} = {fmt(t.size)}; {t.dtype}: {fmt(t.nbytes)} B"
        if t.buffer:
            formula += " (buffer, not a parameter)"
        rows.append(make_row(t.name, t.dtype, [_weight(t)], convention, formula=formula))
    return rows


def prefix_rows(tensors: tuple[StoredTensor, ...], depth: int,
                convention: str) -> list[LayerRow]:
    """A tree by dotted prefix down to ``depth`` levels: a node above the limit holds its
    direct tensors only, a node at the limit folds all below it, so the rows add up."""
    groups: dict[tuple[str, ...], list[StoredTensor]] = {}
    for t in tensors:
        module = tuple(t.name.split(".")[:-1]) or (t.name,)
        key = module[:depth] or ("(all tensors)",)
        for level in range(1, len(key)):  # ancestors first, so the tree reads top-down
            groups.setdefault(key[:level], [])
        groups.setdefault(key, []).append(t)
    rows = []
    for key, members in groups.items():
        kinds = sorted({t.dtype for t in members})
        kind = kinds[0] if len(kinds) == 1 else "mixed" if kinds else "-"
        formula = ""
        if members:
            nbytes = sum(t.nbytes for t in members)
            formula = (f"{len(members)} tensor(s), {fmt(sum(t.size for t in members))} "
                       f"elements; {'/'.join(kinds)}: {fmt(nbytes)} B")
        rows.append(make_row(".".join(key), kind, [_weight(t) for t in members], convention,
                             formula=formula, depth=len(key) - 1))
    return rows


def tie_notes(tensor_file: TensorFile) -> list[Note]:
    """What ``config.json`` beside a safetensors checkpoint says about tied embeddings, and
    what it means for the count of what is stored (transformers 5.25 ties ``lm_head`` to the
    input embedding when ``tie_word_embeddings`` is true and stores it once)."""
    if tensor_file.format != "safetensors":
        return []
    folder = Path(tensor_file.path)
    config_path = (folder if folder.is_dir() else folder.parent) / "config.json"
    config = _read_config(config_path)
    if config is None:
        return []
    names = {t.name: t for t in tensor_file.tensors}
    embedding = next((t for n, t in names.items() if n.endswith(EMBEDDING_NAMES)), None)
    head = next((t for n, t in names.items() if n.endswith(HEAD_NAMES)), None)
    tie = config.get("tie_word_embeddings")
    if embedding is None:
        return []
    if tie is None:
        return [Note(f"config.json ({config.get('model_type', 'no model_type')}) does not set "
                     "tie_word_embeddings: whether transformers ties the output head to "
                     f"{embedding.name} depends on that model class's default.", "tied",
                     (embedding.name,))]
    if tie is True and head is None:
        return [Note(f"Tied: config.json has tie_word_embeddings=true and no output head is "
                     f"stored: transformers points the output head at {embedding.name} "
                     f"({fmt(embedding.size)} parameters) when loading; stored once, counted "
                     "once (as model.num_parameters() does).", "tied", (embedding.name,))]
    if tie is True and head is not None:
        return [Note(f"config.json has tie_word_embeddings=true but {head.name} is stored "
                     f"beside {embedding.name}: transformers ties them on loading and counts "
                     f"{fmt(head.size)} fewer parameters than are stored here.", "tied",
                     (head.name, embedding.name))]
    return []


EMBEDDING_NAMES = ("embed_tokens.weight", "wte.weight", "word_embeddings.weight",
                   "shared.weight", "embed_in.weight")
HEAD_NAMES = ("lm_head.weight", "embed_out.weight")


def _read_config(path: Path) -> dict[str, Any] | None:
    """config.json if it is a readable object; a broken one only loses the tie note."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES)
        data = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
