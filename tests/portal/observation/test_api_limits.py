"""The observer API counts before it reads: a page with more answers than the checklist has
questions, or a report with more than 6 photos, is refused before any entry is typed, decoded
or fingerprinted, each with its own sentence; JSON with a key named twice is refused; report
texts follow the same character rule as accreditation names; a fill time outside the
referendum is not kept."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from portal.observation.api import MAX_ANSWERS_PER_PAGE
from referendum_core.cases.models import ObserverReport
from referendum_core.observation.models import ObserverSubmission
from tests.portal.observation.conftest import checklist_body, report_body


def _count(db_session):
    return db_session.scalar(select(func.count(ObserverSubmission.id)))


def test_a_million_answers_are_refused_before_any_is_read(scene, login_as, db_session):
    client = login_as(scene.observers[0])
    body = checklist_body(scene)
    # Junk entries: were they typed first, the refusal would name answers[0].
    body["answers"] = [[]] * 1_000_000
    refused = client.post("/observe/api/checklist", data=json.dumps(body),
                          content_type="application/json")
    assert refused.status_code == 400 and refused.get_json()["code"] == "too_many_answers"
    one_too_many = checklist_body(scene)
    one_too_many["answers"] = [{"item": f"x{i}", "value": True}
                               for i in range(MAX_ANSWERS_PER_PAGE + 1)]
    assert client.post("/observe/api/checklist", json=one_too_many).get_json()["code"] \
        == "too_many_answers"
    assert _count(db_session) == 0


def test_no_answers_and_too_many_photos_each_get_their_own_sentence(scene, login_as,
                                                                    db_session):
    client = login_as(scene.observers[0])
    empty = client.post("/observe/api/checklist", json=checklist_body(scene))
    assert empty.status_code == 400 and empty.get_json()["code"] == "no_answers"
    photos = client.post("/observe/api/report", json=report_body(scene, photos=["x"] * 7))
    assert photos.status_code == 400 and photos.get_json()["code"] == "too_many_photos"
    assert "6" in photos.get_json()["error"]
    generic = "neatbilst"  # "An answer does not fit its question"
    assert generic not in empty.get_json()["error"] and generic not in photos.get_json()["error"]
    assert _count(db_session) == 0


def test_a_key_named_twice_is_refused_not_last_one_wins(scene, login_as, db_session):
    client = login_as(scene.observers[0])
    body = json.dumps(report_body(scene))
    doubled = body[:-1] + ', "polling_station_id": 999}'
    refused = client.post("/observe/api/report", data=doubled,
                          content_type="application/json")
    assert refused.status_code == 400 and refused.get_json()["code"] == "invalid_json"
    nested = json.dumps(checklist_body(scene, ("seals_intact", True))).replace(
        '"value": true', '"value": true, "value": false')
    assert client.post("/observe/api/checklist", data=nested,
                       content_type="application/json").get_json()["code"] == "invalid_json"
    assert _count(db_session) == 0


def test_report_texts_refuse_bidi_overrides_and_nul_as_names_do(scene, login_as, db_session):
    client = login_as(scene.observers[0])
    for bad in ("Urnai \u202enav\u202c plombes", "Urnai\x00 nav plombes"):
        refused = client.post("/observe/api/report", json=report_body(scene, description=bad))
        assert refused.status_code == 400
        assert refused.get_json()["code"] == "bad_characters"
    fine = client.post("/observe/api/report", json=report_body(
        scene, description="Urnai nav plombes.\nIeraksts:\tplkst. 9:00"))
    assert fine.status_code == 201
    assert db_session.scalar(select(func.count(ObserverReport.case_id))) == 1


def test_a_fill_time_outside_the_referendum_is_not_kept(scene, login_as, db_session):
    client = login_as(scene.observers[0])
    body = checklist_body(scene, ("seals_intact", True))
    body["filled_at"] = "2020-03-02T09:00:00+00:00"
    assert client.post("/observe/api/checklist", json=body).status_code == 201
    kept = checklist_body(scene, ("queue_length", 3))
    assert client.post("/observe/api/checklist", json=kept).status_code == 201
    stored = dict(db_session.execute(select(
        ObserverSubmission.client_key, ObserverSubmission.filled_at)).all())
    assert stored[body["key"]] is None
    assert stored[kept["key"]] is not None
