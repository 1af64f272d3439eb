"""Observation rights are per referendum and polling station (Art. 18(3), 20(3)): an
accreditation for one referendum opens nothing of another referendum of the municipality, in
the observer app, its API or the report form; a revoked accreditation takes the station away
even from a person who is also a standing observer of the municipality; with two referendums
under way a report names the one it is about."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.observers import services
from referendum_core.cases.models import Case, ObserverReport
from referendum_core.initiatives import initiative_of_referendum
from referendum_core.observers import (
    Nomination,
    ObserverAccreditation,
    request_accreditation,
    rights_window,
)
from tests.conftest import csrf_token_from
from tests.portal.observation.conftest import checklist_body, report_body


def _accredit(scene, db_session, clock, keys, referendum, email="anna@example.lv"):
    initiative_of_referendum(db_session, referendum.case_id).applicant_id = scene.voters[0].id
    case = request_accreditation(db_session, clock, scene.voters[0], referendum,
                                 [Nomination(scene.station.id, "Anna Bērziņa", email)])
    services.accredit(db_session, clock, keys, scene.members[0], case,
                      lifetime=timedelta(hours=72))
    db_session.commit()
    return db_session.scalars(select(ObserverAccreditation).where(
        ObserverAccreditation.email == email,
        ObserverAccreditation.referendum_id == referendum.id)).one()


def _for(scene, referendum, body):
    body["referendum_id"] = referendum.id
    return body


def _report_form(client, **fields):
    html = client.get("/cases/report").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(html), "category": "ballot_box",
            "severity": "high", "description": "Urnai nav plombes"}
    data.update(fields)
    return html, client.post("/cases/report", data=data)


def test_art18_3_an_accreditation_for_one_referendum_opens_no_other(
        scene, second, db_session, clock, keys, login_as):
    _accredit(scene, db_session, clock, keys, second)
    observer = db_session.scalars(select(User).where(User.email == "anna@example.lv")).one()
    clock.set(rights_window(second)[0] + timedelta(hours=1))
    client = login_as(observer)
    page = client.get("/observe/").get_data(as_text=True)
    assert f'id="ref-{second.id}"' in page
    assert f'id="ref-{scene.referendum.id}"' not in page
    # Its own referendum's station is observed; the same station of the other referendum is not.
    assert client.post("/observe/api/checklist", json=_for(scene, second, checklist_body(
        scene, ("seals_intact", True)))).status_code == 201
    assert client.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 403
    assert client.post("/observe/api/report", json=report_body(scene)).status_code == 403
    # The report form refuses the other referendum too (the same rule, Art. 18(3)).
    html, refused = _report_form(client, polling_station_id=scene.station.id,
                                 referendum_id=scene.referendum.id)
    assert refused.status_code == 403
    assert 'name="referendum_id"' not in html  # only one referendum is hers to report on
    assert db_session.scalar(select(ObserverReport.case_id)) is None


def test_art20_3_a_standing_observer_observes_no_referendum_after_its_days(
        scene, db_session, clock, login_as):
    standing = scene.observers[0]
    clock.set(rights_window(scene.referendum)[1])
    client = login_as(standing)
    assert client.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 403
    assert f'id="ref-{scene.referendum.id}"' not in client.get("/observe/").get_data(
        as_text=True)


def test_art18_3_a_revoked_accreditation_holds_against_a_standing_observer_role(
        scene, second, db_session, clock, keys, login_as):
    standing = scene.observers[0]
    row = _accredit(scene, db_session, clock, keys, scene.referendum, email=standing.email)
    assert row.user_id == standing.id
    clock.set(rights_window(scene.referendum)[0] + timedelta(hours=1))
    client = login_as(standing)
    assert client.post("/observe/api/report", json=report_body(scene)).status_code == 201
    services.revoke(db_session, clock, scene.members[0], row)
    db_session.commit()
    client = login_as(standing)
    assert client.post("/observe/api/report", json=report_body(scene)).status_code == 403
    assert client.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 403
    _html, refused = _report_form(client, polling_station_id=scene.station.id,
                                  referendum_id=scene.referendum.id)
    assert refused.status_code == 403
    # The other referendum, where no accreditation names her, she still observes as appointed.
    assert client.post("/observe/api/checklist", json=_for(scene, second, checklist_body(
        scene, ("seals_intact", True)))).status_code == 201
    assert db_session.scalar(select(ObserverReport.referendum_id).join(
        Case, Case.id == ObserverReport.case_id)) == scene.referendum.id


def test_with_two_referendums_under_way_the_report_form_asks_which(
        scene, second, db_session, clock, login_as):
    client = login_as(scene.observers[0])
    html, refused = _report_form(client, polling_station_id=scene.station.id)
    assert 'name="referendum_id"' in html
    assert refused.status_code == 400
    assert "Choose the one your report is about" in refused.get_data(as_text=True) \
        or "Izvēlieties" in refused.get_data(as_text=True)
    _html, filed = _report_form(client, polling_station_id=scene.station.id,
                                referendum_id=second.id)
    assert filed.status_code == 302
    assert db_session.scalar(select(ObserverReport.referendum_id)) == second.id


def test_with_one_referendum_under_way_the_report_form_files_for_it(
        scene, db_session, clock, login_as):
    client = login_as(scene.observers[0])
    html, filed = _report_form(client, polling_station_id=scene.station.id)
    assert 'name="referendum_id"' not in html
    assert filed.status_code == 302
    assert db_session.scalar(select(ObserverReport.referendum_id)) == scene.referendum.id


def test_art18_3_a_revoked_observer_adds_no_photo_to_her_report_but_may_answer(
        scene, db_session, clock, keys, login_as):
    import io

    from tests.case_factories import PNG

    row = _accredit(scene, db_session, clock, keys, scene.referendum)
    observer = db_session.get(User, row.user_id)
    clock.set(rights_window(scene.referendum)[0] + timedelta(hours=1))
    client = login_as(observer)
    case_id = client.post("/observe/api/report", json=report_body(scene)).get_json()["case_id"]

    def photo():
        page = client.get(f"/cases/{case_id}").get_data(as_text=True)
        return client.post(f"/cases/{case_id}/photos", data={
            "csrf_token": csrf_token_from(page), "photo": (io.BytesIO(PNG), "a.png")},
            content_type="multipart/form-data")

    assert photo().status_code == 302
    services.revoke(db_session, clock, scene.members[0], row)
    client = login_as(observer)
    # She keeps no observer role, yet she still sees the report she filed.
    assert photo().status_code == 403
    assert len(db_session.get(Case, case_id).photos) == 1
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    answered = client.post(f"/cases/{case_id}/comment", data={
        "csrf_token": csrf_token_from(page), "text": "Plombes trūka plkst. 9:00."})
    assert answered.status_code == 302


def test_a_report_that_belongs_to_no_referendum_is_counted_shown_and_correctable(
        scene, second, db_session, clock, login_as, monkeypatch):
    import re

    from referendum_core.cases import filing
    from referendum_core.cases import services as cases

    observer = scene.observers[0]
    # A report filed before the form asked for the referendum (stored rows are never
    # changed, so it is filed as it then was): it belongs to none.
    with monkeypatch.context() as then:
        then.setattr(filing, "referendum_of_station", lambda _s, _st, _r: None)
        legacy = cases.file_observer_report(
            db_session, clock, observer, polling_station_id=scene.station.id,
            category="ballot_box", severity="critical", description="Urna bez plombes",
            is_accredited=lambda _s: True)
    assert legacy.observer_report.referendum_id is None
    client = login_as(observer)
    filed = client.post("/observe/api/report", json=report_body(scene))
    assert filed.status_code == 201
    chair = login_as(scene.chair)
    home = chair.get("/").get_data(as_text=True)
    total = int(re.search(r'data-testid="critical-count">(\d+)<', home).group(1))
    lines = [int(n) for n in re.findall(
        r'data-testid="attention-(?:referendum-\d+|unassigned)">[^<]*?ziņojumi: (\d+)', home)]
    assert total == 2 and sum(lines) == total
    assert 'data-testid="attention-unassigned"' in home
    page = chair.get(f"/observe/r/{scene.referendum.id}/s/{scene.station.id}").get_data(
        as_text=True)
    assert 'data-testid="station-reports-unassigned"' in page and legacy.reference in page
    # The station table's CSV counts it in a column of its own, for its station.
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(
        chair.get("/observers/stations.csv").get_data(as_text=True))))
    # (once, on the station's row of no referendum; each report counted on one row only).
    assert [r["open_incidents_no_referendum"] for r in rows
            if r["station_name"] == scene.station.name and not r["referendum_id"]] == ["1"]
    assert {r["open_incidents_no_referendum"] for r in rows
            if r["station_name"] == scene.station.name and r["referendum_id"]} == {"0"}
    assert sum(int(r["open_incidents"]) for r in rows
               if r["station_name"] == scene.station.name) == 2
    # Its observer corrects it from the app, for the referendum the correction names.
    client = login_as(observer)
    fixed = client.post("/observe/api/report", json=report_body(
        scene, corrects_case_id=legacy.id, severity="low", description="Plombe bija"))
    assert fixed.status_code == 201


def test_the_case_api_asks_which_referendum_when_two_are_under_way(
        scene, second, db_session, clock, client):
    from portal.cases import tokens

    _row, plaintext = tokens.issue_service_token(
        db_session, clock, None, scene.observers[0], "Novērotāja lietotne",
        ["cases:read", "cases:write"])
    db_session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    body = {"type": "observer_report", "polling_station_id": scene.station.id,
            "category": "ballot_box", "severity": "high", "summary": "Urnai nav plombes"}
    refused = client.post("/api/v1/cases", json=body, headers=headers)
    assert refused.status_code == 400
    assert db_session.scalar(select(ObserverReport.case_id)) is None
    filed = client.post("/api/v1/cases", json={**body, "referendum_id": second.id},
                        headers=headers)
    assert filed.status_code == 201
    assert db_session.scalar(select(ObserverReport.referendum_id)) == second.id


def test_both_apis_refuse_an_unknown_station_as_one_not_observed(scene, db_session, clock,
                                                                  client, login_as, people):
    """Art. 18(3): a report from a station the observer does not observe, or from one that does
    not exist, gets the same 403 on the observer app's API and on the case API; nothing is
    written."""
    from portal.cases import tokens

    _row, plaintext = tokens.issue_service_token(
        db_session, clock, None, scene.observers[0], "Novērotāja lietotne",
        ["cases:read", "cases:write"])
    elsewhere = people.observer(atvk="0001000")
    db_session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    case_api = {"type": "observer_report", "referendum_id": scene.referendum.id,
                "category": "ballot_box", "severity": "high", "summary": "Urnai nav plombes"}
    for station_id in (scene.station.id + 10_000, 2**31 - 1):
        answer = client.post("/api/v1/cases", headers=headers,
                             json={**case_api, "polling_station_id": station_id})
        assert answer.status_code == 403, answer.get_json()
    app = login_as(scene.observers[0])
    answer = app.post("/observe/api/report",
                      json=report_body(scene, polling_station_id=scene.station.id + 10_000))
    assert answer.status_code == 403 and answer.get_json()["code"] == "not_observer_here"
    app = login_as(elsewhere)
    answer = app.post("/observe/api/report", json=report_body(scene))
    assert answer.status_code == 403 and answer.get_json()["code"] == "not_observer_here"
    assert db_session.scalar(select(ObserverReport.case_id)) is None


def test_art20_3_after_the_observation_days_the_api_says_the_rights_ended(
        scene, db_session, clock, keys, login_as):
    """An accredited observer's role ends with the referendum's observation days: the phone is
    told so with a code and a sentence (403 ``observer_rights_ended``), not a bare 403."""
    _accredit(scene, db_session, clock, keys, scene.referendum)
    observer = db_session.scalars(select(User).where(User.email == "anna@example.lv")).one()
    clock.set(rights_window(scene.referendum)[1] + timedelta(days=3))
    client = login_as(observer)
    for url, body in (("/observe/api/report", report_body(scene)),
                      ("/observe/api/checklist", checklist_body(scene, ("seals_intact", True)))):
        answer = client.post(url, json=body)
        assert answer.status_code == 403, answer.get_json()
        assert answer.get_json()["code"] == "observer_rights_ended"
        assert "tiesības ir beigušās" in answer.get_json()["error"]
    key = client.get("/observe/api/key", headers={"Accept": "application/json"})
    assert key.status_code == 403 and key.get_json()["code"] == "observer_rights_ended"
    assert db_session.scalar(select(ObserverReport.case_id)) is None


def test_art18_3_a_revoked_observers_app_gets_a_json_401_not_the_sign_in_page(
        scene, db_session, clock, keys, login_as):
    """Revoking the accreditation ends the observer's sessions: the app's requests (JSON) get
    401 ``sign_in_required`` with a sentence (the phone keeps what waits and asks to sign in);
    a page still goes to the sign-in page."""
    row = _accredit(scene, db_session, clock, keys, scene.referendum)
    observer = db_session.scalars(select(User).where(User.email == "anna@example.lv")).one()
    clock.set(rights_window(scene.referendum)[0] + timedelta(hours=1))
    client = login_as(observer)
    assert client.post("/observe/api/report", json=report_body(scene)).status_code == 201
    services.revoke(db_session, clock, scene.members[0], row)
    db_session.commit()
    answer = client.post("/observe/api/report", json=report_body(scene),
                         headers={"Accept": "application/json"})
    assert answer.status_code == 401
    assert answer.get_json()["code"] == "sign_in_required"
    assert "piesakieties vēlreiz" in answer.get_json()["error"]
    key = client.get("/observe/api/key", headers={"Accept": "application/json",
                                                  "X-Requested-With": "fetch"})
    assert key.status_code == 401 and key.get_json()["code"] == "sign_in_required"
    page = client.get("/observe/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
