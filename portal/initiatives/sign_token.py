"""The signing token: what an initiative's page hands its script so that an online signature
can be checked without Flask's request machinery (``portal.initiatives.lean_sign``), and what
the full app accepts in place of the CSRF token on the same request.

It is a page token (``portal.page_token``, which the voting page's cast token shares) under a
salt of its own: it names the voter (user id and session epoch), the signed-in session it was
issued to (the hash of its random ``sid``), the initiative and when it expires (at most the
session's idle limit, never past its absolute limit). A signature is taken with it only when,
besides the token's own signature:

- it is for the initiative of the URL and has not expired;
- the request's session cookie is the session it was issued to;
- the user is active, at the same session epoch ("sign out everywhere" and a password change
  bump it), and the session has not been signed out (``ended_sessions``): the lean path reads
  these with the user, the full app through its user loader.

It stands for the CSRF check for the reason ``portal.page_token`` and SECURITY.md give: it
travels in ``X-Sign-Token``, a header only the portal's own script can set, and its value is
only on the initiative's page.
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from portal.page_token import SIGN_TOKEN_HEADER, PageGrant, issue_page_token, read_page_token
from referendum_core.clock import wall_time

#: The same header as the WSGI environ names it (the lean path reads the environ).
SIGN_TOKEN_ENVIRON = "HTTP_" + SIGN_TOKEN_HEADER.upper().replace("-", "_")
_SALT = "portal.initiatives.sign-token"


def issue_sign_token(secret_key: str | bytes, *, user_id: int, session_epoch: int,
                     session: Mapping[str, Any], initiative_id: int, now: float,
                     idle_seconds: float, lifetime_seconds: float) -> str | None:
    """A token for the voter signed in by ``session`` to sign ``initiative_id``, valid for the
    idle limit from ``now`` (seconds since the epoch) but not past the session's absolute
    limit; ``None`` for a session without an id."""
    return issue_page_token(secret_key, _SALT, user_id=user_id, session_epoch=session_epoch,
                            session=session, object_id=initiative_id, now=now,
                            idle_seconds=idle_seconds, lifetime_seconds=lifetime_seconds)


def read_sign_token(secret_key: str | bytes, token: str | None, *, initiative_id: int,
                    session: Mapping[str, Any], now: float) -> PageGrant | None:
    """The grant of ``token`` (``object_id`` the initiative) if it is genuine, for
    ``initiative_id``, not expired at ``now`` and issued to ``session``; ``None`` otherwise."""
    return read_page_token(secret_key, _SALT, token, object_id=initiative_id,
                           session=session, now=now)


def page_sign_token(app: Any, user: Any, session: MutableMapping[str, Any],
                    initiative_id: int) -> str | None:
    """The token the initiative's page gives its script, for the signed-in ``user`` of the
    current ``session`` (the limits as ``portal.security.session_current`` keeps them)."""
    return issue_sign_token(
        app.secret_key, user_id=user.id, session_epoch=user.session_epoch, session=session,
        initiative_id=initiative_id, now=wall_time(app.extensions["clock"]).timestamp(),
        idle_seconds=app.config["SESSION_IDLE_MINUTES"] * 60,
        lifetime_seconds=app.permanent_session_lifetime.total_seconds())
