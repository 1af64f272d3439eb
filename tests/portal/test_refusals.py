"""One refusal pipeline: a refused request keeps the refusal's audit entry and nothing else
(no view commits before its 4xx), and a page, a JSON answer and a Socket.IO acknowledgement
say the same thing in the same shape."""
from __future__ import annotations

from sqlalchemy import select

from messaging import services
from messaging.rules import Target, TargetKind
from portal.extensions import socketio
from portal.web import clock, db
from referendum_core import audit
from referendum_core.audit import AuditEntry, verify_chain
from referendum_core.cases.exceptions import NotAllowed

NOT_PARTICIPANT_LV = "Jūs neesat šīs sarakstes dalībnieks."


def _actions(db_session, *names):
    db_session.expire_all()
    return [e.action for e in db_session.scalars(
        select(AuditEntry).where(AuditEntry.action.in_(names)).order_by(AuditEntry.seq))]


def test_a_refused_request_keeps_its_audit_entry_and_nothing_else(app, client, db_session):
    @app.get("/refusal-probe")
    def probe():
        audit.record(db(), clock(), None, "probe.written")  # a change made before the refusal
        audit.record(db(), clock(), None, "probe.refused", attempted="probe")
        raise NotAllowed("probe")

    answer = client.get("/refusal-probe")
    assert answer.status_code == 403
    assert "Šajā lietā jūs to nevarat darīt." in answer.get_data(as_text=True)
    assert _actions(db_session, "probe.written", "probe.refused") == ["probe.refused"]
    assert verify_chain(db_session)[1] is None


def test_a_refusal_under_api_answers_json(app, client, db_session):
    @app.get("/api/refusal-probe")
    def api_probe():
        raise NotAllowed("probe")

    answer = client.get("/api/refusal-probe")
    assert answer.status_code == 403
    assert answer.get_json() == {"error": "Šajā lietā jūs to nevarat darīt.",
                                 "code": "not_allowed", "reason": "not_allowed", "status": 403}


def test_page_json_and_socket_answers_have_one_shape(app, client, login_as, db_session, clock,
                                                     people):
    member, outsider = people.member(), people.member("0001000")
    thread = services.create_thread(db_session, clock, member, subject="S", text="pirmā",
                                    targets=[Target(TargetKind.CVK)])
    db_session.commit()
    login_as(outsider)

    page = client.get(f"/messages/{thread.id}/export")
    as_json = client.get(f"/messages/{thread.id}/read-by",
                         headers={"X-Requested-With": "fetch"})
    sock = socketio.test_client(app, flask_test_client=client)
    ack = sock.emit("join", {"thread_id": thread.id}, callback=True)
    sock.disconnect()

    body = as_json.get_json()
    assert body == {"error": NOT_PARTICIPANT_LV, "code": "not_participant",
                    "reason": "not_participant", "status": 403}
    assert as_json.status_code == page.status_code == 403
    assert NOT_PARTICIPANT_LV in page.get_data(as_text=True)
    assert ack == {"ok": False, **body}
    # Each refusal kept its audit entry, though each request was rolled back.
    attempts = [e.detail_dict["attempted"] for e in db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "messaging.refused"))]
    assert sorted(attempts) == ["export", "join_room", "read"]
