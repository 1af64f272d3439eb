"""The signing token (``portal.initiatives.sign_token``) and the lean signing path
(``portal.initiatives.lean_sign``): a signature sent by the initiative page's script with the
token is taken only for its initiative, voter and session, while the token has not expired and
the session still signs the voter in; anything else is answered by the full app as a post
without it (400 without a CSRF token, the sign-in page for a session that no longer signs
anyone in), and nothing is signed. Taken on either path, a signature has the same effects:
the signature with how the voter signed in, its pending board entry and its audit entry, all
from the one service (Art. 7, Art. 11(1))."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from portal.accounts.services import sign_out_everywhere
from portal.initiatives.sign_token import issue_sign_token, read_sign_token
from portal.voting.cast_token import issue_cast_token
from portal.web import SIGNED_IN_WITH_KEY
from referendum_core.audit import AuditEntry
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.initiatives import (
    Initiative,
    Subject,
    decide_initiative,
    publish_due_initiatives,
    submit_initiative,
)
from referendum_core.signature_board import BoardEntry
from referendum_core.signatures import Signature
from tests.conftest import csrf_token_from, login, municipality
from tests.register_data import add_person, code_for

OPEN = datetime(2026, 3, 5, 8, tzinfo=UTC)
SECRET = "test-secret"
EID = ["latvija", "smart-id", "high"]  # provider, method, level, as the sign-in keeps them


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def lean_count() -> float:
    """``portal_lean_signatures_total``: signatures the lean path took in this process."""
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("portal_lean_signatures_total") or 0.0


@dataclass
class Ready:
    app: Any
    db: Any
    clock: Any
    initiative: Initiative
    voters: list[Any]
    lean_before: float

    @property
    def page(self) -> str:
        return f"/initiatives/{self.initiative.id}"

    @property
    def url(self) -> str:
        return f"{self.page}/sign"

    def sign_in(self, voter: Any, client: Any = None, *, how: list[str] | None = None
                ) -> tuple[Any, str, str]:
        """A session of ``voter`` and the tokens its initiative page gives: CSRF, signing."""
        client = client or self.app.test_client()
        self.db.commit()
        login(client, voter, self.clock)
        if how is not None:
            with client.session_transaction() as session:
                session[SIGNED_IN_WITH_KEY] = how
        html = client.get(self.page).get_data(as_text=True)
        token = html.split('data-sign-token="', 1)[1].split('"', 1)[0]
        assert token, "the initiative page gave no signing token"
        return client, csrf_token_from(html), token

    def lean_answered(self) -> float:
        return lean_count() - self.lean_before

    def signatures(self) -> list[Signature]:
        self.db.expire_all()
        return list(self.db.scalars(select(Signature).where(
            Signature.initiative_id == self.initiative.id).order_by(Signature.id)))


def post(client: Any, url: str, csrf: str | None = None, token: str | None = None,
         headers: dict[str, str] | None = None) -> Any:
    """POST a signature as the page's script does: no body, the signing token and/or the CSRF
    token in headers, JSON asked for."""
    sent = {"X-Requested-With": "fetch", "Accept": "application/json"}
    if csrf:
        sent["X-CSRFToken"] = csrf
    if token:
        sent["X-Sign-Token"] = token
    sent.update(headers or {})
    return client.post(url, headers=sent)


@pytest.fixture()
def ready(app, db_session, keys, people, clock) -> Ready:
    calendar = WorkingDayCalendar()
    muni = municipality(db_session)
    muni.voters_at_last_election = 100
    voters = []
    for serial in (1, 2, 3):
        code = code_for(date(1970, 1, 1), serial)
        add_person(db_session, keys.personal_codes, code, born=date(1970, 1, 1),
                   municipality=muni)
        voters.append(people.voter(code, f"Vēlētājs {serial}"))
    initiative = submit_initiative(
        db_session, clock, calendar, None, municipality=muni, subject=Subject.STRATEGY,
        question="Vai atbalstāt?", reasons="Tāpēc.", basis_date=date(2026, 2, 1),
        person_ref=voters[2].person_ref)
    decide_initiative(db_session, clock, calendar, None, initiative, can=True)
    clock.set(OPEN)
    publish_due_initiatives(db_session, clock, calendar)
    db_session.commit()
    return Ready(app, db_session, clock, initiative, voters, lean_count())


def refused(ready: Ready, answer: Any, status: int = 400) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    if status == 302:
        assert "/login" in answer.headers["Location"]
    elif status == 401:  # the script's request of an ended session: JSON, "sign in again"
        assert answer.get_json()["code"] == "sign_in_required"
    else:
        assert "error" in answer.get_json()
    assert ready.lean_answered() == 0 and ready.signatures() == []


def test_the_signing_token_alone_signs_on_the_lean_path(ready):
    """No CSRF token needed: the signing token is one a cross-site request cannot carry."""
    client, _csrf, token = ready.sign_in(ready.voters[0])
    answer = post(client, ready.url, None, token)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json() == {"signed": True, "status": 201, "location": ready.page}
    assert ready.lean_answered() == 1
    assert [s.person_ref for s in ready.signatures()] == [ready.voters[0].person_ref]
    page = client.get(ready.page).get_data(as_text=True)
    assert 'data-testid="own-receipt"' in page and 'data-sign-token' not in page
    # the page the script goes to thanks the voter once, as after the form, in their language
    assert "Paldies! Jūsu paraksts ir reģistrēts." in page
    assert "Paldies" not in client.get(ready.page).get_data(as_text=True)


def test_the_thanks_are_in_the_language_the_voter_chose(ready):
    client, _csrf, token = ready.sign_in(ready.voters[0])
    with client.session_transaction() as session:
        session["lang"] = "en"
    assert post(client, ready.url, None, token).status_code == 201
    assert ready.lean_answered() == 1
    assert "Thank you. Your signature is recorded." in client.get(ready.page).get_data(
        as_text=True)


def test_an_expired_token_is_refused(ready):
    """It lives the idle limit from the page's load, even while the session goes on."""
    client, csrf, token = ready.sign_in(ready.voters[0])
    ready.clock.set(OPEN + timedelta(minutes=20))
    assert client.get(ready.page).status_code == 200  # seen again: the session goes on
    ready.clock.set(OPEN + timedelta(minutes=31))
    refused(ready, post(client, ready.url, None, token))
    # the script's CSRF token, as the form's: the full app takes the signature, answering
    # the script (it sent a page token) in JSON
    answer = post(client, ready.url, csrf, token)
    assert answer.status_code == 201 and ready.lean_answered() == 0
    assert len(ready.signatures()) == 1


def test_a_token_for_another_initiative_is_refused(ready):
    voter = ready.voters[0]
    client, _csrf, _token = ready.sign_in(voter)
    with client.session_transaction() as session:
        other = issue_sign_token(ready.app.secret_key, user_id=voter.id,
                                 session_epoch=voter.session_epoch, session=session,
                                 initiative_id=ready.initiative.id + 1,
                                 now=OPEN.timestamp(), idle_seconds=1800,
                                 lifetime_seconds=43200)
    refused(ready, post(client, ready.url, None, other))


def test_another_voters_token_is_refused(ready):
    _theirs_client, _csrf, theirs = ready.sign_in(ready.voters[1])
    client, _csrf, _mine = ready.sign_in(ready.voters[0])
    refused(ready, post(client, ready.url, None, theirs))


def test_a_token_replayed_with_another_session_cookie_is_refused(ready):
    """The same voter signed in twice: each session's token is its own."""
    voter = ready.voters[0]
    _first, _csrf, first_token = ready.sign_in(voter)
    second, csrf, _token = ready.sign_in(voter)
    refused(ready, post(second, ready.url, None, first_token))
    answer = post(second, ready.url, csrf, first_token)
    assert answer.status_code == 201 and ready.lean_answered() == 0  # by its CSRF token
    assert len(ready.signatures()) == 1


def test_after_sign_out_the_token_is_refused(ready):
    """A plain sign-out ends the session on the server (``ended_sessions``): its cookie and
    token, copied before, sign nothing."""
    client, csrf, token = ready.sign_in(ready.voters[0])
    copied = client.get_cookie("portal_session").value
    assert client.post("/logout", headers={"X-CSRFToken": csrf}).status_code == 302
    thief = ready.app.test_client()
    thief.set_cookie("portal_session", copied)
    refused(ready, post(thief, ready.url, None, token), 401)


def test_after_signing_out_everywhere_the_token_is_refused(ready):
    """"Sign out everywhere" (or a password change) bumps the session epoch."""
    voter = ready.voters[0]
    client, _csrf, token = ready.sign_in(voter)
    sign_out_everywhere(ready.db, ready.clock, voter)
    ready.db.commit()
    refused(ready, post(client, ready.url, None, token), 401)


def test_a_tampered_token_is_refused(ready):
    client, _csrf, token = ready.sign_in(ready.voters[0])
    payload, signature = token.rsplit(".", 1)
    for forged in (payload[:-2] + ("AA" if not payload.endswith("AA") else "BB") + "."
                   + signature, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")):
        refused(ready, post(client, ready.url, None, forged))


def test_the_csrf_token_and_a_cast_token_do_not_pass_for_a_signing_token(ready):
    voter = ready.voters[0]
    client, csrf, _token = ready.sign_in(voter)
    refused(ready, post(client, ready.url, None, None, headers={"X-Sign-Token": csrf}))
    with client.session_transaction() as session:
        cast = issue_cast_token(ready.app.secret_key, user_id=voter.id,
                                session_epoch=voter.session_epoch, session=session,
                                referendum_id=ready.initiative.id, now=OPEN.timestamp(),
                                idle_seconds=1800, lifetime_seconds=43200)
    refused(ready, post(client, ready.url, None, cast))


def _effects(ready: Ready, voter: Any) -> dict[str, Any]:
    """What a signature left: the row, its board entry and its audit entry, without the
    values that differ by nature (ids, the receipt)."""
    ready.db.expire_all()
    signature = ready.db.scalars(select(Signature).where(
        Signature.initiative_id == ready.initiative.id,
        Signature.person_ref == voter.person_ref)).one()
    entry = ready.db.scalars(select(BoardEntry).where(
        BoardEntry.signature_id == signature.id)).one()
    audits = ready.db.scalars(select(AuditEntry).where(
        AuditEntry.actor_id == voter.id, AuditEntry.action.like("signature.%"))).all()
    return {
        "signature": (signature.method, signature.signed_at, signature.registered_by_id ==
                      voter.id, signature.auth_provider, signature.auth_method,
                      signature.auth_level, signature.check_status),
        "board": (entry.kind, entry.method, entry.day, entry.seq, len(entry.receipt)),
        "audit": [(a.action, a.object_type, a.object_id, a.ip,
                   {k: v for k, v in json.loads(a.detail).items() if k != "signature_id"},
                   json.loads(a.detail).get("signature_id") == signature.id)
                  for a in audits]}


def test_art7_art11_1_the_lean_path_and_the_form_have_the_same_effects(ready):
    """One voter signs by the page's script (lean path), another by the form without script
    (CSRF token, full app), both signed in with an eID whose method is recorded; then each
    tries again and both are refused once per person (Art. 11(1)), in the refusal handler's
    JSON to the script, with the same refusal audited."""
    scripted, form = ready.voters[0], ready.voters[1]
    client, _csrf, token = ready.sign_in(scripted, how=EID)
    assert post(client, ready.url, None, token).status_code == 201
    assert ready.lean_answered() == 1
    plain, csrf, _token = ready.sign_in(form, how=EID)
    answer = plain.post(ready.url, data={"csrf_token": csrf})
    assert answer.status_code == 302 and ready.lean_answered() == 1
    assert "Paldies" in plain.get(answer.headers["Location"]).get_data(as_text=True)

    lean, full = _effects(ready, scripted), _effects(ready, form)
    assert lean == full
    assert lean["signature"][3:6] == tuple(EID)
    assert lean["board"][:2] == ("signature", "online") and lean["board"][3] is None
    assert [a[0] for a in lean["audit"]] == ["signature.signed_online"]

    again = post(client, ready.url, None, token)
    body = again.get_json()
    assert again.status_code == 422 and set(body) == {"error", "code", "reason", "status"}
    assert body["code"] == "already_signed" and body["status"] == 422
    assert "vienu reizi" in body["error"]  # the registry's sentence, in Latvian
    assert ready.lean_answered() == 1
    assert plain.post(ready.url, data={"csrf_token": csrf}).status_code == 303
    refusals = [(a.action, json.loads(a.detail).get("reason")) for a in ready.db.scalars(
        select(AuditEntry).where(AuditEntry.action == "signature.refused")
        .order_by(AuditEntry.seq))]
    assert refusals == [("signature.refused", "already_signed")] * 2


def test_art7_a_person_not_in_the_municipalitys_register_is_refused_in_json(ready, people):
    outsider = people.voter(code_for(date(1971, 1, 1), 9), "Cits")
    client, _csrf, token = ready.sign_in(outsider)
    answer = post(client, ready.url, None, token)
    assert answer.status_code == 422 and answer.get_json()["code"] == "not_eligible"
    assert ready.lean_answered() == 0 and ready.signatures() == []


def test_a_signature_taken_on_the_lean_path_can_be_withdrawn(ready):
    client, _csrf, token = ready.sign_in(ready.voters[0])
    assert post(client, ready.url, None, token).status_code == 201
    csrf = csrf_token_from(client.get(ready.page).get_data(as_text=True))
    assert client.post(f"{ready.page}/withdraw",
                       data={"csrf_token": csrf}).status_code == 302
    assert ready.signatures() == []
    # and sign again, on the lean path, with the new page's token
    html = client.get(ready.page).get_data(as_text=True)
    again = re.search(r'data-sign-token="([^"]+)"', html).group(1)
    assert post(client, ready.url, None, again).status_code == 201
    assert ready.lean_answered() == 2


def test_with_the_lean_path_off_the_full_app_takes_the_same_request(ready):
    ready.app.config["LEAN_SIGN"] = False
    client, _csrf, token = ready.sign_in(ready.voters[0])
    answer = post(client, ready.url, None, token)
    assert answer.status_code == 201
    assert answer.get_json() == {"signed": True, "status": 201, "location": ready.page}
    assert ready.lean_answered() == 0 and len(ready.signatures()) == 1


# ------------------------------------------------------------------- the token on its own


SESSION = {"sid": "a-session-id", "signed_in_at": 1000.0}


def grant(token: str | None, *, initiative_id: int = 7, session: Any = None,
          now: float = 1000.0, secret: str = SECRET) -> Any:
    return read_sign_token(secret, token, initiative_id=initiative_id,
                           session=SESSION if session is None else session, now=now)


def token(**overrides: Any) -> str:
    fields: dict[str, Any] = {"user_id": 3, "session_epoch": 2, "session": SESSION,
                              "initiative_id": 7, "now": 1000.0, "idle_seconds": 1800,
                              "lifetime_seconds": 43200}
    fields.update(overrides)
    issued = issue_sign_token(SECRET, **fields)
    assert issued is not None
    return issued


def test_a_grant_names_the_voter_session_initiative_and_expiry():
    granted = grant(token())
    assert (granted.user_id, granted.session_epoch, granted.object_id,
            granted.expires_at) == (3, 2, 7, 2800)
    assert grant(token(), now=2799.0) is not None and grant(token(), now=2800.0) is None
    assert grant(token(now=1000.0 + 43200 - 60)).expires_at == 1000 + 43200


def test_what_is_not_a_signing_token_of_this_secret_grants_nothing():
    other_purpose = URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").dumps("x" * 40)
    cast = issue_cast_token(SECRET, user_id=3, session_epoch=2, session=SESSION,
                            referendum_id=7, now=1000.0, idle_seconds=1800,
                            lifetime_seconds=43200)
    for value in (None, "", "garbage", other_purpose, cast, token() + "x"):
        assert grant(value) is None
    assert grant(token(), secret="another secret") is None
    assert grant(token(), initiative_id=8) is None
    assert grant(token(), session={"sid": "another-session"}) is None
    assert grant(token(), session={}) is None


def test_a_request_with_a_signing_token_is_answered_in_json_both_ways(ready):
    """A request carrying a page token is the page's script's, whatever it says it accepts:
    the full app answers its signature and its refusal alike in JSON (never a 303 to a
    page for one and 201 JSON for the other)."""
    client, _csrf, token = ready.sign_in(ready.voters[0])
    bare = {"X-Sign-Token": token}  # no Accept, no X-Requested-With
    # a query string sends it past the lean path: the full app's view answers
    signed = client.post(f"{ready.url}?full=1", headers=bare)
    assert signed.status_code == 201 and signed.is_json and ready.lean_answered() == 0
    assert len(ready.signatures()) == 1
    again = client.post(ready.url, headers=bare)  # the lean path hands the refusal on
    assert again.status_code == 422 and again.is_json, again.headers.get("Location")
    assert again.get_json()["code"] == "already_signed"
    assert len(ready.signatures()) == 1


def test_the_form_without_a_token_is_still_answered_with_a_page(ready):
    client, csrf, _token = ready.sign_in(ready.voters[0])
    assert client.post(ready.url, headers={"X-CSRFToken": csrf}).status_code == 302
    again = client.post(ready.url, headers={"X-CSRFToken": csrf})
    assert again.status_code == 303 and not again.is_json
