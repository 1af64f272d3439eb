"""Small helpers every blueprint uses to reach the request's session, clock and keys."""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request, session
from sqlalchemy.orm import Session

from portal.accounts.services import Keys
from portal.database import get_session
from referendum_core.audit import AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.clock import Clock
from referendum_core.signatures import Authentication


def db() -> Session:
    return get_session()


def clock() -> Clock:
    return current_app.extensions["clock"]


def calendar() -> WorkingDayCalendar:
    return current_app.extensions["calendar"]


def keys() -> Keys:
    return current_app.extensions["keys"]


def audit_context() -> AuditContext:
    return AuditContext(ip=request.remote_addr)


def safe_next(target: str | None, default: str) -> str:
    """Only local paths are followed after sign-in (no open redirects)."""
    if not target:
        return default
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


SIGNED_IN_WITH_KEY = "signed_in_with"


def remember_signed_in_with(authentication: Authentication) -> None:
    """Keep in the (signed) session how the voter signed in, for their signatures."""
    session[SIGNED_IN_WITH_KEY] = [authentication.provider, authentication.method,
                                   authentication.level]


def signed_in_with() -> Authentication | None:
    """How the signed-in voter proved who they are (``None`` when an official is signed in)."""
    return authentication_of(session)


def authentication_of(signed_in: Mapping[str, Any]) -> Authentication | None:
    """How the voter of the session ``signed_in`` proved who they are, as kept at sign-in
    (``remember_signed_in_with``); the lean signing path reads it from the opened cookie."""
    value = signed_in.get(SIGNED_IN_WITH_KEY)
    if not isinstance(value, list) or len(value) != 3:
        return None
    return Authentication(*value)


def flash_into(signed: MutableMapping[str, Any], category: str, message: str) -> None:
    """``flask.flash`` on the session ``signed`` opened without Flask's request (the lean
    signing path): the message waits there, as Flask keeps it, for the next page shown."""
    flashes = list(signed.get("_flashes", []))
    flashes.append((category, message))
    signed["_flashes"] = flashes
