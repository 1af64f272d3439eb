"""Socket.IO emits that happen only after the current transaction commits.

Events carry ids, not text: a page that receives ``message.new`` fetches the rendered message
over HTTP, through the same access check as any page. So nothing readable passes through Redis
and a rolled-back request sends nothing (``portal.database.on_commit``).
"""
from __future__ import annotations

import logging
from typing import Any

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


def int_field(data: Any, key: str) -> int | None:
    """``data[key]`` of an event payload as an int, or None when absent or malformed."""
    try:
        return int((data or {}).get(key))
    except (TypeError, ValueError, AttributeError):
        return None
