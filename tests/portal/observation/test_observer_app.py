"""The observer app over HTTP: its page, manifest and service worker, the outbox key, and
checklist answers and reports received once per idempotency key."""
from __future__ import annotations

import base64

from sqlalchemy import func, select

from messaging.services import thread_for_case
from portal.security import CSP
from referendum_core.observation.models import ChecklistAnswer, ObserverSubmission
from tests.case_factories import PNG
from tests.portal.observation.conftest import checklist_body, report_body


def test_the_app_page_manifest_and_service_worker(scene, login_as):
    client = login_as(scene.observers[0])
    page = client.get("/observe/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'rel="manifest"' in html and "Vai urnas plombes ir neskartas?" in html
    assert f'data-referendum="{scene.referendum.id}"' in html
    manifest = client.get("/observe/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["scope"] == "/observe/"
    worker = client.get("/observe/sw.js")
    assert worker.mimetype == "text/javascript" and b"observer-app-v1" in worker.data
    # The app runs under the portal's one CSP: scripts, workers and the manifest from 'self'.
    assert page.headers["Content-Security-Policy"] == CSP


def test_the_outbox_key_is_the_observers_own(scene, login_as, client):
    login_as(scene.observers[0])
    first = client.get("/observe/api/key").get_json()
    assert len(base64.b64decode(first["key"])) == 32 and first["csrf_token"]
    assert client.get("/observe/api/key").get_json()["key"] == first["key"]
    login_as(scene.observers[1])
    assert client.get("/observe/api/key").get_json()["key"] != first["key"]


def test_the_outbox_session_tag_is_new_for_every_sign_in_and_hides_the_session_id(
        scene, login_as, client):
    login_as(scene.observers[0])
    first = client.get("/observe/api/key").get_json()
    with client.session_transaction() as sess:
        sid = sess["sid"]
    assert len(first["session_tag"]) == 32 and sid not in first["session_tag"]
    assert client.get("/observe/api/key").get_json()["session_tag"] == first["session_tag"]
    login_as(scene.observers[0])  # signed in again: the same key, another session's tag
    again = client.get("/observe/api/key").get_json()
    assert again["key"] == first["key"] and again["session_tag"] != first["session_tag"]


def test_only_observers_get_the_app(scene, login_as):
    client = login_as(scene.chair)
    assert client.get("/observe/").status_code == 403
    assert client.get("/observe/api/key").status_code == 403


def test_a_checklist_sent_twice_is_received_once(scene, login_as, db_session):
    client = login_as(scene.observers[0])
    body = checklist_body(scene, ("seals_intact", True), ("queue_length", 4))
    body["answers"][0]["photo"] = "data:image/png;base64," + base64.b64encode(PNG).decode()
    first = client.post("/observe/api/checklist", json=body)
    again = client.post("/observe/api/checklist", json=body)
    assert (first.status_code, first.get_json()["status"]) == (201, "received")
    assert (again.status_code, again.get_json()["status"]) == (200, "already_received")
    assert db_session.scalar(select(func.count(ChecklistAnswer.id))) == 2
    page = client.get("/observe/").get_data(as_text=True)
    assert f'data-key="{body["key"]}"' in page  # listed as received
    with_photo = db_session.scalar(select(ChecklistAnswer).where(
        ChecklistAnswer.photo_id.is_not(None)))
    login_as(scene.chair)
    photo = client.get(f"/observe/photos/{with_photo.id}")
    assert photo.data == PNG and photo.mimetype == "image/png"
    assert "sandbox" in photo.headers["Content-Security-Policy"]


def test_refusals_are_clear_and_write_nothing(scene, login_as, db_session, people):
    client = login_as(scene.observers[0])
    bad = client.post("/observe/api/checklist", json=checklist_body(scene, ("seals_intact", 7)))
    assert bad.status_code == 400 and "neatbilst" in bad.get_json()["error"]
    assert client.post("/observe/api/checklist", data="{").status_code == 400
    assert client.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True), key="x")).status_code == 400
    other = people.observer(atvk="0001000")
    client = login_as(other)
    refused = client.post("/observe/api/checklist",
                          json=checklist_body(scene, ("seals_intact", True)))
    assert refused.status_code == 403 and refused.get_json()["code"] == "not_observer_here"
    assert db_session.scalar(select(func.count(ObserverSubmission.id))) == 0


def test_a_report_sent_twice_is_one_case_and_a_correction_points_to_it(scene, login_as,
                                                                        db_session):
    client = login_as(scene.observers[0])
    body = report_body(scene)
    first = client.post("/observe/api/report", json=body).get_json()
    again = client.post("/observe/api/report", json=body).get_json()
    assert again["status"] == "already_received" and again["case_id"] == first["case_id"]
    # The report's thread is opened once the report is committed (a task).
    assert thread_for_case(db_session, first["case_id"]) is not None
    fix = client.post("/observe/api/report", json=report_body(
        scene, description="Plombes bija; kļūda", severity="low",
        corrects_case_id=first["case_id"]))
    assert fix.status_code == 201
    twice = client.post("/observe/api/report", json=report_body(
        scene, corrects_case_id=first["case_id"]))
    assert twice.status_code == 409 and twice.get_json()["code"] == "already_corrected"
    login_as(scene.chair)
    station = client.get(f"/observe/r/{scene.referendum.id}/s/{scene.station.id}")
    html = station.get_data(as_text=True)
    assert first["reference"] in html and fix.get_json()["reference"] in html
    assert "labo ziņojumu" in html and "labots ar ziņojumu" in html


def test_a_fill_time_at_the_calendars_edge_is_ignored_not_a_server_error(scene, login_as):
    """A phone's `filled_at` that UTC cannot hold (year 1 in +01:00) is dropped like junk."""
    client = login_as(scene.observers[0])
    body = {**checklist_body(scene, ("seals_intact", True)),
            "filled_at": "0001-01-01T00:00:00+01:00"}
    assert client.post("/observe/api/checklist", json=body).status_code == 201
    report = {**report_body(scene), "filled_at": "0001-01-01T00:00:00+01:00"}
    assert client.post("/observe/api/report", json=report).status_code == 201


def test_art20_3_nothing_is_observed_once_the_results_are_approved(scene, login_as,
                                                                   db_session):
    """Once the commission approved the results, the referendum takes no observations (the
    app already hid it; the API refused nothing)."""
    scene.referendum.stage = "approved"
    db_session.flush()
    client = login_as(scene.observers[0])
    before = db_session.scalar(select(func.count()).select_from(ObserverSubmission))
    answer = client.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", False)))
    assert answer.status_code == 403
    assert client.post("/observe/api/report", json=report_body(scene)).status_code == 403
    assert db_session.scalar(select(func.count()).select_from(ObserverSubmission)) == before


def test_only_the_latest_version_of_a_report_is_offered_for_correction(scene, login_as):
    """A report that has a correction is refused as a target (``already_corrected``), so the
    app offers the correction instead, not both."""
    client = login_as(scene.observers[0])
    first = client.post("/observe/api/report", json=report_body(scene)).get_json()
    html = client.get("/observe/").get_data(as_text=True)
    assert f'<option value="{first["case_id"]}">' in html
    fix = client.post("/observe/api/report", json=report_body(
        scene, description="Plombes bija", corrects_case_id=first["case_id"])).get_json()
    html = client.get("/observe/").get_data(as_text=True)
    assert f'<option value="{first["case_id"]}">' not in html
    assert f'<option value="{fix["case_id"]}">' in html
    # Checklists are not reports: never offered.
    client.post("/observe/api/checklist", json=checklist_body(scene, ("seals_intact", True)))
    assert html.count("<option value=") == client.get("/observe/").get_data(
        as_text=True).count("<option value=")


def test_signing_out_clears_the_observers_app_from_the_browser(scene, login_as):
    """The sign-out answer tells the browser to drop the site's cache and storage (the app's
    copy, its key and outbox) for an observer; others keep their storage (board checkpoints)."""
    client = login_as(scene.observers[0])
    out = client.post("/logout")
    assert out.status_code == 302
    assert out.headers["Clear-Site-Data"] == '"cache", "storage"'
    client = login_as(scene.chair)
    assert client.post("/logout").headers["Clear-Site-Data"] == '"cache"'


def test_the_apps_report_form_chooses_nothing_for_the_observer(scene, login_as):
    """A hurried send must not file a report under a category or severity nobody chose: both
    start empty (the script refuses to keep the entry until both are chosen)."""
    import re

    html = login_as(scene.observers[0]).get("/observe/").get_data(as_text=True)
    # Nothing received yet: the list's heading is not left with nothing under it.
    assert 'data-testid="outbox-received-none">No jums vēl nekas nav saņemts.' in html
    for name in ("category", "severity"):
        select = re.search(rf'<select id="{name}-\d+" name="{name}">(.*?)</select>', html, re.S)
        assert select is not None
        assert re.match(r'\s*<option value="">', select.group(1))
        assert " selected" not in select.group(1)
