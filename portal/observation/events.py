"""Live observation updates over Socket.IO (default namespace), after commit.

A page that follows observations (the commission's home page, a station page) sends
``observation.watch``; it joins the room of each municipality it may follow (CVK: the national
room). Server → client: ``observation.changed`` {kind, municipality_id, polling_station_id,
case_id, severity} — ids and a severity, no text; the page fetches what to show over HTTP
through the same access checks as the page.
"""
from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_socketio import SocketIO, join_room

from portal.database import transactional
from portal.observation.access import watched_municipalities
from portal.permissions import Permission, has_permission
from portal.realtime import emit_after_commit
from portal.web import db
from referendum_core.cases.models import Case
from referendum_core.observation.models import ObserverSubmission
from referendum_core.organisation import PollingStation

EVENT = "observation.changed"
NATIONAL_ROOM = "observation:all"


def municipality_room(municipality_id: int) -> str:
    """The room of the pages following one municipality's observations."""
    return f"observation:municipality:{municipality_id}"


@transactional
def on_watch(*_args: Any) -> dict[str, Any]:
    """Join the rooms of the observations this person may follow."""
    if not has_permission(current_user, Permission.VIEW_OBSERVATIONS):
        return {"ok": False}
    municipalities = watched_municipalities(current_user)
    rooms = [NATIONAL_ROOM] if municipalities is None else [
        municipality_room(m) for m in sorted(municipalities)]
    for room in rooms:
        join_room(room)
    return {"ok": True, "rooms": len(rooms)}


def _emit(payload: dict[str, Any]) -> None:
    for room in (municipality_room(payload["municipality_id"]), NATIONAL_ROOM):
        emit_after_commit(EVENT, payload, room)


def announce_report(case: Case) -> None:
    """Tell the following pages that a report arrived (once the transaction commits)."""
    report = case.observer_report
    _emit({"kind": "report", "municipality_id": case.municipality_id,
           "polling_station_id": case.polling_station_id, "case_id": case.id,
           "severity": report.severity if report is not None else None})


def announce_checklist(submission: ObserverSubmission) -> None:
    """Tell the following pages that checklist answers arrived (conflicts may have changed)."""
    station = submission.polling_station_id
    municipality_id = db().get(PollingStation, station).municipality_id  # type: ignore[union-attr]
    _emit({"kind": "checklist", "municipality_id": municipality_id,
           "polling_station_id": station, "case_id": None, "severity": None})


def register_handlers(sio: SocketIO) -> None:
    """Attach the handlers to ``sio``'s current server (after every ``init_app``)."""
    sio.on_event("observation.watch", on_watch)
