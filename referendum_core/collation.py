"""Latvian alphabetical order for names shown in lists (municipalities, commissions).

The Latvian alphabet puts č, ģ, ķ, ļ, ņ, š and ž after c, g, k, l, n, s and z as letters of
their own, while ā, ē, ī and ū sort with a, e, i and u and come after them only between names
that are otherwise equal (as in the Unicode CLDR's Latvian collation). Python's own ``sorted``
orders by code point, which puts Ādaži and Ķekava after every plain letter."""
from __future__ import annotations

import unicodedata

# Primary order: each entry is a letter, with the letters that sort as it at the first level.
_ALPHABET = ("a", "b", "c", "č", "d", "e", "f", "g", "ģ", "h", "i", "y", "j", "k", "ķ", "l", "ļ",
             "m", "n", "ņ", "o", "p", "q", "r", "s", "š", "t", "u", "v", "w", "x", "z", "ž")
_PRIMARY = {letter: rank for rank, letter in enumerate(_ALPHABET)}
_LONG = {"ā": "a", "ē": "e", "ī": "i", "ū": "u"}


def _weights(char: str) -> tuple[int, int]:
    lower = char.lower()
    if lower in _PRIMARY:
        return 100 + _PRIMARY[lower], 0
    if lower in _LONG:
        return 100 + _PRIMARY[_LONG[lower]], 1
    base = unicodedata.normalize("NFD", lower)[0]
    if base in _PRIMARY:
        return 100 + _PRIMARY[base], 2
    if char.isdigit():
        return 50 + int(unicodedata.digit(char, 0)), 0
    if char.isspace() or not char.isalnum():
        return 0, 0  # spaces and punctuation first: "Rīga" before "Rīgas …"
    return 1000 + ord(lower), 0


def latvian_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """A sort key that orders ``text`` as a Latvian alphabetical list does."""
    weights = [_weights(char) for char in text]
    return (tuple(w[0] for w in weights), tuple(w[1] for w in weights), text)
