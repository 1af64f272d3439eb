"""Every refusal of the voting services reaches people as a translated sentence: each domain
reason code has a text, and no English domain message leaks into a Latvian page."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from messaging.models import Message, Thread
from portal.voting import texts
from referendum_core.cases.models import Case
from referendum_core.initiatives import Initiative
from referendum_core.organisation import Municipality
from referendum_core.voting.exceptions import (
    HomeVotingRefused,
    InvalidSetup,
    ShareRefused,
    TrusteeKeyRefused,
)
from referendum_core.voting.models import Referendum
from tests.voting_support import build_scenario, referendum_case

CASES = [
    (InvalidSetup, texts.SETUP_REASONS),
    (TrusteeKeyRefused, texts.KEY_REASONS),
    (ShareRefused, texts.SHARE_REASONS),
    (HomeVotingRefused, texts.HOME_VOTING_REASONS),
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


def test_art8_2_council_without_two_thirds_is_refused_in_latvian_and_nothing_is_written(
        login_as, people, municipality_id, db_session):
    client = login_as(people.chair())
    answer = client.post("/voting/new", data={
        "municipality_id": municipality_id, "subject": "strategy", "basis_date": "2026-02-02",
        "question_lv": "Vai?", "question_en": "Do you?", "reasons": "Tāpēc.",
        "council_decided_on": "2026-02-26", "council_decision_number": "Nr. 1",
        "council_votes_for": 9, "council_size": 15, "referendum_day": "2026-04-25"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "vismaz divas trešdaļas no visu deputātu skaita (8. panta otrā daļa)" in html
    assert db_session.scalar(select(func.count()).select_from(Case)) == 0


def test_art12_council_construction_referendum_tells_the_council_its_decision_is_suspended(
        login_as, people, municipality_id, db_session):
    """Art. 12: set up through the council path, the case thread says the decision is
    suspended and the initiative page shows it."""
    client = login_as(people.chair())
    answer = client.post("/voting/new", data={
        "municipality_id": municipality_id, "subject": "construction",
        "basis_date": "2026-02-20", "question_lv": "Vai atcelt būvniecības lēmumu?",
        "question_en": "Cancel the building decision?", "reasons": "Tāpēc.",
        "council_decided_on": "2026-02-26", "council_decision_number": "Nr. 2",
        "council_votes_for": 10, "council_size": 15, "referendum_day": "2026-04-25"})
    assert answer.status_code == 302
    initiative = db_session.query(Initiative).one()
    assert initiative.is_council_decision_suspended
    notices = db_session.scalar(select(func.count()).select_from(Message).join(
        Thread, Thread.id == Message.thread_id).where(Thread.case_id == initiative.case_id,
                                                       Message.author_id.is_(None)))
    assert notices == 1  # the suspension notice in the case thread
    page = client.get(f"/initiatives/{initiative.id}").get_data(as_text=True)
    assert 'data-testid="council-decision-suspended"' in page and "(12. pants)" in page
    assert 'data-testid="council-decision"' in page and "par balsoja 10 no 15" in page


def test_art5_10_5_13_4_case_set_up_shows_the_initiative_read_only(login_as, people,
                                                                 db_session, clock):
    """Art. 5, 10(5), 13(4): the case's subject, question and latest day are shown, not
    fields; a day after the latest one is refused in Latvian."""
    muni = db_session.query(Municipality).filter_by(atvk_code="0023000").one()
    case = referendum_case(db_session, clock, muni, "dismissal", "Vai atlaist Ādažu domi?")
    db_session.commit()
    client = login_as(people.chair())
    page = client.get(f"/voting/new?case={case.id}").get_data(as_text=True)
    assert 'data-testid="fixed-question">Vai atlaist Ādažu domi?' in page
    assert "Domes atlaišana" in page and 'data-testid="latest-day">13.06.2026' in page
    assert 'name="question_lv"' not in page and 'name="subject"' not in page
    answer = client.post(f"/voting/new?case={case.id}", data={
        "question_en": "Dismiss the council?", "referendum_day": "2026-07-04"})
    assert answer.status_code == 422
    assert "ne vēlāk kā 13.06.2026, 4 mēnešus pēc lēmuma" in answer.get_data(as_text=True)
    answer = client.post(f"/voting/new?case={case.id}", data={
        "question_en": "Dismiss the council?", "referendum_day": "2026-03-14"})
    assert answer.status_code == 422  # VRL: the register had to be told by 17 February
    assert "vēlētāju reģistram bija jāpaziņo līdz 17.02.2026 12:00" in \
        answer.get_data(as_text=True)
    answer = client.post(f"/voting/new?case={case.id}", data={
        "question_en": "Dismiss the council?", "referendum_day": "2026-04-25"})
    assert answer.status_code == 302
    referendum = db_session.query(Referendum).filter_by(case_id=case.id).one()
    assert referendum.subject == "dismissal" and not referendum.has_online_voting


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


@pytest.fixture()
def municipality_id(db_session):
    return db_session.query(Municipality).filter_by(atvk_code="0023000").one().id
