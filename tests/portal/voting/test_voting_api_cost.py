"""The cast request's database work is small and fixed (≥ 300 ballots/s): the same
statements for the first ballot and for one cast onto a board that already holds many, with
no audit-chain write and no loading of the voter's memberships."""
from __future__ import annotations

import json
import time

from prometheus_client import REGISTRY

from referendum_core.voting.casting import election_context
from tests.cast_support import page_tokens
from tests.statements import captured_statements
from tests.voting_support import NO_VOTE, YES_VOTE


def _cast(client, db_session, referendum, ballot):
    _csrf, cast = page_tokens(client, referendum.id)  # as the voting page's script casts
    with captured_statements(db_session) as seen:
        answer = client.post(f"/api/voting/{referendum.id}/ballots", data=json.dumps(ballot),
                             content_type="application/json", headers={"X-Cast-Token": cast})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return seen


def test_a_cast_runs_the_same_few_statements_however_full_the_board(app, login_as, scenario,
                                                                    db_session):
    ref = scenario.referendum
    # Live turnout pushes run at most once a second per process (portal.voting.live); keep
    # them out of the count by making the last one recent.
    app.extensions["voting_live_pushes"] = {ref.id: time.monotonic() + 3600}
    election_context(ref)  # parsed by an earlier cast in this process: the lean path answers
    lean_before = REGISTRY.get_sample_value("portal_lean_casts_total") or 0.0
    first_voter, later_voter = scenario.voters[0], scenario.voters[1]
    for voter in (first_voter, later_voter):  # the voting page made their aliases
        assert login_as(voter).get(f"/api/voting/{ref.id}/election").status_code == 200
    first = _cast(login_as(first_voter), db_session, ref, scenario.ballot(first_voter, YES_VOTE))
    for voter in scenario.voters[2:]:
        _cast(login_as(voter), db_session, ref, scenario.ballot(voter, NO_VOTE))
    later = _cast(login_as(later_voter), db_session, ref, scenario.ballot(later_voter, NO_VOTE))
    assert len(first) == len(later), "\n".join(s[:90] for s in first)
    assert REGISTRY.get_sample_value("portal_lean_casts_total") - lean_before == len(
        scenario.voters)
    # the user, the referendum and the voter's standing in one statement (portal.voting.
    # lean_cast), then on PostgreSQL one statement that claims the alphas, counts the alias's
    # ballot, locks the board, computes its head and appends the entry; on SQLite the board
    # lock and four statements for the same (and the tests' savepoint around them)
    assert len(later) <= (3 if db_session.get_bind().dialect.name == "postgresql" else 7), later
    assert not any("audit_" in s for s in later)  # the board is the record of accepted ballots
    assert not any("FROM memberships" in s for s in later)  # a voter's rights are personal


def test_the_standing_read_with_the_referendum_still_refuses_as_the_law_says(
        login_as, scenario, people, db_session, clock):
    """The cast reads the voter's standing with the referendum (one statement); the refusals
    are unchanged: Art. 7 (not on the voter list) and Art. 20(5) (voted in person)."""
    from referendum_core.etvr import mark_voted

    ref = scenario.referendum
    outsider = login_as(people.voter("010101-10006", "Ārpus Saraksta"))
    answer = outsider.post(f"/api/voting/{ref.id}/ballots",
                           data=json.dumps(scenario.ballot(scenario.voters[0], YES_VOTE)),
                           content_type="application/json")
    assert answer.status_code == 422 and answer.get_json()["code"] == "not_on_voter_list"
    voter = scenario.voters[1]
    ballot = scenario.ballot(voter, YES_VOTE)
    mark_voted(db_session, clock, scenario.members[0], ref.case_id, voter.person_ref,
               polling_station=scenario.station)
    db_session.commit()
    answer = login_as(voter).post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot),
                                  content_type="application/json")
    assert answer.status_code == 422 and answer.get_json()["code"] == "voted_in_person"
    db_session.refresh(ref)
    assert ref.board_seq == 0
