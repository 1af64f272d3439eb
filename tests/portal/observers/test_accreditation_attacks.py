"""An outside judge's attacks on observer accreditation (Art. 18(3), 20(3)): the limit of two
observers per station and initiator, least privilege across municipalities and roles, hostile
input in names (the station table and its CSV), and what the invitation link allows."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from referendum_core.cases.models import Case
from referendum_core.observers import ObserverAccreditation
from tests.portal.observers.conftest import accept, invitation_links, nomination
from tests.voting_support import add_polling_station, build_scenario

BASE = "/observers/referendums/{}"


def _nominate(client, s, **kw):
    return client.post(BASE.format(s.referendum.id) + "/nominate", data=nomination(s, **kw))


def _count(db_session, model=ObserverAccreditation):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def _decide(client, s, case_id, action="accredit", note="", referendum_id=None):
    return client.post(BASE.format(referendum_id or s.referendum.id)
                       + f"/accreditations/{case_id}/{action}", data={"note": note})


@pytest.fixture()
def other(db_session, clock, keys):
    """A second municipality's referendum, commission and station."""
    return build_scenario(db_session, clock, keys, open_now=False, atvk="0001000",
                          prefix="other-", station_number=902)


def test_art18_3_a_third_observer_at_a_station_is_refused_through_the_web(
        client, login_as, scenario, db_session):
    login_as(scenario.voters[0])
    for i in range(2):
        assert _nominate(client, scenario, email=f"o{i}@example.lv").status_code == 302
    third = _nominate(client, scenario, email="o3@example.lv")
    assert third.status_code == 422 and "18" in third.get_data(as_text=True)
    assert _count(db_session) == 2


@pytest.mark.parametrize("variant", ["ANNA@EXAMPLE.LV", "  anna@example.lv  ", "Anna@Example.lv"])
def test_art18_3_the_same_person_twice_at_a_station_by_case_of_the_address(
        client, login_as, scenario, db_session, variant):
    login_as(scenario.voters[0])
    assert _nominate(client, scenario).status_code == 302
    again = _nominate(client, scenario, name="ANNA  BĒRZIŅA", email=variant)
    assert again.status_code == 422
    assert _count(db_session) == 1


def test_art18_3_another_account_of_the_same_initiative_cannot_name(
        client, login_as, scenario, db_session):
    login_as(scenario.voters[1])
    assert _nominate(client, scenario).status_code == 403 or _count(db_session) == 0
    assert _count(db_session) == 0


def test_art18_3_withdraw_and_rename_keeps_two_places(client, login_as, scenario, db_session,
                                                      clock):
    from referendum_core.cases.services import transition_case
    from referendum_core.cases.workflows import Party

    login_as(scenario.voters[0])
    for i in range(2):
        _nominate(client, scenario, email=f"o{i}@example.lv")
    first = db_session.scalars(select(ObserverAccreditation)).first()
    case = db_session.get(Case, first.case_id)
    transition_case(db_session, clock, scenario.voters[0], case, "withdraw", case.version,
                    parties={Party.REQUESTER})
    db_session.commit()
    assert _nominate(client, scenario, email="o3@example.lv").status_code == 302
    assert _nominate(client, scenario, email="o4@example.lv").status_code == 422
    db_session.expire_all()
    holding = db_session.scalars(select(ObserverAccreditation).where(
        ObserverAccreditation.status.in_(("requested", "approved")))).all()
    assert len(holding) == 2


def test_art18_3_two_requests_at_once_leave_two_places_and_no_orphan_case(
        monkeypatch, scenario, db_session, clock):
    """The second request read the slots before the first committed: the unique slot refuses
    it and neither its rows nor its case stay."""
    from referendum_core.observers import Nomination, accreditation, request_accreditation
    from referendum_core.observers.exceptions import AccreditationRefused

    s = scenario
    for i in range(2):
        request_accreditation(db_session, clock, s.voters[0], s.referendum,
                              [Nomination(s.station.id, f"O {i}", f"o{i}@example.lv")])
    cases_before = _count(db_session, Case)
    monkeypatch.setattr(accreditation, "_slots", lambda *a: [1])  # the stale read
    with pytest.raises(AccreditationRefused) as refused:
        request_accreditation(db_session, clock, s.voters[0], s.referendum,
                              [Nomination(s.station.id, "O 3", "o3@example.lv")])
    assert refused.value.reason == "station_limit"
    db_session.commit()
    assert _count(db_session) == 2 and _count(db_session, Case) == cases_before


def test_other_municipalitys_commission_cannot_decide_list_or_export(
        client, login_as, scenario, other, db_session):
    s = scenario
    login_as(s.voters[0])
    _nominate(client, s)
    row = db_session.scalars(select(ObserverAccreditation)).one()
    for intruder in (other.chair, other.members[0]):
        login_as(intruder)
        for action in ("accredit", "refuse"):
            assert _decide(client, s, row.case_id, action, "x").status_code in (403, 404)
            # the other referendum's id with this case: 404
            assert _decide(client, s, row.case_id, action, "x",
                           referendum_id=other.referendum.id).status_code == 404
        assert client.get(BASE.format(s.referendum.id) + "/accreditations").status_code == 403
        assert client.post(BASE.format(s.referendum.id) + "/accreditations", data={
            "kind": "media", "station_id": s.station.id, "full_name": "X",
            "email": "x@example.lv"}).status_code == 403
        for url in ("/observers/stations", "/observers/stations.csv"):
            assert client.get(f"{url}?municipality_id={s.municipality.id}").status_code == 404
            body = client.get(url).get_data(as_text=True)
            assert "801" not in body and "902" in body
    db_session.expire_all()
    assert db_session.get(ObserverAccreditation, row.id).status == "requested"
    assert _count(db_session) == 1


def test_cvk_officer_observer_voter_and_anonymous_cannot_decide(
        client, login_as, scenario, people, db_session):
    s = scenario
    login_as(s.voters[0])
    _nominate(client, s)
    row = db_session.scalars(select(ObserverAccreditation)).one()
    for user in (people.cvk_officer(), people.observer(), s.voters[1], s.voters[0]):
        login_as(user)
        assert _decide(client, s, row.case_id).status_code == 403
    client.get("/logout")
    with client.session_transaction() as sess:
        sess.clear()
    assert _decide(client, s, row.case_id).status_code in (302, 401)
    assert client.get("/observers/stations.csv").status_code in (302, 401)
    db_session.expire_all()
    assert db_session.get(ObserverAccreditation, row.id).status == "requested"


def test_observer_and_voter_cannot_read_the_station_table(client, login_as, people, scenario):
    for user in (people.observer(), scenario.voters[0]):
        login_as(user)
        assert client.get("/observers/stations").status_code == 403
        assert client.get("/observers/stations.csv").status_code == 403


def test_invalid_and_foreign_station_ids_are_refused(client, login_as, scenario, other,
                                                     db_session):
    login_as(scenario.voters[0])
    for station in ("abc", "999999", str(other.station.id), "-1", ""):
        response = client.post(BASE.format(scenario.referendum.id) + "/nominate", data={
            "station_id": station, "full_name": "A", "email": "a@example.lv"})
        assert response.status_code == 422, station
    assert client.get(BASE.format(999999) + "/nominate").status_code == 404
    assert _count(db_session) == 0


@pytest.mark.parametrize("name", ["Anna\x1b[31mBērziņa", "Anna\u202eaniņzrēB", "Anna\x07",
                                  "Anna\u200bBērziņa\u2066"])
def test_art18_3_control_and_bidi_characters_in_a_name_are_refused(
        client, login_as, scenario, db_session, name):
    login_as(scenario.voters[0])
    response = _nominate(client, scenario, name=name)
    assert response.status_code == 422
    assert _count(db_session) == 0


def test_art18_3_a_huge_name_is_refused_without_a_write(client, login_as, scenario, db_session):
    login_as(scenario.voters[0])
    assert _nominate(client, scenario, name="A" * 5000).status_code == 422
    assert _nominate(client, scenario, name="A " * 150).status_code in (302, 422)
    assert _nominate(client, scenario, email="a" * 300 + "@example.lv").status_code == 422


def test_html_in_names_is_escaped_and_csv_formulas_are_neutralised(
        client, login_as, scenario, db_session):
    s = scenario
    evil = "<script>alert(1)</script>"
    formulas = ["=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@SUM(1)"]
    login_as(s.voters[0])
    station2 = add_polling_station(db_session, s.municipality, 803, "=HYPERLINK(\"x\")",
                                   "Iela 2")
    db_session.commit()
    for i, name in enumerate([evil] + formulas):
        station = s.station if i < 2 else station2
        if i >= 4:
            station = add_polling_station(db_session, s.municipality, 804, "S", "I")
            db_session.commit()
        assert _nominate(client, s, name=name, email=f"e{i}@example.lv",
                         station=station).status_code == 302, name
    login_as(s.members[0])
    for row in db_session.scalars(select(ObserverAccreditation)).all():
        if row.status == "requested":
            _decide(client, s, row.case_id)
    for url in (BASE.format(s.referendum.id) + "/accreditations", "/observers/stations",
                BASE.format(s.referendum.id) + "/nominate"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html
    body = client.get("/observers/stations.csv").get_data(as_text=True)
    for record in csv.reader(io.StringIO(body)):
        for cell in record:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
    # Every cell quoted: Excel in the Latvian locale splits on ";" yet keeps a quoted cell.
    assert all(line.startswith('"') for line in body.splitlines()), body


def test_art18_3_a_name_with_a_semicolon_cannot_start_a_formula_cell_in_the_csv(
        client, login_as, scenario, db_session):
    s = scenario
    login_as(s.voters[0])
    assert _nominate(client, s, name="Anna;=cmd|' /C calc'!A0").status_code == 302
    row = db_session.scalars(select(ObserverAccreditation)).one()
    login_as(s.members[0])
    _decide(client, s, row.case_id)
    body = client.get("/observers/stations.csv").get_data(as_text=True)
    assert '"Anna;=cmd|\' /C calc\'!A0"' in body


def test_csrf_less_post_is_refused(app, client, login_as, scenario, db_session):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        login_as(scenario.voters[0])
        assert _nominate(client, scenario).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _count(db_session) == 0


def _accredited_link(client, login_as, s, db_session, email="anna@example.lv"):
    login_as(s.voters[0])
    _nominate(client, s, email=email)
    row = db_session.scalars(select(ObserverAccreditation).where(
        ObserverAccreditation.email == email)).one()
    login_as(s.members[0])
    html = _decide(client, s, row.case_id).get_data(as_text=True)
    html += client.get(BASE.format(s.referendum.id) + "/accreditations").get_data(as_text=True)
    return invitation_links(html)[0]


def test_invitation_link_works_once(client, login_as, scenario, db_session, clock):
    link = _accredited_link(client, login_as, scenario, db_session)
    client.get("/logout")
    assert accept(client, clock, link).status_code == 302
    client.get("/logout")
    with client.session_transaction() as sess:
        sess.clear()
    again = client.get(link)
    assert again.status_code in (404, 410)


def test_invitation_link_expires(client, login_as, scenario, db_session, clock, app):
    link = _accredited_link(client, login_as, scenario, db_session)
    with client.session_transaction() as sess:
        sess.clear()
    clock.advance(timedelta(hours=app.config["INVITATION_LIFETIME_HOURS"], seconds=1))
    assert client.get(link).status_code in (404, 410)


def test_someone_elses_link_does_not_change_the_signed_in_account(
        client, login_as, scenario, db_session, clock):
    s = scenario
    link = _accredited_link(client, login_as, s, db_session)
    login_as(s.members[1])
    accept(client, clock, link)
    db_session.expire_all()
    member = db_session.get(User, s.members[1].id)
    assert member.email != "anna@example.lv"
    anna = db_session.scalars(select(User).where(User.email == "anna@example.lv")).one()
    assert anna.id != member.id


@pytest.mark.parametrize("email", ["<script>alert(1)</script>@x.lv", "anna@ex_ample.lv",
                                   'a"b@example.lv', "anna@example"])
def test_art18_3_an_address_that_is_no_e_mail_address_is_refused(
        client, login_as, scenario, db_session, email):
    login_as(scenario.voters[0])
    response = _nominate(client, scenario, email=email)
    assert response.status_code == 422
    assert "e-pasta adresi" in response.get_data(as_text=True)
    assert _count(db_session) == 0


def test_art18_3_three_observers_for_one_station_in_one_request_are_refused(
        scenario, db_session, clock):
    from referendum_core.observers import Nomination, request_accreditation
    from referendum_core.observers.exceptions import AccreditationRefused

    s = scenario
    with pytest.raises(AccreditationRefused) as refused:
        request_accreditation(db_session, clock, s.voters[0], s.referendum, [
            Nomination(s.station.id, f"O {i}", f"o{i}@example.lv") for i in range(3)])
    assert refused.value.reason == "station_limit" and refused.value.article == "Art. 18(3)"
    db_session.commit()
    assert _count(db_session) == 0


def test_the_accreditation_case_page_is_hidden_from_strangers(
        client, login_as, scenario, other, db_session):
    s = scenario
    login_as(s.voters[0])
    _nominate(client, s)
    case_id = db_session.scalars(select(ObserverAccreditation.case_id)).one()
    assert client.get(f"/cases/{case_id}").status_code == 200
    for stranger in (other.chair, other.members[0], s.voters[1]):
        login_as(stranger)
        page = client.get(f"/cases/{case_id}")
        assert page.status_code == 404 and "anna@example.lv" not in page.get_data(as_text=True)


def test_deciding_a_case_of_another_type_is_404(client, login_as, scenario, db_session):
    s = scenario
    login_as(s.members[0])
    for case_id in (s.referendum.case_id, 999999):
        assert _decide(client, s, case_id).status_code == 404
