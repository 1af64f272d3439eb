"""Working days on the Latvian public-holiday calendar.

The law counts many deadlines in working days (Art. 10, 13, 20(7), 31). Holidays come from the
maintained ``holidays`` package, never from a hand list. Saturdays that the Cabinet declares
working days in exchange for a bridge day are not in that package; they are treated as rest days,
which only ever lengthens a deadline (the safe side for the person who has to act).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

from referendum_core.clock import RIGA


@lru_cache(maxsize=64)
def _holidays_for(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("LV", years=[year]).keys())


class WorkingDayCalendar:
    """Answers working-day questions for Latvia (Europe/Riga)."""

    def is_holiday(self, day: date) -> bool:
        return day in _holidays_for(day.year)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted).

        ``add_working_days(d, 0)`` is ``d`` if it is a working day, else the next working day.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        if days == 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            return current
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def subtract_working_days(self, end: date, days: int) -> date:
        """The date ``days`` working days before ``end`` (``end`` itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = end
        remaining = days
        while remaining:
            current -= timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def deadline_at(self, start: date, working_days: int) -> datetime:
        """End of the last day (23:59:59.999999 Riga time) of a working-day period, as UTC."""
        last = self.add_working_days(start, working_days)
        return datetime.combine(last, time.max, tzinfo=RIGA).astimezone(UTC)
