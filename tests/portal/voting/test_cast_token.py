"""The cast token (``portal.voting.cast_token``): a cast carrying it is accepted only for its
referendum, voter and session, while it has not expired and the session still signs the voter
in; anything else is answered by the full app as a cast without it (400 without a CSRF token,
401 for a session that no longer signs anyone in), and nothing reaches the board."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer

from portal.accounts.services import sign_out_everywhere
from portal.voting.cast_token import issue_cast_token, read_cast_token
from tests.cast_support import board_count, post
from tests.voting_support import ONLINE_MONDAY, YES_VOTE

SECRET = "test-secret"


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def refused(ready: Any, db_session: Any, answer: Any, status: int = 400) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert "error" in answer.get_json()
    assert ready.lean_answered() == 0 and board_count(db_session, ready.referendum) == 0


def test_the_cast_token_alone_casts(app, ready, db_session):
    """No CSRF token needed: the cast token is one a cross-site request cannot carry."""
    voter = ready.voters[0]
    client, _csrf, cast = ready.sign_in(voter)
    assert post(client, ready.url, ready.ballot(voter, YES_VOTE), None, cast).status_code == 201
    assert ready.lean_answered() == 1


def test_an_expired_token_is_refused(app, ready, db_session, clock):
    """It lives the idle limit from the voting page's load, even while the session goes on."""
    voter = ready.voters[0]
    client, csrf, cast = ready.sign_in(voter)
    clock.set(ONLINE_MONDAY + timedelta(minutes=20))
    assert client.get(f"/voting/{ready.referendum.id}").status_code == 200  # seen again
    clock.set(ONLINE_MONDAY + timedelta(minutes=31))
    refused(ready, db_session, post(client, ready.url, ready.ballot(voter, YES_VOTE), None,
                                    cast))
    # the voting page's script also sends its CSRF token: the full app accepts the cast
    answer = post(client, ready.url, ready.ballot(voter, YES_VOTE), csrf, cast)
    assert answer.status_code == 201 and ready.lean_answered() == 0


def test_a_token_for_another_referendum_is_refused(app, ready, db_session):
    voter = ready.voters[0]
    client, _csrf, _cast = ready.sign_in(voter)
    with client.session_transaction() as session:
        other = issue_cast_token(app.secret_key, user_id=voter.id,
                                 session_epoch=voter.session_epoch, session=session,
                                 referendum_id=ready.referendum.id + 1,
                                 now=ONLINE_MONDAY.timestamp(), idle_seconds=1800,
                                 lifetime_seconds=43200)
    refused(ready, db_session, post(client, ready.url, ready.ballot(voter, YES_VOTE), None,
                                    other))


def test_another_voters_token_is_refused(app, ready, db_session, login_as):
    first, second = ready.voters[0], ready.voters[1]
    _client, _csrf, theirs = ready.sign_in(second)
    client, _csrf, _mine = ready.sign_in(first)
    for ballot in (ready.ballot(first, YES_VOTE), ready.ballot(second, YES_VOTE)):
        refused(ready, db_session, post(client, ready.url, ballot, None, theirs))


def test_a_token_replayed_with_another_session_cookie_is_refused(app, ready, db_session):
    """The same voter signed in twice: each session's token is its own."""
    voter = ready.voters[0]
    _first, _csrf, first_token = ready.sign_in(voter, app.test_client())
    second, csrf, _token = ready.sign_in(voter, app.test_client())
    refused(ready, db_session, post(second, ready.url, ready.ballot(voter, YES_VOTE), None,
                                    first_token))
    answer = post(second, ready.url, ready.ballot(voter, YES_VOTE), csrf, first_token)
    assert answer.status_code == 201 and ready.lean_answered() == 0  # by its CSRF token


def test_after_sign_out_the_token_is_refused(app, ready, db_session):
    """A plain sign-out ends the session on the server (``ended_sessions``): its cookie and
    token, copied before, cast nothing."""
    voter = ready.voters[0]
    client, csrf, cast = ready.sign_in(voter)
    copied = client.get_cookie("portal_session").value
    assert client.post("/logout", headers={"X-CSRFToken": csrf}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("portal_session", copied)
    refused(ready, db_session, post(thief, ready.url, ready.ballot(voter, YES_VOTE), None,
                                    cast), 401)


def test_after_signing_out_everywhere_the_token_is_refused(app, ready, db_session, clock):
    """"Sign out everywhere" (or a password change) bumps the session epoch."""
    voter = ready.voters[0]
    client, _csrf, cast = ready.sign_in(voter)
    sign_out_everywhere(db_session, clock, voter)
    db_session.commit()
    refused(ready, db_session, post(client, ready.url, ready.ballot(voter, YES_VOTE), None,
                                    cast), 401)


def test_a_tampered_token_is_refused(app, ready, db_session):
    voter = ready.voters[0]
    client, _csrf, cast = ready.sign_in(voter)
    payload, signature = cast.rsplit(".", 1)
    for forged in (payload[:-2] + ("AA" if not payload.endswith("AA") else "BB") + "."
                   + signature, cast[:-3] + ("AAA" if not cast.endswith("AAA") else "BBB")):
        refused(ready, db_session, post(client, ready.url, ready.ballot(voter, YES_VOTE),
                                        None, forged))


def test_the_csrf_token_does_not_pass_for_a_cast_token(app, ready, db_session):
    voter = ready.voters[0]
    client, csrf, _cast = ready.sign_in(voter)
    refused(ready, db_session, post(client, ready.url, ready.ballot(voter, YES_VOTE), None,
                                    None, headers={"X-Cast-Token": csrf}))


# ------------------------------------------------------------------- the token on its own


SESSION = {"sid": "a-session-id", "signed_in_at": 1000.0}


def grant(token: str | None, *, referendum_id: int = 7, session: Any = None,
          now: float = 1000.0, secret: str = SECRET) -> Any:
    return read_cast_token(secret, token, referendum_id=referendum_id,
                           session=SESSION if session is None else session, now=now)


def token(**overrides: Any) -> str:
    fields: dict[str, Any] = {"user_id": 3, "session_epoch": 2, "session": SESSION,
                              "referendum_id": 7, "now": 1000.0, "idle_seconds": 1800,
                              "lifetime_seconds": 43200}
    fields.update(overrides)
    issued = issue_cast_token(SECRET, **fields)
    assert issued is not None
    return issued


def test_a_grant_names_the_voter_session_referendum_and_expiry():
    granted = grant(token())
    assert (granted.user_id, granted.session_epoch, granted.referendum_id,
            granted.expires_at) == (3, 2, 7, 2800)
    assert grant(token(), now=2799.0) is not None and grant(token(), now=2800.0) is None


def test_it_never_outlives_the_sessions_absolute_limit():
    assert grant(token(now=1000.0 + 43200 - 60)).expires_at == 1000 + 43200


def test_what_is_not_a_token_of_this_secret_and_purpose_grants_nothing():
    other_purpose = URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").dumps("x" * 40)
    for value in (None, "", "garbage", other_purpose, token() + "x"):
        assert grant(value) is None
    assert grant(token(), secret="another secret") is None
    assert grant(token(), referendum_id=8) is None
    assert grant(token(), session={"sid": "another-session"}) is None
    assert grant(token(), session={}) is None
    assert issue_cast_token(SECRET, user_id=3, session_epoch=2, session={}, referendum_id=7,
                            now=1000.0, idle_seconds=1800, lifetime_seconds=43200) is None
