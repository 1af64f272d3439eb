"""The voting JSON API answers 401 JSON, never a redirect to the sign-in page, when the session
is missing or has expired (the page's script shows the message)."""
from __future__ import annotations

import json
from datetime import timedelta

from tests.voting_support import YES_VOTE


def _assert_401_json(answer):
    assert answer.status_code == 401
    assert "Location" not in answer.headers
    assert answer.is_json and answer.get_json()["status"] == 401
    assert answer.get_json()["error"] == "Lūdzu, piesakieties, lai turpinātu."


def test_missing_session_gets_401_json_on_every_voting_endpoint(client, scenario):
    ref = scenario.referendum
    _assert_401_json(client.get(f"/api/voting/{ref.id}/election"))
    _assert_401_json(client.post(f"/api/voting/{ref.id}/ballots", data="{}",
                                 content_type="application/json"))
    _assert_401_json(client.post(f"/api/voting/{ref.id}/audits", data="{}",
                                 content_type="application/json"))
    # The public turnout endpoint needs no session.
    assert client.get(f"/api/voting/{ref.id}/turnout").status_code == 200


def test_expired_session_gets_401_json_and_nothing_is_cast(login_as, scenario, clock,
                                                           db_session):
    ref, voter = scenario.referendum, scenario.voters[0]
    client = login_as(voter)
    assert client.get(f"/api/voting/{ref.id}/election").status_code == 200
    ballot = scenario.ballot(voter, YES_VOTE)
    db_session.commit()
    clock.advance(timedelta(minutes=31))  # idle limit SESSION_IDLE_MINUTES = 30
    _assert_401_json(client.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot),
                                 content_type="application/json"))
    db_session.refresh(ref)
    assert ref.board_seq == 0
    # The HTML pages still send people to the sign-in page.
    page = client.get(f"/voting/{ref.id}/home-voting")
    assert page.status_code == 302 and "login" in page.headers["Location"]
