"""Hostile JSON and Socket.IO payloads: a body nested thousands deep on the ballot, case and
comment APIs, and events with no payload or the wrong types. Each gets a clear 400 with a JSON
error body, or an error acknowledgement, and changes nothing; refused ballots are audited."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.cases import tokens
from portal.extensions import socketio
from portal.voting.live import NAMESPACE
from referendum_core import json_input
from referendum_core.audit import AuditEntry
from referendum_core.cases.models import Case, CaseEvent
from referendum_core.voting.models import BoardEntry
from tests.case_factories import report, station
from tests.voting_support import ONLINE_MONDAY, build_scenario

DEEP = "[" * 50_000 + "]" * 50_000
DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000
# Ballots are at most a few KiB: deep enough to overflow the standard parser's recursion.
DEEP_BALLOT = "[" * 3000 + "]" * 3000
DEEP_BALLOT_OBJECT = '{"a":' * 1500 + "1" + "}" * 1500
JUST_TOO_DEEP = "[" * (json_input.MAX_DEPTH + 1) + "]" * (json_input.MAX_DEPTH + 1)


def test_the_parser_refuses_deep_nesting_without_recursing():
    for text in (DEEP, DEEP_OBJECT, JUST_TOO_DEEP):
        with pytest.raises(json_input.JSONTooDeep):
            json_input.loads(text)
    shallow = "[" * json_input.MAX_DEPTH + "]" * json_input.MAX_DEPTH
    assert json_input.loads(shallow) is not None


@pytest.fixture()
def api(db_session, clock, people, client):
    member = people.member()
    _row, plaintext = tokens.issue_service_token(db_session, clock, None, member, "IS",
                                                 ["cases:read", "cases:write"])
    case = report(db_session, clock, people.observer(), at=station(db_session))
    db_session.commit()
    return case, {"Authorization": f"Bearer {plaintext}", "Content-Type": "application/json"}


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, JUST_TOO_DEEP],
                         ids=["deep array", "deep object", "one level too deep"])
@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/cases/{id}/transitions",
                                  "/api/v1/cases/{id}/comments"],
                         ids=["create", "transition", "comment"])
def test_case_api_answers_deep_json_with_a_json_400(api, client, db_session, path, body):
    case, headers = api
    cases = db_session.scalar(select(func.count(Case.id)))
    events = db_session.scalar(select(func.count(CaseEvent.id)))
    response = client.post(path.format(id=case.id), data=body, headers=headers)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]
    assert db_session.scalar(select(func.count(Case.id))) == cases
    assert db_session.scalar(select(func.count(CaseEvent.id))) == events


@pytest.fixture()
def voting(app, db_session, clock, keys, login_as):
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    db_session.commit()
    s.client = login_as(s.voters[0])
    return s


@pytest.mark.parametrize("endpoint", ["ballots", "audits"])
@pytest.mark.parametrize("body", [DEEP_BALLOT, DEEP_BALLOT_OBJECT],
                         ids=["deep array", "deep object"])
def test_ballot_api_refuses_deep_json_and_audits_the_refusal(voting, db_session, endpoint,
                                                              body):
    response = voting.client.post(f"/api/voting/{voting.referendum.id}/{endpoint}", data=body,
                                  content_type="application/json")
    assert 400 <= response.status_code < 500
    answer = response.get_json()
    assert answer["reason"] == "not_json" and answer["error"]
    assert db_session.scalar(select(func.count()).select_from(BoardEntry)) == 0
    refusal = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert refusal.action in {"voting.ballot_refused", "voting.audit_refused"}
    assert refusal.detail_dict["reason"] == "not_json"


def test_a_ballot_that_is_not_json_is_audited_like_other_refusals(voting, db_session):
    response = voting.client.post(f"/api/voting/{voting.referendum.id}/ballots",
                                  data="{not json", content_type="application/json")
    assert response.status_code == 422
    refusal = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (refusal.action, refusal.detail_dict["reason"]) == ("voting.ballot_refused",
                                                               "not_json")


BAD_PAYLOADS = [(), (None,), ([],), ("7",), ({},), ({"thread_id": "x"},),
                ({"thread_id": True},), ({"thread_id": 2**70},), ({"thread_id": -1},),
                ({"thread_id": 1.5},), ({"thread_id": {"$gt": 0}},), ({"thread_id": 1}, 2)]


def _bad_payload(answer) -> bool:
    return (answer["ok"] is False and answer["code"] == "bad_payload"
            and "neizdevās saprast" in answer["error"])


@pytest.mark.parametrize("event", ["join", "read", "typing"])
@pytest.mark.parametrize("args", BAD_PAYLOADS, ids=[repr(a) for a in BAD_PAYLOADS])
def test_messaging_socket_events_acknowledge_bad_payloads(app, client, login_as, people, event,
                                                          args):
    login_as(people.member())
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    answer = sock.emit(event, *args, callback=True)
    assert _bad_payload(answer), answer
    assert sock.is_connected()
    sock.disconnect()


@pytest.mark.parametrize("args", [(), (None,), ({},), ({"referendum_id": "x"},),
                                  ({"referendum_id": 2**70},), ({"referendum_id": [1]},)])
def test_voting_socket_join_acknowledges_bad_payloads(app, client, args):
    sock = socketio.test_client(app, flask_test_client=client, namespace=NAMESPACE)
    answer = sock.emit("join", *args, callback=True, namespace=NAMESPACE)
    assert _bad_payload(answer), answer
    sock.disconnect(namespace=NAMESPACE)
