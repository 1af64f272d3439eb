"""A case's input refused by a field (too long, missing, a value not allowed) is answered with
the field named in the person's language, not "check the form" (``portal.refusal_texts``)."""
from __future__ import annotations

from portal.refusal_texts import refusal_text
from referendum_core.cases.exceptions import InvalidCaseData
from referendum_core.cases.lifecycle import clean_text


def _refused(call) -> InvalidCaseData:
    try:
        call()
    except InvalidCaseData as err:
        return err
    raise AssertionError("not refused")


def test_a_description_too_long_is_named(app):
    err = _refused(lambda: clean_text("x" * 200_000, "description"))
    with app.test_request_context("/"):
        text = refusal_text(err)
    assert text == "Lauks “Apraksts” ir par garu: ne vairāk kā 10000 rakstzīmes.", text
    assert err.answer_detail() == {"field": "description"}


def test_an_unknown_category_and_an_empty_field_are_named(app):
    unknown = InvalidCaseData("unknown category", field="category", problem="unknown_value")
    empty = _refused(lambda: clean_text("  ", "description"))
    with app.test_request_context("/"):
        assert "“Kategorija”" in refusal_text(unknown)
        assert refusal_text(empty) == "Aizpildiet lauku “Apraksts”."
        assert refusal_text(InvalidCaseData("other")).startswith("Trūkst")
