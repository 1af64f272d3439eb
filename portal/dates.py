"""The portal's one style for dates: the same in every language, Riga time, to the minute.

The patterns are Babel's (for what formats through Babel: PDFs, e-mails); pages and messages
format through ``day_text`` and ``moment_text``, which write the same digits without Babel's
per-call locale and pattern work (a queue page formats a hundred of them), with the zone rules
of ``zoneinfo`` (Babel's own tables stop at 2037)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from referendum_core.clock import to_riga

DAY_PATTERN = "dd.MM.yyyy"
MOMENT_PATTERN = "dd.MM.yyyy HH:mm"


def day_text(value: date) -> str:
    """``08.12.2026``, as ``DAY_PATTERN`` (a moment: its day in Riga)."""
    if isinstance(value, datetime):
        value = _riga(value)
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def moment_text(value: datetime) -> str:
    """``08.12.2026 11:54`` in Riga time, as ``MOMENT_PATTERN`` (a naive time is UTC)."""
    local = _riga(value)
    return f"{day_text(local.date())} {local.hour:02d}:{local.minute:02d}"


def _riga(value: datetime) -> datetime:
    return to_riga(value if value.tzinfo else value.replace(tzinfo=UTC))
