"""Socket.IO handlers of the voting pages (namespace ``/voting``), following the messaging
handlers' pattern: one transaction per event, rooms joined only through the permission helper.

Unlike messaging, a connection needs no sign-in: the bulletin board and results pages are
public. Client → server: ``join`` {referendum_id} answers {ok, rooms}; every viewer joins the
public room, and those holding ``VIEW_LIVE_TURNOUT`` for the referendum's scope also join the
turnout room. Server → client: ``referendum.head`` and ``referendum.turnout`` (``live``), and
``referendum.checkpoint`` (a signed board checkpoint, public room; ``portal.checkpoints``).
"""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import SocketIO, join_room

from portal.database import transactional
from portal.permissions import Permission, has_permission
from portal.realtime import remember_socket, socket_payload
from portal.voting.access import scope_of
from portal.voting.live import NAMESPACE, public_room, turnout_room
from portal.web import db
from referendum_core.voting.models import Referendum


@transactional
def on_connect(_auth: Any = None) -> bool:
    """Anyone may connect: the pages this namespace serves are public. A signed-in socket is
    recorded so that signing out closes it (it may have joined a turnout room)."""
    return remember_socket(NAMESPACE)


@socket_payload("referendum_id")
@transactional
def on_join(data: dict[str, Any]) -> dict[str, Any]:
    """Join the referendum's public room, and its turnout room when permitted."""
    referendum = db().get(Referendum, data["referendum_id"])
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
