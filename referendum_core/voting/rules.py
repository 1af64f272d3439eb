"""The law's rules for voting as pure functions: the online window (Art. 15), polling hours
(Art. 16(1)), validity and outcome (Art. 22) and the announcement deadline (Art. 20(9)-(10), 21).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from referendum_core.calendar import WorkingDayCalendar
from referendum_core.clock import RIGA

SATURDAY = 5
POLLS_OPEN = time(7, 0)  # Art. 16(1)
POLLS_CLOSE = time(20, 0)
# Art. 15(1): Monday, Tuesday and Wednesday before referendum day, around the clock.
ONLINE_FIRST_DAY_BEFORE = 5  # Saturday - 5 = Monday
ONLINE_LAST_DAY_BEFORE = 3  # Saturday - 3 = Wednesday
ANNOUNCE_WITHIN_WORKING_DAYS = 3  # Art. 20(9)-(10), 21
# Art. 19: home voting on written request. The law gives no cut-off for requests; open rule,
# default 12:00 Riga time on referendum day (configurable: HOME_VOTING_CUTOFF).
HOME_VOTING_CUTOFF = time(12, 0)
DISMISSAL = "dismissal"


def _riga(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=RIGA).astimezone(UTC)


def is_saturday(day: date) -> bool:
    """Art. 16(1): referendum day is a Saturday."""
    return day.weekday() == SATURDAY


def online_window(referendum_day: date, subject: str) -> tuple[datetime, datetime] | None:
    """Art. 15: ``[Monday 00:00, Thursday 00:00)`` Riga time before referendum day, as UTC;
    ``None`` for a dismissal referendum (Art. 15(2))."""
    if subject == DISMISSAL:
        return None
    first = referendum_day - timedelta(days=ONLINE_FIRST_DAY_BEFORE)
    after_last = referendum_day - timedelta(days=ONLINE_LAST_DAY_BEFORE - 1)
    return _riga(first, time(0, 0)), _riga(after_last, time(0, 0))


def polling_hours(referendum_day: date) -> tuple[datetime, datetime]:
    """Art. 16(1): 07:00-20:00 Riga time on referendum day, as UTC."""
    return _riga(referendum_day, POLLS_OPEN), _riga(referendum_day, POLLS_CLOSE)


def home_voting_cutoff(referendum_day: date, at: time = HOME_VOTING_CUTOFF) -> datetime:
    """Art. 19 (*open* rule): the last moment a home-voting request is accepted, ``at`` Riga
    time on referendum day (default 12:00), as UTC."""
    return _riga(referendum_day, at)


def announcement_deadline(calendar: WorkingDayCalendar, referendum_day: date) -> datetime:
    """Art. 20(9)-(10), 21: the end of the 3rd working day after referendum day."""
    return calendar.deadline_at(referendum_day, ANNOUNCE_WITHIN_WORKING_DAYS)


def rfc3339(when: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds) as used in the manifest and board."""
    return when.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def base_figure_for(subject: str) -> str:
    """Art. 22: the municipality's figure from the last council elections the result is judged
    by: the participants for a dismissal (22(3)), the voters on the lists otherwise (22(1))."""
    return "participants_at_last_election" if subject == DISMISSAL \
        else "voters_at_last_election"


@dataclass(frozen=True)
class Validity:
    """Art. 22: whether the referendum took place (quorum) and whether the proposal passed."""

    participants: int
    votes_for: int
    votes_against: int
    is_valid: bool
    is_passed: bool
    quorum: int | None  # participants needed (strategy/construction), None if no base
    for_needed: int | None  # dismissal: "par" votes needed (2/3 of last participants)


def assess_validity(subject: str, *, participants: int, votes_for: int, votes_against: int,
                    voters_base: int | None, participants_base: int | None) -> Validity:
    """Art. 22(1)-(3).

    Strategy/construction: valid if ``participants ≥ voters_base / 3`` (voters on the lists at the
    last council elections); passed if valid and more than half of the participants voted "par".
    Dismissal: passed if a majority voted "par" and the "par" votes are at least 2/3 of those who
    took part in the last council elections; there is no separate quorum.
    Without the base figure the result cannot be judged at all: ``approve_results`` refuses
    before it gets here, and a caller that does not is told so.

    Raises:
        ValueError: the base figure this subject is judged by is missing.
    """
    majority = 2 * votes_for > participants
    if subject == DISMISSAL:
        if participants_base is None:
            raise ValueError("Art. 22(3) needs the participants at the last council elections")
        for_needed = -(-2 * participants_base // 3)  # ceil(2/3 * base)
        passed = majority and votes_for >= for_needed
        return Validity(participants, votes_for, votes_against, True, passed, None, for_needed)
    if voters_base is None:
        raise ValueError("Art. 22(1) needs the voters on the lists at the last council elections")
    quorum = -(-voters_base // 3)  # ceil(base / 3)
    valid = participants >= quorum
    return Validity(participants, votes_for, votes_against, valid, valid and majority, quorum,
                    None)
