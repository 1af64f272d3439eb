"""Cases that need a person (``referendum_core.cases.work``): whose turn a case is by its
state's owner and scope, the requester's own cases, types left to their own pages, and open
cases past their deadline under a person's oversight, counted and listed alike."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referendum_core.cases import services
from referendum_core.cases.models import Case
from referendum_core.cases.queries import Visibility
from referendum_core.cases.work import Turn, count_work, turn_clause, work_cases
from tests.case_factories import COMMISSION, report


def test_whose_turn_follows_the_state_owner_and_the_scope(db_session, clock, people):
    observer = people.observer()
    case = report(db_session, clock, observer)
    here, elsewhere = frozenset({case.municipality_id}), frozenset({-1})
    commission = Turn(commission_in=here)
    assert count_work(db_session, commission, None, clock.now()) == (1, 0)
    assert count_work(db_session, Turn(commission_in=elsewhere), None, clock.now()) == (0, 0)
    assert count_work(db_session, Turn(commission_in=here, skip_types=("observer_report",)),
                      None, clock.now()) == (0, 0)
    assert count_work(db_session, Turn(requester_id=observer.id), None, clock.now()) == (0, 0)
    member = people.member()
    services.transition_case(db_session, clock, member, case, "triage", case.version,
                             parties=COMMISSION)
    services.transition_case(db_session, clock, member, case, "request_information",
                             case.version, "Kurā laikā?", parties=COMMISSION)
    # Now the observer must answer: their turn, no longer the commission's.
    assert count_work(db_session, Turn(requester_id=observer.id), None, clock.now()) == (1, 0)
    assert count_work(db_session, commission, None, clock.now()) == (0, 0)


def test_overdue_cases_under_oversight_come_first(db_session, clock, people):
    observer = people.observer()
    late = report(db_session, clock, observer)
    clock.advance(timedelta(days=3))
    fresh = report(db_session, clock, observer)
    cvk = Turn(is_cvk=True)
    everything = Visibility(None)
    assert count_work(db_session, cvk, everything, clock.now()) == (0, 1)
    assert work_cases(db_session, cvk, everything, clock.now(), 10) == [(late, False)]
    commission = Turn(commission_in=frozenset({late.municipality_id}))
    assert count_work(db_session, commission, None, clock.now()) == (2, 1)
    assert work_cases(db_session, commission, None, clock.now(), 10) == [
        (late, True), (fresh, True)]
    assert count_work(db_session, cvk, Visibility(frozenset({-1})), clock.now()) == (0, 0)


def test_counts_stop_at_the_cap(db_session, clock, people):
    """Each count reads at most ``cap`` rows (the navigation shows "99+" beyond it), so a
    page's counts cost the same with 100,000 cases."""
    observer = people.observer()
    cases = [report(db_session, clock, observer) for _ in range(4)]
    clock.advance(timedelta(days=3))
    commission = Turn(commission_in=frozenset({cases[0].municipality_id}))
    assert count_work(db_session, commission, None, clock.now()) == (4, 4)
    assert count_work(db_session, commission, None, clock.now(), cap=3) == (3, 3)


def test_each_partys_turn_is_read_through_the_owner_index(db_session):
    """CVK's count once scanned every open case (the party terms shared one ``is_open`` the
    database read through the deadline index): each term now names its party and openness,
    so the count reads only the cases of that party, on SQLite as on PostgreSQL."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    where = turn_clause(Turn(is_cvk=True, requester_id=1, skip_types=("initiative",)))
    statement = select(Case.id).where(where).limit(100)
    compiled = statement.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = " ".join(row[-1] for row in db_session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {compiled}"))
    assert "ix_cases_owner_open_municipality" in plan and "SCAN cases" not in plan, plan
