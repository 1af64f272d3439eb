"""Brute force: passwords and second-factor codes (throttled per account and browser, per
address, never a lock a stranger can trigger; the same answer for unknown addresses; the owner
told), voters' one-time codes (attempt limit) and the voter code request (rate limit)."""
from __future__ import annotations

import json
import re
import socket
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pyotp
import pytest
import time_machine
from aiosmtpd.controller import Controller

from portal.accounts import services
from tests.conftest import PASSWORD, sign_in
from tests.register_data import code_for

WRONG = "not the password at all"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')


def _login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def _browser(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_stranger_cannot_lock_the_owner_out(app, people, db_session, clock):
    """Failures from a browser the owner never used throttle that browser's attempts on the
    account (the right password too) but not the owner's own browser, which signed in before."""
    user = people.observer()
    db_session.commit()
    owner = _browser(app, "10.0.0.1")
    assert sign_in(owner, user, clock).status_code == 302
    owner.post("/logout")
    stranger = _browser(app, "10.0.0.2")
    statuses = [_login(stranger, user.email, WRONG).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert _login(stranger, user.email, PASSWORD).status_code == 429
    assert sign_in(owner, user, clock).status_code == 302
    assert owner.get("/account").status_code == 200
    # A slow-down, not a lock: the stranger's browser may try again once the window passed.
    with time_machine.travel(time.time() + 16 * 60, tick=False):
        assert _login(stranger, user.email, WRONG).status_code == 401


def test_a_device_cookie_helps_only_the_account_and_browser_it_was_signed_for(app, people,
                                                                              db_session, clock):
    """The stranger cannot escape the throttle with a made-up device cookie, nor with the
    device cookie their own account got from signing in."""
    from portal.accounts.throttle import DEVICE_COOKIE

    victim, own = people.observer(), people.observer()
    db_session.commit()
    stranger = _browser(app, "10.0.3.1")
    signed_in = sign_in(stranger, own, clock)  # a device cookie for their own account
    device = next(h for h in signed_in.headers.getlist("Set-Cookie") if h.startswith(DEVICE_COOKIE))
    assert "HttpOnly" in device and "SameSite=Lax" in device
    stranger.post("/logout")
    assert [_login(stranger, victim.email, WRONG).status_code for _ in range(6)] == \
        [401] * 5 + [429]
    stranger.set_cookie(DEVICE_COOKIE, "eyJhIjoieCIsImQiOiJ5In0.forged.signature")
    assert _login(stranger, victim.email, WRONG).status_code == 429


def test_unknown_and_known_addresses_get_the_same_answers_after_the_same_work(
        app, people, db_session, monkeypatch):
    """Enumeration: statuses and pages are the same for an address with an account and one
    without, throttled or not, and each attempt costs one Argon2 verification."""
    user = people.member()
    db_session.commit()
    verified = []
    real = services._hasher

    class Counting:
        def verify(self, stored, password):
            verified.append(stored)
            return real.verify(stored, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(services, "_hasher", Counting())
    answers = {}
    for email, address in ((user.email, "10.0.1.1"), ("nobody-here@example.lv", "10.0.1.2")):
        client = _browser(app, address)
        verified.clear()
        replies = [_login(client, email, WRONG) for _ in range(7)]
        assert len(verified) == 7, email
        answers[email] = [(r.status_code, _CSRF.sub("", r.get_data(as_text=True))
                           .replace(email, "EMAIL")) for r in replies]
    known, unknown = answers[user.email], answers["nobody-here@example.lv"]
    assert [status for status, _ in known] == [401] * 5 + [429] * 2
    assert known == unknown


def test_wrong_second_factor_codes_are_throttled(app, people, db_session, clock):
    """Someone with the password cannot keep guessing six-digit codes: wrong codes count for
    the account like wrong passwords, then the right code is refused from that browser too;
    the owner's own browser is not affected."""
    member = people.member()
    db_session.commit()
    owner = _browser(app, "10.0.2.1")
    assert sign_in(owner, member, clock).status_code == 302
    owner.post("/logout")
    thief = _browser(app, "10.0.2.2")
    assert _login(thief, member.email, PASSWORD).headers["Location"].endswith("/login/2fa")
    assert [thief.post("/login/2fa", data={"code": "000000"}).status_code
            for _ in range(5)] == [401] * 5
    clock.advance(timedelta(seconds=60))
    right = pyotp.TOTP(member.test_totp_secret).at(clock.now())
    assert thief.post("/login/2fa", data={"code": right}).status_code == 429
    assert _login(thief, member.email, PASSWORD).status_code == 429
    assert sign_in(owner, member, clock).status_code == 302


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
def inbox():
    handler = _Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    controller.stop()


def test_the_owner_is_emailed_once_when_failures_mount_up(app, people, db_session, clock, inbox):
    user = people.cvk_officer()
    db_session.commit()
    stranger = app.test_client()
    for _ in range(4):
        assert _login(stranger, user.email, WRONG).status_code == 401
    assert inbox.mails == []
    _login(stranger, user.email, PASSWORD)
    for _ in range(3):  # the fifth failure is a wrong second-factor code
        assert stranger.post("/login/2fa", data={"code": "000000"}).status_code == 401
    assert len(inbox.mails) == 1
    mail = inbox.mails[0]
    assert mail["To"] == user.email
    assert "mēģinājumi: 5" in mail.get_content()
    assert WRONG not in mail.get_content()


def _voter_code_page(client, code):
    response = client.post("/voter/login", data={"personal_code": code})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get("/voter/code").get_data(as_text=True)


def test_one_time_code_guessing_is_limited_per_code(app, db_session):
    from datetime import date

    personal_code = code_for(date(1980, 1, 2), 55)
    client = app.test_client()
    page = _voter_code_page(client, personal_code)
    shown = re.search(r"\b(\d{6})\b", page).group(1)  # OTP_SHOW_CODE_ON_SCREEN in tests
    wrong = f"{(int(shown) + 1) % 10**6:06d}"
    for _ in range(5):
        assert client.post("/voter/code", data={"code": wrong}).status_code == 401
    assert client.post("/voter/code", data={"code": shown}).status_code == 401


def test_the_personal_code_is_not_readable_in_the_session_cookie(app):
    from datetime import date

    personal_code = code_for(date(1980, 1, 2), 56)
    client = app.test_client()
    _voter_code_page(client, personal_code)
    cookie = client.get_cookie("portal_session").value
    # Anyone holding the cookie can read it (it is signed, not encrypted): decode as they would.
    readable = json.dumps(app.session_interface.get_signing_serializer(app).loads(cookie))
    assert "voter_code_for" in readable
    assert personal_code.replace("-", "") not in readable and personal_code not in readable


@pytest.fixture()
def app_overrides(request):
    if "emailed" in request.node.name:
        return {"MAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}"}
    if any(word in request.node.name for word in ("rate", "lock", "throttled", "same",
                                                  "device")):
        return {"RATELIMIT_ENABLED": True}
    return {}


def test_sign_in_attempts_from_one_address_are_rate_limited(app):
    client = app.test_client()
    statuses = [client.post("/login", data={"email": f"n{i}@example.lv",
                                            "password": WRONG}).status_code for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


def test_second_factor_and_voter_codes_are_rate_limited(app):
    from datetime import date

    client = app.test_client()
    codes = [client.post("/voter/login", data={
        "personal_code": code_for(date(1980, 1, 2), 60 + i)}).status_code for i in range(6)]
    assert codes[-1] == 429
    tries = [client.post("/login/2fa", data={"code": "000000"}).status_code for _ in range(11)]
    assert tries[-1] == 429
