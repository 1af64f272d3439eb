"""Socket.IO: authenticated connections, room joins through the permission check, live events."""
from __future__ import annotations

from sqlalchemy import select

from messaging import services
from messaging.rules import Target, TargetKind
from portal.extensions import socketio
from referendum_core.audit import AuditEntry


def _thread(db_session, clock, member):
    thread = services.create_thread(db_session, clock, member, subject="S", text="pirmā",
                                    targets=[Target(TargetKind.CVK)])
    db_session.commit()
    return thread


def _sign_in(app, client, user, clock):
    """Put ``user`` into a second test client's session (as the root ``login_as`` does)."""
    from flask_login.utils import _create_identifier

    from portal.security import new_session_id

    with app.test_request_context():
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["sid"] = new_session_id()
        sess["_fresh"] = True
        sess["_id"] = identifier
        sess.permanent = True
        sess["seen_at"] = sess["signed_in_at"] = clock.now().timestamp()


def _events(sock, name):
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def test_anonymous_connection_is_refused(app, client):
    sock = socketio.test_client(app, flask_test_client=client)
    assert not sock.is_connected()


def test_join_own_thread_and_receive_new_messages(app, client, login_as, db_session, clock,
                                                  people):
    member, officer = people.member(), people.cvk_officer()
    thread = _thread(db_session, clock, member)
    login_as(officer)
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    assert sock.emit("join", {"thread_id": thread.id}, callback=True)["ok"] is True
    sock.get_received()
    response = client.post(f"/messages/{thread.id}/post", data={"text": "Labdien"},
                           headers={"X-Requested-With": "fetch"})
    message_id = response.get_json()["message_id"]
    assert {"thread_id": thread.id, "message_id": message_id} in _events(sock, "message.new")
    sock.disconnect()


def test_foreign_room_join_is_refused_and_audited(app, client, login_as, db_session, clock,
                                                  people):
    member, outsider = people.member(), people.member("0001000")
    thread = _thread(db_session, clock, member)
    login_as(outsider)
    sock = socketio.test_client(app, flask_test_client=client)
    answer = sock.emit("join", {"thread_id": thread.id}, callback=True)
    assert answer["ok"] is False and answer["code"] == "not_participant"
    assert answer["error"] == "Jūs neesat šīs sarakstes dalībnieks."
    db_session.expire_all()
    entries = [e for e in db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "messaging.refused")) if e.detail_dict["attempted"] == "join_room"]
    assert len(entries) == 1
    # Nothing from that thread reaches the refused client.
    services.post_message(db_session, clock, member, thread, "slepeni")
    db_session.commit()
    assert _events(sock, "message.new") == []
    sock.disconnect()


def test_typing_and_read_receipts_reach_the_others(app, client, login_as, db_session, clock,
                                                   people):
    member, officer = people.member(), people.cvk_officer()
    thread = _thread(db_session, clock, member)
    login_as(member)
    member_sock = socketio.test_client(app, flask_test_client=client)
    member_sock.emit("join", {"thread_id": thread.id}, callback=True)
    other_client = app.test_client()
    db_session.commit()
    _sign_in(app, other_client, officer, clock)
    officer_sock = socketio.test_client(app, flask_test_client=other_client)
    officer_sock.emit("join", {"thread_id": thread.id}, callback=True)
    member_sock.get_received()
    officer_sock.emit("typing", {"thread_id": thread.id})
    typing = _events(member_sock, "typing")
    assert typing and typing[0]["name"] == officer.display_name
    assert _events(officer_sock, "typing") == []
    assert officer_sock.emit("read", {"thread_id": thread.id, "message_id": 0},
                             callback=True)["ok"] is True
    reads = _events(member_sock, "message.read")
    assert reads and reads[0]["user_id"] == officer.id
    member_sock.disconnect()
    officer_sock.disconnect()
