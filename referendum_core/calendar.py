"""Working days on the Latvian public-holiday calendar.

The law counts many deadlines in working days (Art. 10, 13, 20(7), 31). Holidays come from the
maintained ``holidays`` package, never from a hand list. When the Cabinet moves a working day
to a Saturday in exchange for a bridge day (2025-05-10, 2025-11-08, 2026-01-17, 2026-06-27, ...),
the package lists the bridge day as a holiday and the Saturday in ``weekend_workdays``: that
Saturday is a working day and counts towards every deadline.

The package lists the transfers the Cabinet has ordered when it was released; a year for which
no order is known yet (2027 in ``holidays`` 0.109) simply has none, so keep the package current.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

from referendum_core.clock import RIGA


@lru_cache(maxsize=64)
def _calendar_for(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(public holidays and bridge days off, Saturdays worked instead) of ``year``."""
    latvia = holidays.country_holidays("LV", years=[year])
    return frozenset(latvia.keys()), frozenset(getattr(latvia, "weekend_workdays", ()))


class WorkingDayCalendar:
    """Answers working-day questions for Latvia (Europe/Riga)."""

    def is_holiday(self, day: date) -> bool:
        """A public holiday or a bridge day the Cabinet made a day off."""
        return day in _calendar_for(day.year)[0]

    def is_transferred_working_day(self, day: date) -> bool:
        """A Saturday (or Sunday) the Cabinet made a working day in exchange for a bridge day."""
        return day in _calendar_for(day.year)[1]

    def is_working_day(self, day: date) -> bool:
        if self.is_transferred_working_day(day):
            return True
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
