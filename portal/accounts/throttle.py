"""Slowing down password and code guessing per account without a lock a stranger can trigger.

Failed attempts (password or second factor) are counted per account in the rate limiter's
storage (Redis in production, shared by every process). A browser that signed in to the account
before carries a signed *device cookie* for it; its failures count in a bucket of its own, so a
stranger who fails on purpose throttles only browsers the owner never used (OWASP, "Slow down
online guessing attacks with device cookies"). The bucket is keyed by a keyed hash of the
e-mail address whether or not it has an account, so throttled answers are the same for both.
Per source address, the sign-in routes carry ordinary ``limiter.limit`` decorators.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many

from portal.extensions import limiter
from portal.web import keys

log = logging.getLogger(__name__)
DEVICE_COOKIE = "portal_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
_SALT = "sign-in-device-v1"


@dataclass(frozen=True)
class Bucket:
    """Where the failures of one sign-in attempt are counted."""

    key: str
    limits: tuple[RateLimitItem, ...]
    is_known_device: bool


def _account_key(email: str) -> str:
    return keys().mac(b"sign-in-throttle-v1", (email or "").strip().lower())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _device_of(account: str) -> str | None:
    """The device id the request's cookie holds for ``account`` (None: unknown browser)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=DEVICE_COOKIE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != account:
        return None
    device = data.get("d")
    return device if isinstance(device, str) else None


def bucket_for(email: str) -> Bucket:
    """The bucket of an attempt to sign in as ``email`` from this request's browser."""
    account = _account_key(email)
    device = _device_of(account)
    cfg = current_app.config
    if device is not None:
        return Bucket(f"{account}/{device}", tuple(parse_many(cfg["LOGIN_DEVICE_LIMIT"])), True)
    return Bucket(account, tuple(parse_many(cfg["LOGIN_ACCOUNT_LIMIT"])), False)


def allows(bucket: Bucket) -> bool:
    """Whether another attempt may be checked now. With the limiter's storage unreachable
    the attempt is allowed: the per-address limits, which fall back to each process's
    memory, still hold."""
    if not limiter.enabled:
        return True
    try:
        return all(limiter.limiter.test(item, "sign-in", bucket.key) for item in bucket.limits)
    except Exception:  # the storage (Redis) failed: answer the sign-in, do not fail it
        log.warning("sign-in throttle storage unavailable")
        return True


def count_failure(bucket: Bucket) -> None:
    if not limiter.enabled:
        return
    try:
        for item in bucket.limits:
            limiter.limiter.hit(item, "sign-in", bucket.key)
    except Exception:  # the storage (Redis) failed: the refusal stands, uncounted
        log.warning("sign-in throttle storage unavailable")


def remember_device(response: Response, email: str) -> Response:
    """Give the browser that just signed in as ``email`` its device cookie (kept if it has one)."""
    account = _account_key(email)
    device = _device_of(account) or secrets.token_urlsafe(16)
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps({"a": account, "d": device}),
                        max_age=DEVICE_COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response
