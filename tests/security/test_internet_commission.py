"""The internet polling-station commission belongs to no municipality (Art. 20(4)-(6): CVK
appoints it to count the online votes). Its members, every trustee among them, reach the
trustee's work and nothing of any municipality: no case, complaint, home-voting request, voter
look-up, ETVR mark, unpublished initiative, protocol or turnout figure, neither through pages nor
through an API token nor through Socket.IO.

Each attack runs as two attackers: a trustee holding the internet commission's own role, and a
member holding the shape every trustee had before it existed (a municipal commission role in
the internet commission, no municipality), which a row missed by the data migration would keep.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Membership, Role
from portal.cases.models import ServiceToken
from portal.cases.tokens import issue_service_token
from portal.extensions import socketio
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.filing import file_complaint
from referendum_core.etvr import EtvrMark
from referendum_core.initiatives import submit_initiative
from referendum_core.organisation import CommissionKind, get_commission
from referendum_core.voting.home_voting import request_home_voting
from tests.case_factories import report
from tests.conftest import login
from tests.security.matrix_support import client_for
from tests.voting_support import ONLINE_MONDAY, build_scenario

PERSONAL_CODE_IN_COMPLAINT = "161175-19997"
HEALTH_REASON = "Pēc operācijas nevaru staigāt"


@pytest.fixture()
def world(db_session, clock, keys, people):
    """An Ādaži referendum open for online voting with an observer report, a complaint quoting
    a personal code, a home-voting request with its health reason and an undecided initiative."""
    s = build_scenario(db_session, clock, keys)
    observer, voter = people.observer(), s.voters[0]
    observed = report(db_session, clock, observer)
    complaint = file_complaint(
        db_session, clock, voter, municipality_id=s.municipality.id, grounds="count_protocol",
        applicant_kind="voter", contested="1. iecirkņa balsu skaitīšanas protokols",
        contested_on=date(2026, 2, 28),
        summary=f"Mans personas kods ir {PERSONAL_CODE_IN_COMPLAINT}, balsis saskaitītas nepareizi")
    home = request_home_voting(db_session, clock, s.voters[1], s.referendum, s.station,
                               person_ref=s.voters[1].person_ref, address="Gaujas iela 5-2",
                               reason=HEALTH_REASON)
    initiative = submit_initiative(db_session, clock, WorkingDayCalendar(), voter,
                                   municipality=s.municipality, subject="strategy",
                                   question="Vai atbalstāt?", reasons="Tāpēc.",
                                   person_ref=voter.person_ref, basis_date=date(2026, 2, 1))
    clock.set(ONLINE_MONDAY)
    db_session.commit()
    return {"s": s, "report": observed, "complaint": complaint, "home": home,
            "initiative": initiative}


def _legacy_member(db_session, clock):
    """A municipal commission role in the internet commission: how every trustee was made."""
    user = accounts.create_user(db_session, clock, None, email="legacy@internet.example.lv",
                                display_name="Legacy", password=None)
    db_session.add(Membership(user=user, role=Role.COMMISSION_MEMBER, created_at=clock.now(),
                              commission=get_commission(db_session, CommissionKind.INTERNET)))
    db_session.commit()
    return user


@pytest.fixture(params=["trustee", "legacy_member"])
def attacker(request, world, db_session, clock):
    if request.param == "trustee":
        return world["s"].trustees[0]
    return _legacy_member(db_session, clock)


@pytest.fixture()
def as_attacker(app, attacker, clock, db_session):
    db_session.commit()
    client = app.test_client()
    login(client, attacker, clock)
    return client


def test_art20_internet_commission_reads_no_case_of_a_municipality(world, as_attacker):
    for case in (world["report"], world["complaint"], world["home"], world["initiative"].case):
        page = as_attacker.get(f"/cases/{case.id}")
        assert page.status_code == 404, case.type
        assert PERSONAL_CODE_IN_COMPLAINT not in page.get_data(as_text=True)
    queue = as_attacker.get("/cases").get_data(as_text=True)
    for case in (world["report"], world["complaint"], world["home"]):
        assert case.reference not in queue


def test_art20_internet_commission_cannot_transition_or_comment_on_a_complaint(
        world, as_attacker, db_session):
    complaint = world["complaint"]
    state, version = complaint.state, complaint.version
    for url, data in ((f"/cases/{complaint.id}/transition",
                       {"transition": "take_up", "version": version}),
                      (f"/cases/{complaint.id}/comment", {"text": "Iekšā"})):
        assert as_attacker.post(url, data=data).status_code == 404
    db_session.expire_all()
    assert (complaint.state, complaint.version) == (state, version)


def test_art20_internet_commission_sees_no_home_voting_request_nor_health_reason(
        world, as_attacker, db_session):
    ref, home = world["s"].referendum, world["home"]
    listing = as_attacker.get(f"/voting/{ref.id}/home-voting/requests")
    assert listing.status_code == 403
    assert HEALTH_REASON not in listing.get_data(as_text=True)
    assert as_attacker.post(f"/voting/{ref.id}/home-voting/{home.id}/accept").status_code == 403
    db_session.expire_all()
    assert home.state == "requested"


def test_art20_internet_commission_cannot_look_up_a_voter(world, as_attacker):
    s = world["s"]
    assert as_attacker.post("/register/lookup", data={
        "case_id": str(s.referendum.case_id), "personal_code": s.codes[2]}).status_code == 403
    assert as_attacker.post(f"/voting/{s.referendum.id}/station", data={
        "station_id": s.station.id, "personal_code": s.codes[2],
        "action": "lookup"}).status_code == 403


def test_art20_5_internet_commission_cannot_mark_a_voter_and_cancel_their_online_vote(
        world, as_attacker, db_session):
    s = world["s"]
    before = db_session.scalar(select(func.count()).select_from(EtvrMark))
    answer = as_attacker.post(f"/voting/{s.referendum.id}/station", data={
        "station_id": s.station.id, "personal_code": s.codes[2], "action": "mark"})
    assert answer.status_code == 403
    assert db_session.scalar(select(func.count()).select_from(EtvrMark)) == before


def test_art20_internet_commission_reads_no_unpublished_initiative(world, as_attacker):
    assert as_attacker.get(f"/initiatives/{world['initiative'].id}").status_code == 404


def test_art20_internet_commission_follows_no_turnout(app, world, as_attacker):
    ref = world["s"].referendum
    assert "participants" not in as_attacker.get(f"/api/voting/{ref.id}/turnout").get_json()
    sock = socketio.test_client(app, namespace="/voting", flask_test_client=as_attacker)
    joined = sock.emit("join", {"referendum_id": ref.id}, callback=True, namespace="/voting")
    assert joined["rooms"] == [f"referendum:{ref.id}"]
    sock.disconnect("/voting")


def test_art20_an_api_token_acting_as_the_internet_commission_reads_no_case(
        app, world, attacker, people, db_session, clock):
    _, token = issue_service_token(db_session, clock, people.cvk_admin(), attacker, "t",
                                   ["cases:read", "cases:write"])
    db_session.commit()
    api = client_for(app, None, clock, token=token)
    for case in (world["complaint"], world["report"], world["home"]):
        assert api.get(f"/api/v1/cases/{case.id}").status_code == 404
        assert api.post(f"/api/v1/cases/{case.id}/comments",
                        json={"text": "Iekšā"}).status_code == 404
    listed = api.get("/api/v1/cases")
    assert listed.status_code == 200 and listed.get_json() == []
    assert PERSONAL_CODE_IN_COMPLAINT not in listed.get_data(as_text=True)


def test_an_api_token_is_not_issued_for_the_internet_commission(app, world, attacker, people,
                                                               clock, db_session):
    admin = client_for(app, people.cvk_admin(), clock)
    db_session.commit()
    page = admin.post("/cases/tokens", data={"name": "t", "owner_email": attacker.email,
                                             "scopes": ["cases:read"]})
    assert page.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(ServiceToken).where(
        ServiceToken.owner_id == attacker.id)) == 0


def test_art20_6_the_trustee_still_reaches_the_trustee_page(world, app, clock):
    s = world["s"]
    trustee = app.test_client()
    login(trustee, s.trustees[0], clock)
    assert trustee.get(f"/voting/{s.referendum.id}/trustee").status_code == 200

