"""What became of the ballot a tracker names, from the public board and the published
exclusions only (what the bulletin board's look-up answers):

* ``audited`` — opened for checking (Benaloh challenge), never counted, never castable;
* ``superseded`` — its voter cast a later online ballot, which counts instead (Art. 20(5));
* ``latest`` — its voter's last online ballot while the vote is still open: it counts unless
  they vote again or at a polling station (exclusions are published when the polls close);
* ``excluded`` — its voter voted in person, so no online ballot of theirs counts (Art. 20(5));
* ``counted`` — in the aggregate the trustees decrypt (Art. 20(4)-(6)).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referendum_core.voting.board import find_on_board
from referendum_core.voting.models import AuditedBallot, BoardEntry, Referendum

AUDITED, SUPERSEDED, LATEST, EXCLUDED, COUNTED = (
    "audited", "superseded", "latest", "excluded", "counted")


@dataclass(frozen=True)
class Standing:
    """A tracker's ballot and its standing in the count (see the module docstring)."""

    status: str
    entry: BoardEntry | None = None
    superseded_by: int | None = None  # ``seq`` of the voter's last ballot on the board
    audited_at: datetime | None = None


def standing_of(session: Session, referendum: Referendum, tracker: str) -> Standing | None:
    """The standing of the ballot with ``tracker`` (``None``: not on the board, not audited)."""
    entry = find_on_board(session, referendum.id, tracker)
    if entry is None:
        audited_at = session.scalar(select(AuditedBallot.audited_at).where(
            AuditedBallot.referendum_id == referendum.id, AuditedBallot.tracker == tracker))
        return Standing(AUDITED, audited_at=audited_at) if audited_at is not None else None
    last = session.scalar(select(func.max(BoardEntry.seq)).where(
        BoardEntry.referendum_id == referendum.id, BoardEntry.alias == entry.alias))
    if last is not None and last > entry.seq:
        return Standing(SUPERSEDED, entry, superseded_by=last)
    if referendum.closed_at is None:
        return Standing(LATEST, entry)
    if entry.alias in set(referendum.excluded_list):
        return Standing(EXCLUDED, entry)
    return Standing(COUNTED, entry)
