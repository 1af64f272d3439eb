"""Deadline arithmetic per article on the Latvian working-day calendar, countdowns and the
escalation ladder (pure functions; no database)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.deadlines import countdown, due_level
from referendum_core.cases.services import complaint_filing_deadline
from referendum_core.cases.workflows import (
    APPEAL_RULES,
    COURT_DECIDES_WITHIN,
    Grounds,
    Period,
    Unit,
)
from referendum_core.clock import RIGA, to_riga

CAL = WorkingDayCalendar()


def riga(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=RIGA).astimezone(UTC)


def last_day(when: datetime) -> date:
    end = to_riga(when)
    assert (end.hour, end.minute) == (23, 59)  # a deadline ends at the end of the day
    return end.date()


# Art. 20(7): count protocol -> commission within 3 working days, decides within 3, court within 5.
def test_art_20_7_filing_window_skips_midsummer_and_counts_the_worked_saturday():
    # Referendum on Saturday 20 June 2026; 22 June is the bridge day off, 23-24 June are
    # Midsummer, and Saturday 27 June is worked in exchange for 22 June: 25, 26, 27 June.
    assert last_day(complaint_filing_deadline(CAL, Grounds.COUNT_PROTOCOL, date(2026, 6, 20))) \
        == date(2026, 6, 27)


def test_art_20_7_commission_decides_within_3_working_days():
    rule = APPEAL_RULES[Grounds.COUNT_PROTOCOL]
    assert rule.article == "Art. 20(7)"
    assert last_day(rule.decide_within.ends_at(CAL, riga(2026, 6, 27))) == date(2026, 7, 1)
    # Filed on a Friday: the weekend does not count.
    assert last_day(rule.decide_within.ends_at(CAL, riga(2026, 3, 6))) == date(2026, 3, 11)


def test_art_20_7_applicant_has_5_working_days_for_court_across_18_november():
    rule = APPEAL_RULES[Grounds.COUNT_PROTOCOL]
    assert last_day(rule.court_within.ends_at(CAL, riga(2026, 7, 2))) == date(2026, 7, 9)
    # 18 November (Proclamation Day) is not a working day.
    assert last_day(rule.court_within.ends_at(CAL, riga(2026, 11, 16))) == date(2026, 11, 24)


def test_art_13_6_7_council_route_with_5_working_days_each_across_christmas_and_new_year():
    """Art. 13(6)-(7): to the council within 5 working days, decided within 5, court within 5."""
    rule = APPEAL_RULES[Grounds.COMMISSION_DECISION]
    assert rule.article == "Art. 13(6)-(7)" and rule.decided_by == "council"
    assert rule.file_within == rule.decide_within == rule.court_within == Period(5)
    # 24-26 Dec, 31 Dec and 1 Jan are holidays; 27 Dec and 2-3 Jan a weekend.
    assert last_day(rule.decide_within.ends_at(CAL, riga(2026, 12, 22))) == date(2027, 1, 4)


def test_art_10_7_municipality_refusal_goes_to_council_then_court_default_one_month():
    rule = APPEAL_RULES[Grounds.MUNICIPALITY_REFUSAL]
    assert rule.article == "Art. 10(7)" and rule.decided_by == "council"
    assert rule.court_within == Period(1, Unit.MONTHS)
    # 31 January + one month = 28 February 2026, a Saturday -> Monday 2 March.
    assert last_day(rule.court_within.ends_at(CAL, riga(2026, 1, 31))) == date(2026, 3, 2)


def test_art_31_court_decides_within_30_days_moving_off_a_weekend():
    assert COURT_DECIDES_WITHIN.basis == "Art. 31"
    # 9 July + 30 days = Saturday 8 August -> Monday 10 August.
    assert last_day(COURT_DECIDES_WITHIN.period.ends_at(CAL, riga(2026, 7, 9))) \
        == date(2026, 8, 10)
    # 24 September + 30 days = Saturday 24 October -> Monday 26 October.
    assert last_day(COURT_DECIDES_WITHIN.period.ends_at(CAL, riga(2026, 9, 24))) \
        == date(2026, 10, 26)


def test_deadline_ends_at_riga_midnight_not_utc_midnight():
    end = Period(1).ends_at(CAL, riga(2026, 3, 2))
    assert end == datetime(2026, 3, 3, 23, 59, 59, 999999, tzinfo=RIGA).astimezone(UTC)


def test_countdown_counts_working_days_and_overdue():
    deadline = Period(3).ends_at(CAL, riga(2026, 3, 6))  # Wednesday 11 March
    assert countdown(CAL, riga(2026, 3, 6), deadline).working_days_left == 3
    assert countdown(CAL, riga(2026, 3, 11, 9), deadline).working_days_left == 0
    late = countdown(CAL, riga(2026, 3, 13), deadline)
    assert late.is_overdue and late.working_days_left == -2


@pytest.mark.parametrize(("now", "level"), [
    (riga(2026, 3, 6), 0),        # 3 working days left
    (riga(2026, 3, 10), 1),       # 1 left: remind the owner
    (riga(2026, 3, 11, 20), 1),   # last day
    (riga(2026, 3, 12), 2),       # passed: the chair
    (riga(2026, 3, 13), 3),       # 2 working days over: CVK
])
def test_escalation_ladder(now, level):
    deadline = Period(3).ends_at(CAL, riga(2026, 3, 6))
    assert due_level(CAL, now, deadline) == level
    assert due_level(CAL, now, None) == 0
