"""Socket.IO handlers of the voting pages (namespace ``/voting``), following the messaging
handlers' pattern: one transaction per event, rooms joined only through the permission helper.

Unlike messaging, a connection needs no sign-in: the bulletin board and results pages are
public. Client → server: ``join`` {referendum_id} answers {ok, rooms}; every viewer joins the
public room, and those holding ``VIEW_LIVE_TURNOUT`` for the referendum's scope also join the
turnout room. Server → client: ``referendum.head`` and ``referendum.turnout`` (``live``).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user
from flask_socketio import SocketIO, join_room

from portal.database import _close_session, commit, rollback
from portal.permissions import Permission, has_permission
from portal.voting.access import scope_of
from portal.voting.live import NAMESPACE, public_room, turnout_room
from portal.web import db
from referendum_core.voting.models import Referendum


def _transactional(handler: Callable[..., Any]) -> Callable[..., Any]:
    """One transaction per event (as in ``portal.messages.events``): commit or roll back,
    then close the session."""

    @wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            result = handler(*args, **kwargs)
        except Exception:
            rollback()
            _close_session(None)
            raise
        commit()
        _close_session(None)
        return result

    return wrapped


def _referendum_id(data: Any) -> int | None:
    try:
        return int((data or {}).get("referendum_id"))
    except (TypeError, ValueError, AttributeError):
        return None


@_transactional
def on_connect(_auth: Any = None) -> bool:
    """Anyone may connect: the pages this namespace serves are public."""
    return True


@_transactional
def on_join(data: Any) -> dict[str, Any]:
    """Join the referendum's public room, and its turnout room when permitted."""
    referendum_id = _referendum_id(data)
    referendum = db().get(Referendum, referendum_id) if referendum_id is not None else None
    if referendum is None:
        return {"ok": False, "error": "not_found"}
    rooms = [public_room(referendum.id)]
    if has_permission(current_user, Permission.VIEW_LIVE_TURNOUT, scope_of(referendum)):
        rooms.append(turnout_room(referendum.id))
    for room in rooms:
        join_room(room)
    return {"ok": True, "rooms": rooms}


HANDLERS = {"connect": on_connect, "join": on_join}


def register_handlers(sio: SocketIO) -> None:
    """Attach the handlers to ``sio``'s current server (after every ``init_app``)."""
    for event, handler in HANDLERS.items():
        sio.on_event(event, handler, namespace=NAMESPACE)
