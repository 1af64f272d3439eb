"""Voters sign in through an identity provider: the built-in one-time code (demo) here."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User


def _start(client, code="161175-19997"):
    return client.post("/voter/login", data={"personal_code": code})


def _shown_code(client):
    with client.session_transaction() as sess:
        flashes = sess.get("_flashes", [])
    text = " ".join(message for _cat, message in flashes)
    return "".join(ch for ch in text.split(":")[-1] if ch.isdigit())[:6]


def test_voter_signs_in_with_one_time_code(client, db_session):
    assert _start(client).headers["Location"].endswith("/voter/code")
    code = _shown_code(client)
    assert len(code) == 6
    response = client.post("/voter/code", data={"code": code})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Vēlētājs" in page
    voter = db_session.scalars(select(User).where(User.person_ref.is_not(None))).one()
    assert voter.personal_code_enc is not None
    # the personal code is not stored in clear
    assert b"16117519997" not in voter.personal_code_enc
    assert "16117519997" not in voter.person_ref


def test_invalid_personal_code_is_refused_clearly(client, db_session):
    response = _start(client, "161175-19998")  # wrong check digit
    assert response.status_code == 400
    assert "nav derīgs personas kods" in response.get_data(as_text=True)
    assert db_session.scalars(select(User)).all() == []


def test_wrong_code_then_expiry(client, clock):
    _start(client)
    code = _shown_code(client)
    assert client.post("/voter/code", data={"code": "000000" if code != "000000" else "111111"}
                       ).status_code == 401
    clock.advance(timedelta(minutes=11))
    assert client.post("/voter/code", data={"code": code}).status_code == 401


def test_code_attempts_are_limited(client):
    _start(client)
    code = _shown_code(client)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/voter/code", data={"code": wrong})
    assert client.post("/voter/code", data={"code": code}).status_code == 401


def test_voter_needs_no_totp_and_has_no_official_pages(client, db_session):
    _start(client)
    client.post("/voter/code", data={"code": _shown_code(client)})
    assert client.get("/audit/").status_code == 403
    assert client.get("/admin/users").status_code == 403
