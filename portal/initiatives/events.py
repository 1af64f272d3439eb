"""Socket.IO handlers of the initiative pages (namespace ``/initiatives``), following the
voting handlers' pattern: one transaction per event, a room joined only after the same access
check as the page.

The pages are public, so a connection needs no sign-in. Client → server: ``join``
{initiative_id} answers {ok, rooms} and joins the initiative's public room when the page could
be seen (``access_initiative``). Server → client: ``initiative.board``
(``portal.initiatives.services.BOARD_EVENT``) after each committed batch of the signature
board, with the initiative and the board's length only; the page then fetches the count
(``count.json``), translated, as its poll does while the socket is not connected.
"""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import SocketIO, join_room
from werkzeug.exceptions import HTTPException

from portal.database import transactional
from portal.initiatives.access import access_initiative
from portal.realtime import INITIATIVES_NAMESPACE, initiative_room, socket_payload
from portal.web import db
from referendum_core.initiatives import InitiativeNotFound


@transactional
def on_connect(_auth: Any = None) -> bool:
    """Anyone may connect: the rooms of this namespace carry what the public pages show."""
    return True


@socket_payload("initiative_id")
@transactional
def on_join(data: dict[str, Any]) -> dict[str, Any]:
    """Join the initiative's public room, if its page may be seen; otherwise refuse
    (``InitiativeNotFound``, acknowledged by ``portal.refusals`` as every socket refusal)."""
    try:
        initiative = access_initiative(db(), current_user, data["initiative_id"], None)
    except HTTPException:
        raise InitiativeNotFound() from None
    room = initiative_room(initiative.id)
    join_room(room)
    return {"ok": True, "rooms": [room]}


HANDLERS = {"connect": on_connect, "join": on_join}


def register_handlers(sio: SocketIO) -> None:
    """Attach the handlers to ``sio``'s current server (after every ``init_app``)."""
    for event, handler in HANDLERS.items():
        sio.on_event(event, handler, namespace=INITIATIVES_NAMESPACE)
