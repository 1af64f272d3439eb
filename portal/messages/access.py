"""Loading threads for the web: pages and Socket.IO events reach a thread only through
``access_thread``, which checks that the person is in it and audits a refusal."""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from messaging import services
from messaging.models import Thread
from portal.web import audit_context, clock


class ThreadPermission(StrEnum):
    """What a participant loads a thread for; a refusal is audited with it as the attempt."""

    READ = "read"
    POST_MESSAGE = "post_message"
    MARK_READ = "mark_read"
    ADD_PARTICIPANT = "add_participant"
    JOIN_ROOM = "join_room"


def access_thread(session: Session, actor: Any, thread_id: int,
                  permission: ThreadPermission) -> Thread:
    """Load a thread ``actor`` is in, for ``permission``.

    Raises:
        NotParticipant: ``actor`` is not in the thread, or there is none (audited; 403).
    """
    return services.access_thread(session, clock(), actor, thread_id, context=audit_context(),
                                  attempted=str(permission))
