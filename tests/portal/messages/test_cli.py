"""``referendum-portal messaging rotate-key`` and ``messaging send-notifications`` end to end:
the CLI driven through click's CliRunner with environment variables, on a file database, a
temporary GnuPG home and a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import email
import shutil
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select

from portal.cli import main

SECRET = "Slepenais teksts par 3. iecirkni"


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


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


@pytest.fixture()
def env(tmp_path, monkeypatch, gnupg_home):
    """A migrated file database, a copy of the session's GnuPG home (so rotating here leaves
    other tests' archive key alone), mail to a local port, notifications due at once."""
    home = tmp_path / "gnupg"
    shutil.copytree(gnupg_home, home, ignore=shutil.ignore_patterns("S.*", "*.lock", ".#*"))
    port = _free_port()
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("PORTAL_GNUPGHOME", str(home))
    monkeypatch.setenv("MAIL_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("NOTIFY_UNREAD_AFTER_MINUTES", "0")
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert run("migrate").exit_code == 0
    yield {"home": home, "port": port, "db": tmp_path / "cli.sqlite3"}
    from messaging.pgp import PGP

    PGP(home).stop_agent()


def _in_app(work):
    """Run ``work(session, app)`` in a portal app built from the same environment."""
    from portal.app import create_app

    app = create_app()
    try:
        with app.app_context():
            session = app.extensions["portal_db"].new_session()
            try:
                result = work(session, app)
                session.commit()
                return result
            finally:
                session.close()
    finally:
        app.extensions["portal_db"].engine.dispose()


def _thread_between_member_and_officer(session, app):
    from messaging import services
    from messaging.rules import Target, TargetKind
    from portal.accounts import services as accounts
    from portal.accounts.models import Role
    from referendum_core.organisation import (
        CommissionKind,
        Municipality,
        get_commission,
        sync_organisations,
    )

    clock = app.extensions["clock"]
    sync_organisations(session)
    adazi = session.scalars(select(Municipality).where(Municipality.atvk_code == "0023000")).one()
    member = accounts.create_user(session, clock, None, email="member@cli.lv",
                                  display_name="Mārtiņš Egle", password="x" * 16)
    accounts.grant_membership(session, clock, None, member, Role.COMMISSION_MEMBER,
                              commission=get_commission(session, CommissionKind.MUNICIPAL,
                                                        adazi.id))
    officer = accounts.create_user(session, clock, None, email="officer@cli.lv",
                                   display_name="Pēteris Ozols", password="x" * 16)
    accounts.grant_membership(session, clock, None, officer, Role.CVK_OFFICER,
                              commission=get_commission(session, CommissionKind.CVK))
    session.flush()
    thread = services.create_thread(session, clock, member, subject="Iecirknis", text=SECRET,
                                    targets=[Target(TargetKind.CVK)])
    session.flush()
    return thread.id


def _state(thread_id):
    def read(session, app):
        from messaging import services
        from messaging.models import Message, Thread, ThreadKey

        fingerprints = set(session.scalars(select(ThreadKey.fingerprint).where(
            ThreadKey.thread_id == thread_id, ThreadKey.purpose == "archive")))
        body = session.scalars(select(Message.body_enc).where(
            Message.thread_id == thread_id)).one()
        [message] = services.messages_of(session, session.get(Thread, thread_id))
        return fingerprints, body, services.text_of(session, message)

    return _in_app(read)


def _audit_actions(db_path):
    import sqlite3

    with sqlite3.connect(db_path) as db:
        return [row[0] for row in db.execute("select action from audit_log order by seq")]


def test_rotate_key_rewraps_thread_keys_and_bodies_stay(env):
    from messaging.pgp import PGP

    init = run("messaging", "init-keys")
    assert init.exit_code == 0 and "already present" in init.output
    old = PGP(env["home"]).archive_fingerprint
    thread_id = _in_app(_thread_between_member_and_officer)
    fingerprints, body, text = _state(thread_id)
    assert fingerprints == {old} and text == SECRET

    result = run("messaging", "rotate-key", "--delete-old")
    assert result.exit_code == 0, result.output
    assert "re-wrapped 1 thread keys" in result.output and old in result.output
    new = result.output.strip().splitlines()[-1].rsplit("-> ", 1)[1]
    assert new != old and PGP(env["home"]).archive_fingerprint == new
    assert not PGP(env["home"]).has_secret_key(old)
    # A fresh process opens the thread with the new key only; the body was not re-encrypted.
    fingerprints_after, body_after, text_after = _state(thread_id)
    assert fingerprints_after == {new}
    assert body_after == body and text_after == SECRET
    assert "messaging.archive_key_rotated" in _audit_actions(env["db"])


def test_send_notifications_delivers_due_mail_once_and_keeps_it_when_smtp_is_down(env):
    thread_id = _in_app(_thread_between_member_and_officer)
    # Mail server down: nothing is lost, the row waits for a retry.
    down = run("messaging", "send-notifications")
    assert down.exit_code == 0 and "retry: 1" in down.output
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=env["port"])
    controller.start()
    try:
        def due_now(session, app):
            from messaging.models import Notification

            for row in session.scalars(select(Notification)):
                row.next_attempt_at = app.extensions["clock"].now()

        _in_app(due_now)  # skip the back-off instead of waiting a minute
        sent = run("messaging", "send-notifications")
        assert sent.exit_code == 0 and "sent: 1" in sent.output, sent.output
        again = run("messaging", "send-notifications")
        assert again.exit_code == 0 and again.output.strip().splitlines()[-1] == "nothing due"
    finally:
        controller.stop()
    [mail] = inbox.mails
    assert mail["To"] == "officer@cli.lv"
    assert SECRET not in mail.as_string()
    assert f"/messages/{thread_id}" in mail.get_content()
