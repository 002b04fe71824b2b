"""Renderers: text (Keras 3 layout), JSON, Markdown and HTML. They format, never count."""

from __future__ import annotations

from paramlab.layers.base import Shape, show_shape

__all__ = ["readable_memory_size", "shape_text"]


def readable_memory_size(size: float) -> str:
    """Keras' ``readable_memory_size``: 31972 → ``31.22 KB`` (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def shape_text(shape: Shape | tuple[Shape, ...]) -> str:
    """``(None, 28, 28, 10)``; multi-output layers as a list of such tuples."""
    if shape == ():
        return "-"  # rows that are parameter groups (Hugging Face blocks), not layers
    if shape and isinstance(shape[0], tuple):
        return "[" + ", ".join(show_shape(s) for s in shape) + "]"  # type: ignore[arg-type]
    return show_shape(shape)  # type: ignore[arg-type]


def human_count(n: float) -> str:
    """61,100,840 → ``61.1 M``: for prose, never for the tables."""
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:g}"
