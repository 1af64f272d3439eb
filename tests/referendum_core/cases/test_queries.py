"""Work-queue queries: results, and (on SQLite) that the big queues come in index order rather
than by sorting every matching case (quick with 100 000 cases)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from referendum_core.cases import queries, services
from referendum_core.cases.models import Case
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


def test_recently_changed_walks_the_updated_index(db_session, clock, people, sqlite_only):
    report(db_session, clock, people.observer())
    plans = _plans(db_session, lambda: queries.list_cases(db_session, CaseFilter(), ALL,
                                                          clock.now(), sort="updated"))
    [page_plan] = [p for sql, p in plans if "ORDER BY" in sql]
    assert "ix_cases_updated_id" in page_plan and "TEMP B-TREE" not in page_plan


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


def _cases(session, clock, count):
    """``count`` open reports, three at each opening time (so ties fall to the id) with
    deadlines repeating every four, and every fifth without a deadline."""
    rows = []
    for n in range(count):
        at = clock.now() - timedelta(hours=n // 3)
        rows.append(Case(type="observer_report", state="submitted", is_open=True,
                         title=f"Case {n}", summary="", opened_at=at, updated_at=at,
                         deadline_at=None if n % 5 == 4 else at + timedelta(days=n % 4)))
    session.add_all(rows)
    session.flush()
    return rows


@pytest.mark.parametrize("sort", sorted(queries.SORTS))
def test_every_page_holds_the_cases_of_the_full_listing_in_order(db_session, clock, sort,
                                                                 monkeypatch):
    _cases(db_session, clock, 23)
    full = queries.list_cases(db_session, CaseFilter(), ALL, clock.now(), sort=sort,
                              per_page=100, count_limit=None)
    assert full.total_is_exact and full.total <= 100
    expected = [c.id for c in full.items]
    # Pages from the second on skip ids in the index and then read their own rows.
    monkeypatch.setattr(queries, "DEFERRED_OFFSET", 4)
    seen, number = [], 1
    while True:
        page = queries.list_cases(db_session, CaseFilter(), ALL, clock.now(), sort=sort,
                                  page=number, per_page=4, count_limit=6)
        assert page.page == number
        seen += [c.id for c in page.items]
        if not page.has_next:
            break
        number += 1
    assert seen == expected
    assert page.total_is_exact and page.total == len(expected) and page.pages == number


def test_the_count_stops_at_the_limit_and_says_more_than(db_session, clock):
    _cases(db_session, clock, 12)
    everything = queries.list_cases(db_session, CaseFilter(), ALL, clock.now(), per_page=4,
                                    count_limit=None)
    first = queries.list_cases(db_session, CaseFilter(), ALL, clock.now(), per_page=4,
                               count_limit=5)
    assert everything.total_is_exact and everything.total >= 12
    assert (first.total, first.total_is_exact, first.pages, first.has_next) == (5, False, None,
                                                                                 True)
    assert [c.id for c in first.items] == [c.id for c in everything.items]
    # Few enough matches are counted exactly, whatever the limit.
    few = queries.list_cases(db_session, CaseFilter(case_ids=[c.id for c in everything.items]),
                             ALL, clock.now(), per_page=4, count_limit=5)
    assert (few.total, few.total_is_exact, few.pages, few.has_next) == (4, True, 1, False)


def test_a_page_past_the_end_is_the_last_page(db_session, clock, monkeypatch):
    monkeypatch.setattr(queries, "DEFERRED_OFFSET", 4)
    _cases(db_session, clock, 10)
    everything = queries.list_cases(db_session, CaseFilter(), ALL, clock.now(), per_page=100,
                                    count_limit=None)
    last_page = -(-everything.total // 4)
    for limit in (None, 5, 1000):
        page = queries.list_cases(db_session, CaseFilter(), ALL, clock.now(), page=99,
                                  per_page=4, count_limit=limit)
        assert (page.page, page.total, page.total_is_exact) == (last_page, everything.total, True)
        assert [c.id for c in page.items] == [c.id for c in everything.items][
            (last_page - 1) * 4:]
    # Any page number from a URL, however large, is a page (LIMIT/OFFSET stay 32-bit).
    huge = queries.list_cases(db_session, CaseFilter(), ALL, clock.now(), page=10**12,
                              per_page=4)
    assert (huge.page, huge.total) == (last_page, everything.total)


@pytest.mark.parametrize("flt", [CaseFilter(), CaseFilter(is_open=True),
                                 CaseFilter(is_open=True, unassigned=True),
                                 CaseFilter(overdue=True)], ids=["all", "open", "unassigned",
                                                                 "overdue"])
def test_queues_by_deadline_come_in_index_order(db_session, clock, people, sqlite_only, flt):
    report(db_session, clock, people.observer())
    plans = _plans(db_session, lambda: queries.list_cases(db_session, flt, ALL, clock.now(),
                                                          sort="deadline"))
    [page_plan] = [p for sql, p in plans if "ORDER BY" in sql]
    assert "deadline_order" in page_plan and "TEMP B-TREE" not in page_plan, page_plan
