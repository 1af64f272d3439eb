"""Every refusal of the voting services reaches people as a translated sentence: each domain
reason code has a text, and no English domain message leaks into a Latvian page."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import gettext

from portal import refusal_texts as texts
from referendum_core.organisation import Municipality
from referendum_core.voting.exceptions import (
    HomeVotingRefused,
    InvalidSetup,
    ShareRefused,
    TrusteeKeyRefused,
)
from tests.portal.test_templating import _parse as _parse_html
from tests.voting_support import build_scenario

CASES = [
    (InvalidSetup, texts.SETUP),
    (TrusteeKeyRefused, texts.TRUSTEE_KEY),
    (ShareRefused, texts.SHARE),
    (HomeVotingRefused, texts.HOME_VOTING),
]


def _make(cls, reason):
    english = f"an English message about {reason}"
    if cls is ShareRefused:
        return ShareRefused(english, "shares[0]", reason), english
    if cls is HomeVotingRefused:
        return HomeVotingRefused(reason, cutoff_at=datetime(2026, 3, 14, 10, 0, tzinfo=UTC)), \
            reason
    return cls(english, reason=reason, location="pok"), english


@pytest.mark.parametrize(("cls", "table"), CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_reason_code_has_a_latvian_sentence(app, cls, table):
    assert set(table) == set(cls.REASONS)
    with app.test_request_context():
        generic = {gettext("The request was refused."), gettext("The set-up was not accepted."),
                   gettext("The home-voting request was refused.")}
        for reason in cls.REASONS:
            err, english = _make(cls, reason)
            text = texts.refusal_text(err)
            assert text and text not in generic, reason
            assert english not in text and reason not in text, text


def test_setup_refusal_is_latvian_on_the_page(login_as, people, municipality_id):
    client = login_as(people.chair())
    answer = client.post("/voting/new", data={
        "municipality_id": municipality_id, "subject": "strategy", "basis_date": "2026-02-02",
        "question_lv": "Vai?", "question_en": "Do you?", "reasons": "Tāpēc.",
        "council_decided_on": "2026-02-26", "council_decision_number": "Nr. 1",
        "council_votes_for": 10, "council_size": 15,
        "referendum_day": "2026-03-13"})  # a Friday
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Referenduma dienai jābūt sestdienai (16. panta pirmā daļa)." in html
    assert "must be a Saturday" not in html


def test_trustee_key_refusal_is_latvian_on_the_page(login_as, db_session, clock, keys):
    s = build_scenario(db_session, clock, keys, open_now=False)
    for trustee in s.referendum.trustees:
        trustee.public_key = trustee.public_json = None
    db_session.commit()
    client = login_as(s.trustees[0])
    answer = client.post(f"/voting/{s.referendum.id}/trustee",
                         data={"key-public_json": "{not json"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "fails nav JSON" in html and "not JSON" not in html


EMPTY_UPLOAD = "Nekas netika augšupielādēts: ielīmējiet datnes saturu vai izvēlieties datni."


def test_an_empty_trustee_upload_says_what_is_missing(login_as, db_session, clock, keys):
    """Pressing an upload button with neither text nor file is answered with a sentence
    (Latvian), not the same page in silence; nothing is recorded."""
    s = build_scenario(db_session, clock, keys, open_now=False)
    for trustee in s.referendum.trustees:
        trustee.public_key = trustee.public_json = None
    db_session.commit()
    client = login_as(s.trustees[0])
    answer = client.post(f"/voting/{s.referendum.id}/trustee", data={"key-public_json": ""})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and EMPTY_UPLOAD in html and 'aria-invalid="true"' in html
    s.referendum.stage = "counting"
    db_session.commit()
    answer = client.post(f"/voting/{s.referendum.id}/trustee",
                         data={"share-partial_json": ""})
    assert answer.status_code == 422 and EMPTY_UPLOAD in answer.get_data(as_text=True)
    assert client.get(f"/voting/{s.referendum.id}/trustee").status_code == 200


@pytest.fixture()
def municipality_id(db_session):
    return db_session.query(Municipality).filter_by(atvk_code="0023000").one().id


def test_the_ballot_page_keeps_its_whole_latvian_instructions(login_as, scenario):
    client = login_as(scenario.voters[0])
    html = client.get(f"/voting/{scenario.referendum.id}").get_data(as_text=True)
    attrs = {k: v for found in _parse_html(html).found for k, v in found.items()}
    assert attrs["data-ready"] == "Gatavs. Izvēlieties „par” vai „pret”."
    assert attrs["data-choose"] == "Vispirms izvēlieties „par” vai „pret”."


def test_date_fields_leave_the_order_to_the_browsers_picker(login_as, people):
    """A date is an <input type=date>: the browser shows it in its own order (Chromium in a
    Latvian locale: dd.mm.gggg), so no hint names another order ("GGGG-MM-DD")."""
    html = login_as(people.chair()).get("/voting/new").get_data(as_text=True)
    dates = [f for f in _parse_html(html).found if f.get("type") == "date"]
    assert {f.get("name") for f in dates} >= {"basis_date", "council_decided_on",
                                                "referendum_day"}
    assert "GGGG" not in html and "YYYY" not in html
