"""Security headers: a strict Content-Security-Policy with no inline script, and friends."""
from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any

from flask import Response
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from referendum_core import json_input

CSP = "; ".join([
    "default-src 'self'",
    # libsodium runs as WebAssembly in the voting page: allow compiling wasm, never eval of JS.
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


@functools.lru_cache(maxsize=16)
def security_headers(mimetype: str | None, *, production: bool) -> tuple[tuple[str, str], ...]:
    """The headers ``apply_security_headers`` gives a response of ``mimetype``, in order (a
    response that sets one of them itself keeps its own)."""
    headers = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(self), microphone=(), geolocation=(self)"),
    ]
    if production:
        headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    if mimetype == "text/html":
        headers.append(("Cache-Control", "no-store"))
    return tuple(headers)


def apply_security_headers(response: Response, *, production: bool) -> Response:
    headers = response.headers
    for name, value in security_headers(response.mimetype, production=production):
        headers.setdefault(name, value)
    return response


SESSION_ID_KEY = "sid"


def new_session_id() -> str:
    """A random id for a signed-in session, put into its cookie at sign-in."""
    return secrets.token_urlsafe(32)


def session_id_hash(session: Mapping[str, Any]) -> str | None:
    """The hash under which a session's end is recorded (``EndedSession``); ``None`` for a
    session without an id, which signs nobody in."""
    sid = session.get(SESSION_ID_KEY)
    if not isinstance(sid, str) or not sid:
        return None
    return hashlib.sha256(sid.encode()).hexdigest()


SEEN_AT_STEP = 60  # seconds: how often a session's last-seen time is rewritten


def session_current(session: MutableMapping[str, Any], now: float, config: Mapping[str, Any],
                    lifetime_seconds: float) -> bool:
    """Is a signed-in session within its limits at ``now`` (seconds since the epoch)? Idle at
    most ``SESSION_IDLE_MINUTES``, and signed in at most ``lifetime_seconds`` ago however
    active (the cookie's own expiry slides with activity, so the absolute limit is kept here).
    A current session is marked seen, at most once a minute: re-signing and re-sending the
    cookie on every request costs more than a minute's precision in a 30-minute idle limit is
    worth. The full app's hook and the lean cast path both ask this."""
    last = session.get("seen_at", now)
    signed_in_at = session.setdefault("signed_in_at", last)
    if now - last > config["SESSION_IDLE_MINUTES"] * 60 or now - signed_in_at > lifetime_seconds:
        return False
    if now - last >= SEEN_AT_STEP or "seen_at" not in session:
        session["seen_at"] = now
    return True


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in URLs, bounded to what a database id column holds: a longer number is a
    404 like any other unknown id, not an overflow (a 500) in the driver."""

    def __init__(self, map: object, fixed_digits: int = 0, min: int | None = 0,  # noqa: A002
                 max: int | None = 2**63 - 1, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max,  # type: ignore[arg-type]
                         signed=signed)


class BoundedJSONProvider(DefaultJSONProvider):
    """The app's JSON, read with a bound on nesting (``referendum_core.json_input``): every
    ``request.get_json`` answers a body nested thousands deep as bad JSON (a 400, or ``None``
    when silent) instead of failing with ``RecursionError``."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json_input.loads(s, **kwargs)
