"""Open redirects after sign-in and after switching the language; session fixation at sign-in;
a captured cookie after "sign out everywhere"."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from portal.web import safe_next
from tests.conftest import PASSWORD, sign_in

EVIL = [
    "//evil.example/x", "/\\evil.example", "\\\\evil.example", "https:evil.example",
    "https://evil.example/", "http:/\\/evil.example", "%2F%2Fevil.example", "/%2F/evil.example",
    "///evil.example", "/\t/evil.example", "/\n/evil.example", " //evil.example",
    "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "//evil.example@x/",
    "/%5Cevil.example", "\u3002evil.example", "//%65vil.example",
]


def _stays_here(location: str) -> bool:
    """Would a browser following ``location`` stay on this site?"""
    cleaned = "".join(ch for ch in location if ch not in "\t\n\r").strip()
    if cleaned.replace("\\", "/").startswith("//"):
        return False
    parts = urlsplit(cleaned.replace("\\", "/"))
    return parts.scheme in ("", "http", "https") and parts.netloc in ("", "localhost")


@pytest.mark.parametrize("target", EVIL)
def test_safe_next_refuses_every_foreign_target(target):
    assert _stays_here(safe_next(target, "/"))


def test_safe_next_keeps_local_paths():
    assert safe_next("/cases?state=open", "/") == "/cases?state=open"


def test_sign_in_never_redirects_off_site(app, people, db_session, clock):
    user = people.observer()
    db_session.commit()
    for target in EVIL:
        client = app.test_client()
        client.get("/login", query_string={"next": target})
        response = sign_in(client, user, clock, next_url=target)
        assert response.status_code == 302, target
        assert _stays_here(response.headers["Location"]), (target, response.headers["Location"])
    client = app.test_client()
    response = sign_in(client, user, clock, next_url="/cases")
    assert response.headers["Location"].endswith("/cases")


def test_sign_in_from_a_query_string_next_never_redirects_off_site(app, people, db_session,
                                                                    clock):
    """``?next=`` arrives URL-decoded (``%2F%2Fevil`` is ``//evil``) and goes through the form."""
    user = people.observer()
    db_session.commit()
    for raw in ("%2F%2Fevil.example", "%5C%5Cevil.example", "https%3Aevil.example"):
        client = app.test_client()
        page = client.get(f"/login?next={raw}").get_data(as_text=True)
        assert "evil.example" not in page or 'name="next"' in page
        response = sign_in(client, user, clock, next_url=urlsplit(f"/?n={raw}").query[2:])
        assert _stays_here(response.headers["Location"]), raw


def test_language_switch_never_redirects_off_site(client):
    for target in EVIL:
        response = client.post("/lang/en", data={"next": target})
        assert response.status_code == 302
        assert _stays_here(response.headers["Location"]), (target, response.headers["Location"])
    assert client.post("/lang/lv", data={"next": "/initiatives/"}).headers[
        "Location"].endswith("/initiatives/")


def test_sign_in_starts_a_fresh_session(app, people, db_session, clock):
    """Values planted before sign-in (by an attacker who set the victim's cookie) are gone; the
    cookie changes; the pre-sign-in cookie does not carry the signed-in user."""
    user = people.observer()
    db_session.commit()
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker"
        sess["login_next"] = "/"
        sess["_user_id"] = "0:0"
    before = client.get_cookie("portal_session").value
    response = sign_in(client, user, clock)
    assert response.status_code == 302
    after = client.get_cookie("portal_session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == user.get_id()
    # The attacker's copy of the pre-sign-in cookie is still anonymous.
    attacker = app.test_client()
    attacker.set_cookie("portal_session", before)
    assert attacker.get("/account").status_code == 302


def test_official_sign_in_with_two_factor_also_starts_a_fresh_session(app, people, db_session,
                                                                       clock):
    import pyotp

    user = people.member()
    db_session.commit()
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    clock.advance(__import__("datetime").timedelta(seconds=60))
    code = pyotp.TOTP(user.test_totp_secret).at(clock.now())
    response = client.post("/login/2fa", data={"code": code})
    assert response.status_code == 302, response.get_data(as_text=True)
    with client.session_transaction() as sess:
        assert "planted" not in sess and "pending_user" not in sess
        assert sess["_user_id"] == user.get_id()


def test_sign_out_everywhere_invalidates_a_captured_cookie(app, people, db_session, clock):
    user = people.observer()
    db_session.commit()
    client = app.test_client()
    sign_in(client, user, clock)
    stolen = client.get_cookie("portal_session").value
    assert client.get("/account").status_code == 200
    client.post("/logout/everywhere")
    thief = app.test_client()
    thief.set_cookie("portal_session", stolen)
    assert thief.get("/account").status_code == 302


def _copy_then_sign_out(app, client, page: str) -> Any:
    """A copy of ``client``'s session cookie, taken while signed in, tried after a plain sign-out."""
    assert client.get(page).status_code == 200
    copied = client.get_cookie("portal_session").value
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("portal_session", copied)
    return thief.get(page)


def _sign_in_with_code(client, user, clock) -> None:
    import pyotp

    clock.advance(timedelta(seconds=60))  # a fresh TOTP step: each is accepted once
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/login/2fa", data={"code": pyotp.TOTP(user.test_totp_secret).at(clock.now())})


def test_plain_sign_out_ends_an_observers_session_for_a_copied_cookie(app, people, db_session,
                                                                      clock):
    user = people.observer()
    db_session.commit()
    client = app.test_client()
    _sign_in_with_code(client, user, clock)
    assert _copy_then_sign_out(app, client, "/account").status_code == 302


def test_plain_sign_out_ends_an_officials_session_for_a_copied_cookie(app, people, db_session,
                                                                      clock):
    import pyotp

    user = people.member()
    db_session.commit()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    clock.advance(timedelta(seconds=60))
    client.post("/login/2fa", data={"code": pyotp.TOTP(user.test_totp_secret).at(clock.now())})
    assert _copy_then_sign_out(app, client, "/account").status_code == 302


def test_plain_sign_out_ends_a_voters_session_for_a_copied_cookie(app, people, login_as):
    client = login_as(people.voter())
    assert _copy_then_sign_out(app, client, "/account").status_code == 302


def test_plain_sign_out_leaves_the_persons_other_sessions_signed_in(app, people, db_session,
                                                                   clock):
    """Unlike "sign out everywhere", a sign-out ends only its own session."""
    user = people.observer()
    db_session.commit()
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        _sign_in_with_code(device, user, clock)
    phone.post("/logout")
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200


def test_a_session_without_an_id_signs_nobody_in(app, people, login_as):
    client = login_as(people.observer())
    with client.session_transaction() as sess:
        del sess["sid"]
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("ending", ["/logout", "/logout/everywhere"])
def test_signing_out_closes_the_sessions_open_sockets(app, people, login_as, ending):
    """A socket opened with the session (by its owner, or by whoever copied the cookie) stays
    in the rooms it joined, receiving their events, unless signing out closes it."""
    from portal.extensions import socketio
    from portal.realtime import emit_now, user_room

    user = people.member()
    client = login_as(user)
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    socket.get_received()
    client.post(ending)
    assert not socket.is_connected()  # a closed socket is in no room: it receives nothing
    emit_now("unread", {"count": 1}, user_room(user.id))


def test_signing_out_leaves_the_persons_other_sockets_open(app, people, db_session, clock):
    from portal.extensions import socketio

    user = people.observer()
    db_session.commit()
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        _sign_in_with_code(device, user, clock)
    sockets = [socketio.test_client(app, flask_test_client=d) for d in (phone, laptop)]
    phone.post("/logout")
    assert [s.is_connected() for s in sockets] == [False, True]
