"""Lists of names follow the Latvian alphabet: č ģ ķ ļ ņ š ž after c g k l n s z, long vowels
with their short ones."""
from __future__ import annotations

import json
from importlib import resources

from referendum_core.collation import latvian_key


def test_municipalities_sort_as_a_latvian_list_does():
    rows = json.loads(resources.files("referendum_core.data").joinpath(
        "municipalities.json").read_text("utf-8"))["municipalities"]
    names = [r["name"] for r in sorted(rows, key=lambda r: latvian_key(r["name"]))]
    assert names[:2] == ["Ādažu novads", "Aizkraukles novads"]
    assert names.index("Kuldīgas novads") < names.index("Ķekavas novads") \
        < names.index("Liepāja")
    assert names.index("Jēkabpils novads") < names.index("Jelgava") \
        < names.index("Jelgavas novads")
    assert names[-1] == "Ventspils novads"


def test_letters_of_their_own_and_long_vowels():
    assert sorted(["Šķēde", "Sala", "Tukums", "Čaks", "Cēsis", "Dobele"], key=latvian_key) == \
        ["Cēsis", "Čaks", "Dobele", "Sala", "Šķēde", "Tukums"]
    assert sorted(["Āa", "Ab", "Aa"], key=latvian_key) == ["Aa", "Āa", "Ab"]
