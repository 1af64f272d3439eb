"""The case API with service tokens, and its generated OpenAPI document."""
from __future__ import annotations

import pytest

from portal.cases import tokens
from referendum_core.cases.models import Case
from tests.case_factories import report, station


@pytest.fixture()
def member_token(db_session, clock, people):
    member = people.member()
    _row, plaintext = tokens.issue_service_token(db_session, clock, None, member, "Ādažu IS",
                                                 ["cases:read", "cases:write"])
    db_session.commit()
    return member, {"Authorization": f"Bearer {plaintext}"}


def test_openapi_document_is_generated_from_the_declared_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/cases", "/cases/{case_id}", "/cases/{case_id}/transitions",
            "/cases/{case_id}/comments"} <= set(doc["paths"])
    assert set(doc["paths"]["/cases"]) == {"get", "post"}
    create = doc["paths"]["/cases"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"] \
        == "#/components/schemas/CaseCreate"
    assert create["security"] == [{"bearerToken": ["cases:write"]}]
    schemas = doc["components"]["schemas"]
    for name in ("Case", "CaseCreate", "TransitionRequest", "CommentRequest", "Error"):
        assert schemas[name]["type"] == "object"
    # Every $ref resolves.
    import json
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        section, _, name = ref[2:].partition("/")[2].partition("/")
        assert name in doc["components"][section], ref
    assert doc["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_api_refuses_without_a_valid_token(client):
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer rpt_nope"}
                      ).status_code == 401


def test_read_only_token_cannot_write(db_session, clock, people, client):
    member = people.member()
    _row, plaintext = tokens.issue_service_token(db_session, clock, None, member, "ro",
                                                 ["cases:read"])
    db_session.commit()
    response = client.post("/api/v1/cases", json={"type": "commission_query"},
                           headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 403


def test_create_read_transition_comment_with_a_token(db_session, clock, people, client,
                                                     member_token):
    member, headers = member_token
    muni = station(db_session).municipality_id
    db_session.commit()
    created = client.post("/api/v1/cases", headers=headers, json={
        "type": "commission_query", "municipality_id": muni, "title": "Saraksti",
        "summary": "Kā rīkoties?"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["state"] == "submitted" and body["deadline_basis"] == "service level"
    case_id = body["id"]
    read = client.get(f"/api/v1/cases/{case_id}", headers=headers).get_json()
    assert read["events"][0]["kind"] == "opened"
    # CVK answers on the web side; the commission then closes the query through the API.
    report_case = report(db_session, clock, people.observer())
    db_session.commit()
    moved = client.post(f"/api/v1/cases/{report_case.id}/transitions", headers=headers,
                        json={"transition": "triage", "expected_version": 1})
    assert moved.status_code == 200 and moved.get_json()["state"] == "triaged"
    stale = client.post(f"/api/v1/cases/{report_case.id}/transitions", headers=headers,
                        json={"transition": "dismiss", "expected_version": 1, "note": "x"})
    assert stale.status_code == 409
    commented = client.post(f"/api/v1/cases/{report_case.id}/comments", headers=headers,
                            json={"text": "Pārbaudām"})
    assert commented.status_code == 201
    listed = client.get("/api/v1/cases?type=observer_report", headers=headers)
    assert report_case.id in [c["id"] for c in listed.get_json()]


def test_bad_bodies_get_clear_errors(client, member_token):
    _member, headers = member_token
    response = client.post("/api/v1/cases", headers=headers, json={"type": "x", "extra": 1})
    assert response.status_code == 400
    problems = response.get_json()["problems"]
    assert any("type" in p for p in problems) and any("extra" in p for p in problems)
    response = client.post("/api/v1/cases", headers=headers, json={"type": "complaint"})
    assert response.status_code == 400 and "contested_on: required for complaint" in \
        response.get_json()["problems"]


def test_token_of_another_municipality_gets_404(db_session, clock, people, client, member_token):
    _member, headers = member_token
    case = report(db_session, clock, people.observer("0001000"), station(db_session, "0001000"))
    db_session.commit()
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 404
    assert db_session.get(Case, case.id) is not None


def test_revoked_token_stops_working(db_session, clock, people, client):
    member = people.member()
    row, plaintext = tokens.issue_service_token(db_session, clock, None, member, "x",
                                                ["cases:read"])
    tokens.revoke_service_token(db_session, clock, None, row)
    db_session.commit()
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {plaintext}"}
                      ).status_code == 401


def test_every_refusal_has_a_code_and_a_latvian_sentence(client, member_token):
    """The case API's refusals carry a stable code and a sentence in the request's language
    (Latvian by default); ``problems`` stays, by field name, for programs."""
    _member, headers = member_token
    wrong_type = client.post("/api/v1/cases", headers=headers,
                             json={"type": "observer_report", "polling_station_id": "x"})
    body = wrong_type.get_json()
    assert wrong_type.status_code == 400 and body["code"] == "invalid_body"
    assert "pārbaudiet laukus polling_station_id" in body["error"]
    assert "polling_station_id: must be an integer" in body["problems"]
    for data, reason, sentence in (
            (b'{"type": "complaint", "type": "x"}', "duplicate_key", "“type”"),
            (b"[1]", "not_object", "jābūt JSON objektam"),
            (b'{"type": ', "syntax", "1. rinda, 10. kolonna")):
        answer = client.post("/api/v1/cases", data=data,
                             headers={**headers, "Content-Type": "application/json"})
        assert answer.status_code == 400 and answer.get_json()["code"] == "invalid_json"
        assert answer.get_json()["reason"] == reason
        assert sentence in answer.get_json()["error"], answer.get_json()
    no_token = client.post("/api/v1/cases", json={})
    assert no_token.status_code == 401 and no_token.get_json()["code"] == "token_required"
    assert "žetons" in no_token.get_json()["error"]
    missing = client.get("/api/v1/cases/999999", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


def test_a_json_request_too_large_gets_a_json_413(app, client, member_token):
    _member, headers = member_token
    limit = app.config["MAX_CONTENT_LENGTH"]
    answer = client.post("/api/v1/cases", data=b" " * (limit + 1),
                         headers={**headers, "Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.is_json
    assert answer.get_json()["code"] == "request_too_large"
    assert "Pieprasījums ir par lielu" in answer.get_json()["error"]

