"""The escalation job: owner, then chair, then CVK; automatic moves; idempotent; no version bump."""
from __future__ import annotations

from datetime import date, datetime

from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases import services
from referendum_core.cases.deadlines import escalate_due_cases
from referendum_core.clock import RIGA
from tests.case_factories import CHAIR, report, station

CAL = WorkingDayCalendar()


def at(y, m, d, h=9):
    return datetime(y, m, d, h, tzinfo=RIGA)


def test_escalation_climbs_owner_chair_cvk_once_each(db_session, clock, people):
    case = report(db_session, clock, people.observer())  # triage due end of Tue 3 March
    clock.set(at(2026, 3, 2))
    first = [e for e in escalate_due_cases(db_session, clock, CAL) if e.case_id == case.id]
    assert [(e.level, e.notify) for e in first] == [(1, "owner")]
    assert escalate_due_cases(db_session, clock, CAL) == []  # idempotent
    clock.set(at(2026, 3, 4))
    assert [(e.level, e.notify) for e in escalate_due_cases(db_session, clock, CAL)
            if e.case_id == case.id] == [(2, "chair")]
    clock.set(at(2026, 3, 6))
    assert [(e.level, e.notify) for e in escalate_due_cases(db_session, clock, CAL)
            if e.case_id == case.id] == [(3, "cvk")]
    db_session.refresh(case)
    assert case.escalation_level == 3
    assert case.version == 1  # an official's open form is not made stale by reminders
    assert [e.data_dict["notify"] for e in case.events if e.kind == "escalation"] == [
        "owner", "chair", "cvk"]


def test_court_window_lapses_into_closed_automatically(db_session, clock, people):
    voter, chair = people.voter(), people.chair()
    case = services.file_complaint(
        db_session, clock, voter, municipality_id=station(db_session).municipality_id,
        grounds="count_protocol", applicant_kind="voter", contested="Protokols",
        contested_on=date(2026, 3, 1), summary="Kļūda")
    services.transition_case(db_session, clock, chair, case, "uphold", 1, "Jā", parties=CHAIR)
    clock.set(at(2026, 3, 9, 12))  # court window ends Monday 9 March: not yet
    assert [e for e in escalate_due_cases(db_session, clock, CAL) if e.case_id == case.id] == []
    clock.set(at(2026, 3, 10))
    done = [e for e in escalate_due_cases(db_session, clock, CAL) if e.case_id == case.id]
    assert [e.auto_transition for e in done] == ["close_unappealed"]
    assert (case.state, case.is_open) == ("closed", False)
    assert case.events[-2].actor_label == "system"
