"""The observer API and the case API read a JSON body by one rule (``portal.jsonbody``): an
array, bytes that are not UTF-8, malformed JSON and a key named twice are refused as JSON
errors that say where, and nothing is received."""
from __future__ import annotations

from sqlalchemy import select

from referendum_core.cases.models import ObserverReport
from referendum_core.observation.models import ChecklistAnswer
from tests.portal.observation.conftest import checklist_body


def _post(client, url, data, **kw):
    return client.post(url, data=data, content_type="application/json", **kw)


def test_the_observer_api_refuses_what_is_not_one_json_object_as_json(
        scene, db_session, login_as):
    client = login_as(scene.observers[0])
    for data, where in ((b"[1, 2]", "not a JSON object"),
                        (b'{"key": "\xff\xfe"}', "byte 10 is not UTF-8"),
                        (b'{"key": ', "line 1, column 9"),
                        (b'{"answers": [{"item": "a", "item": "b"}]}', "duplicate key 'item'"),
                        (b'{"referendum_id": NaN}', "not strict JSON"),
                        (b'{"referendum_id": %s}' % (b"9" * 5000), "not strict JSON")):
        answer = _post(client, "/observe/api/checklist", data)
        assert answer.status_code == 400 and answer.is_json, data
        assert answer.json["code"] == "invalid_json"
        assert where in answer.json["error"], (data, answer.json)
        assert "(body)" not in answer.json["error"]
    assert db_session.scalar(select(ChecklistAnswer.id)) is None
    good = checklist_body(scene, ("seals_intact", True))
    assert client.post("/observe/api/checklist", json=good).status_code in (201, 403)


def test_the_case_api_refuses_a_key_named_twice(scene, db_session, clock, client):
    from portal.cases import tokens

    _row, plaintext = tokens.issue_service_token(
        db_session, clock, None, scene.observers[0], "Lietotne", ["cases:read", "cases:write"])
    db_session.commit()
    body = (b'{"type": "observer_report", "polling_station_id": %d, "polling_station_id": 1, '
            b'"category": "ballot_box", "severity": "high", "summary": "x"}' % scene.station.id)
    answer = _post(client, "/api/v1/cases", body,
                   headers={"Authorization": f"Bearer {plaintext}"})
    assert answer.status_code == 400 and answer.is_json
    assert "duplicate key 'polling_station_id'" in answer.get_data(as_text=True)
    assert db_session.scalar(select(ObserverReport.case_id)) is None
