"""The commission's side of what observers send, after the outside judge's findings: a report's
corrections shown on the case page and judged by their latest version on the home page; a
revoked observer's answers set aside everywhere (home page, station page, CSV); the station page
and the polling-station table told live of new data; the Latvian wording of these pages."""
from __future__ import annotations

import csv
import io
import re

from portal.extensions import socketio
from referendum_core.observers.models import AccreditationStatus, ObserverAccreditation
from tests.portal.observation.conftest import (
    checklist_body,
    observer_client,
    report_body,
    shown_count,
)


def _box(html):
    """The home page's "needs action" part alone (the work list below lists open cases)."""
    return re.search(r'<section id="observation-attention".*?</section>', html, re.S).group(0)


def _station_url(scene):
    return f"/observe/r/{scene.referendum.id}/s/{scene.station.id}"


def _revoke(scene, db_session, observer):
    """``observer``'s accreditation at the scene's station, revoked (the commission's act)."""
    db_session.add(ObserverAccreditation(
        case_id=scene.referendum.case_id, referendum_id=scene.referendum.id,
        polling_station_id=scene.station.id, kind="media", full_name=observer.display_name,
        email=observer.email, status=AccreditationStatus.REVOKED, user_id=observer.id,
        requested_at=scene.clock.now(), revoked_at=scene.clock.now()))
    db_session.commit()


def test_a_case_page_names_the_report_it_corrects_and_the_one_correcting_it(
        app, scene, db_session, clock, login_as):
    observer = observer_client(app, db_session, clock, scene.observers[0])
    first = observer.post("/observe/api/report", json=report_body(scene)).get_json()
    second = observer.post("/observe/api/report", json=report_body(
        scene, severity="low", description="Plombes bija; kļūdījos",
        corrects_case_id=first["case_id"])).get_json()
    client = login_as(scene.chair)
    old = client.get(f"/cases/{first['case_id']}").get_data(as_text=True)
    assert 'data-testid="report-corrected-by"' in old and "Labots ar ziņojumu" in old
    assert f'href="/cases/{second["case_id"]}">{second["reference"]}</a>' in old
    new = client.get(f"/cases/{second['case_id']}").get_data(as_text=True)
    assert 'data-testid="report-corrects"' in new and "Labo ziņojumu" in new
    assert f'href="/cases/{first["case_id"]}">{first["reference"]}</a>' in new
    assert "report-corrected-by" not in new


def test_the_home_page_judges_a_corrected_report_by_its_latest_version(
        app, scene, db_session, clock, login_as):
    observer = observer_client(app, db_session, clock, scene.observers[0])
    critical = observer.post("/observe/api/report", json=report_body(scene)).get_json()
    client = login_as(scene.chair)
    assert shown_count(client.get("/").get_data(as_text=True), "critical-count") == 1
    observer.post("/observe/api/report", json=report_body(
        scene, severity="low", corrects_case_id=critical["case_id"]))
    home = _box(client.get("/").get_data(as_text=True))
    assert shown_count(home, "critical-count") == 0 and critical["reference"] not in home
    low = observer.post("/observe/api/report", json=report_body(scene, severity="low")).get_json()
    raised = observer.post("/observe/api/report", json=report_body(
        scene, corrects_case_id=low["case_id"])).get_json()
    home = _box(client.get("/").get_data(as_text=True))
    assert shown_count(home, "critical-count") == 1 and raised["reference"] in home
    # The line says which report it corrects.
    assert f'data-testid="attention-corrects-{raised["case_id"]}"' in home
    assert f"labo ziņojumu <a href=\"/cases/{low['case_id']}\">{low['reference']}</a>" in home


def test_art18_3_a_revoked_observers_answers_are_shown_but_no_longershown_count(
        app, scene, db_session, clock, login_as):
    one, two = (observer_client(app, db_session, clock, o) for o in scene.observers)
    assert one.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 201
    assert two.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", False), ("queue_length", 3))).status_code == 201
    client = login_as(scene.chair)
    assert shown_count(client.get("/").get_data(as_text=True), "conflict-count") == 1
    _revoke(scene, db_session, scene.observers[1])

    assert shown_count(client.get("/").get_data(as_text=True), "conflict-count") == 0
    html = client.get(_station_url(scene)).get_data(as_text=True)
    assert shown_count(html, "station-conflict-count") == 0
    assert "Otrais novērotājs <small" in html and "(akreditācija atsaukta)" in html
    assert "1 no " in html  # progress: only the counting observer's one item
    rows = list(csv.DictReader(io.StringIO(
        client.get("/observers/stations.csv").get_data(as_text=True))))
    [row] = [r for r in rows if r["referendum_id"] == str(scene.referendum.id)
             and r["station_number"] == str(scene.station.number)]
    assert row["observer_conflicts"] == "0" and row["checklist_answered"] == "1"


def test_the_station_page_and_the_station_table_are_told_live_of_new_data(
        app, scene, db_session, clock, login_as):
    observer = observer_client(app, db_session, clock, scene.observers[0])
    client = login_as(scene.chair)
    for url in (_station_url(scene), "/observers/stations"):
        html = client.get(url).get_data(as_text=True)
        notice = re.search(r'<p id="observation-live-notice"[^>]*>', html).group(0)
        assert 'aria-live="polite"' in notice and 'role="status"' in notice
        assert str(scene.station.id) in re.search(r'data-stations="([^"]*)"', notice).group(1)
        assert 'data-text="Saņemti jauni dati"' in notice and 'data-reload="atjaunināt"' in notice
        assert "js/observation-live.js" in html and "socket.io.min.js" in html
    # The pages join the same rooms as the home page's box and hear a checklist arriving for
    # the station they show.
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.emit("observation.watch", {}, callback=True)["ok"] is True
    sock.get_received()
    assert observer.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 201
    pushed = [e["args"][0] for e in sock.get_received() if e["name"] == "observation.changed"]
    assert [(p["kind"], p["polling_station_id"]) for p in pushed] == [
        ("checklist", scene.station.id)]
    sock.disconnect()


def test_latvian_wording_of_the_commission_pages(app, scene, db_session, clock, login_as):
    one, two = (observer_client(app, db_session, clock, o) for o in scene.observers)
    one.post("/observe/api/checklist", json=checklist_body(scene, ("seals_intact", True)))
    two.post("/observe/api/checklist", json=checklist_body(scene, ("seals_intact", False)))
    client = login_as(scene.chair)
    station = client.get(_station_url(scene)).get_data(as_text=True)
    assert '<th scope="col">Atbilde</th>' in station and ">Atbildēt<" not in station
    home = client.get("/").get_data(as_text=True)
    # A question's own mark ends it: no colon after it.
    assert "?:" not in station and "neskartas? — Observer: Jā; Otrais novērotājs: Nē" in station
    assert "?:" not in home and re.search(r"neskartas\?\s+\(Observer: Jā", home)
    assert re.search(r"referendums — kritiski ziņojumi: 0, nesaskaņas: 1", home)
    assert "Pierakstieties" not in one.get("/observe/").get_data(as_text=True)
    assert "Piesakieties vēlreiz" in one.get("/observe/").get_data(as_text=True)
