"""Casting and auditing are rate-limited per signed-in voter, not per address: one voter's
script cannot spend the servers' proof checks (or fill the audit log with refusals), and the
voters behind one address (a school, a mobile carrier) do not share a limit."""
from __future__ import annotations

import json

import pytest

from tests.conftest import login
from tests.voting_support import YES_VOTE

pytestmark = pytest.mark.uses_db


@pytest.fixture()
def app_overrides():
    return {"RATELIMIT_ENABLED": True}


def test_a_voter_flooding_casts_gets_429_and_other_voters_do_not(app, db_session, clock,
                                                                  scenario):
    ref = scenario.referendum
    db_session.commit()
    flooding, other, anyone = app.test_client(), app.test_client(), app.test_client()
    login(flooding, scenario.voters[0], clock)
    login(other, scenario.voters[1], clock)
    allowed = int(app.config["VOTER_BALLOT_RATE_LIMIT"].split()[0])
    statuses = [flooding.post(f"/api/voting/{ref.id}/ballots", data="not json",
                              content_type="application/json").status_code
                for _ in range(allowed)]
    assert statuses == [422] * allowed  # refused ballots count too
    limited = flooding.post(f"/api/voting/{ref.id}/audits", data="not json",
                            content_type="application/json")  # casts and audits share it
    assert limited.status_code == 429
    assert limited.get_json()["error"] == "Pārāk daudz mēģinājumu. Mazliet uzgaidiet un mēģiniet vēlreiz."
    assert int(limited.headers["Retry-After"]) > 0
    # Another voter from the same address casts normally; anyone may still look up the board.
    ballot = scenario.encrypted(scenario.voters[1], YES_VOTE)
    cast = other.post(f"/api/voting/{ref.id}/ballots", data=json.dumps(ballot.ballot),
                      content_type="application/json")
    assert cast.status_code == 201
    assert anyone.get(f"/api/voting/{ref.id}/board/{ballot.tracker}").status_code == 200
