"""The voting API is CSRF-protected: the page's script sends the token in ``X-CSRFToken``."""
from __future__ import annotations

import json

import pytest

from tests.voting_support import ONLINE_MONDAY, YES_VOTE, build_scenario


@pytest.fixture()
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def test_cast_needs_the_csrf_token_in_a_header(login_as, db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    voter = s.voters[0]
    ballot = s.ballot(voter, YES_VOTE)
    client = login_as(voter)
    url = f"/api/voting/{s.referendum.id}/ballots"
    refused = client.post(url, data=json.dumps(ballot), content_type="application/json")
    assert refused.status_code == 400 and "error" in refused.get_json()
    html = client.get(f"/voting/{s.referendum.id}").get_data(as_text=True)
    token = html.split('data-csrf="', 1)[1].split('"', 1)[0]
    accepted = client.post(url, data=json.dumps(ballot), content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert accepted.status_code == 201
