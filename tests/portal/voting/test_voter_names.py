"""Commission screens show what the commission is entitled to see: the name of a voter of its
referendum on the look-up, to compare with the identity document (Art. 17(2)), and on the
home-voting requests it visits (Art. 19); nothing for a person who is not its voter, and
nothing at all for another municipality's commission."""
from __future__ import annotations

import re

import pytest

from tests.register_data import code_for
from tests.voting_support import BORN, build_scenario


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    db_session.commit()
    return s


def _name(html: str) -> str | None:
    found = re.search(r'data-testid="voter-name">([^<]*)<', html)
    return found.group(1) if found else None


def test_art17_2_the_look_up_names_the_voter_of_the_referendum_only(login_as, scenario,
                                                                    people):
    ref, member = scenario.referendum, scenario.members[0]
    client = login_as(member)
    found = client.post("/register/lookup", data={"case_id": ref.case_id,
                                                  "personal_code": scenario.codes[1]})
    assert "Vēlētājs 1" in _name(found.get_data(as_text=True))
    stranger = client.post("/register/lookup", data={
        "case_id": ref.case_id, "personal_code": code_for(BORN, 1999)})
    assert _name(stranger.get_data(as_text=True)) is None
    station = client.post(f"/voting/{ref.id}/station", data={
        "station_id": scenario.station.id, "personal_code": scenario.codes[2],
        "action": "lookup"})
    assert "Vēlētājs 2" in _name(station.get_data(as_text=True))
    client.post("/lang/en")
    english = client.post("/register/lookup", data={"case_id": ref.case_id,
                                                    "personal_code": scenario.codes[1]})
    assert _name(english.get_data(as_text=True)).startswith("Name: Vēlētājs 1")

    other = login_as(people.member("0001000"))
    refused = other.post("/register/lookup", data={"case_id": ref.case_id,
                                                   "personal_code": scenario.codes[1]})
    # The referendum is not among its choices: the form is refused, nobody is looked up.
    assert 'data-testid="lookup-result"' not in refused.get_data(as_text=True)
    assert "Vēlētājs 1" not in refused.get_data(as_text=True)
    assert other.post(f"/voting/{ref.id}/station", data={
        "station_id": scenario.station.id, "personal_code": scenario.codes[1],
        "action": "lookup"}).status_code == 403


def test_art19_home_voting_requests_name_the_voter_for_its_commission_only(
        login_as, scenario, people):
    ref, voter = scenario.referendum, scenario.voters[3]
    form = {"station_id": scenario.station.id, "address": "Gaujas iela 5-2, Ādaži",
            "reason": "Slimības dēļ"}
    assert login_as(voter).post(f"/voting/{ref.id}/home-voting", data=form).status_code == 302
    page = login_as(scenario.members[0]).get(f"/voting/{ref.id}/home-voting/requests")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and re.search(r'data-testid="requester-\d+">Vēlētājs 3<', html)
    other = login_as(people.member("0001000")).get(f"/voting/{ref.id}/home-voting/requests")
    assert other.status_code == 403 and "Vēlētājs 3" not in other.get_data(as_text=True)
