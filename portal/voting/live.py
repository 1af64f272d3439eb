"""Live turnout and board head pushed over Socket.IO (namespace ``/voting``), after commit.

Two rooms per referendum, so a push never shows anyone more than the HTTP pages would:

* ``referendum:<id>`` — anyone viewing the public pages: the board's length and head (public
  at all times, spec section 6) and the stage;
* ``referendum:<id>:turnout`` — people holding ``VIEW_LIVE_TURNOUT`` for the referendum
  (observers accredited to it, its commission, CVK): aggregate turnout figures too.

Payloads carry counts and the head only: never a choice, an alias, a tracker or a person.
Pushes are debounced to at most one per ``PUSH_INTERVAL`` per referendum (per process); the
page fetches the figures over HTTP shortly after each push, so a cast that fell inside the
interval still shows up.
"""
from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app

from portal.realtime import VOTING_NAMESPACE, emit_after_commit, referendum_room
from portal.web import db
from referendum_core.voting.models import Referendum
from referendum_core.voting.results import live_turnout

NAMESPACE = VOTING_NAMESPACE
PUSH_INTERVAL = 1.0  # seconds
HEAD_EVENT, TURNOUT_EVENT = "referendum.head", "referendum.turnout"


public_room = referendum_room


def turnout_room(referendum_id: int) -> str:
    """The room of those who may follow a referendum's turnout."""
    return f"referendum:{referendum_id}:turnout"


def head_payload(referendum: Referendum) -> dict[str, Any]:
    """What anyone may see: the board's length and head, and the stage."""
    return {"referendum_id": referendum.id, "board_seq": referendum.board_seq,
            "board_head": referendum.board_head, "stage": str(referendum.stage)}


def turnout_payload(referendum: Referendum) -> dict[str, Any]:
    """Aggregate turnout figures (never how anyone voted) plus the head."""
    t = live_turnout(db(), referendum)
    return {**head_payload(referendum), "eligible": t.eligible,
            "online_voters": t.online_voters, "in_person": t.in_person,
            "participants": t.participants}


def last_pushes(app: Flask) -> dict[int, float]:
    """When this app (process) last pushed each referendum (``time.monotonic``)."""
    return app.extensions.setdefault("voting_live_pushes", {})


def push_due(app: Flask, referendum_id: int) -> bool:
    """Would a cast of ``referendum_id`` now push (``push_live``, not forced)?"""
    last = last_pushes(app).get(referendum_id)
    return last is None or time.monotonic() - last >= PUSH_INTERVAL


def _due(referendum_id: int, force: bool) -> bool:
    """Timestamp check: at most one push per interval per referendum (per app/process)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not force and not push_due(app, referendum_id):
        return False
    last_pushes(app)[referendum_id] = time.monotonic()
    return True


def push_live(referendum: Referendum, *, force: bool = False) -> bool:
    """Queue the live update of ``referendum`` for after the commit (debounced unless
    ``force``, e.g. when the stage changes); True when queued."""
    if not _due(referendum.id, force):
        return False
    emit_after_commit(HEAD_EVENT, head_payload(referendum), public_room(referendum.id),
                      NAMESPACE)
    emit_after_commit(TURNOUT_EVENT, turnout_payload(referendum), turnout_room(referendum.id),
                      NAMESPACE)
    return True
