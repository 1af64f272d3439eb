"""The lean cast path (``portal.voting.lean_cast``) answers only casts the full app would
accept, and answers them as the full app does; everything else reaches the full app."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.voting.live import last_pushes
from referendum_core.audit import AuditEntry
from referendum_core.voting.models import Referendum
from tests.cast_support import board_count, post
from tests.voting_support import ONLINE_MONDAY, YES_VOTE

VOLATILE = {"Date", "Set-Cookie", "X-Request-ID", "Content-Length"}


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def lean_answered(ready: Any) -> float:
    """Ballots the lean path accepted since ``ready`` was set up."""
    return ready.lean_answered()


def test_an_accepted_cast_is_answered_as_the_full_app_answers_it(app, ready, db_session):
    """Spec section 6 and Art. 20(5): two voters, one cast through each path; the same answer
    (status, body shape, headers), one chain on the board."""
    first, second = ready.voters[0], ready.voters[1]
    client, token, cast = ready.sign_in(first)
    by_lean = post(client, ready.url, ready.ballot(first, YES_VOTE), token, cast)
    assert by_lean.status_code == 201 and lean_answered(ready) == 1
    app.config["LEAN_CAST"] = False
    client, token, cast = ready.sign_in(second)
    by_flask = post(client, ready.url, ready.ballot(second, YES_VOTE), token, cast)
    assert by_flask.status_code == 201 and lean_answered(ready) == 1
    one, two = by_lean.get_json(), by_flask.get_json()
    assert set(one) == set(two) == {"tracker", "seq", "cast_at", "board_head", "receipt_url"}
    assert (one["seq"], two["seq"]) == (1, 2)
    assert one["receipt_url"] == (f"/voting/{ready.referendum.id}/board?tracker="
                                  f"{one['tracker']}&cast=1")
    assert two["receipt_url"] == one["receipt_url"].replace(one["tracker"], two["tracker"])
    assert one["cast_at"] == two["cast_at"]
    headers = {k: v for k, v in by_lean.headers.items() if k not in VOLATILE}
    assert headers == {k: v for k, v in by_flask.headers.items() if k not in VOLATILE}
    assert by_lean.headers["X-Request-ID"]
    db_session.expire_all()
    referendum = db_session.get(Referendum, ready.referendum.id)
    assert board_count(db_session, referendum) == 2 and referendum.online_voters == 2
    assert referendum.board_head == two["board_head"]


def test_operators_see_how_many_casts_took_the_lean_path(app, ready):
    """``/metrics``: ballots accepted, and how many of them on the lean path."""
    from prometheus_client import REGISTRY

    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    before = value("portal_lean_casts_total"), value("portal_ballots_accepted_total")
    client, token, cast = ready.sign_in(ready.voters[0])
    assert post(client, ready.url, ready.ballot(ready.voters[0], YES_VOTE),
                token, cast).status_code == 201
    assert value("portal_lean_casts_total") == before[0] + 1
    assert value("portal_ballots_accepted_total") == before[1] + 1


def test_a_given_request_id_comes_back(app, ready):
    client, token, cast = ready.sign_in(ready.voters[0])
    answer = post(client, ready.url, ready.ballot(ready.voters[0], YES_VOTE), token, cast,
                  headers={"X-Request-ID": "cast-request-0001"})
    assert answer.status_code == 201 and lean_answered(ready) == 1
    assert answer.headers["X-Request-ID"] == "cast-request-0001"


def test_a_session_seen_long_ago_gets_its_cookie_renewed(app, ready, clock):
    """The last-seen time is rewritten at most once a minute, on this path as in the app."""
    voter = ready.voters[0]
    client, token, cast = ready.sign_in(voter)
    clock.set(ONLINE_MONDAY + timedelta(minutes=5))
    answer = post(client, ready.url, ready.ballot(voter, YES_VOTE), token, cast)
    assert answer.status_code == 201 and lean_answered(ready) == 1
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    with client.session_transaction() as session:
        assert session["seen_at"] == clock.now().timestamp()
    # within the minute: no new cookie
    again = post(client, ready.url, ready.ballot(voter, YES_VOTE), token, cast)
    assert again.status_code == 201 and "Set-Cookie" not in again.headers


def refusals() -> list[tuple[str, int]]:
    return [("no token", 400), ("wrong token", 400), ("no session", 400),
            ("signed out elsewhere", 401), ("idle too long", 401), ("bad proof", 422),
            ("not json", 422), ("another voter's ballot", 422), ("after the polls", 422),
            ("official", 403)]


@pytest.mark.parametrize(("case", "status"), refusals())
def test_what_the_full_app_refuses_never_passes_here(app, ready, db_session, clock, people,
                                                     login_as, case, status):
    """CSRF and cast tokens, session (Art. 7 voter only), Art. 15(1) window, spec section 5
    proofs: each is answered by the full app with its own status, nothing is stored."""
    voter = ready.voters[0]
    client, token, cast = ready.sign_in(voter)
    ballot: Any = ready.ballot(voter, YES_VOTE)
    if case == "no token":
        token = cast = None
    elif case == "wrong token":
        token, cast = (t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB")
                       for t in (token, cast))
    elif case == "no session":
        client.delete_cookie("portal_session")
    elif case == "signed out elsewhere":
        voter.session_epoch += 1
        db_session.commit()
    elif case == "idle too long":
        clock.set(ONLINE_MONDAY + timedelta(minutes=31))
    elif case == "bad proof":
        ballot["choices"][0]["alpha"], ballot["choices"][1]["alpha"] = (
            ballot["choices"][1]["alpha"], ballot["choices"][0]["alpha"])
    elif case == "not json":
        ballot = "{not json"
    elif case == "another voter's ballot":
        ballot = ready.ballot(ready.voters[1], YES_VOTE)
    elif case == "after the polls":
        clock.set(ready.referendum.online_closes_at + timedelta(minutes=1))
        login_as(voter)  # the same session (and CSRF token), signed in again
    elif case == "official":
        login_as(people.cvk_admin())
    answer = post(client, ready.url, ballot, token, cast)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert "error" in answer.get_json()
    assert lean_answered(ready) == 0
    assert board_count(db_session, ready.referendum) == 0


def test_a_refused_proof_is_audited_once(app, ready, db_session):
    voter = ready.voters[0]
    client, token, cast = ready.sign_in(voter)
    ballot = ready.ballot(voter, YES_VOTE)
    ballot["choices"][0]["alpha"], ballot["choices"][1]["alpha"] = (
        ballot["choices"][1]["alpha"], ballot["choices"][0]["alpha"])
    answer = post(client, ready.url, ballot, token, cast)
    assert answer.status_code == 422 and answer.get_json()["reason"] == "proof"
    assert db_session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "voting.ballot_refused")) == 1


def test_a_replay_is_refused_and_the_board_keeps_one_entry(app, ready, db_session):
    """Spec section 5: a ballot's alphas are accepted once."""
    voter = ready.voters[0]
    client, token, cast = ready.sign_in(voter)
    ballot = ready.ballot(voter, YES_VOTE)
    assert post(client, ready.url, ballot, token, cast).status_code == 201
    replay = post(client, ready.url, ballot, token, cast)
    assert replay.status_code == 422 and replay.get_json()["reason"] == "replay"
    assert lean_answered(ready) == 1 and board_count(db_session, ready.referendum) == 1


@pytest.mark.parametrize("variant", ["text/plain", "query", "no cast token", "cast token only"])
def test_unusual_requests_go_to_the_full_app(app, ready, db_session, variant):
    """A cast the full app accepts but this path does not look at closely (or, without the
    cast token, cannot check): the full app answers it (201), once. The full app takes either
    token: the CSRF token of a client without the page's script, or the cast token alone."""
    voter = ready.voters[0]
    client, token, cast = ready.sign_in(voter)
    ballot = ready.ballot(voter, YES_VOTE)
    kwargs: dict[str, Any] = {}
    url = ready.url
    if variant == "text/plain":
        kwargs["content_type"] = "text/plain"
    elif variant == "query":
        url += "?x=1"
    elif variant == "no cast token":
        cast = None
    else:
        token = None
        url += "?x=1"
    answer = post(client, url, ballot, token, cast, **kwargs)
    assert answer.status_code == 201 and lean_answered(ready) == 0
    assert board_count(db_session, ready.referendum) == 1


def test_another_browser_of_the_same_session_casts_here(app, ready, db_session):
    """The cast token and the session it was issued to are what identify the voter; the
    browser's User-Agent is not (Flask-Login, with permanent sessions, does not refuse it
    either)."""
    voter = ready.voters[0]
    client, token, cast = ready.sign_in(voter)
    answer = post(client, ready.url, ready.ballot(voter, YES_VOTE), token, cast,
                  headers={"User-Agent": "another browser"})
    assert answer.status_code == 201 and lean_answered(ready) == 1
    assert board_count(db_session, ready.referendum) == 1


def test_the_live_push_goes_with_the_full_app(app, ready):
    """When a push is due the full app answers, and pushes (``portal.voting.live``)."""
    last_pushes(app).pop(ready.referendum.id)
    client, token, cast = ready.sign_in(ready.voters[0])
    answer = post(client, ready.url, ready.ballot(ready.voters[0], YES_VOTE), token, cast)
    assert answer.status_code == 201 and lean_answered(ready) == 0
    assert ready.referendum.id in last_pushes(app)


def test_a_database_fault_before_the_commit_leaves_the_cast_to_the_full_app(
        app, ready, db_session, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import portal.voting.lean_cast as module

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection lost"))

    monkeypatch.setattr(module, "record_on_board", broken)
    client, token, cast = ready.sign_in(ready.voters[0])
    answer = post(client, ready.url, ready.ballot(ready.voters[0], YES_VOTE), token, cast)
    assert answer.status_code == 201 and lean_answered(ready) == 0
    assert board_count(db_session, ready.referendum) == 1


class TestOverHttps:
    """Flask-WTF's strict referrer rule over HTTPS holds for the CSRF token; the cast token,
    which cannot be planted or sent from another site, needs no referrer."""

    def test_without_a_referrer_the_csrf_token_is_refused(self, app, ready):
        client, token, _cast = ready.sign_in(ready.voters[0])
        answer = post(client, ready.url, ready.ballot(ready.voters[0], YES_VOTE), token,
                      base_url="https://localhost")
        assert answer.status_code == 400 and lean_answered(ready) == 0

    def test_from_another_site_the_csrf_token_is_refused(self, app, ready):
        client, token, _cast = ready.sign_in(ready.voters[0])
        answer = post(client, ready.url, ready.ballot(ready.voters[0], YES_VOTE), token,
                      base_url="https://localhost",
                      headers={"Referer": "https://elsewhere.example/voting/1"})
        assert answer.status_code == 400 and lean_answered(ready) == 0

    def test_with_the_cast_token_it_is_accepted_here(self, app, ready):
        client, token, cast = ready.sign_in(ready.voters[0])
        answer = post(client, ready.url, ready.ballot(ready.voters[0], YES_VOTE), token, cast,
                      base_url="https://localhost")
        assert answer.status_code == 201 and lean_answered(ready) == 1


class TestBallotLimit:
    @pytest.fixture()
    def app_overrides(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True,
                "VOTER_BALLOT_RATE_LIMIT": "2 per 10 minutes"}

    def test_each_ballot_is_counted_once(self, app, ready):
        voter = ready.voters[0]
        client, token, cast = ready.sign_in(voter)
        for _ in range(2):
            assert post(client, ready.url, ready.ballot(voter, YES_VOTE),
                        token, cast).status_code == 201
        limited = post(client, ready.url, ready.ballot(voter, YES_VOTE), token, cast)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert lean_answered(ready) == 2
        counts = app.extensions["voting_ballot_counts"]
        assert [count for (key, _), (_, count) in counts._windows.items()
                if key == f"voter:{voter.id}"] == [3]


def test_a_copied_cookie_cannot_cast_after_a_plain_sign_out(app, ready, db_session):
    """Signing out ends the session on the server: the lean path, like the full app, refuses
    a copy of its cookie (the full app answers 401) and nothing reaches the board."""
    voter = ready.voters[0]
    client, token, cast = ready.sign_in(voter)
    copied = client.get_cookie("portal_session").value
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("portal_session", copied)
    answer = post(thief, ready.url, ready.ballot(voter, YES_VOTE), token, cast)
    assert answer.status_code == 401 and lean_answered(ready) == 0
    assert board_count(db_session, ready.referendum) == 0
