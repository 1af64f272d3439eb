"""Server-rendered bar charts of the result (SVG drawn by the template; no script)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from referendum_core.voting.models import Referendum, Result
from referendum_core.voting.results import protocols_of

BAR_WIDTH = 300  # SVG units for the largest count


@dataclass(frozen=True)
class Row:
    """One bar group: a polling station, online votes, or the total."""

    label: str
    votes_for: int
    votes_against: int
    invalid: int
    for_width: int = 0
    against_width: int = 0
    invalid_width: int = 0


def result_rows(session: Session, referendum: Referendum, result: Result,
                online_label: str, station_label: str) -> list[Row]:
    """Rows per polling station and online, bars scaled to the largest count."""
    raw = [(station_label % {"number": p.polling_station.number, "name": p.polling_station.name},
            p.votes_for, p.votes_against, p.invalid)
           for p in protocols_of(session, referendum)]
    if referendum.has_online_voting:
        raw.append((online_label, result.online_for, result.online_against, 0))
    biggest = max([max(r[1:]) for r in raw] + [1])

    def width(n: int) -> int:
        return round(BAR_WIDTH * n / biggest) if n else 0

    return [Row(label, f, a, i, width(f), width(a), width(i)) for label, f, a, i in raw]
