"""One part of the report page, as data: a report module builds it, the page draws it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Section:
    """One experiment's part of the report: a title, sentences drawn from the numbers,
    plots, tables (HTML fragments). ``finding`` is the section's one-line result, shown
    first under its title (a reader skimming the page reads only these); empty, the page
    shows the first sentence in its place."""

    title: str
    sentences: list[str]
    plots: list[Path] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    finding: str = ""

    @property
    def anchor(self) -> str:
        """The section's id on the page (the summary's links point here): its title as a
        slug, ``Refits: 40-8-1 with 2 seeds`` → ``refits-40-8-1-with-2-seeds``."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or "section"

    @property
    def headline(self) -> str:
        return self.finding or (self.sentences[0] if self.sentences else "")


@dataclass(frozen=True)
class Claim:
    """One sentence of the page's answer and the section (its anchor) that shows it."""

    text: str
    anchor: str


@dataclass(frozen=True)
class Answer:
    """What the page opens with: the question and three to five claims computed from the
    run, each linked to its evidence."""

    question: str
    claims: tuple[Claim, ...]
