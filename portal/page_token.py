"""Page tokens: what a page hands its script so that one kind of write can be checked without
Flask's request machinery, and what the full app accepts in place of the CSRF token on the
same request. The voting page's cast token (``portal.voting.cast_token``) and the initiative
page's signing token (``portal.initiatives.sign_token``) are page tokens, each under a salt of
its own.

A token names the person (user id and session epoch), the signed-in session it was issued to
(the hash of its random ``sid``, as ``ended_sessions`` records it), the one object it is for (a
referendum, an initiative) and when it expires; it is signed with the app's secret key under
its kind's salt, so no other signed value of the portal (the session cookie, the CSRF token,
a token of another kind) can pass for it, nor it for them. It lives at most the session's
idle limit and never past the session's absolute limit.

Why it stands for the CSRF check: a cross-site request carries the person's cookies but cannot
carry this token. It travels in a request header that only a script of the portal's own
origin can set (a cross-origin ``fetch`` with a custom header needs a CORS preflight, which the
portal never grants; a form cannot set headers), and its value is only in the page, which
another site cannot read. Unlike a cookie the browser never attaches it by itself, and unlike
Flask-WTF's token it is not checked against anything an attacker could plant in the session
(it is bound to the session's random id, signed), so Flask-WTF's HTTPS referrer rule, which
guards against planted tokens, has nothing to add. SECURITY.md has the reasoning in full.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from portal.security import session_id_hash

SIGN_TOKEN_HEADER = "X-Sign-Token"  # noqa: S105 - a header name, not a secret
CAST_TOKEN_HEADER = "X-Cast-Token"  # noqa: S105 - a header name, not a secret


def carries_page_token(headers: Mapping[str, str]) -> bool:
    """Does the request carry a page token, valid or not? Only the portal's own scripts send
    one, so it is a script's request, answered in JSON whatever the answer (a refusal too,
    ``portal.refusals.wants_json``)."""
    return bool(headers.get(SIGN_TOKEN_HEADER) or headers.get(CAST_TOKEN_HEADER))


@dataclass(frozen=True, slots=True)
class PageGrant:
    """What a valid page token says: who may write to which object, until when."""

    user_id: int
    session_epoch: int
    sid_hash: str
    object_id: int
    expires_at: int  # seconds since the epoch, real time


@functools.lru_cache(maxsize=8)
def _serializer(secret_key: str | bytes, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=salt,
                             signer_kwargs={"digest_method": hashlib.sha256})


def issue_page_token(secret_key: str | bytes, salt: str, *, user_id: int, session_epoch: int,
                     session: Mapping[str, Any], object_id: int, now: float,
                     idle_seconds: float, lifetime_seconds: float) -> str | None:
    """A token of kind ``salt`` for the person signed in by ``session`` to write to
    ``object_id``, valid for the idle limit from ``now`` (seconds since the epoch) but not past
    the session's absolute limit; ``None`` for a session without an id."""
    sid_hash = session_id_hash(session)
    if sid_hash is None:
        return None
    signed_in_at = session.get("signed_in_at", now)
    expires_at = int(min(now + idle_seconds, signed_in_at + lifetime_seconds))
    return _serializer(secret_key, salt).dumps(
        [user_id, session_epoch, sid_hash, object_id, expires_at])


def read_page_token(secret_key: str | bytes, salt: str, token: str | None, *, object_id: int,
                    session: Mapping[str, Any], now: float) -> PageGrant | None:
    """The grant of ``token`` if it is genuine and of kind ``salt``, for ``object_id``, not
    expired at ``now`` and issued to ``session``; ``None`` otherwise. The person's standing
    (active, epoch, signed out) is for the caller to check against the database."""
    if not token:
        return None
    try:
        fields = _serializer(secret_key, salt).loads(token)
        user_id, epoch, sid_hash, for_object, expires_at = fields
    except (BadData, TypeError, ValueError):
        return None
    if not (all(type(v) is int for v in (user_id, epoch, for_object, expires_at))
            and isinstance(sid_hash, str)):
        return None
    if for_object != object_id or now >= expires_at:
        return None
    own = session_id_hash(session)
    if own is None or not hmac.compare_digest(own, sid_hash):
        return None
    return PageGrant(user_id, epoch, sid_hash, for_object, expires_at)


def page_token_or_csrf(read_token: Any, header: str, object_arg: str) -> Any:
    """The CSRF check of a write that a page token may stand for (the cast, the signature):
    the grant of a valid token in ``header`` for the object named by the view argument
    ``object_arg``, issued to this signed-in person at their session epoch; without one,
    Flask-WTF's check, as on every other POST, and ``None``.

    The user loader has checked the session (epoch, not signed out); a signed-out person's
    genuine token passes here and is answered by the view's sign-in requirement, as a CSRF
    token would be.

    Raises:
        CSRFError: neither token is valid (answered 400 by the app's handler).
    """
    from flask import current_app, request, session
    from flask_login import current_user

    from portal.extensions import csrf
    from portal.web import clock
    from referendum_core.clock import wall_time

    grant = read_token(current_app.secret_key, request.headers.get(header),
                       session=session, now=wall_time(clock()).timestamp(),
                       **{object_arg: (request.view_args or {}).get(object_arg, -1)})
    if grant is not None and (not current_user.is_authenticated or (
            current_user.id == grant.user_id
            and current_user.session_epoch == grant.session_epoch)):
        return grant
    config = current_app.config
    if config["WTF_CSRF_ENABLED"] and config["WTF_CSRF_CHECK_DEFAULT"]:
        csrf.protect()
    return None
