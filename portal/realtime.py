"""Socket.IO emits that happen only after the current transaction commits.

Events carry ids, not text: a page that receives ``message.new`` fetches the rendered message
over HTTP, through the same access check as any page. So nothing readable passes through Redis
and a rolled-back request sends nothing (``portal.database.on_commit``).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask_babel import gettext

from portal.database import on_commit
from portal.extensions import socketio

log = logging.getLogger(__name__)


def thread_room(thread_id: int) -> str:
    """The Socket.IO room of a thread's open pages."""
    return f"thread:{thread_id}"


def user_room(user_id: int) -> str:
    """The Socket.IO room of one person's open pages (unread counters)."""
    return f"user:{user_id}"


def emit_now(event: str, payload: dict[str, Any], room: str,
             namespace: str | None = None) -> None:
    """Emit immediately (from code already past its commit)."""
    if getattr(socketio, "server", None) is None:
        return
    socketio.emit(event, payload, to=room, namespace=namespace)


def emit_after_commit(event: str, payload: dict[str, Any], room: str,
                      namespace: str | None = None) -> None:
    """Emit ``event`` to ``room`` (in ``namespace``, default ``/``) once the current
    transaction has committed."""
    on_commit(lambda: emit_now(event, payload, room, namespace))


MAX_ID = 2**63 - 1  # what a database id column holds (``portal.security.DatabaseIdConverter``)
_NO_PAYLOAD = object()


def socket_payload(*required: str, optional: tuple[str, ...] = ()
                   ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Check a client event's payload before its handler runs: one object whose ``required``
    fields (and ``optional`` ones, unless absent, null or 0) are database ids. No payload,
    several, another type, or a field that is not an id gets an error acknowledgement and the
    handler never runs; otherwise the handler gets ``{field: int | None}``."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def checked(*args: Any) -> Any:
            payload = args[0] if len(args) == 1 else _NO_PAYLOAD
            clean = _ids(payload, required, optional)
            if clean is None:
                return bad_payload_ack()
            return handler(clean)

        return checked

    return decorate


def bad_payload_ack() -> dict[str, Any]:
    """The acknowledgement of an event whose payload is not what the event takes."""
    return {"ok": False, "code": "bad_payload",
            "error": gettext("The message from this page could not be understood. "
                             "Reload the page.")}


def _ids(payload: Any, required: tuple[str, ...], optional: tuple[str, ...]
         ) -> dict[str, int | None] | None:
    if not isinstance(payload, dict):
        return None
    clean: dict[str, int | None] = {}
    for name in (*required, *optional):
        value = payload.get(name)
        # An optional id may be absent, null or 0 (how a page says "none yet").
        if name in optional and (value is None or (type(value) is int and value == 0)):
            clean[name] = None
            continue
        number = as_id(value)
        if number is None:
            return None
        clean[name] = number
    return clean


def as_id(value: Any) -> int | None:
    """``value`` as a database id (an int, or a string of digits, from 1 to ``MAX_ID``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value
