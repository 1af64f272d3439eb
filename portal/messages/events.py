"""Socket.IO handlers of messaging. A connection is accepted only with a signed-in Flask-Login
session; a client joins a thread's room only when ``access_thread`` allows it (refusals audited).

Server → client events (ids only; pages fetch the rendered message over HTTP):
``message.new`` / ``message.edited`` {thread_id, message_id}, ``message.read`` {thread_id,
user_id, message_id}, ``typing`` {thread_id, name}. Client → server: ``join`` {thread_id},
``typing`` {thread_id}, ``read`` {thread_id, message_id}.
"""
from __future__ import annotations

from typing import Any

from flask import has_app_context, request
from flask_login import current_user
from flask_socketio import SocketIO, join_room

from messaging import runtime, services
from portal import metrics
from portal.database import on_commit, transactional
from portal.extensions import socketio
from portal.messages.access import ThreadPermission, access_thread
from portal.realtime import (
    emit_after_commit,
    remember_socket,
    socket_payload,
    thread_room,
    user_room,
)
from portal.web import clock, db
from referendum_core.audit import AuditContext


def _context() -> AuditContext:
    return AuditContext(ip=request.remote_addr)


@transactional
def on_connect(_auth: Any = None) -> bool:
    """Accept signed-in users only; each joins their own room (unread counters)."""
    if not getattr(current_user, "is_authenticated", False) or not current_user.is_active:
        return False
    if not remember_socket("/"):
        return False
    join_room(user_room(current_user.id))
    metrics.socket_connected()
    return True


def on_disconnect(*_reason: Any) -> None:
    """A connection that ``on_connect`` accepted went away (refused ones never reach here)."""
    metrics.socket_disconnected()


@socket_payload("thread_id")
@transactional
def on_join(data: dict[str, Any]) -> dict[str, Any]:
    """Join a thread's room if the user is in the thread; otherwise refuse (audited; the
acknowledgement is ``portal.refusals``')."""
    if not getattr(current_user, "is_authenticated", False):
        return {"ok": False, "error": "unauthenticated"}
    thread_id = data["thread_id"]
    access_thread(db(), current_user, thread_id, ThreadPermission.JOIN_ROOM)
    join_room(thread_room(thread_id))
    return {"ok": True, "room": thread_room(thread_id)}


@socket_payload("thread_id")
@transactional
def on_typing(data: dict[str, Any]) -> None:
    """Tell the other open pages of the thread that this person is typing."""
    thread_id = data["thread_id"]
    if not getattr(current_user, "is_authenticated", False):
        return
    thread = services.load_thread(db(), thread_id)
    if thread is None or not services.is_participant(thread, current_user):
        return
    socketio.emit("typing", {"thread_id": thread_id, "name": current_user.display_name,
                             "user_id": current_user.id},
                  to=thread_room(thread_id), skip_sid=request.sid)  # type: ignore[attr-defined]


@socket_payload("thread_id", optional=("message_id",))
@transactional
def on_read(data: dict[str, Any]) -> dict[str, Any]:
    """Read receipt from an open page."""
    if not getattr(current_user, "is_authenticated", False):
        return {"ok": False}
    services.mark_read(db(), clock(), current_user, data["thread_id"], data["message_id"],
                       context=_context())
    return {"ok": True}


def _relay(event: str, payload: dict[str, Any]) -> None:
    """Messaging events → Socket.IO, after the transaction commits."""
    if not has_app_context() or "thread_id" not in payload:
        return
    emit_after_commit(event, payload, thread_room(int(payload["thread_id"])))
    if event == "message.new":  # one delivery to the thread's open pages, counted after commit
        on_commit(lambda: metrics.message_delivered("socketio"))


HANDLERS = {"connect": on_connect, "disconnect": on_disconnect, "join": on_join,
            "typing": on_typing, "read": on_read}


def register_handlers(sio: SocketIO) -> None:
    """Attach the handlers to ``sio``'s current server (call after every ``init_app``: a
    decorator registers on the server existing at import time only)."""
    for event, handler in HANDLERS.items():
        sio.on_event(event, handler)
    runtime.subscribe(_relay)
