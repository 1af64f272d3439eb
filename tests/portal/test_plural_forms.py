"""Counts are grammatical in Latvian: every message with a count has its three Latvian forms
(for 0, 10–20 …; for 1, 21 …; for 2–9 …), and the compiled catalogue picks them by Latvian rule."""
from __future__ import annotations

from babel.support import Translations

from portal.i18n_build import ROOT, build, merged_catalog


def test_every_count_message_has_three_latvian_forms():
    for message in merged_catalog("lv"):
        if message.pluralizable and message.id:
            forms = message.string
            assert len(forms) == 3 and all(forms), message.id


def test_the_forms_follow_the_latvian_rule():
    build()
    lv = Translations.load(str(ROOT), ["lv"])
    forms = {n: lv.ungettext("closed case", "closed cases", n) for n in (0, 1, 2, 11, 21, 25)}
    assert forms == {0: "slēgtu", 1: "slēgta", 2: "slēgtas", 11: "slēgtu", 21: "slēgta",
                     25: "slēgtas"}
    assert lv.ungettext("%(num)s entry", "%(num)s entries", 1) % {"num": 1} == "1 ieraksts"
