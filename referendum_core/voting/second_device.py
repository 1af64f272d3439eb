"""What a voter's second device reads to check the ballot actually cast (cast as intended):
board entries found by their tracker (or its first characters, for a link typed by hand) with
what became of each, from the public board and the published exclusions only. The check itself
(``alpha_k == r_k·B``, ``beta_k == r_k·Y + m_k·B``) runs on the device, with randomness that
never reaches the server (``portal/static/js/check.js``, ``referendum-verify --randomness``)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from referendum_core.voting.models import BoardEntry, Referendum
from referendum_core.voting.rules import rfc3339

#: A tracker or its first characters: at least 8 hex digits (32 bits), so a short link still
#: names one ballot among millions but for a rare collision, which the device resolves by
#: opening each candidate.
TRACKER_PREFIX = re.compile(r"[0-9a-f]{8,64}")
MAX_MATCHES = 10
COUNTED, SUPERSEDED, EXCLUDED = "counted", "superseded", "excluded"


@dataclass(frozen=True)
class PublicEntry:
    """A board entry as the public board shows it, with its standing in the count."""

    seq: int
    alias: str
    tracker: str
    ballot: dict[str, Any]
    cast_at: str
    status: str  # counted | superseded (the alias cast later) | excluded (voted in person)

    def as_json(self) -> dict[str, Any]:
        """The entry as the public API answers it (the record's board-entry fields + status)."""
        return {"seq": self.seq, "alias": self.alias, "tracker": self.tracker,
                "ballot": self.ballot, "cast_at": self.cast_at, "status": self.status}


def entries_by_tracker(session: Session, referendum: Referendum, prefix: str
                       ) -> list[PublicEntry]:
    """Board entries whose tracker starts with ``prefix`` (a whole tracker finds one), at most
    ``MAX_MATCHES``, in board order. An entry is superseded when its alias cast again later
    (Art. 20(5)) and excluded when its alias is among the published ``excluded_aliases``.

    Raises:
        ValueError: ``prefix`` is not 8 to 64 lowercase hex digits.
    """
    if not TRACKER_PREFIX.fullmatch(prefix):
        raise ValueError("a tracker prefix is 8 to 64 characters 0-9, a-f")
    later = aliased(BoardEntry)
    superseded = exists().where(later.referendum_id == BoardEntry.referendum_id,
                                later.alias == BoardEntry.alias, later.seq > BoardEntry.seq)
    # The range lets the (referendum, tracker) index find the rows; LIKE keeps the match exact
    # whatever the database's collation does with the range.
    rows = session.execute(
        select(BoardEntry, superseded.label("superseded"))
        .where(BoardEntry.referendum_id == referendum.id, BoardEntry.tracker >= prefix,
               BoardEntry.tracker < prefix + "g", BoardEntry.tracker.startswith(prefix))
        .order_by(BoardEntry.seq).limit(MAX_MATCHES)).all()
    excluded = set(referendum.excluded_list)
    return [PublicEntry(seq=e.seq, alias=e.alias, tracker=e.tracker, ballot=json.loads(e.ballot),
                        cast_at=rfc3339(e.cast_at),
                        status=SUPERSEDED if is_superseded else EXCLUDED
                        if e.alias in excluded else COUNTED)
            for e, is_superseded in rows]
