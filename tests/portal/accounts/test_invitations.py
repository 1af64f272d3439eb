"""New accounts are activated by a single-use invitation link that expires: the invitee sets
their own password and enrols TOTP. No account ever has a password chosen by someone else."""
from __future__ import annotations

import re
import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pyotp
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import Invitation, User
from referendum_core.audit import AuditEntry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMTP_PORT = _free_port()


class _Inbox:
    def __init__(self) -> None:
        self.mails = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture()
def app_overrides():
    return {"MAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}", "BASE_URL": "https://portal.example",
            "OTP_SHOW_CODE_ON_SCREEN": False}


@pytest.fixture()
def inbox():
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


def _invited(db_session, clock, keys, email="jauns@example.lv"):
    user = services.create_user(db_session, clock, None, email=email, display_name="Jauns Cilvēks")
    _invitation, token = services.invite(db_session, clock, keys, None, user,
                                         lifetime=timedelta(hours=72))
    db_session.commit()
    return user, f"/invitation/{token}"


def _accept(client, clock, link, password="my own long passphrase"):
    page = client.get(link)
    assert page.status_code == 200, page.status_code
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.get_data(as_text=True)).group(1)
    answer = client.post(link, data={"password": password, "confirm": password,
                                     "code": pyotp.TOTP(secret).at(clock.now())})
    return answer, secret


def test_admin_creates_an_account_without_a_password_and_the_invitee_activates_it(
        app, client, people, login_as, db_session, clock, inbox):
    admin = people.cvk_admin()
    login_as(admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'type="password"' not in page
    response = client.post("/admin/users", data={"email": "novērotājs@example.lv",
                                                  "display_name": "Ilga Novērotāja"})
    assert response.status_code == 302
    user = db_session.scalars(select(User).where(User.email == "novērotājs@example.lv")).one()
    assert user.password_hash is None and not user.has_two_factor
    assert len(inbox.mails) == 1
    mail = inbox.mails[0]
    assert mail["To"] == "novērotājs@example.lv"
    link = re.search(r"https://portal\.example(/invitation/\S+)", mail.get_content()).group(1)
    token = link.rsplit("/", 1)[1]
    assert token not in str(db_session.scalars(select(Invitation.token_hash)).all())
    # Nobody can sign in to it before the invitee activates it.
    stranger = app.test_client()
    assert stranger.post("/login", data={"email": user.email, "password": "x" * 12}
                         ).status_code == 401

    invitee = app.test_client()
    answer, secret = _accept(invitee, clock, link)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/recovery-codes")
    assert invitee.get("/account/recovery-codes").get_data(as_text=True).count("<code>") == 10
    db_session.expire_all()
    user = db_session.get(User, user.id)
    assert user.has_two_factor
    assert keys_open(app, user) == secret
    assert "invitation.accepted" in db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.actor_id == user.id)).all()


def keys_open(app, user):
    return app.extensions["keys"].open(services.TOTP_PURPOSE, user.totp_secret_enc).decode()


def test_an_invitation_used_twice_is_refused(app, db_session, clock, keys):
    user, link = _invited(db_session, clock, keys)
    first, _ = _accept(app.test_client(), clock, link)
    assert first.status_code == 302
    second = app.test_client()
    assert second.get(link).status_code == 404
    clock.advance(timedelta(seconds=30))
    answer = second.post(link, data={"password": "the thief's password", "confirm":
                                     "the thief's password", "code": "123456"})
    assert answer.status_code == 404
    assert "nevar izmantot" in answer.get_data(as_text=True)
    db_session.expire_all()
    assert services._check_password(db_session.get(User, user.id).password_hash,
                                    "my own long passphrase")


def test_an_expired_invitation_is_refused(app, db_session, clock, keys):
    user, link = _invited(db_session, clock, keys)
    client = app.test_client()
    assert client.get(link).status_code == 200
    clock.advance(timedelta(hours=72, seconds=1))
    assert client.get(link).status_code == 404
    answer = client.post(link, data={"password": "a long enough one", "confirm":
                                     "a long enough one", "code": "123456"})
    assert answer.status_code == 404
    db_session.expire_all()
    assert db_session.get(User, user.id).password_hash is None


def test_a_new_invitation_replaces_the_earlier_link(app, client, people, login_as, db_session,
                                                    clock, keys, inbox):
    user, old_link = _invited(db_session, clock, keys)
    login_as(people.cvk_admin())
    assert client.post(f"/admin/users/{user.id}/invitation").status_code == 302
    assert app.test_client().get(old_link).status_code == 404
    new_link = re.search(r"(/invitation/\S+)", inbox.mails[-1].get_content()).group(1)
    assert _accept(app.test_client(), clock, new_link)[0].status_code == 302


def test_a_short_password_or_wrong_code_leaves_the_link_usable(app, db_session, clock, keys):
    _user, link = _invited(db_session, clock, keys)
    client = app.test_client()
    client.get(link)
    answer = client.post(link, data={"password": "short", "confirm": "short", "code": "123456"})
    assert answer.status_code == 400
    answer = client.post(link, data={"password": "a long enough one", "confirm":
                                     "a long enough one", "code": "000000"})
    assert answer.status_code == 400
    assert "Kods ir nepareizs" in answer.get_data(as_text=True)
    assert _accept(client, clock, link)[0].status_code == 302


def test_an_invitation_of_a_deactivated_account_is_refused(app, db_session, clock, keys):
    user, link = _invited(db_session, clock, keys)
    user.is_active = False
    db_session.commit()
    assert app.test_client().get(link).status_code == 404


def test_the_activated_observer_signs_in_with_password_and_totp(app, db_session, clock, keys):
    from portal.accounts.models import Role
    from tests.conftest import municipality

    user, link = _invited(db_session, clock, keys, "observer.new@example.lv")
    services.grant_membership(db_session, clock, None, user, Role.OBSERVER,
                              municipality_id=municipality(db_session).id)
    db_session.commit()
    _answer, secret = _accept(app.test_client(), clock, link)
    client = app.test_client()
    step = client.post("/login", data={"email": user.email, "password": "my own long passphrase"})
    assert step.headers["Location"].endswith("/login/2fa")
    clock.advance(timedelta(seconds=30))
    answer = client.post("/login/2fa", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert answer.status_code == 302
    assert client.get("/cases/report").status_code == 200
