"""Brute force: passwords (per-account lockout and per-address rate limit), the second factor
(wrong codes count towards the same lockout), voters' one-time codes (attempt limit) and the
voter code request (rate limit)."""
from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest

from tests.conftest import PASSWORD
from tests.register_data import code_for

WRONG = "not the password at all"


def _login(client, user, password):
    return client.post("/login", data={"email": user.email, "password": password})


def test_password_guessing_locks_the_account_then_it_opens_again(app, people, db_session,
                                                                 clock):
    user = people.observer(two_factor=False)
    db_session.commit()
    client = app.test_client()
    statuses = [_login(client, user, WRONG).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    assert _login(client, user, PASSWORD).status_code == 429  # locked: even the right one
    clock.advance(timedelta(minutes=16))
    assert _login(client, user, PASSWORD).status_code == 302


def test_wrong_second_factor_codes_lock_the_account(app, people, db_session, clock):
    """Someone with the password cannot keep guessing six-digit codes: wrong codes count, a
    correct password in between does not reset the count, and a lock stops both steps."""
    member = people.member()
    db_session.commit()
    client = app.test_client()
    assert _login(client, member, PASSWORD).headers["Location"].endswith("/login/2fa")
    for _ in range(3):
        assert client.post("/login/2fa", data={"code": "000000"}).status_code == 401
    assert _login(client, member, PASSWORD).status_code == 302  # start again: count goes on
    for _ in range(2):
        client.post("/login/2fa", data={"code": "000000"})
    clock.advance(timedelta(seconds=60))
    right = pyotp.TOTP(member.test_totp_secret).at(clock.now())
    assert client.post("/login/2fa", data={"code": right}).status_code == 401
    assert _login(client, member, PASSWORD).status_code == 429
    clock.advance(timedelta(minutes=16))
    assert _login(client, member, PASSWORD).status_code == 302
    right = pyotp.TOTP(member.test_totp_secret).at(clock.now())
    assert client.post("/login/2fa", data={"code": right}).status_code == 302


def _voter_code_page(client, code):
    response = client.post("/voter/login", data={"personal_code": code})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get("/voter/code").get_data(as_text=True)


def test_one_time_code_guessing_is_limited_per_code(app, db_session):
    from datetime import date

    personal_code = code_for(date(1980, 1, 2), 55)
    client = app.test_client()
    page = _voter_code_page(client, personal_code)
    import re

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
    if "rate" in request.node.name:
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
