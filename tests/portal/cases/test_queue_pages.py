"""The work queue with many cases: a fixed number of statements per request however many
cases there are, a bounded count ("more than"), and deep pages showing the right rows."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from referendum_core.cases import queries
from referendum_core.cases.models import Case


def _add_cases(session, clock, count, start=0):
    """Open reports, one an hour back from now, each due a day after it was filed."""
    now = clock.now()
    session.add_all(Case(type="observer_report", state="submitted", is_open=True,
                         title=f"Queue case {n}", summary="", opened_at=now - timedelta(hours=n),
                         updated_at=now, deadline_at=now - timedelta(hours=n) + timedelta(days=1))
                    for n in range(start, start + count))
    session.commit()


def _selects(connection, client, path):
    """The SELECT statements ``GET path`` runs, and the page."""
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(connection.engine, "before_cursor_execute", capture)
    try:
        response = client.get(path)
    finally:
        event.remove(connection.engine, "before_cursor_execute", capture)
    assert response.status_code == 200
    return seen, response.get_data(as_text=True)


def _references(html):
    return re.findall(r">(L-\d{6})</a>", html)


@pytest.fixture()
def small_limits(monkeypatch):
    """Limits small enough to pass with a few dozen cases."""
    monkeypatch.setattr(queries, "COUNT_LIMIT", 60)
    monkeypatch.setattr(queries, "DEFERRED_OFFSET", 50)


@pytest.mark.parametrize("path", ["/cases", "/cases?page=2", "/cases?overdue=1",
                                  "/cases?type=observer_report&status=open&sort=deadline"])
def test_the_queue_runs_the_same_statements_for_few_and_many_cases(
        db_session, clock, people, login_as, connection, path):
    client = login_as(people.cvk_officer())
    _add_cases(db_session, clock, 3)
    few, _html = _selects(connection, client, path)
    _add_cases(db_session, clock, 120, start=3)
    many, html = _selects(connection, client, path)
    assert len(many) == len(few) and len(_references(html)) > 0


def test_past_the_count_limit_the_queue_says_more_than_and_deep_pages_show_their_rows(
        db_session, clock, people, login_as, small_limits):
    officer = people.cvk_officer()
    _add_cases(db_session, clock, 130)
    client = login_as(officer)
    first = client.get("/cases").get_data(as_text=True)
    assert "More than 60 cases" in first or "Vairāk nekā 60 lietu" in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    expected = [c.reference for c in db_session.query(Case).order_by(
        Case.opened_at.desc(), Case.id.desc())]
    pages = [first] + [client.get(f"/cases?page={n}").get_data(as_text=True) for n in (2, 3)]
    assert [r for html in pages for r in _references(html)] == expected
    # Page 2 lies past the counted cases: read with one row more, it knows a page follows.
    assert 'rel="next"' in pages[1] and "?page=3" in pages[1]
    # The last page is counted exactly again and has no next link.
    assert "130" in pages[2] and 'rel="next"' not in pages[2]
    assert ("Page 3 of 3" in pages[2]) or ("3. lapa no 3" in pages[2])
    # A page past the end is the last page, as before.
    assert _references(client.get("/cases?page=40").get_data(as_text=True)) == expected[100:]


def test_a_commission_member_pages_only_through_their_municipality(
        db_session, clock, people, login_as, small_limits):
    _add_cases(db_session, clock, 130)  # no municipality: not a commission's cases
    client = login_as(people.member())
    html = client.get("/cases?page=3").get_data(as_text=True)
    assert _references(html) == []


def test_the_municipality_filter_is_in_latvian_alphabetical_order(people, login_as):
    html = login_as(people.cvk_officer()).get("/cases").get_data(as_text=True)
    select_html = html[html.index('id="f-muni"'):]
    names = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select_html)
    assert names[:2] == ["Ādažu novads", "Aizkraukles novads"]
    assert names.index("Kuldīgas novads") < names.index("Ķekavas novads") \
        < names.index("Liepāja")
