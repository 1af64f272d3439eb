"""Working days on the Latvian holiday calendar (deadlines of Art. 10, 13, 20(7), 31)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from referendum_core.calendar import WorkingDayCalendar

cal = WorkingDayCalendar()


def test_weekends_and_holidays_are_not_working_days():
    assert not cal.is_working_day(date(2026, 11, 18))  # Proclamation Day
    assert not cal.is_working_day(date(2026, 6, 23))   # Midsummer Eve
    assert cal.is_working_day(date(2026, 12, 28))  # a Monday between the holidays
    assert not cal.is_working_day(date(2026, 11, 21))  # Saturday
    assert cal.is_working_day(date(2026, 11, 17))


def test_three_working_days_across_a_weekend():
    # Art. 20(7): a complaint about the count protocol within 3 working days.
    assert cal.add_working_days(date(2026, 11, 20), 3) == date(2026, 11, 25)  # Fri -> Wed


def test_deadline_skips_christmas_and_new_year():
    # 23 Dec 2026 (Wed) + 5 working days: 24-26 Dec, 31 Dec, 1 Jan are holidays.
    assert cal.add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 5)


def test_zero_days_rolls_to_next_working_day():
    assert cal.add_working_days(date(2026, 11, 21), 0) == date(2026, 11, 23)


def test_subtract_and_count():
    assert cal.subtract_working_days(date(2026, 11, 23), 1) == date(2026, 11, 20)
    assert cal.working_days_between(date(2026, 11, 16), date(2026, 11, 23)) == 4  # 18th is a holiday


def test_deadline_is_end_of_day_in_riga():
    end = cal.deadline_at(date(2026, 11, 20), 3)
    assert end == datetime(2026, 11, 25, 21, 59, 59, 999999, tzinfo=UTC)  # 23:59:59 EET


def test_negative_days_refused():
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 1, 1), -1)
