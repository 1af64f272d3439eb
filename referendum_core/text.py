"""The one rule for text people type into the portal (a name, a report, a note): refuse only what
is dangerous or changes how the rest shows. Refused: control characters (C0 and C1) other than
line breaks and tabs in a multi-line text, the bidirectional controls (embeddings, overrides,
isolates and marks), which make a text read differently on screen, in a CSV or in a terminal
than it is stored, lone surrogates (not text at all, and not storable), and, in a one-line
text, the line and paragraph separators (U+2028, U+2029). A NUL also breaks PostgreSQL.

Kept, because phones and word processors put them in ordinary text: the zero-width joiner and
non-joiner (emoji sequences such as 👩‍💻), variation selectors, tag characters (flags such as
🏴󠁧󠁢󠁳󠁣󠁴󠁿), the soft hyphen, and code points this Python's Unicode tables do not know yet
(newer emoji)."""
from __future__ import annotations

import unicodedata

LINE_CONTROLS = frozenset("\n\r\t")
LINE_SEPARATORS = frozenset("\u2028\u2029")
BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"])


def refused_character(ch: str, *, multiline: bool) -> bool:
    """Is ``ch`` refused in a text (``multiline``: line breaks and tabs allowed)?"""
    if ch in LINE_CONTROLS:
        return not multiline
    if ch in LINE_SEPARATORS:
        return not multiline
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs")


def printable(text: str, *, multiline: bool = False) -> bool:
    """Does ``text`` hold no refused character (``refused_character``)?"""
    return not any(refused_character(ch, multiline=multiline) for ch in text)


def normalise_lines(text: str) -> str:
    """``text`` with each line break as ``\\n`` (CR LF, CR and the Unicode line and paragraph
    separators)."""
    return (text.replace("\r\n", "\n").replace("\r", "\n")
            .replace("\u2028", "\n").replace("\u2029", "\n"))
