"""Injected clocks: domain code asks a clock for the time instead of calling ``datetime.now``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

RIGA = ZoneInfo("Europe/Riga")


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock for tests and simulations: stands still until moved."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current = self.current + delta

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.current = when.astimezone(UTC)


def to_riga(when: datetime) -> datetime:
    """The same instant shown in Europe/Riga."""
    return when.astimezone(RIGA)


class OffsetClock:
    """Real time shifted by an offset: a demo's simulated "now" that advances in real time.

    ``real_now`` stays the wall clock, for what must follow the person's own devices (TOTP codes
    from a phone). ``jump_to`` moves the simulated time (the demo's "go to referendum day").
    """

    def __init__(self, offset: timedelta = timedelta(0), real: Clock | None = None) -> None:
        self.offset = offset
        self.real = real or SystemClock()

    def now(self) -> datetime:
        return self.real.now() + self.offset

    def real_now(self) -> datetime:
        return self.real.now()

    def jump_to(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("OffsetClock needs an aware datetime")
        self.offset = when.astimezone(UTC) - self.real.now()


def wall_time(clock: Clock) -> datetime:
    """The real time behind ``clock`` (the clock's own time when it is not shifted)."""
    real_now = getattr(clock, "real_now", None)
    return real_now() if callable(real_now) else clock.now()


# The demo's phases, named by what a newcomer can do then (Art. 15(1): online voting Monday to
# Wednesday before a Saturday referendum day; Art. 16(1): polling stations 07:00-20:00 that day).
DEMO_ONLINE = "online"  # the Tuesday of the current week, at the current time of day
DEMO_POLLING = "polling"  # that week's Saturday, 10:00 Riga time
DEMO_PHASES = ("auto", DEMO_ONLINE, DEMO_POLLING)
TUESDAY, SATURDAY = 1, 5
POLLING_DEMO_TIME = (10, 0)


def demo_referendum_day(real_now: datetime) -> date:
    """The Saturday of the real current week (Monday to Sunday, Riga time): the referendum day
    the living demo is built around, the same on every day of one week."""
    today = to_riga(real_now).date()
    return today + timedelta(days=SATURDAY - today.weekday())


def demo_now(real_now: datetime, spec: str) -> datetime:
    """The simulated "now" for a demo clock setting (at ``real_now``).

    ``auto`` / ``online``: the Tuesday of the current week at the current time of day (online
    voting open); ``polling``: that week's Saturday at 10:00 (polling stations open); an ISO
    date (that day, current time of day) or an aware ISO date-time (that instant).

    Raises:
        ValueError: an unknown setting.
    """
    spec = spec.strip()
    local = to_riga(real_now)
    saturday = demo_referendum_day(real_now)
    if spec in ("auto", DEMO_ONLINE):
        day = saturday - timedelta(days=SATURDAY - TUESDAY)
        return _on_day(local, day)
    if spec == DEMO_POLLING:
        hour, minute = POLLING_DEMO_TIME
        return datetime.combine(saturday, time(hour, minute), tzinfo=RIGA).astimezone(UTC)
    try:
        if len(spec) == 10:
            return _on_day(local, date.fromisoformat(spec))
        when = datetime.fromisoformat(spec)
    except ValueError:
        raise ValueError(f"not a demo clock setting: {spec!r}") from None
    if when.tzinfo is None:
        raise ValueError(f"a demo date-time needs a time zone: {spec!r}")
    return when.astimezone(UTC)


def _on_day(local: datetime, day: date) -> datetime:
    """``day`` at the time of day of ``local`` (Riga), as UTC."""
    return datetime.combine(day, local.timetz().replace(tzinfo=None),
                            tzinfo=RIGA).astimezone(UTC)


def demo_clock(spec: str, real: Clock | None = None) -> OffsetClock:
    """An offset clock whose "now" is ``demo_now(real now, spec)`` and advances in real time."""
    real = real or SystemClock()
    moment = real.now()
    return OffsetClock(demo_now(moment, spec) - moment, real)
