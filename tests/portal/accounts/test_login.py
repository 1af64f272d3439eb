"""Sign-in: passwords (Argon2), TOTP 2FA for officials and observers with replay protection,
recovery codes, failed attempts told to the owner, session expiry, sign-out everywhere, no open
redirects, no session fixation."""
from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy import select

from portal.accounts.models import User
from referendum_core.audit import AuditEntry
from tests.conftest import PASSWORD, sign_in


def _actions(db_session, user=None):
    query = select(AuditEntry.action).order_by(AuditEntry.seq)
    if user is not None:
        query = query.where(AuditEntry.actor_id == user.id)
    return list(db_session.scalars(query))


def _password_step(client, user, password=PASSWORD, next_url=""):
    return client.post("/login", data={"email": user.email, "password": password, "next": next_url})


def test_passwords_are_argon2_hashed(people, db_session):
    user = people.cvk_officer()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_official_signs_in_with_password_then_totp(client, people, db_session, clock):
    user = people.member()
    db_session.commit()
    response = _password_step(client, user)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/2fa")
    # not signed in yet
    assert client.get("/account").status_code == 302
    code = pyotp.TOTP(user.test_totp_secret).at(clock.now())
    response = client.post("/login/2fa", data={"code": code})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert "login.success" in _actions(db_session, user)


def test_wrong_password_is_refused_and_audited(client, people, db_session):
    user = people.member()
    db_session.commit()
    response = _password_step(client, user, password="wrong password!!")
    assert response.status_code == 401
    assert "Nepareiza e-pasta adrese vai parole." in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(User, user.id).failed_logins == 1
    assert "login.failed" in _actions(db_session, user)


def test_unknown_email_gives_the_same_message(client, db_session):
    response = client.post("/login", data={"email": "nobody@example.lv", "password": "whatever12345"})
    assert response.status_code == 401
    assert "Nepareiza e-pasta adrese vai parole." in response.get_data(as_text=True)


def test_failed_attempts_lock_nothing_and_are_shown_at_the_next_sign_in(client, people,
                                                                          db_session, clock):
    """A stranger failing on purpose cannot lock the official out (throttling is per browser,
    tests/security/test_brute_force.py); the official is told at their next sign-in."""
    user = people.member()
    db_session.commit()
    for _ in range(7):
        assert _password_step(client, user, password="wrong password!!").status_code == 401
    response = sign_in(client, user, clock)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "pieteikšanās: 7" in page
    db_session.expire_all()
    assert db_session.get(User, user.id).failed_logins == 0
    client.post("/logout")
    page = client.get(sign_in(client, user, clock).headers["Location"]).get_data(as_text=True)
    assert "Neizdevušies" not in page


def test_wrong_and_replayed_totp_codes_are_refused(client, people, db_session, clock):
    user = people.chair()
    db_session.commit()
    _password_step(client, user)
    response = client.post("/login/2fa", data={"code": "000000"})
    assert response.status_code == 401
    assert "Kods ir nepareizs" in response.get_data(as_text=True)
    code = pyotp.TOTP(user.test_totp_secret).at(clock.now())
    assert client.post("/login/2fa", data={"code": code}).status_code == 302
    client.post("/logout")
    # the same code again (e.g. shoulder-surfed) is refused within its validity window
    _password_step(client, user)
    response = client.post("/login/2fa", data={"code": code})
    assert response.status_code == 401
    assert "2fa.failed" in _actions(db_session, user)


def test_recovery_code_works_once(client, people, db_session, clock, keys):
    from portal.accounts import services

    user = people.cvk_admin()
    codes = services.regenerate_recovery_codes(db_session, clock, keys, user)
    db_session.commit()
    _password_step(client, user)
    assert client.post("/login/2fa", data={"code": codes[0]}).status_code == 302
    client.post("/logout")
    _password_step(client, user)
    assert client.post("/login/2fa", data={"code": codes[0]}).status_code == 401


def test_official_without_2fa_must_enrol_with_qr_code(client, people, db_session, clock):
    user = people.member(two_factor=False)
    db_session.commit()
    response = _password_step(client, user)
    assert response.headers["Location"].endswith("/login/2fa/enrol")
    page = client.get("/login/2fa/enrol").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in page
    with client.session_transaction() as sess:
        secret = sess["enrol_secret"]
    assert client.post("/login/2fa/enrol", data={"code": "123456"}).status_code == 400
    response = client.post("/login/2fa/enrol", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert response.headers["Location"].endswith("/account/recovery-codes")
    page = client.get("/account/recovery-codes").get_data(as_text=True)
    assert page.count("<code>") == 10
    # shown only once
    assert client.get("/account/recovery-codes").status_code == 302
    db_session.expire_all()
    assert db_session.get(User, user.id).totp_secret_enc is not None
    assert secret.encode() not in db_session.get(User, user.id).totp_secret_enc


def test_password_step_alone_expires(client, people, db_session, clock):
    user = people.member()
    db_session.commit()
    _password_step(client, user)
    clock.advance(timedelta(minutes=6))
    response = client.post("/login/2fa", data={"code": pyotp.TOTP(user.test_totp_secret).at(clock.now())})
    assert response.headers["Location"].endswith("/login")


def test_observer_signs_in_with_password_then_totp(client, people, db_session, clock):
    user = people.observer()
    db_session.commit()
    response = _password_step(client, user)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/2fa")
    assert client.get("/account").status_code == 302  # the password alone signs nobody in
    response = client.post("/login/2fa", data={
        "code": pyotp.TOTP(user.test_totp_secret).at(clock.now())})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/account").status_code == 200


def test_observer_without_totp_cannot_reach_pages(client, people, db_session, clock):
    """An observer account without TOTP (created before invitations) is sent to enrolment by
    the password step and reaches no page until it has enrolled."""
    user = people.observer(two_factor=False)
    db_session.commit()
    response = _password_step(client, user)
    assert response.headers["Location"].endswith("/login/2fa/enrol")
    for path in ("/account", "/cases/report", "/messages/", "/cases"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    assert client.get("/login/2fa").headers["Location"].endswith("/login")  # no code to give
    client.get("/login/2fa/enrol")
    with client.session_transaction() as sess:
        secret = sess["enrol_secret"]
    answer = client.post("/login/2fa/enrol", data={"code": pyotp.TOTP(secret).at(clock.now())})
    assert answer.headers["Location"].endswith("/account/recovery-codes")
    assert client.get("/cases/report").status_code == 200


def test_no_open_redirect_after_login(client, people, db_session, clock):
    user = people.observer()
    db_session.commit()
    response = sign_in(client, user, clock, next_url="https://evil.example/phish")
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = sign_in(client, user, clock, next_url="/account")
    assert response.headers["Location"] == "/account"


def test_session_is_fresh_after_login(client, people, db_session, clock):
    """Session fixation: whatever was in the session before sign-in does not survive it."""
    user = people.observer()
    db_session.commit()
    with client.session_transaction() as sess:
        sess["planted"] = "attacker"
    sign_in(client, user, clock)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert "_user_id" in sess


def test_idle_session_expires(client, people, db_session, login_as, clock):
    user = people.cvk_officer()
    login_as(user)
    assert client.get("/account").status_code == 200
    clock.advance(timedelta(minutes=31))
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Jūsu sesija ir beigusies" in page


def test_sign_out_everywhere_invalidates_other_sessions(app, people, db_session, login_as, clock):
    user = people.cvk_officer()
    first = login_as(user)
    second = app.test_client()
    from tests.conftest import login

    login(second, user, clock)
    assert second.get("/account").status_code == 200
    assert first.post("/logout/everywhere").status_code == 302
    assert second.get("/account").status_code == 302
    assert "logout.everywhere" in _actions(db_session, user)


def test_logout_is_post_only(client, people, login_as):
    login_as(people.cvk_officer())
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200


def test_change_password(client, people, db_session, login_as, clock):
    user = people.observer()
    login_as(user)
    response = client.post("/account", data={"current": "not it at all", "new": "a brand new passphrase"})
    assert response.status_code == 400
    response = client.post("/account", data={"current": PASSWORD, "new": "a brand new passphrase"})
    assert response.status_code == 302
    sign_in(client, user, clock, password="a brand new passphrase")
    assert client.get("/account").status_code == 200


def test_malformed_login_form_is_a_clear_400(client):
    response = client.post("/login", data={"email": "not-an-email", "password": ""})
    assert response.status_code == 400
    response = client.post("/login", data={"email": "a@b.lv" * 100, "password": "x" * 5000})
    assert response.status_code == 400


def test_activity_keeps_the_session_alive_though_last_seen_is_rewritten_once_a_minute(
        client, people, login_as, clock):
    user = people.cvk_officer()
    login_as(user)
    assert client.get("/account").status_code == 200  # the page's form token joins the session
    with client.session_transaction() as sess:
        first_seen = sess["seen_at"]
    clock.advance(timedelta(seconds=30))
    answer = client.get("/account")
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers  # nothing changed: the cookie is not re-sent
    with client.session_transaction() as sess:
        assert sess["seen_at"] == first_seen
    clock.advance(timedelta(minutes=20))
    assert client.get("/account").status_code == 200  # rewritten now
    clock.advance(timedelta(minutes=20))  # 40 minutes after sign-in, 20 after last activity
    assert client.get("/account").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert client.get("/account").status_code == 302


def test_a_sign_in_ends_after_the_absolute_limit_however_active(client, people, login_as,
                                                                clock):
    """PERMANENT_SESSION_LIFETIME (12 hours) caps a sign-in even when it is never idle: the
    cookie's own expiry slides with activity, so the portal checks the sign-in time."""
    user = people.cvk_officer()
    login_as(user)
    for _ in range(12 * 3):  # every 20 minutes for 12 hours: never idle for 30
        assert client.get("/account").status_code == 200
        clock.advance(timedelta(minutes=20))
    clock.advance(timedelta(minutes=1))  # 12 h 1 min after signing in, 21 min after the last
    answer = client.get("/account")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
