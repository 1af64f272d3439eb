"""What people type into the portal: what a phone or a word processor puts in ordinary text is
kept (emoji sequences, newer emoji, flags, the soft hyphen, Latvian letters composed or not);
what controls how the rest shows (controls, bidirectional controls, line separators in a
one-line text) is refused."""
from __future__ import annotations

import unicodedata

import pytest

from referendum_core.cases.exceptions import BadCharacters
from referendum_core.cases.lifecycle import clean_text
from referendum_core.text import printable

PHONE_TEXT = [
    "Policists 👮‍♂️ pie ieejas", "👩‍💻 un 👨‍👩‍👧 rindā", "Satraukums 🫨", "Galva 🙂‍↔️",
    "Karogs 🏴󠁧󠁢󠁳󠁣󠁴󠁿", "Urnas\u00adplombe", "Sirds ❤️", "Iecirknis\u200cX",
    "Ādaži, Ķekava, Līvāni, Ņ, Ž, Ģ, Ū, Ē, Č, Š",
    unicodedata.normalize("NFD", "Ādaži, Ķekava, Līvāni, Ņ, Ž, Ģ, Ū, Ē, Č, Š"),
]


@pytest.mark.parametrize("text", PHONE_TEXT)
def test_ordinary_phone_and_word_text_is_kept(text):
    assert printable(text)
    assert clean_text(text, "description") == text


@pytest.mark.parametrize("text", [
    "Urnai \u202enav\u202c plombes", "a\u2066b\u2069", "a\u200eb", "a\u200fb", "a\u061cb",
    "NUL\x00", "ESC\x1b[31m", "BEL\x07", "C1\x85 nē", "C1\x9b31m", "surrogate\ud800"])
def test_controls_and_bidi_controls_are_refused(text):
    assert not printable(text, multiline=True)
    with pytest.raises(BadCharacters):
        clean_text(text, "description")


def test_line_separators_are_refused_in_one_line_and_become_line_breaks_in_a_text():
    for sep in ("\u2028", "\u2029", "\n", "\r", "\t"):
        assert not printable(f"Anna{sep}Bērziņa")
    assert clean_text("a\u2028b\r\nc\rd\u2029e\tf", "description") == "a\nb\nc\nd\ne\tf"
