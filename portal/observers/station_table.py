"""The polling-station table: base columns from ``referendum_core.observers.station_rows`` and
columns other features register (checklist progress, conflicts …) with
``register_station_column``. The CSV has the same columns in the same order, always: the base
ones first (``BASE_FIELDS``), then registered ones in the order they were registered."""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.spreadsheet import csv_cell, csv_writer
from referendum_core.observers import StationRow

# Values of a registered column for the rows shown, keyed by ``StationRow.key``.
ColumnValues = Callable[[Session, Sequence[StationRow]], Mapping[tuple[int, int], Any]]


@dataclass(frozen=True)
class StationColumn:
    """A column of the table: its CSV field name, its heading, and how to get its values."""

    key: str
    label: Any
    values: ColumnValues


BASE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("municipality", _l("Municipality")),
    ("referendum_id", _l("Referendum")),
    ("referendum_day", _l("Referendum day")),
    ("station_number", _l("Polling station No.")),
    ("station_name", _l("Polling station")),
    ("observers", _l("Accredited observers")),
    ("observer_names", _l("Observers")),
    ("open_incidents", _l("Open incident reports")),
)
EXTRA_COLUMNS: list[StationColumn] = []


def register_station_column(column: StationColumn) -> StationColumn:
    """Add a column after the base ones (once per key; registering it again is harmless).

    Raises:
        ValueError: another column already has that key.
    """
    taken = {key for key, _label in BASE_FIELDS} | {c.key for c in EXTRA_COLUMNS}
    existing = next((c for c in EXTRA_COLUMNS if c.key == column.key), None)
    if existing is not None and existing == column:
        return column
    if column.key in taken:
        raise ValueError(f"station table column {column.key} is already registered")
    EXTRA_COLUMNS.append(column)
    return column


def field_names() -> list[str]:
    """The CSV header, in its stable order."""
    return [key for key, _label in BASE_FIELDS] + [c.key for c in EXTRA_COLUMNS]


def headings() -> list[str]:
    return [str(label) for _key, label in BASE_FIELDS] + [str(c.label) for c in EXTRA_COLUMNS]


def _base(row: StationRow, senders: Mapping[int, str]) -> list[Any]:
    # Observers present at the station: the accredited ones, then those who sent something
    # for it without an accreditation there (a standing observer, who observes every station
    # of the municipality), marked as such.
    present = [*row.observers, *(gettext(
        "%(name)s (sent data; observes all stations of the municipality)",
        name=senders.get(i, str(i))) for i in row.reporting_observer_ids)]
    return [row.municipality, row.referendum_id, row.referendum_day, row.station_number,
            row.station_name, len(row.observers), "; ".join(present), row.open_incidents]


def sender_names(session: Session, rows: Sequence[StationRow]) -> dict[int, str]:
    """Display names of the observers who sent something without an accreditation."""
    ids = sorted({i for row in rows for i in row.reporting_observer_ids})
    if not ids:
        return {}
    return {i: name for i, name in session.execute(
        select(User.id, User.display_name).where(User.id.in_(ids)))}


def table(session: Session, rows: Sequence[StationRow]) -> list[list[Any]]:
    """The cells of each row, in ``field_names`` order."""
    extra = [column.values(session, rows) for column in EXTRA_COLUMNS]
    senders = sender_names(session, rows)
    return [_base(row, senders) + [values.get(row.key, "") for values in extra]
            for row in rows]


def csv_lines(session: Session, rows: Sequence[StationRow]) -> Iterator[str]:
    """The table as CSV: header, then one line per row."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(field_names())
    for cells in table(session, rows):
        writer.writerow([csv_cell(v) for v in cells])
    yield buffer.getvalue()
