"""The referendum question in both languages: wherever a page shows both versions, each is
labelled in its own language ("Latviski", "In English") and marked with its lang attribute."""
from __future__ import annotations

import re
from pathlib import Path

from portal.voting.question import question_versions
from tests.voting_support import build_scenario

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def test_the_voting_page_labels_each_language_version(db_session, clock, keys, app):
    s = build_scenario(db_session, clock, keys)
    db_session.commit()
    client = app.test_client()
    for ui in ("lv", "en"):
        client.post(f"/lang/{ui}")
        html = client.get(f"/voting/{s.referendum.id}").get_data(as_text=True)
        versions = re.findall(r'<div lang="(\w\w)"><dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd></div>',
                              html)
        assert versions == [("lv", "Latviski", s.referendum.question_lv),
                            ("en", "In English", s.referendum.question_en)], ui


def test_no_page_shows_both_versions_unlabelled():
    """Only the labelled macro and the form that sets the question up name both versions."""
    both = [p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")
            if "question_lv" in (text := p.read_text(encoding="utf-8"))
            and "question_en" in text and " if current_locale" not in text]
    assert sorted(both) == ["voting/new.html"]


def test_the_labels_come_from_one_place(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    assert [label for _lang, label, _text in question_versions(s.referendum)] == [
        "Latviski", "In English"]
