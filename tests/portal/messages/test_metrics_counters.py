"""Messaging moves the Prometheus counters of ``portal.metrics``: open Socket.IO connections,
messages delivered to open pages and notification e-mails sent (docs/deploy.md, metrics)."""
from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY

from messaging import services
from messaging.rules import Target, TargetKind
from portal.extensions import socketio
from portal.messages.tasks import send_due_notifications


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _free_port()


class _Inbox:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.count += 1
        return "250 OK"


@pytest.fixture()
def app_overrides(gnupg_home):
    return {"PORTAL_GNUPGHOME": str(gnupg_home), "MAIL_URL": f"smtp://127.0.0.1:{PORT}",
            "NOTIFY_UNREAD_AFTER_MINUTES": 15}


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_socket_connections_gauge_follows_connect_and_disconnect(app, client, login_as, people):
    login_as(people.cvk_officer())
    before = _value("portal_socket_connections")
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    assert _value("portal_socket_connections") == before + 1
    sock.disconnect()
    assert _value("portal_socket_connections") == before


def test_refused_connection_is_not_counted(app, client):
    before = _value("portal_socket_connections")
    sock = socketio.test_client(app, flask_test_client=client)  # anonymous: refused
    assert not sock.is_connected()
    assert _value("portal_socket_connections") == before


def test_posted_message_counts_one_socketio_delivery(app, client, login_as, db_session, clock,
                                                     people):
    member, officer = people.member(), people.cvk_officer()
    thread = services.create_thread(db_session, clock, member, subject="S", text="pirmā",
                                    targets=[Target(TargetKind.CVK)])
    db_session.commit()
    login_as(officer)
    before = _value("portal_messages_delivered_total", channel="socketio")
    response = client.post(f"/messages/{thread.id}/post", data={"text": "Labdien"},
                           headers={"X-Requested-With": "fetch"})
    assert response.status_code == 200
    assert _value("portal_messages_delivered_total", channel="socketio") == before + 1
    refused = client.post(f"/messages/{thread.id}/post", data={"text": ""},
                          headers={"X-Requested-With": "fetch"})
    assert refused.status_code == 400  # nothing stored, nothing delivered
    assert _value("portal_messages_delivered_total", channel="socketio") == before + 1


def test_sent_notification_counts_one_mail_delivery(app, db_session, clock, people):
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=PORT)
    controller.start()
    try:
        member, _officer = people.member(), people.cvk_officer()
        services.create_thread(db_session, clock, member, subject="S", text="teksts",
                               targets=[Target(TargetKind.CVK)])
        db_session.commit()
        before = _value("portal_messages_delivered_total", channel="mail")
        clock.advance(timedelta(minutes=16))
        with app.app_context():
            sent = send_due_notifications.delay().get().get("sent", 0)
        assert sent >= 1 and inbox.count == sent
        assert _value("portal_messages_delivered_total", channel="mail") == before + sent
    finally:
        controller.stop()
