"""Work-queue queries: results, and (on SQLite) that the big queues come in index order rather
than by sorting every matching case (issue 5: quick with 100 000 cases)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from referendum_core.cases import queries, services
from referendum_core.cases.queries import CaseFilter, Visibility
from tests.case_factories import COMMISSION, report

ALL = Visibility(None)


def _plans(session, run):
    """Run ``run()`` and return the SQLite query plan of each SELECT it issued."""
    statements = []
    engine = session.get_bind().engine

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    cursor = session.connection().connection.cursor()
    return [(sql, " | ".join(row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + sql,
                                                                 params).fetchall()))
            for sql, params in statements]


@pytest.fixture()
def sqlite_only(db_session):
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite; PostgreSQL plans from statistics")


def test_open_cases_of_a_type_by_deadline_come_in_index_order(db_session, clock, people,
                                                              sqlite_only):
    report(db_session, clock, people.observer())
    flt = CaseFilter(types=["observer_report"], is_open=True)
    plans = _plans(db_session, lambda: queries.list_cases(db_session, flt, ALL, clock.now(),
                                                          sort="deadline"))
    [page_plan] = [p for sql, p in plans if "ORDER BY" in sql]
    assert "ix_cases_type_open_deadline" in page_plan and "TEMP B-TREE" not in page_plan


def test_overdue_newest_first_walks_the_opened_index(db_session, clock, people, sqlite_only):
    report(db_session, clock, people.observer())
    plans = _plans(db_session, lambda: queries.list_cases(
        db_session, CaseFilter(overdue=True), ALL, clock.now() + timedelta(days=30)))
    [page_plan] = [p for sql, p in plans if "ORDER BY" in sql]
    assert "ix_cases_open_opened" in page_plan and "TEMP B-TREE" not in page_plan


def test_deadline_sort_puts_cases_without_a_deadline_last_and_overdue_filters(
        db_session, clock, people):
    member = people.member()
    early = report(db_session, clock, people.observer())
    clock.advance(timedelta(days=1))
    late = report(db_session, clock, people.observer())
    none = report(db_session, clock, people.observer())
    none.deadline_at = None  # e.g. waiting for the requester: no running deadline
    db_session.flush()
    flt = CaseFilter(types=["observer_report"], is_open=True)
    page = queries.list_cases(db_session, flt, ALL, clock.now(), sort="deadline")
    ids = [c.id for c in page.items]
    assert ids.index(early.id) < ids.index(late.id) < ids.index(none.id)
    overdue = queries.list_cases(db_session, CaseFilter(overdue=True), ALL,
                                 early.deadline_at + timedelta(seconds=1))
    assert [c.id for c in overdue.items] == [early.id]
    services.transition_case(db_session, clock, member, early, "dismiss", early.version, "x",
                             parties=COMMISSION)
    assert queries.list_cases(db_session, CaseFilter(overdue=True), ALL,
                              early.deadline_at + timedelta(seconds=1)).total == 0
