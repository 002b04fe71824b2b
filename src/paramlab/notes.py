"""A note on how a count was made, as data: adapters say *what* happened (a field taken from
the config class's defaults, a module left without shapes), the renderers alone decide how it
looks, and a program reading the notes can act on ``kind`` and ``fields`` without parsing
sentences. The lowest layer of the count side: it imports nothing from paramlab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What a note reports. "default", "renamed" and "unread" name config fields (``fields``);
# an adapter with a new kind of remark adds a word here.
NoteKind = Literal["counted", "default", "renamed", "unread", "tied", "layout", "macs",
                   "shapes", "note"]


@dataclass(frozen=True)
class Note:
    """One sentence on the count, with what it is about."""

    text: str
    kind: NoteKind = "note"
    fields: tuple[str, ...] = ()  # the config fields or module names the note is about

    def __str__(self) -> str:
        return self.text
