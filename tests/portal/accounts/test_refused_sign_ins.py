"""A refused sign-in goes through the one refusal pipeline (``portal.refusals``): the request
is rolled back, and only what the refusal keeps is written — its audit entry, the failed
attempt's count and, at the configured failure, the e-mail telling the account's owner; for a
voter, the attempt taken of the one-time code."""
from __future__ import annotations

from sqlalchemy import select

from portal.accounts import services, tasks
from portal.accounts.models import OneTimeCode, User
from referendum_core import audit
from referendum_core.audit import AuditEntry
from tests.conftest import PASSWORD

WRONG = "not the password at all"


def _actions(db_session):
    return list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _writing_first(monkeypatch, clock, name):
    """Make the view's service ``name`` write something else before it runs (and refuses)."""
    real = getattr(services, name)

    def wrapped(session, *args, **kwargs):
        for user in session.scalars(select(User)):
            user.display_name = "rewritten by the refused request"
        audit.record(session, clock, None, "test.other_write")
        session.flush()
        return real(session, *args, **kwargs)

    monkeypatch.setattr(services, name, wrapped)


def _notices(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.send_failed_sign_in_notice, "delay", sent.append)
    return sent


def test_a_refused_sign_in_keeps_its_count_and_owner_notice_and_nothing_else(
        app, client, people, db_session, clock, monkeypatch):
    user = people.member()
    name = user.display_name
    db_session.commit()
    app.config["LOGIN_NOTIFY_AFTER_FAILURES"] = 1
    sent = _notices(monkeypatch)
    _writing_first(monkeypatch, clock, "authenticate")
    response = client.post("/login", data={"email": user.email, "password": WRONG})
    assert response.status_code == 401
    assert "Nepareiza e-pasta adrese vai parole." in response.get_data(as_text=True)
    db_session.expire_all()
    kept = db_session.get(User, user.id)
    assert kept.failed_logins == 1 and kept.last_failed_login_at is not None
    assert sent == [user.id]
    assert kept.display_name == name
    actions = _actions(db_session)
    assert actions.count("login.failed") == 1 and "test.other_write" not in actions
    assert audit.verify_chain(db_session)[1] is None


def test_a_refused_second_factor_keeps_its_count_and_nothing_else(
        client, people, db_session, clock, monkeypatch):
    user = people.member()
    name = user.display_name
    db_session.commit()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}
                       ).status_code == 302
    _writing_first(monkeypatch, clock, "verify_second_factor")
    assert client.post("/login/2fa", data={"code": "000000"}).status_code == 401
    db_session.expire_all()
    kept = db_session.get(User, user.id)
    assert kept.failed_logins == 1 and kept.display_name == name
    actions = _actions(db_session)
    assert actions.count("2fa.failed") == 1 and "test.other_write" not in actions


def test_a_script_asking_for_json_is_refused_and_counted_the_same(client, people, db_session):
    user = people.member()
    db_session.commit()
    response = client.post("/login", data={"email": user.email, "password": WRONG},
                           headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_credentials"
    db_session.expire_all()
    assert db_session.get(User, user.id).failed_logins == 1


def test_an_unknown_address_keeps_only_its_audit_entry(client, db_session, clock, monkeypatch):
    _writing_first(monkeypatch, clock, "authenticate")
    response = client.post("/login", data={"email": "nobody@example.lv", "password": WRONG})
    assert response.status_code == 401
    actions = _actions(db_session)
    assert actions.count("login.failed_unknown") == 1 and "test.other_write" not in actions


def test_a_wrong_voter_code_keeps_the_attempt_it_took_and_nothing_else(
        client, db_session, clock, monkeypatch):
    assert client.post("/voter/login", data={"personal_code": "161175-19997"}
                       ).status_code == 302
    with client.session_transaction() as sess:  # OTP_SHOW_CODE_ON_SCREEN in tests
        shown = "".join(ch for ch in sess["_flashes"][-1][1].split(":")[-1] if ch.isdigit())[:6]
    _writing_first(monkeypatch, clock, "redeem_one_time_code")
    response = client.post("/voter/code", data={"code": f"{(int(shown) + 1) % 10**6:06d}"})
    assert response.status_code == 401
    assert "Kods ir nepareizs" in response.get_data(as_text=True)
    assert db_session.scalars(select(OneTimeCode)).one().attempts == 1
    assert "test.other_write" not in _actions(db_session)
