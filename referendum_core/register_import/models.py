"""What a register import is made of: sources, modes and formats, the kinds of row problems,
the report, and the two tables (the history of runs and the staging rows)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referendum_core.db import Base


class RegisterSource(StrEnum):
    POPULATION = "population"
    LAND = "land"


class ImportMode(StrEnum):
    """What to do with a malformed row: skip it and go on, or undo the whole import."""

    CONTINUE = "continue"
    ABORT = "abort"


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"  # a JSON array of objects or JSON lines (one object per line)


HEADERS: dict[RegisterSource, tuple[str, ...]] = {
    RegisterSource.POPULATION: ("personal_code", "name", "birth_date", "citizenship",
                                "municipality"),
    RegisterSource.LAND: ("personal_code", "cadastral_number", "municipality"),
}
BATCH_SIZE = 5000
MAX_PROBLEMS_KEPT = 500
MAX_NAME_LENGTH = 200
MAX_ROW_CHARS = 1 << 20
SQLITE_CACHE_KIB = 64 * 1024  # page cache of the importing connection on SQLite


class Problem(StrEnum):
    """Kinds of row problems; the portal translates each into a sentence."""

    INVALID_CODE = "invalid_code"
    MISSING_FIELD = "missing_field"
    WRONG_FIELDS = "wrong_fields"
    INVALID_DATE = "invalid_date"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    INVALID_CITIZENSHIP = "invalid_citizenship"
    UNKNOWN_MUNICIPALITY = "unknown_municipality"
    OTHER_MUNICIPALITY = "other_municipality"
    INVALID_CADASTRAL = "invalid_cadastral"
    NAME_TOO_LONG = "name_too_long"
    NOT_JSON = "not_json"
    DUPLICATE = "duplicate"
    CONTRADICTORY = "contradictory"


# Problems that do not stop an import in "abort" mode: an identical repeated row is harmless.
WARNINGS = frozenset({Problem.DUPLICATE})


@dataclass(frozen=True)
class RowProblem:
    """A problem found on one line (1-based physical line of the file; for JSON arrays the line
    where the object starts). ``field`` names the column, ``other_line`` the line a duplicate
    or contradictory row repeats. Never contains a personal code."""

    line: int
    kind: Problem
    field: str | None = None
    other_line: int | None = None


@dataclass
class ImportReport:
    """What an import read, changed and found wrong."""

    source: RegisterSource
    municipality_id: int | None
    mode: ImportMode
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    problem_count: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    applied: bool = False

    def add(self, problem: RowProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [{k: (str(v) if isinstance(v, StrEnum) else v)
                             for k, v in asdict(p).items()} for p in self.problems]
        data["source"], data["mode"] = str(self.source), str(self.mode)
        return data


class RegisterImport(Base):
    """One import run, kept for the operators' history (the audit log has the same counts)."""

    __tablename__ = "register_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    municipality_id: Mapped[int | None] = mapped_column(index=True)
    file_format: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str | None] = mapped_column(String(200))
    actor_id: Mapped[int | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(12))  # applied | aborted | failed
    report_json: Mapped[str] = mapped_column(Text, default="{}")

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.report_json or "{}")


class StagedRow(Base):
    """A validated row waiting for the diff; emptied at the end of every import."""

    __tablename__ = "register_import_staging"
    __table_args__ = (Index("ix_register_import_staging_key_ref", "import_key", "person_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_key: Mapped[str] = mapped_column(String(32))
    line: Mapped[int]
    # ok | dup (identical repeat, ignored) | conflict | invalid (bad row with a valid code):
    # the last two are ignored but keep the person's current records from being removed.
    status: Mapped[str] = mapped_column(String(10))
    person_ref: Mapped[str] = mapped_column(String(64))
    code_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    name: Mapped[str | None] = mapped_column(String(MAX_NAME_LENGTH))
    birth_date: Mapped[date | None] = mapped_column(Date)
    citizenship: Mapped[str | None] = mapped_column(String(3))
    municipality_id: Mapped[int | None]
    cadastral_number: Mapped[str | None] = mapped_column(String(14))
    row_hash: Mapped[str | None] = mapped_column(String(64))
