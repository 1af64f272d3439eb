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


# Voter Register Law deadlines before referendum day.
REGISTER_BASIS = "VRL 7¹, 12, 12¹, 15(5)"
INFORM_REGISTER_WITHIN_WORKING_DAYS = 1  # after the commission decides
INFORM_REGISTER_BY_WORKING_DAY_BEFORE, INFORM_REGISTER_AT = 19, time(12, 0)
INITIAL_LIST_WORKING_DAYS_BEFORE = 15
CHANGES_CLOSE_DAYS_BEFORE, CHANGES_CLOSE_AT = 7, time(18, 0)
LIST_TO_ETVR_DAYS_BEFORE, LIST_TO_ETVR_AT = 6, time(10, 0)


@dataclass(frozen=True)
class Step:
    """A step the law requires by a deadline, shown on the case's timeline."""

    name: str
    due_at: datetime
    basis: str


def register_steps(calendar: WorkingDayCalendar, referendum_day: date, decided_on: date
                   ) -> list[Step]:
    """The Voter Register Law steps before ``referendum_day`` for a referendum the commission
    decided (set up) on ``decided_on``, as UTC instants: the register (PMLP) informed within 1
    working day of deciding and by 12:00 of the 19th working day before; the initial list ready
    15 working days before; register changes closed at 18:00 on the 7th day before; the list in
    the ETVR by 10:00 on the 6th day before."""
    latest_inform = _riga(calendar.subtract_working_days(
        referendum_day, INFORM_REGISTER_BY_WORKING_DAY_BEFORE), INFORM_REGISTER_AT)
    inform = min(calendar.deadline_at(decided_on, INFORM_REGISTER_WITHIN_WORKING_DAYS),
                 latest_inform)
    initial = calendar.subtract_working_days(referendum_day, INITIAL_LIST_WORKING_DAYS_BEFORE)
    return [
        Step("inform_register", inform, REGISTER_BASIS),
        Step("initial_list", _riga(initial, time.max), REGISTER_BASIS),
        Step("register_changes_close", _riga(
            referendum_day - timedelta(days=CHANGES_CLOSE_DAYS_BEFORE), CHANGES_CLOSE_AT),
            REGISTER_BASIS),
        Step("list_to_etvr", _riga(
            referendum_day - timedelta(days=LIST_TO_ETVR_DAYS_BEFORE), LIST_TO_ETVR_AT),
            REGISTER_BASIS),
    ]


# Art. 24: after a passed referendum on a decision the council considers it within 5 working
# days and adopts what is needed within one month; a passed dismissal goes to the ministry and
# new elections follow within 3 months, none if fewer than 9 months remain before regular
# elections. The law names no period for sending a dismissal to the ministry: open rule,
# default 3 working days after the results (DISMISSAL_TO_MINISTRY_WORKING_DAYS).
COUNCIL_CONSIDERS_WORKING_DAYS = 5
COUNCIL_ADOPTS_MONTHS = 1
DISMISSAL_TO_MINISTRY_WORKING_DAYS = 3
NEW_ELECTIONS_MONTHS = 3
NO_NEW_ELECTIONS_MONTHS_LEFT = 9


def _end_of_month_period(calendar: WorkingDayCalendar, start: date, months: int) -> datetime:
    from referendum_core.initiatives import add_months

    return _riga(calendar.add_working_days(add_months(start, months), 0), time.max)


def after_results_steps(calendar: WorkingDayCalendar, subject: str, *, is_valid: bool,
                        is_passed: bool, announced_on: date) -> list[Step]:
    """Art. 23, 24: the steps after the results are approved and announced on
    ``announced_on``. A passed decision: the council considers it (5 working days) and adopts
    what is needed (1 month), and the council decision it rejected may be readopted only by
    the next council (due: the next regular elections). A passed dismissal: to the ministry,
    and new elections within 3 months unless fewer than 9 months remain."""
    from referendum_core.initiatives import add_months, next_regular_elections

    if not (is_valid and is_passed):
        return []
    if subject != DISMISSAL:
        return [
            Step("council_considers",
                 calendar.deadline_at(announced_on, COUNCIL_CONSIDERS_WORKING_DAYS), "Art. 24"),
            Step("council_adopts",
                 _end_of_month_period(calendar, announced_on, COUNCIL_ADOPTS_MONTHS), "Art. 24"),
            Step("readopt_only_by_next_council",
                 _riga(next_regular_elections(announced_on), time(0, 0)), "Art. 23"),
        ]
    steps = [Step("dismissal_to_ministry",
                  calendar.deadline_at(announced_on, DISMISSAL_TO_MINISTRY_WORKING_DAYS),
                  "Art. 24")]
    if add_months(announced_on, NO_NEW_ELECTIONS_MONTHS_LEFT) <= \
            next_regular_elections(announced_on):
        steps.append(Step("new_elections",
                          _end_of_month_period(calendar, announced_on, NEW_ELECTIONS_MONTHS),
                          "Art. 24"))
    return steps


def register_deadline_passed(calendar: WorkingDayCalendar, referendum_day: date,
                             now: datetime) -> datetime | None:
    """The last moment the register can still be informed for ``referendum_day`` (12:00 of the
    19th working day before) if ``now`` is past it, else ``None``."""
    latest = _riga(calendar.subtract_working_days(
        referendum_day, INFORM_REGISTER_BY_WORKING_DAY_BEFORE), INFORM_REGISTER_AT)
    return latest if now > latest else None


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
        if not participants_base:
            raise ValueError("Art. 22(3) needs the participants at the last council elections")
        for_needed = -(-2 * participants_base // 3)  # ceil(2/3 * base)
        passed = majority and votes_for >= for_needed
        return Validity(participants, votes_for, votes_against, True, passed, None, for_needed)
    if not voters_base:
        raise ValueError("Art. 22(1) needs the voters on the lists at the last council elections")
    quorum = -(-voters_base // 3)  # ceil(base / 3)
    valid = participants >= quorum
    return Validity(participants, votes_for, votes_against, valid, valid and majority, quorum,
                    None)
