"""The report form offers and filing applies one rule (``cases.access.report_options``): the
referendums and polling stations a person may report on now (Art. 18(3): per station; Art.
20(3): for the referendum's days). One → chosen by itself; several → asked; none → said so;
a standing observer of a municipality with no referendum under way reports of no referendum.
Ids out of a database id's range are refused, not a 500."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.observers import services
from referendum_core.cases.models import ObserverReport
from referendum_core.observers import rights_window
from referendum_core.organisation import Municipality, add_polling_station
from tests.portal.observation.test_rights_per_referendum import _accredit, _report_form

HUGE = 10 ** 30


def test_art18_3_one_referendum_open_to_a_new_observer_is_chosen_while_another_is_under_way(
        scene, second, db_session, clock, keys, login_as):
    # Two referendums of the municipality are under way; the newly accredited person (a
    # journalist, say) observes only the second: the form asks nothing and files for it.
    _accredit(scene, db_session, clock, keys, second)
    anna = db_session.scalars(select(User).where(User.email == "anna@example.lv")).one()
    clock.set(rights_window(second)[0] + timedelta(hours=1))
    client = login_as(anna)
    html, filed = _report_form(client, polling_station_id=scene.station.id)
    assert 'name="referendum_id"' not in html
    assert f'value="{scene.station.id}"' in html
    assert filed.status_code == 302, filed.get_data(as_text=True)
    assert db_session.scalar(select(ObserverReport.referendum_id)) == second.id


def test_art20_3_a_referendum_whose_observation_days_are_over_is_not_offered(
        scene, db_session, clock, login_as):
    # The referendum is in counting, its observation days over: the standing observer is told
    # there is nothing to report on, rather than asked to choose among nothing.
    clock.set(rights_window(scene.referendum)[1] + timedelta(hours=1))
    standing = login_as(scene.observers[0])
    html, refused = _report_form(standing, polling_station_id=scene.station.id)
    assert 'data-testid="nothing-to-report"' in html
    assert f'value="{scene.station.id}"' not in html
    assert refused.status_code == 403
    assert "Izvēlieties" not in refused.get_data(as_text=True)


def test_art18_3_after_revocation_the_form_offers_only_what_is_left(
        scene, second, db_session, clock, keys, login_as):
    standing = scene.observers[0]
    row = _accredit(scene, db_session, clock, keys, scene.referendum, email=standing.email)
    clock.set(rights_window(scene.referendum)[0] + timedelta(hours=1))
    services.revoke(db_session, clock, scene.members[0], row)
    db_session.commit()
    client = login_as(standing)
    # Only the second referendum (no accreditation names her there) is left: nothing to ask.
    html, filed = _report_form(client, polling_station_id=scene.station.id)
    assert 'name="referendum_id"' not in html
    assert filed.status_code == 302
    assert db_session.scalar(select(ObserverReport.referendum_id)) == second.id
    _html, refused = _report_form(client, polling_station_id=scene.station.id,
                                  referendum_id=scene.referendum.id)
    assert refused.status_code == 403


def test_art18_3_after_revocation_nothing_is_offered_when_nothing_is_left(
        scene, db_session, clock, keys, login_as):
    standing = scene.observers[0]
    row = _accredit(scene, db_session, clock, keys, scene.referendum, email=standing.email)
    clock.set(rights_window(scene.referendum)[0] + timedelta(hours=1))
    services.revoke(db_session, clock, scene.members[0], row)
    db_session.commit()
    html, refused = _report_form(login_as(standing), polling_station_id=scene.station.id)
    assert f'value="{scene.station.id}"' not in html
    assert 'data-testid="nothing-to-report"' in html
    assert refused.status_code == 403
    assert db_session.scalar(select(ObserverReport.case_id)) is None


def test_a_standing_observer_where_no_referendum_is_under_way_reports_of_no_referendum(
        scene, db_session, clock, people, login_as):
    other = db_session.scalars(select(Municipality).where(
        Municipality.id != scene.municipality.id).order_by(Municipality.id)).first()
    station = add_polling_station(db_session, other, 901, "Skola", "Skolas iela 1")
    observer = people.observer(other.atvk_code)
    db_session.commit()
    client = login_as(observer)
    html, filed = _report_form(client, polling_station_id=station.id)
    assert f'value="{station.id}"' in html and 'name="referendum_id"' not in html
    assert f'value="{scene.station.id}"' not in html
    assert filed.status_code == 302
    report = db_session.scalars(select(ObserverReport)).one()
    assert report.referendum_id is None


def test_ids_out_of_range_are_refused_not_a_500(scene, db_session, clock, login_as, client):
    from portal.cases import tokens

    web = login_as(scene.observers[0])
    for fields in ({"polling_station_id": HUGE},
                   {"polling_station_id": scene.station.id, "referendum_id": HUGE}):
        _html, answer = _report_form(web, **fields)
        assert answer.status_code == 400
        # The form says why, also when the referendum field is not shown (one to choose).
        assert "no saraksta" in answer.get_data(as_text=True), fields
    for tampered in (0, "abc"):
        _html, answer = _report_form(web, polling_station_id=scene.station.id,
                                     referendum_id=tampered)
        assert answer.status_code == 400
        assert "Izvēlieties referendumu no saraksta." in answer.get_data(as_text=True)
    for url in (f"/cases/{HUGE}", f"/observe/photos/{HUGE}",
                f"/observe/r/{HUGE}/s/{scene.station.id}"):
        assert web.get(url).status_code == 404
    _row, plaintext = tokens.issue_service_token(
        db_session, clock, None, scene.observers[0], "Lietotne", ["cases:read", "cases:write"])
    db_session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    body = {"type": "observer_report", "polling_station_id": scene.station.id,
            "category": "ballot_box", "severity": "high", "summary": "Urnai nav plombes"}
    for fields in ({"polling_station_id": HUGE}, {"referendum_id": HUGE}):
        answer = web.post("/api/v1/cases", json={**body, **fields}, headers=headers)
        assert answer.status_code == 400 and answer.is_json
    assert db_session.scalar(select(ObserverReport.case_id)) is None


def test_reports_of_no_referendum_are_on_the_station_table_its_csv_and_a_station_page(
        scene, db_session, clock, people, login_as):
    import csv
    import io

    other = db_session.scalars(select(Municipality).where(
        Municipality.id != scene.municipality.id).order_by(Municipality.id)).first()
    station = add_polling_station(db_session, other, 901, "Skola", "Skolas iela 1")
    observer, member = people.observer(other.atvk_code), people.member(other.atvk_code)
    db_session.commit()
    for _ in range(2):
        _html, filed = _report_form(login_as(observer), polling_station_id=station.id)
        assert filed.status_code == 302
    commission = login_as(member)
    html = commission.get("/observers/stations").get_data(as_text=True)
    assert f'data-testid="station-None-{station.id}"' in html
    assert f'data-testid="no-referendum-{station.id}"' in html
    rows = list(csv.DictReader(io.StringIO(
        commission.get("/observers/stations.csv").get_data(as_text=True))))
    assert [(r["referendum_id"], r["station_name"], r["open_incidents"],
             r["open_incidents_no_referendum"]) for r in rows] == [("", "Skola", "2", "2")]
    page = commission.get(f"/observe/s/{station.id}")
    assert page.status_code == 200
    listed = page.get_data(as_text=True)
    assert 'data-testid="station-reports-unassigned"' in listed
    assert listed.count("/cases/") >= 2
    # Another municipality's commission does not see the station.
    assert login_as(scene.members[0]).get(f"/observe/s/{station.id}").status_code == 404
