"""Unread-message e-mails through a real SMTP server (aiosmtpd): OpenPGP-encrypted to a registered
key (decrypted here with the ``gpg`` binary), plain without the text otherwise, and kept in the
outbox while the mail server is down."""
from __future__ import annotations

import email
import socket
import subprocess
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from messaging import services
from messaging.models import Notification
from messaging.rules import Target, TargetKind
from portal.messages.tasks import send_due_notifications


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.mails.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _free_port()


@pytest.fixture()
def app_overrides(gnupg_home):
    return {"PORTAL_GNUPGHOME": str(gnupg_home), "MAIL_URL": f"smtp://127.0.0.1:{PORT}",
            "NOTIFY_UNREAD_AFTER_MINUTES": 15}


@pytest.fixture()
def inbox():
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=PORT)
    controller.start()
    yield handler
    controller.stop()


def _run_due(app):
    with app.app_context():
        return send_due_notifications.delay().get()


def test_encrypted_notification_decrypts_with_gpg(app, db_session, clock, people, inbox,
                                                  user_gnupg):
    home, fingerprint, public_key = user_gnupg
    member, officer = people.member(), people.cvk_officer()
    officer.pgp_public_key, officer.pgp_fingerprint = public_key, fingerprint
    text = "Slepens jautājums par iecirkni Nr. 7"
    services.create_thread(db_session, clock, member, subject="Iecirknis", text=text,
                           targets=[Target(TargetKind.CVK)])
    db_session.commit()
    assert _run_due(app) == {}  # not due yet
    clock.advance(timedelta(minutes=16))
    assert _run_due(app).get("sent") == 1
    [mail] = [m for m in inbox.mails if m["To"] == officer.email]
    assert mail.get_content_type() == "multipart/encrypted"
    assert text not in mail.as_string()
    armored = mail.get_payload()[1].get_payload(decode=True)
    clear = subprocess.run(["/usr/bin/gpg", "--homedir", str(home), "--batch", "--decrypt"],
                           input=armored, capture_output=True, check=True).stdout.decode()
    assert text in clear and "Iecirknis" in clear
    assert _run_due(app) == {}  # idempotent: nothing sent twice


def test_plain_notification_has_no_text(app, db_session, clock, people, inbox):
    member, officer = people.member(), people.cvk_officer()
    text = "Neatklājams teksts 42"
    services.create_thread(db_session, clock, member, subject="S", text=text,
                           targets=[Target(TargetKind.CVK)])
    db_session.commit()
    clock.advance(timedelta(minutes=16))
    _run_due(app)
    [mail] = [m for m in inbox.mails if m["To"] == officer.email]
    body = mail.get_content()
    assert text not in mail.as_string() and "/messages/" in body
    assert "jauna ziņa" in body.lower()


def test_read_in_time_sends_nothing(app, db_session, clock, people, inbox):
    member, officer = people.member(), people.cvk_officer()
    thread = services.create_thread(db_session, clock, member, subject="S", text="T",
                                    targets=[Target(TargetKind.CVK)])
    services.mark_read(db_session, clock, officer, thread)
    db_session.commit()
    clock.advance(timedelta(minutes=16))
    _run_due(app)
    assert [m for m in inbox.mails if m["To"] == officer.email] == []


def test_smtp_down_loses_nothing(app, db_session, clock, people):
    member, officer = people.member(), people.cvk_officer()
    services.create_thread(db_session, clock, member, subject="S", text="T",
                           targets=[Target(TargetKind.CVK)])
    db_session.commit()
    clock.advance(timedelta(minutes=16))
    assert _run_due(app).get("retry") == 1  # no server listening on PORT
    db_session.expire_all()
    row = db_session.scalars(select(Notification).where(Notification.user_id == officer.id,
                                                        Notification.kind == "unread")).one()
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > clock.now()
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=PORT)
    controller.start()
    try:
        assert _run_due(app) == {}  # back-off: not yet
        clock.advance(timedelta(minutes=2))
        assert _run_due(app).get("sent") == 1
    finally:
        controller.stop()
    assert [m["To"] for m in handler.mails] == [officer.email]


def test_mention_posted_through_the_page_is_mailed_at_once(app, client, login_as, db_session,
                                                           clock, people, inbox):
    member, officer, other = people.member(), people.cvk_officer(), people.cvk_officer()
    thread = services.create_thread(db_session, clock, member, subject="Iecirknis",
                                    text="Sākums", targets=[Target(TargetKind.CVK)])
    db_session.commit()
    handle = officer.email.split("@", 1)[0]
    text = f"@{handle}, lūdzu paskatieties protokolu Nr. 9"
    login_as(member)
    response = client.post(f"/messages/{thread.id}/post", data={"text": text})
    assert response.status_code == 302
    # The mention is due at once; the unread reminders only after the delay.
    assert _run_due(app).get("sent") == 1
    [mail] = inbox.mails
    assert mail["To"] == officer.email
    assert mail["Subject"] == "Jūs pieminēja referendumu portālā"
    body = mail.get_content()
    assert "Jūs pieminēja ziņā." in body and f"/messages/{thread.id}" in body
    assert "protokolu Nr. 9" not in mail.as_string()  # never the text in a plain e-mail
    assert _run_due(app) == {}  # sent once
    clock.advance(timedelta(minutes=16))
    _run_due(app)
    assert sorted(m["To"] for m in inbox.mails[1:]) == sorted([officer.email, other.email])
    assert not any("pieminēja" in m.get_content() for m in inbox.mails[1:])
