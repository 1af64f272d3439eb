"""Declarative base and column types shared by every package's models.

Kept free of Flask so the domain packages (``referendum_core``, ``messaging``) can define
models on the same metadata as the portal.
"""
from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; naive values are refused.

    SQLite has no time zones, so values read back are re-tagged as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime in UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every mapped table in the portal."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


#: ``INSERT … ON CONFLICT`` constructs of the dialects that have one (the rest use savepoints).
UPSERT_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class DriverStatement:
    """A Core statement compiled once for a dialect and run on the driver's own cursor, with
    the bind and result conversions of its column types (``UTCDateTime`` and the like), as
    ``Connection.execute`` would apply them; answers the first row as a named tuple.

    For the hottest statements only (the lean ballot cast): on a prepared statement of a few
    microseconds, SQLAlchemy's execution (cache key, execution context, result metadata built
    from the cursor's description) costs the client about twice the CPU of the driver's own
    execute and fetch (``bench/results.md``, "Figures behind choices in the code"). It skips
    the engine's ``before_cursor_execute`` events; a driver error is raised as SQLAlchemy's
    ``DBAPIError`` (the connection invalidated when it was lost), as ``execute`` raises it.
    """

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.dialect = dialect
        self.defaults = dict(compiled.params)  # the values the statement binds itself
        # A positional paramstyle (SQLite's qmark) takes the values in the statement's order.
        self.positions = list(compiled.positiontup or ()) if compiled.positional else None
        self.bind_processors = {
            name: processor for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
            is not None}
        columns = list(getattr(statement, "selected_columns", ()))
        self.result_processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                                  for column in columns]
        self.row = namedtuple("Row", [column.key for column in columns]) if columns else tuple  # type: ignore[misc]  # noqa: PYI024

    def first(self, connection: Any, params: dict[str, Any]) -> Any:
        """The statement's first row (``None`` when it gave none) on ``connection`` (a
        SQLAlchemy ``Connection``)."""
        values = {**self.defaults, **params}
        for name, processor in self.bind_processors.items():
            if name in values:
                values[name] = processor(values[name])
        dbapi_connection = connection.connection
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, values if self.positions is None
                           else tuple(values[name] for name in self.positions))
            raw = cursor.fetchone()
        except self.dialect.loaded_dbapi.Error as exc:
            if self.dialect.is_disconnect(exc, dbapi_connection, cursor):
                connection.invalidate(exc)
            raise DBAPIError.instance(self.sql, values, exc, self.dialect.loaded_dbapi.Error,
                                      dialect=self.dialect) from exc
        finally:
            cursor.close()
        if raw is None:
            return None
        if self.row is tuple:
            return tuple(raw)
        return self.row(*[value if processor is None else processor(value)
                          for value, processor in zip(raw, self.result_processors,
                                                      strict=True)])
