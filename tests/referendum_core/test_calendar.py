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


# Transferred working Saturdays: the Cabinet moves a working day to a Saturday in exchange for
# a bridge day; the Saturday is worked and counts towards every working-day deadline.
@pytest.mark.parametrize("saturday", [date(2025, 5, 10), date(2025, 11, 8), date(2026, 1, 17),
                                      date(2026, 6, 27)])
def test_transferred_saturdays_are_working_days(saturday):
    assert saturday.weekday() == 5
    assert cal.is_transferred_working_day(saturday)
    assert cal.is_working_day(saturday)


def test_the_bridge_days_are_days_off():
    assert not cal.is_working_day(date(2026, 1, 2))  # given for 17 January
    assert not cal.is_working_day(date(2026, 6, 22))  # given for 27 June


def test_art_10_6_three_working_days_end_on_the_worked_saturday_17_january_2026():
    # Art. 10(6): applicants told within 3 working days; from Wed 14 Jan 2026 that is
    # Thu 15, Fri 16 and the worked Saturday 17 January.
    assert cal.add_working_days(date(2026, 1, 14), 3) == date(2026, 1, 17)
    assert cal.working_days_between(date(2026, 1, 14), date(2026, 1, 19)) == 4
    assert cal.subtract_working_days(date(2026, 1, 19), 1) == date(2026, 1, 17)


def test_art_20_7_count_protocol_complaint_after_20_june_2026_is_due_on_27_june():
    # 22 June is the bridge day, 23-24 June Midsummer; 25, 26 and the worked 27 June count.
    assert cal.add_working_days(date(2026, 6, 20), 3) == date(2026, 6, 27)
    end = cal.deadline_at(date(2026, 6, 20), 3)
    assert end == datetime(2026, 6, 27, 20, 59, 59, 999999, tzinfo=UTC)  # 23:59:59 EEST


def test_zero_days_on_a_worked_saturday_stays_there():
    assert cal.add_working_days(date(2026, 6, 27), 0) == date(2026, 6, 27)


# Boundaries in Europe/Riga across the DST weeks (29 March and 25 October 2026).
def test_deadline_across_the_spring_dst_change_ends_at_riga_midnight():
    assert cal.deadline_at(date(2026, 3, 26), 1) == datetime(2026, 3, 27, 21, 59, 59, 999999,
                                                             tzinfo=UTC)  # EET
    assert cal.deadline_at(date(2026, 3, 27), 1) == datetime(2026, 3, 30, 20, 59, 59, 999999,
                                                             tzinfo=UTC)  # EEST


def test_deadline_across_the_autumn_dst_change_ends_at_riga_midnight():
    assert cal.deadline_at(date(2026, 10, 22), 1) == datetime(2026, 10, 23, 20, 59, 59, 999999,
                                                              tzinfo=UTC)  # EEST
    assert cal.deadline_at(date(2026, 10, 23), 1) == datetime(2026, 10, 26, 21, 59, 59, 999999,
                                                              tzinfo=UTC)  # EET
