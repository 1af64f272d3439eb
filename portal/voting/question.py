"""The referendum question in both languages, each version labelled in its own language (the
page, the ballot's heading and the results protocol show both)."""
from __future__ import annotations

from typing import Any

# Each language's name for its own version, as language switches name themselves.
VERSION_LABELS = (("lv", "Latviski"), ("en", "In English"))


def question_versions(referendum: Any) -> list[tuple[str, str, str]]:
    """(language, label, question) for the Latvian and the English version, Latvian first."""
    texts = {"lv": referendum.question_lv, "en": referendum.question_en}
    return [(lang, label, texts[lang]) for lang, label in VERSION_LABELS]
