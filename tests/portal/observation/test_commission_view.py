"""What the commission sees: conflicts between two observers' checklists on its home page and
the station's page, and a critical report pushed live to its open pages and waiting on its
home page until triaged."""
from __future__ import annotations

import csv
import io
import time

from portal.extensions import socketio
from referendum_core.cases.models import Case
from tests.portal.observation.conftest import (
    checklist_body,
    observer_client,
    report_body,
    shown_count,
)


def test_two_observers_disagreeing_flag_a_conflict_for_the_commission(app, scene, db_session,
                                                                      clock, login_as,
                                                                      people):
    one, two = (observer_client(app, db_session, clock, o) for o in scene.observers)
    assert one.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True), ("queue_length", 3))).status_code == 201
    assert two.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", False), ("queue_length", 3))).status_code == 201
    client = login_as(scene.chair)
    home = client.get("/").get_data(as_text=True)
    assert shown_count(home, "conflict-count") == 1
    assert "Vai urnas plombes ir neskartas?" in home and "Otrais novērotājs: Nē" in home
    station = client.get(f"/observe/r/{scene.referendum.id}/s/{scene.station.id}")
    html = station.get_data(as_text=True)
    assert shown_count(html, "station-conflict-count") == 1 and "neatbilstība" in html
    # The second observer corrects: both answers stay on the station page, the flag goes.
    assert two.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 201
    html = client.get(f"/observe/r/{scene.referendum.id}/s/{scene.station.id}").get_data(
        as_text=True)
    assert shown_count(html, "station-conflict-count") == 0
    assert html.count('class="superseded"') == 1 and "labo iepriekšējo atbildi" in html
    assert shown_count(client.get("/").get_data(as_text=True), "conflict-count") == 0
    # Another municipality's commission neither sees the station nor its conflicts.
    login_as(people.member(atvk="0001000"))
    assert client.get(f"/observe/r/{scene.referendum.id}/s/{scene.station.id}"
                      ).status_code == 404


def test_a_critical_report_reaches_the_open_commission_page_within_5_seconds(
        app, scene, db_session, clock, login_as):
    observer = observer_client(app, db_session, clock, scene.observers[0])
    client = login_as(scene.chair)
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.emit("observation.watch", {}, callback=True)["ok"] is True
    sock.get_received()
    sent = time.monotonic()
    answer = observer.post("/observe/api/report", json=report_body(scene)).get_json()
    pushed = [e["args"][0] for e in sock.get_received() if e["name"] == "observation.changed"]
    assert time.monotonic() - sent < 5
    assert pushed == [{"kind": "report", "municipality_id": scene.municipality.id,
                       "polling_station_id": scene.station.id, "case_id": answer["case_id"],
                       "severity": "critical"}]
    part = client.get("/observe/attention").get_data(as_text=True)
    assert shown_count(part, "critical-count") == 1 and answer["reference"] in part
    assert answer["reference"] in client.get("/").get_data(as_text=True)
    sock.disconnect()
    # Triaged, it no longer needs action.
    version = db_session.get(Case, answer["case_id"]).version
    assert client.post(f"/cases/{answer['case_id']}/transition", data={
        "transition": "triage", "version": version, "note": ""}).status_code == 302
    assert shown_count(client.get("/observe/attention").get_data(as_text=True),
                  "critical-count") == 0


def test_observers_and_other_commissions_join_no_observation_room(app, scene, login_as,
                                                                  people):
    client = login_as(scene.observers[0])
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.emit("observation.watch", {}, callback=True)["ok"] is False
    sock.disconnect()
    assert client.get("/observe/attention").status_code == 403


def test_the_station_table_shows_checklist_progress_and_conflicts(app, scene, db_session,
                                                                  clock, login_as):
    one, two = (observer_client(app, db_session, clock, o) for o in scene.observers)
    one.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True), ("queue_length", 3)))
    two.post("/observe/api/checklist", json=checklist_body(scene, ("seals_intact", False)))
    client = login_as(scene.chair)
    text = client.get("/observers/stations.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))  # every cell quoted (formula injection)
    # Answered and total in two cells: a spreadsheet would read "2/12" as a date.
    assert rows[0][-3:] == ["checklist_answered", "checklist_questions", "observer_conflicts"]
    row = next(line for line in rows[1:] if scene.station.name in line)
    assert row[-3:] == ["2", "12", "1"]
