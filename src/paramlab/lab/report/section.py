"""One part of the report page, as data: a report module builds it, the page draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Section:
    """One experiment's part of the report: a title, sentences drawn from the numbers,
    plots, tables (HTML fragments)."""

    title: str
    sentences: list[str]
    plots: list[Path] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
