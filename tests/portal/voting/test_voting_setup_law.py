"""Referendum set-up through the pages, bound to the law: the council path records the
council's decision (Art. 8(2)) and tells the council of a suspension (Art. 12); a case's
subject, question and latest day come from its initiative (Art. 5, 10(5), 13(4)); every
refusal is a Latvian sentence and writes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from messaging.models import Message, Thread
from referendum_core.cases.models import Case
from referendum_core.initiatives import Initiative
from referendum_core.organisation import Municipality
from referendum_core.voting.models import Referendum
from tests.voting_support import referendum_case


@pytest.fixture()
def municipality_id(db_session):
    return db_session.query(Municipality).filter_by(atvk_code="0023000").one().id


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
