"""The cast token: what the voting page hands its script so that a ballot cast can be checked
without Flask's request machinery (``portal.voting.lean_cast``), and what the full app accepts
in place of the CSRF token on the same request.

A token names the voter (user id and session epoch), the signed-in session it was issued to
(the hash of its random ``sid``, as ``ended_sessions`` records it), the referendum and when it
expires; it is signed with the app's secret key under a salt of its own, so no other signed
value of the portal (the session cookie, the CSRF token) can pass for it, nor it for them.

A cast is accepted with a token only when, in addition to the signature:

- it is for the referendum of the URL and has not expired (it lives at most the session's
  idle limit, and never past the session's absolute limit);
- the request's session cookie is the session it was issued to (a token copied to another
  session, or a cookie copied to another token, does not match);
- the user is active, at the same session epoch ("sign out everywhere" and a password change
  bump it), and the session has not been signed out (``ended_sessions``): the lean path reads
  these with the referendum, the full app through its user loader.

It is a page token (``portal.page_token``, which the initiative's signing token shares).

Why it also stands for the CSRF check: a cross-site request carries the voter's cookies but
cannot carry this token. It travels in a request header (``X-Cast-Token``) that only a script of
the portal's own origin can set (a cross-origin ``fetch`` with a custom header needs a CORS
preflight, which the portal never grants; a form cannot set headers), and its value is only in
the voting page, which another site cannot read. Unlike a cookie the browser never attaches it
by itself, and unlike Flask-WTF's token it is not checked against anything an attacker could
plant in the session (it is bound to the session's random id, signed), so Flask-WTF's HTTPS
referrer rule, which guards against planted tokens, has nothing to add.
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from portal.page_token import CAST_TOKEN_HEADER, issue_page_token, read_page_token
from referendum_core.clock import wall_time

#: The same header as the WSGI environ names it (the lean path reads the environ).
CAST_TOKEN_ENVIRON = "HTTP_" + CAST_TOKEN_HEADER.upper().replace("-", "_")
_SALT = "portal.voting.cast-token"


@dataclass(frozen=True, slots=True)
class CastGrant:
    """What a valid cast token says: who may cast in which referendum, until when."""

    user_id: int
    session_epoch: int
    sid_hash: str
    referendum_id: int
    expires_at: int  # seconds since the epoch, real time


def issue_cast_token(secret_key: str | bytes, *, user_id: int, session_epoch: int,
                     session: Mapping[str, Any], referendum_id: int, now: float,
                     idle_seconds: float, lifetime_seconds: float) -> str | None:
    """A token for the voter signed in by ``session`` to cast in ``referendum_id``, valid for
    the idle limit from ``now`` (seconds since the epoch) but not past the session's absolute
    limit; ``None`` for a session without an id."""
    return issue_page_token(secret_key, _SALT, user_id=user_id, session_epoch=session_epoch,
                            session=session, object_id=referendum_id, now=now,
                            idle_seconds=idle_seconds, lifetime_seconds=lifetime_seconds)


def read_cast_token(secret_key: str | bytes, token: str | None, *, referendum_id: int,
                    session: Mapping[str, Any], now: float) -> CastGrant | None:
    """The grant of ``token`` if it is genuine, for ``referendum_id``, not expired at ``now``
    and issued to ``session``; ``None`` otherwise. The user's standing (active, epoch, signed
    out) is for the caller to check against the database."""
    grant = read_page_token(secret_key, _SALT, token, object_id=referendum_id,
                            session=session, now=now)
    if grant is None:
        return None
    return CastGrant(grant.user_id, grant.session_epoch, grant.sid_hash, grant.object_id,
                     grant.expires_at)


def page_cast_token(app: Any, user: Any, session: MutableMapping[str, Any],
                    referendum_id: int) -> str | None:
    """The token the voting page gives its script, for the signed-in ``user`` of the current
    ``session`` (the limits as ``portal.security.session_current`` keeps them)."""
    return issue_cast_token(
        app.secret_key, user_id=user.id, session_epoch=user.session_epoch, session=session,
        referendum_id=referendum_id, now=wall_time(app.extensions["clock"]).timestamp(),
        idle_seconds=app.config["SESSION_IDLE_MINUTES"] * 60,
        lifetime_seconds=app.permanent_session_lifetime.total_seconds())
