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
    for data, reason, sentence in (
            (b"[1, 2]", "not_object", "jābūt JSON objektam"),
            (b'{"key": "\xff\xfe"}', "not_utf8", "nav UTF-8 teksts (10. baits)"),
            (b'{"key": ', "syntax", "nav derīgs JSON (1. rinda, 9. kolonna)"),
            (b'{"answers": [{"item": "a", "item": "b"}]}', "duplicate_key",
             "Lauks “item” pieprasījuma satura vienā objektā norādīts divreiz"),
            (b'{"referendum_id": NaN}', "not_strict", "NaN, Infinity vai pārāk garš skaitlis"),
            (b'{"referendum_id": %s}' % (b"9" * 5000), "not_strict", "pārāk garš skaitlis"),
            (b"\xef\xbb\xbf{}", "byte_order_mark", "baitu secības zīmi (BOM)"),
            (b"[" * 50_000 + b"]" * 50_000, "too_deep", "pārāk dziļi")):
        answer = _post(client, "/observe/api/checklist", data)
        assert answer.status_code == 400 and answer.is_json, data
        assert (answer.json["code"], answer.json["reason"]) == ("invalid_json", reason), data
        assert sentence in answer.json["error"], (data, answer.json)
        assert "Nekas netika saņemts." in answer.json["error"]
        assert "(body)" not in answer.json["error"]
    form = client.post("/observe/api/checklist", data={"key": "x"},
                       headers={"X-Requested-With": "fetch"})
    assert form.status_code == 400 and form.json["reason"] == "content_type"
    assert "nav nosūtīts kā JSON" in form.json["error"]
    with client.session_transaction() as signed:
        signed["lang"] = "en"  # the person chose English
    english = _post(client, "/observe/api/checklist", b'{"key": ')
    assert english.json["error"].startswith("The request body is not valid JSON (line 1, "
                                            "column 9).")
    assert (english.json["line"], english.json["column"]) == (1, 9)
    assert db_session.scalar(select(ChecklistAnswer.id)) is None
    with client.session_transaction() as signed:
        signed["lang"] = "lv"
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
    assert (answer.json["code"], answer.json["reason"]) == ("invalid_json", "duplicate_key")
    assert answer.json["key"] == "polling_station_id"
    assert "“polling_station_id” pieprasījuma satura vienā objektā norādīts divreiz" in \
        answer.json["error"]
    assert db_session.scalar(select(ObserverReport.case_id)) is None
