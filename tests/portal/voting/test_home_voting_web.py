"""Home voting (Art. 19) through HTTP: the voter's request form, the commission's list with the
on-behalf entry, accept / refuse / visit, and the cut-off (open rule, default 12:00)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from referendum_core.etvr import find_mark
from referendum_core.voting.home_voting import request_for_person
from tests.voting_support import POLLS_OPEN, REFERENDUM_DAY, build_scenario, riga


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    db_session.commit()
    return s


def _form(s, **extra):
    return {"station_id": s.station.id, "address": "Gaujas iela 5-2, Ādaži",
            "reason": "Slimības dēļ", **extra}


def test_art19_voter_sends_a_written_request_and_sees_its_state(login_as, scenario, db_session):
    ref, voter = scenario.referendum, scenario.voters[0]
    client = login_as(voter)
    page = client.get(f"/voting/{ref.id}/home-voting")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="home-voting-form"' in html
    assert "19. pants" in html and "<script>" not in html
    assert client.post(f"/voting/{ref.id}/home-voting", data=_form(scenario)).status_code == 302
    html = client.get(f"/voting/{ref.id}/home-voting").get_data(as_text=True)
    assert 'data-testid="home-request"' in html and "Pieprasīts" in html
    assert 'data-testid="home-voting-form"' not in html
    again = client.post(f"/voting/{ref.id}/home-voting", data=_form(scenario))
    assert again.status_code == 422 and "jau ir" in again.get_data(as_text=True)
    empty = client.post(f"/voting/{ref.id}/home-voting", data=_form(scenario, address=""))
    assert empty.status_code == 422


def test_art19_request_after_the_cutoff_is_refused_in_latvian(login_as, scenario, clock):
    clock.set(riga(REFERENDUM_DAY, 12, 30))
    client = login_as(scenario.voters[0])
    answer = client.post(f"/voting/{scenario.referendum.id}/home-voting", data=_form(scenario))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "12:00" in html and "19. pants" in html


@pytest.mark.parametrize("app_overrides", [{"HOME_VOTING_CUTOFF": "15:00"}])
def test_art19_cutoff_is_configurable(login_as, scenario, clock):
    clock.set(riga(REFERENDUM_DAY, 12, 30))
    client = login_as(scenario.voters[0])
    answer = client.post(f"/voting/{scenario.referendum.id}/home-voting", data=_form(scenario))
    assert answer.status_code == 302


def test_art19_commission_enters_accepts_and_records_the_visit(login_as, scenario, clock,
                                                               db_session):
    ref, s = scenario.referendum, scenario
    member = login_as(s.members[0])
    listing = member.get(f"/voting/{ref.id}/home-voting/requests")
    assert listing.status_code == 200
    entered = member.post(f"/voting/{ref.id}/home-voting/requests",
                          data=_form(s, personal_code=s.codes[1]))
    assert entered.status_code == 302
    html = member.get(f"/voting/{ref.id}/home-voting/requests").get_data(as_text=True)
    assert "Gaujas iela 5-2" in html and s.codes[1] not in html
    case = request_for_person(db_session, ref, s.voters[1].person_ref)
    assert member.post(f"/voting/{ref.id}/home-voting/{case.id}/accept").status_code == 302
    db_session.refresh(case)
    assert case.state == "accepted"
    # Too early: polling hours (Art. 16(1)); nothing marked.
    member.post(f"/voting/{ref.id}/home-voting/{case.id}/visit")
    assert find_mark(db_session, ref.case_id, s.voters[1].person_ref) is None
    clock.set(POLLS_OPEN + timedelta(hours=2))
    member = login_as(s.members[0])  # the idle session expired meanwhile
    assert member.post(f"/voting/{ref.id}/home-voting/{case.id}/visit").status_code == 302
    db_session.refresh(case)
    assert case.state == "visited"
    assert find_mark(db_session, ref.case_id, s.voters[1].person_ref).polling_station_id == \
        s.station.id
    # The station cannot issue a second ballot.
    again = member.post(f"/voting/{ref.id}/station", data={
        "station_id": s.station.id, "personal_code": s.codes[1], "action": "mark"})
    assert again.status_code == 409


def test_art19_refusal_needs_a_reason(login_as, scenario, db_session):
    ref, s = scenario.referendum, scenario
    login_as(s.voters[0]).post(f"/voting/{ref.id}/home-voting", data=_form(s))
    case = request_for_person(db_session, ref, s.voters[0].person_ref)
    member = login_as(s.members[0])
    member.post(f"/voting/{ref.id}/home-voting/{case.id}/refuse", data={"note": ""})
    db_session.refresh(case)
    assert case.state == "requested"
    member.post(f"/voting/{ref.id}/home-voting/{case.id}/refuse",
                data={"note": "Adrese ārpus novada"})
    db_session.refresh(case)
    assert case.state == "refused"


def test_home_voting_pages_are_guarded(login_as, scenario, people, app):
    ref = scenario.referendum
    assert login_as(scenario.voters[0]).get(
        f"/voting/{ref.id}/home-voting/requests").status_code == 403
    other = login_as(people.member("0001000"))
    assert other.get(f"/voting/{ref.id}/home-voting/requests").status_code == 403
    anonymous = app.test_client().get(f"/voting/{ref.id}/home-voting")
    assert anonymous.status_code == 302 and "login" in anonymous.headers["Location"]
