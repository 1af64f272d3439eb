"""A case's title made from a longer text ends at a word's end (with "…"), never inside one."""
from __future__ import annotations

from referendum_core.cases.filing import shorten


def test_a_short_text_is_the_title_as_it_is():
    assert shorten("  Urnai nav plombes ", 120) == "Urnai nav plombes"


def test_a_long_text_is_cut_after_a_whole_word():
    text = "Iecirknī atrasta atvērta urna ar vēlēšanu zīmēm bez komisijas klātbūtnes"
    title = shorten(text, 30)
    assert title == "Iecirknī atrasta atvērta urna…" and len(title) <= 30
    assert text.startswith(title[:-1])


def test_one_long_word_is_cut_where_it_must():
    assert shorten("a" * 50, 10) == "a" * 9 + "…"
