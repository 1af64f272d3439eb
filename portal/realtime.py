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

from flask import current_app, has_app_context, request, session
from flask_babel import gettext

from portal.database import on_commit
from portal.extensions import socketio

log = logging.getLogger(__name__)


def thread_room(thread_id: int) -> str:
    """The Socket.IO room of a thread's open pages."""
    return f"thread:{thread_id}"


VOTING_NAMESPACE = "/voting"


def referendum_room(referendum_id: int) -> str:
    """The room of everyone viewing a referendum's public pages (in ``VOTING_NAMESPACE``)."""
    return f"referendum:{referendum_id}"


INITIATIVES_NAMESPACE = "/initiatives"


def initiative_room(initiative_id: int) -> str:
    """The room of everyone viewing an initiative's public pages (in
    ``INITIATIVES_NAMESPACE``): the signature board's count beside the threshold."""
    return f"initiative:{initiative_id}"


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


# --- sockets of a session ------------------------------------------------------------------
# A socket stays in the rooms it joined for as long as it is open; the session it was opened
# with being signed out changes nothing for it. So each signed-in socket is recorded under its
# session and its person, and signing out (one session, or every one of the person's) closes
# those sockets. The record is in Redis when the portal has one (the socket may be held by
# another process, which the Socket.IO message queue reaches), else in this process.

_SOCKETS_PREFIX = "portal:sockets:"


def _session_key(sid_hash: str) -> str:
    return f"{_SOCKETS_PREFIX}session:{sid_hash}"


def _user_key(user_id: int) -> str:
    return f"{_SOCKETS_PREFIX}user:{user_id}"


class _LocalSockets:
    def __init__(self) -> None:
        self._sets: dict[str, set[str]] = {}

    def add(self, keys: tuple[str, ...], member: str, _ttl: int) -> None:
        for key in keys:
            self._sets.setdefault(key, set()).add(member)

    def pop(self, key: str) -> set[str]:
        return self._sets.pop(key, set())


def _sockets() -> _LocalSockets:
    # Kept in this process. A registry in Redis (reaching sockets held by other processes)
    # made a deployed gevent worker's connect handler hang under concurrent connects; until
    # that is understood, sign-out closes the sockets this process holds (SECURITY.md).
    store = current_app.extensions.get("session_sockets")
    if store is None:
        store = current_app.extensions["session_sockets"] = _LocalSockets()
    return store


def remember_socket(namespace: str) -> bool:
    """Record the connecting socket under its signed-in session and person (called by each
    namespace's connect handler; an anonymous socket needs no record). ``False``: it could not
    be recorded, and the socket is refused rather than left to outlive its session."""
    from flask_login import current_user

    from portal.security import session_id_hash

    sid_hash = session_id_hash(session)
    if not getattr(current_user, "is_authenticated", False) or sid_hash is None:
        return True
    ttl = int(current_app.permanent_session_lifetime.total_seconds())
    try:
        _sockets().add((_session_key(sid_hash), _user_key(current_user.id)),
                       f"{namespace}\n{request.sid}", ttl)  # type: ignore[attr-defined]
    except Exception:  # the registry's storage (Redis) failed
        log.warning("socket registry unavailable: socket refused")
        return False
    return True


def close_sockets_after_commit(*, sid_hash: str | None = None, user_id: int | None = None
                               ) -> None:
    """Once the transaction commits, close the sockets of one session (``sid_hash``) or of
    every session of a person (``user_id``)."""
    keys = ([_session_key(sid_hash)] if sid_hash else []) + (
        [_user_key(user_id)] if user_id is not None else [])
    if keys and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        on_commit(lambda: _close(app, keys))


def _close(app: Any, keys: list[str]) -> None:
    if getattr(socketio, "server", None) is None:
        return
    with app.app_context():
        try:
            members = set().union(*(_sockets().pop(key) for key in keys))
        except Exception:
            log.warning("socket registry unavailable: sockets of a signed-out session stay open")
            return
    for member in members:
        namespace, sid = member.split("\n", 1)
        socketio.server.disconnect(sid, namespace=namespace)
