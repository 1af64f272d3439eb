"""Moving a case's service-level deadline from the case page: chair and CVK may, others may not,
and a deadline set by an article of the law is refused in words the person can read."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.articles import article_text
from referendum_core.audit import AuditEntry
from referendum_core.cases import services
from referendum_core.cases.workflows import SERVICE_LEVEL
from referendum_core.clock import RIGA
from tests.case_factories import report, station


def file_count_protocol_complaint(db_session, clock, voter):
    """A complaint about a count protocol: its deadline comes from Art. 20(7)."""
    return services.file_complaint(
        db_session, clock, voter, municipality_id=station(db_session).municipality_id,
        grounds="count_protocol", applicant_kind="voter", contested="1. iecirkņa protokols",
        contested_on=date(2026, 2, 28), summary="Balsis saskaitītas nepareizi")


def _riga_local(value: datetime) -> str:
    return value.astimezone(RIGA).strftime("%Y-%m-%dT%H:%M")


def test_chair_moves_a_service_level_deadline_from_the_case_page(db_session, clock, people,
                                                                 login_as):
    case = report(db_session, clock, people.observer())
    assert case.deadline_basis == SERVICE_LEVEL
    db_session.commit()
    client = login_as(people.chair())
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="change-deadline"' in page and 'type="datetime-local"' in page
    new = (clock.now() + timedelta(days=9)).replace(second=0, microsecond=0)
    response = client.post(f"/cases/{case.id}/deadline",
                           data={"deadline": _riga_local(new), "reason": "Brīvdienas"})
    assert response.status_code == 302
    db_session.refresh(case)
    assert case.deadline_at == new and case.deadline_basis == SERVICE_LEVEL
    assert case.events[-1].kind == "deadline_changed" and case.events[-1].note == "Brīvdienas"
    last = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last.action == "case.deadline_changed"
    timeline = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Brīvdienas" in timeline


def test_law_deadline_cannot_be_moved_and_the_page_says_why(db_session, clock, people,
                                                           login_as):
    complaint = file_count_protocol_complaint(db_session, clock, people.voter())
    basis, deadline = complaint.deadline_basis, complaint.deadline_at
    assert basis.startswith("Art.")
    db_session.commit()
    client = login_as(people.chair())
    page = client.get(f"/cases/{complaint.id}").get_data(as_text=True)
    # The Latvian page names the article as Latvian law does ("20. panta septītā daļa").
    assert 'data-testid="deadline-by-law"' in page and article_text(basis, "lv") in page
    assert "panta" in article_text(basis, "lv")
    assert 'data-testid="change-deadline"' not in page
    # Posting anyway is refused in Latvian, audited, and the deadline stays.
    later = _riga_local(clock.now() + timedelta(days=20))
    response = client.post(f"/cases/{complaint.id}/deadline",
                           data={"deadline": later, "reason": "Gribu vēlāk"})
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "noteikts likumā" in html and basis in html
    db_session.refresh(complaint)
    assert complaint.deadline_at == deadline
    last = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last.action == "case.refused" and "DeadlineSetByLaw" in last.detail


def test_member_observer_and_bad_input_cannot_move_a_deadline(db_session, clock, people,
                                                              login_as):
    observer = people.observer()
    case = report(db_session, clock, observer)
    deadline = case.deadline_at
    db_session.commit()
    later = _riga_local(clock.now() + timedelta(days=9))
    member = login_as(people.member())
    assert 'data-testid="change-deadline"' not in member.get(f"/cases/{case.id}").get_data(
        as_text=True)
    assert member.post(f"/cases/{case.id}/deadline",
                       data={"deadline": later, "reason": "x"}).status_code == 403
    chair = login_as(people.chair())
    past = _riga_local(clock.now() - timedelta(days=1))
    for data in ({"deadline": past, "reason": "x"}, {"deadline": later, "reason": " "},
                 {"deadline": "next tuesday", "reason": "x"}, {"reason": "x"}):
        response = chair.post(f"/cases/{case.id}/deadline", data=data)
        assert response.status_code == 400, data
        assert 'data-testid="case-error"' in response.get_data(as_text=True)
    observer_client = login_as(observer)
    assert observer_client.post(f"/cases/{case.id}/deadline",
                                data={"deadline": later, "reason": "x"}).status_code == 403
    db_session.refresh(case)
    assert case.deadline_at == deadline
