"""The one rule for text people type into the portal (a name, a report, a note): no control,
format (bidirectional overrides, zero-width), private-use or unassigned characters. Such
characters make a text read differently on screen, in a CSV or in a terminal than it is stored,
so that it could pose as another person's words or hide part of itself; a NUL also breaks
PostgreSQL. Line breaks and tabs are the only controls a multi-line text keeps."""
from __future__ import annotations

import unicodedata

LINE_CONTROLS = frozenset("\n\r\t")


def printable(text: str, *, multiline: bool = False) -> bool:
    """Does ``text`` hold only characters that show as what they are (``multiline``: line
    breaks and tabs allowed too)?"""
    allowed = LINE_CONTROLS if multiline else frozenset()
    return all(ch in allowed or unicodedata.category(ch)[0] != "C" for ch in text)
