"""The cast request's database work is small and fixed (issue 8: ≥ 300 ballots/s): the same
statements for the first ballot and for one cast onto a board that already holds many, with
no audit-chain write and no loading of the voter's memberships."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import event

from tests.voting_support import NO_VOTE, ONLINE_MONDAY, YES_VOTE, build_scenario


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    db_session.commit()
    return s


def _cast(client, db_session, referendum, ballot):
    bind = db_session.get_bind()
    engine = getattr(bind, "engine", bind)
    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):  # the test's own
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        answer = client.post(f"/api/voting/{referendum.id}/ballots", data=json.dumps(ballot),
                             content_type="application/json")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return seen


def test_a_cast_runs_the_same_few_statements_however_full_the_board(app, login_as, scenario,
                                                                    db_session):
    ref = scenario.referendum
    # Live turnout pushes run at most once a second per process (portal.voting.live); keep
    # them out of the count by making the last one recent.
    app.extensions["voting_live_pushes"] = {ref.id: time.monotonic() + 3600}
    first_voter, later_voter = scenario.voters[0], scenario.voters[1]
    for voter in (first_voter, later_voter):  # the voting page made their aliases
        assert login_as(voter).get(f"/api/voting/{ref.id}/election").status_code == 200
    first = _cast(login_as(first_voter), db_session, ref, scenario.ballot(first_voter, YES_VOTE))
    for voter in scenario.voters[2:]:
        _cast(login_as(voter), db_session, ref, scenario.ballot(voter, NO_VOTE))
    later = _cast(login_as(later_voter), db_session, ref, scenario.ballot(later_voter, NO_VOTE))
    assert len(first) == len(later), "\n".join(s[:90] for s in first)
    # user, referendum, voter check, board lock, then alphas + board entry + head in one
    # statement on PostgreSQL (three on SQLite)
    assert len(later) <= (5 if db_session.get_bind().dialect.name == "postgresql" else 7), later
    assert not any("audit_" in s for s in later)  # the board is the record of accepted ballots
    assert not any("FROM memberships" in s for s in later)  # a voter's rights are personal
