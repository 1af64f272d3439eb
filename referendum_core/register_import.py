"""Streaming import of Population Register and Land Register extracts (CSV, JSON array or
JSON lines) as a diff against the register.

The shape of one import:

1. the header (CSV) or the first object's fields (JSON) are checked; a wrong header is refused
   before anything is written;
2. rows are validated one by one and staged in batches (``register_import_staging``), so memory
   stays bounded whatever the file size;
3. duplicate (identical) and contradictory rows are found in SQL;
4. in "abort" mode any problem undoes everything staged; in "continue" mode bad rows are
   skipped and the people they name keep their current records;
5. the diff is applied set-based (insert new, update changed, remove missing within the source
   and municipality imported) and audited with its counts.

Steps 2-5 run inside one savepoint: an error at any point leaves the register as it was.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from operator import itemgetter, mul
from typing import IO, Any

from sqlalchemy import (
    Date,
    Index,
    LargeBinary,
    String,
    Text,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock
from referendum_core.db import Base, UTCDateTime
from referendum_core.organisation import Municipality
from referendum_core.personal_code import InvalidPersonalCode, PersonalCodeProtector, normalise
from referendum_core.register import LandOwnerRecord, PersonRecord, normalise_citizenship


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

    @property
    def error_count(self) -> int:
        return sum(1 for p in self.problems if p.kind not in WARNINGS)

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


class ImportRefused(Exception):
    """The file cannot be imported at all (wrong header, unreadable, empty); nothing written.

    ``reason`` is one of ``wrong_header``, ``empty``, ``not_utf8``, ``not_json``;
    ``missing`` / ``unexpected`` list the header problems.
    """

    def __init__(self, reason: str, *, missing: tuple[str, ...] = (),
                 unexpected: tuple[str, ...] = (), line: int | None = None) -> None:
        super().__init__(f"register import refused: {reason}")
        self.reason, self.missing, self.unexpected, self.line = reason, missing, unexpected, line


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


# Reading ----------------------------------------------------------------------------------

def _norm_key(name: str) -> str:
    return (name or "").strip().lower().lstrip("\ufeff")


def _check_fields(source: RegisterSource, names: list[str]) -> None:
    wanted = HEADERS[source]
    given = [_norm_key(n) for n in names]
    missing = tuple(n for n in wanted if n not in given)
    unexpected = tuple(n for n in given if n not in wanted)
    if missing or unexpected or len(set(given)) != len(given):
        raise ImportRefused("wrong_header", missing=missing, unexpected=unexpected)


def _text(stream: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _csv_rows(source: RegisterSource, stream: IO[bytes]
              ) -> Iterator[tuple[int, dict[str, str] | None]]:
    """(line, row) pairs; ``None`` for a row with the wrong number of columns."""
    text = _text(stream)
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("empty") from None
    except UnicodeDecodeError:
        raise ImportRefused("not_utf8") from None
    _check_fields(source, header)
    names = [_norm_key(n) for n in header]
    width = len(names)
    line_after = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise ImportRefused("not_utf8", line=line_after + 1) from None
        except csv.Error:
            raise ImportRefused("not_csv", line=line_after + 1) from None
        line, line_after = line_after + 1, reader.line_num
        if not values or values == [""]:
            continue
        yield line, (dict(zip(names, values, strict=True)) if len(values) == width else None)


_DECODER = json.JSONDecoder()


def _json_rows(source: RegisterSource, stream: IO[bytes]
               ) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Objects of a JSON array (read incrementally) or of JSON lines, with their line."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    checked = False

    def decoded() -> Iterator[str]:
        while True:
            chunk = stream.read(1 << 20)
            try:
                text = decoder.decode(chunk or b"", final=not chunk)
            except UnicodeDecodeError:
                raise ImportRefused("not_utf8") from None
            if text:
                yield text
            if not chunk:
                return

    def check(obj: Any) -> dict[str, Any] | None:
        nonlocal checked
        if not isinstance(obj, dict):
            return None
        if not checked:
            _check_fields(source, list(obj))
            checked = True
        if {_norm_key(k) for k in obj} != set(HEADERS[source]):
            return None
        return {_norm_key(k): ("" if v is None else str(v)) for k, v in obj.items()}

    texts = decoded()
    buf = ""
    for text in texts:
        buf += text
        if buf.strip():
            break
    if not buf.strip():
        raise ImportRefused("empty")
    if buf.lstrip()[0] == "[":
        yield from _json_array(buf, texts, check)
        return
    line, pending = 1, ""
    for text in _chain(buf, texts):
        parts = (pending + text).split("\n")
        pending = parts.pop()
        for current in parts:
            if current.strip():
                yield line, _json_line(current, check)
            line += 1
    if pending.strip():
        yield line, _json_line(pending, check)


def _json_line(text: str, check: Any) -> dict[str, Any] | None:
    try:
        obj = _DECODER.decode(text.strip())
    except json.JSONDecodeError:
        return _NOT_JSON_ROW
    return check(obj)


def _json_array(buf: str, texts: Iterator[str], check: Any
                ) -> Iterator[tuple[int, dict[str, Any] | None]]:
    line, pos, eof = 1, 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        text = next(texts, None)
        if text is None:
            eof = True
            return False
        buf, pos = buf[pos:] + text, 0
        return True

    def skip_ws() -> bool:
        nonlocal pos, line
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buf):
                return True
            if not more():
                return False

    skip_ws()
    pos += 1  # the opening bracket
    first = True
    while True:
        if not skip_ws():
            raise ImportRefused("not_json", line=line)
        if buf[pos] == "]":
            return
        if not first:
            if buf[pos] != ",":
                raise ImportRefused("not_json", line=line)
            pos += 1
            if not skip_ws():
                raise ImportRefused("not_json", line=line)
        first = False
        while True:
            try:
                obj, end = _DECODER.raw_decode(buf, pos)
            except json.JSONDecodeError:
                # No register row is megabytes long: past that the file is simply broken.
                if len(buf) - pos < MAX_ROW_CHARS and more():
                    continue
                raise ImportRefused("not_json", line=line) from None
            if end == len(buf) and not eof and more():
                continue  # a value may go on in the next chunk
            break
        start = line
        line += buf.count("\n", pos, end)
        pos = end
        yield start, check(obj)


_NOT_JSON = object()
_NOT_JSON_ROW: dict[str, Any] = {"__not_json__": ""}


# Validating -------------------------------------------------------------------------------

class _RowError(Exception):
    def __init__(self, kind: Problem, fld: str | None = None) -> None:
        self.kind, self.field = kind, fld


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _RowError(Problem.INVALID_DATE, "birth_date") from None


def _birth_date_from_old_code(digits: str) -> date | None:
    """Old-format codes carry the birth date (DDMMYY + century digit); new ``32…`` do not."""
    if digits.startswith("32"):
        return None
    century = {"0": 1800, "1": 1900, "2": 2000}.get(digits[6])
    if century is None:
        return None
    try:
        return date(century + int(digits[4:6]), int(digits[2:4]), int(digits[0:2]))
    except ValueError:
        return None


def _row_hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()
                          ).hexdigest()


@dataclass
class _Context:
    source: RegisterSource
    protector: PersonalCodeProtector
    municipalities: dict[str, int]
    scope_id: int | None
    today: date


_CHECK_WEIGHTS = (10, 5, 8, 4, 2, 1, 6, 3, 7, 9)


def _normalise_code(raw: str) -> str:
    """``personal_code.normalise`` with a fast path for the two spellings extracts use
    (``DDMMYYCNNNN`` and ``DDMMYY-CNNNN``): the same date and check-digit rules as python-stdnum,
    about ten times quicker. Anything the fast path does not accept goes through ``normalise``,
    which gives the verdict (and the error).

    Raises:
        InvalidPersonalCode: as ``normalise``.
    """
    digits = raw[:6] + raw[7:] if len(raw) == 12 and raw[6] == "-" else raw
    if len(digits) == 11 and digits.isascii() and digits.isdigit() and digits[0] <= "3":
        # ASCII digits are 48 + value; the ten weights add up to 55.
        check = (1 + sum(map(mul, _CHECK_WEIGHTS, digits.encode())) - 48 * 55) % 11 % 10
        if str(check) == digits[10]:
            if digits.startswith("32"):
                return digits
            try:
                date(1800 + int(digits[6]) * 100 + int(digits[4:6]), int(digits[2:4]),
                     int(digits[0:2]))
            except ValueError:
                pass
            else:
                return digits
    return normalise(raw)


def _validate(ctx: _Context, row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """(person_ref, staged values) or raise _RowError; the code is validated first so that a
    bad row with a valid code can still protect that person's records."""
    raw_code = (row.get("personal_code") or "").strip()
    if not raw_code:
        raise _RowError(Problem.MISSING_FIELD, "personal_code")
    try:
        digits = _normalise_code(raw_code)
    except InvalidPersonalCode:
        raise _RowError(Problem.INVALID_CODE, "personal_code") from None
    ref = ctx.protector.lookup_hash_normalised(digits)
    try:
        return ref, {**_validate_rest(ctx, digits, row), "digits": digits}
    except _RowError as err:
        err.ref = ref  # type: ignore[attr-defined]
        raise


def _municipality(ctx: _Context, value: str, *, required: bool) -> int | None:
    atvk = (value or "").strip()
    if not atvk:
        if required:
            raise _RowError(Problem.MISSING_FIELD, "municipality")
        return None
    muni_id = ctx.municipalities.get(atvk)
    if muni_id is None:
        raise _RowError(Problem.UNKNOWN_MUNICIPALITY, "municipality")
    return muni_id


def _validate_rest(ctx: _Context, digits: str, row: dict[str, str]) -> dict[str, Any]:
    if ctx.source == RegisterSource.POPULATION:
        name = " ".join((row.get("name") or "").split())
        if not name:
            raise _RowError(Problem.MISSING_FIELD, "name")
        if len(name) > MAX_NAME_LENGTH:
            raise _RowError(Problem.NAME_TOO_LONG, "name")
        if not (row.get("birth_date") or "").strip():
            raise _RowError(Problem.MISSING_FIELD, "birth_date")
        born = _parse_date(row["birth_date"])
        if born > ctx.today:
            raise _RowError(Problem.INVALID_DATE, "birth_date")
        from_code = _birth_date_from_old_code(digits)
        if from_code is not None and from_code != born:
            raise _RowError(Problem.BIRTH_DATE_MISMATCH, "birth_date")
        try:
            citizenship = normalise_citizenship(row.get("citizenship") or "")
        except ValueError:
            raise _RowError(Problem.INVALID_CITIZENSHIP, "citizenship") from None
        muni_id = _municipality(ctx, row.get("municipality") or "", required=False)
        if ctx.scope_id is not None and muni_id != ctx.scope_id:
            raise _RowError(Problem.OTHER_MUNICIPALITY, "municipality")
        return {"name": name, "birth_date": born, "citizenship": citizenship,
                "municipality_id": muni_id,
                "row_hash": _row_hash(name, born.isoformat(), citizenship, muni_id)}
    cadastral = "".join((row.get("cadastral_number") or "").split())
    if not cadastral:
        raise _RowError(Problem.MISSING_FIELD, "cadastral_number")
    if not cadastral.isdigit() or not 11 <= len(cadastral) <= 14:
        raise _RowError(Problem.INVALID_CADASTRAL, "cadastral_number")
    muni_id = _municipality(ctx, row.get("municipality") or "", required=True)
    if ctx.scope_id is not None and muni_id != ctx.scope_id:
        raise _RowError(Problem.OTHER_MUNICIPALITY, "municipality")
    return {"cadastral_number": cadastral, "municipality_id": muni_id,
            "row_hash": _row_hash(muni_id)}


# Importing --------------------------------------------------------------------------------

def import_register(session: Session, clock: Clock, actor: Actor | None,
                    protector: PersonalCodeProtector, source: RegisterSource,
                    stream: IO[bytes], *, file_format: FileFormat, mode: ImportMode,
                    municipality: Municipality | None = None, filename: str | None = None,
                    context: AuditContext | None = None,
                    batch_size: int = BATCH_SIZE) -> tuple[RegisterImport, ImportReport]:
    """Import one extract as a diff against the register (see the module docstring).

    ``municipality`` limits the import to one municipality (rows for another are refused,
    and only that municipality's records are removed when missing); ``None`` means the whole
    country. Returns the history row and the report (``report.applied`` is False when the
    operator chose "abort" and an error was found).

    Raises:
        ImportRefused: wrong header, empty or unreadable file; nothing was written.
    """
    source, mode, file_format = (RegisterSource(source), ImportMode(mode),
                                 FileFormat(file_format))
    scope_id = municipality.id if municipality is not None else None
    report = ImportReport(source=source, municipality_id=scope_id, mode=mode)
    reader = _csv_rows if file_format == FileFormat.CSV else _json_rows
    rows = reader(source, stream)
    try:
        first = next(rows, None)  # reads and checks the header before anything is written
    except ImportRefused as refusal:
        audit.record(session, clock, actor, "register.import_refused", context=context,
                     municipality_id=scope_id, source=str(source), reason=refusal.reason,
                     missing=list(refusal.missing), unexpected=list(refusal.unexpected))
        raise
    run = RegisterImport(source=str(source), municipality_id=scope_id, file_format=str(file_format),
                         mode=str(mode), filename=(filename or "")[:200] or None,
                         actor_id=getattr(actor, "id", None), started_at=clock.now(),
                         status="failed")
    session.add(run)
    session.flush()
    if municipality is not None:  # one import per municipality at a time
        session.scalars(select(Municipality).where(Municipality.id == municipality.id)
                        .with_for_update()).first()
    ctx = _Context(source=source, protector=protector, scope_id=scope_id,
                   today=clock.now().date(),
                   municipalities={atvk: muni_id for atvk, muni_id in session.execute(
                       select(Municipality.atvk_code, Municipality.id))})
    key = uuid.uuid4().hex
    with _import_settings(session):
        savepoint = session.begin_nested()
        try:
            staged_ok = 0
            if first is not None:
                staged_ok = _stage(session, ctx, key, _chain(first, rows), report, batch_size)
            _analyze(session, source)
            staged_ok -= _mark_repeats(session, key, source, report)
            has_errors = any(p.kind not in WARNINGS for p in report.problems) or (
                report.problem_count > len(report.problems))
            if mode == ImportMode.ABORT and has_errors:
                savepoint.rollback()
            else:
                _apply(session, clock, key, source, scope_id, report, staged_ok)
                session.execute(delete(StagedRow).where(StagedRow.import_key == key))
                savepoint.commit()
                report.applied = True
        except ImportRefused as refusal:
            if savepoint.is_active:
                savepoint.rollback()
            run.finished_at = clock.now()
            run.report_json = json.dumps(report.as_dict())
            audit.record(session, clock, actor, "register.import_refused", obj=run,
                         context=context, municipality_id=scope_id, source=str(source),
                         reason=refusal.reason, line=refusal.line, rows_read=report.rows_read)
            raise
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
    report.skipped = report.rows_read - report.inserted - report.updated - report.unchanged
    run.status = "applied" if report.applied else "aborted"
    run.finished_at = clock.now()
    run.report_json = json.dumps(report.as_dict())
    audit.record(session, clock, actor,
                 "register.imported" if report.applied else "register.import_aborted",
                 obj=run, context=context, municipality_id=scope_id, source=str(source),
                 mode=str(mode), rows_read=report.rows_read, inserted=report.inserted,
                 updated=report.updated, removed=report.removed, unchanged=report.unchanged,
                 skipped=report.skipped, problems=report.problem_count)
    return run, report


@contextmanager
def _import_settings(session: Session) -> Iterator[None]:
    """Settings of the importing connection while one import runs.

    SQLite keeps only 2 MiB of pages per connection by default: staging and diffing hundreds
    of thousands of rows through that spills pages over and over, so the connection gets a
    bounded, larger cache (PostgreSQL has its own shared buffers).

    PostgreSQL plans every statement afresh (``plan_cache_mode = force_custom_plan``, for this
    transaction only). psycopg prepares a statement once it has run five times on a (pooled)
    connection, and after five more runs the server may keep one generic plan for it, made with
    whatever the tables held then. A per-batch look-up of the register ran that way with a plan
    made while the register was empty: a sequential scan testing every record against the
    5,000-element array parameter one element at a time (a constant array is hashed), 8 s per
    batch instead of 17 ms, until autovacuum happened to invalidate the plan. The diff's
    statements repeat on a pooled connection import after import in the same way.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        previous = conn.exec_driver_sql("SELECT current_setting('plan_cache_mode')").scalar()
        conn.execute(select(func.set_config("plan_cache_mode", "force_custom_plan", True)))
        yield
        # Only on success: the setting is transaction-local, and after an error the caller may
        # already have rolled the transaction back.
        conn.execute(select(func.set_config("plan_cache_mode", previous, True)))
        return
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    conn.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {previous}")


def _analyze(session: Session, source: RegisterSource) -> None:
    """Fresh PostgreSQL statistics of the staging table and the register before the diff is
    planned.

    Autovacuum only ever sees the staging table empty (every import empties it before
    committing) or filled by an earlier import under another key, and the register right after
    a large first import not yet at all: the planner then expects a handful of rows and joins
    them row by row. Sampling takes tens of milliseconds (and is rolled back with an undone
    import).
    ``SKIP_LOCKED``: the lock ANALYZE takes is held to the end of the transaction, so an import
    running at the same time (or autovacuum) is not waited for; it keeps the older statistics.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        target = PersonRecord if source == RegisterSource.POPULATION else LandOwnerRecord
        conn.exec_driver_sql(f"ANALYZE (SKIP_LOCKED) {StagedRow.__tablename__}, "
                             f"{target.__tablename__}")


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _stage(session: Session, ctx: _Context, key: str, rows: Iterator[tuple[int, Any]],
           report: ImportReport, batch_size: int) -> int:
    """Validate and stage every row in batches; returns the number of rows staged as "ok"."""
    batch: list[dict[str, Any]] = []
    staged_ok = 0
    empty = dict.fromkeys(_STAGED_COLUMNS)
    for line, row in rows:
        report.rows_read += 1
        if row is None:
            report.add(RowProblem(line, Problem.WRONG_FIELDS))
            continue
        if row is _NOT_JSON_ROW:
            report.add(RowProblem(line, Problem.NOT_JSON))
            continue
        try:
            ref, values = _validate(ctx, row)
        except _RowError as err:
            report.add(RowProblem(line, err.kind, err.field))
            ref = getattr(err, "ref", None)
            if ref is not None:
                batch.append({**empty, "import_key": key, "line": line, "status": "invalid",
                              "person_ref": ref})
        else:
            staged_ok += 1
            batch.append({**empty, **values, "import_key": key, "line": line, "status": "ok",
                          "person_ref": ref})
        if len(batch) >= batch_size:
            _flush_batch(session, ctx, batch)
            batch = []
    if batch:
        _flush_batch(session, ctx, batch)
    return staged_ok


# Every column a staged row carries (the staging insert needs the same keys in each row).
_STAGED_COLUMNS = ("import_key", "line", "status", "person_ref", "code_enc", "name",
                   "birth_date", "citizenship", "municipality_id", "cadastral_number", "row_hash")
_STAGED_GETTER = itemgetter(*_STAGED_COLUMNS)


def _flush_batch(session: Session, ctx: _Context, batch: list[dict[str, Any]]) -> None:
    """Stage one batch in a single round trip (Core, not ORM objects), every valid row with its
    encrypted code: no look-up of the register per batch (see ``_apply``)."""
    encrypt = ctx.protector.encrypt_normalised
    for row in batch:
        digits = row.pop("digits", None)
        row["code_enc"] = encrypt(digits) if row["status"] == "ok" else None
    _insert_staged(session, batch)


def _insert_staged(session: Session, batch: list[dict[str, Any]]) -> None:
    """One round trip for a batch of staged rows, past the ORM and SQLAlchemy's per-row
    parameter handling: ``COPY`` on PostgreSQL (psycopg 3), a plain driver ``executemany``
    elsewhere. Bind processors of the column types (e.g. dates on SQLite) still apply."""
    conn = session.connection()
    dialect = conn.dialect
    table = StagedRow.__table__
    processors = [(i, proc) for i, name in enumerate(_STAGED_COLUMNS)
                  if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))]
    rows: list[Any] = list(map(_STAGED_GETTER, batch))
    if processors:  # column-wise: transposing with zip runs in C
        columns_of = list(zip(*rows, strict=True))
        for i, proc in processors:
            columns_of[i] = tuple(map(proc, columns_of[i]))
        rows = list(zip(*columns_of, strict=True))
    columns = ", ".join(_STAGED_COLUMNS)
    driver = conn.connection.driver_connection
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        with driver.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({columns}) FROM STDIN") as copy:  # noqa: S608 - constants
            for row in rows:
                copy.write_row(row)
        return
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if mark is None:  # another driver: SQLAlchemy's own executemany
        conn.execute(table.insert(), batch)
        return
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({columns}) "  # noqa: S608 - table and columns are constants
        f"VALUES ({', '.join([mark] * len(_STAGED_COLUMNS))})", rows)


def _same_key(source: RegisterSource, a: Any, b: Any) -> list[Any]:
    conds = [a.import_key == b.import_key, a.person_ref == b.person_ref]
    if source == RegisterSource.LAND:
        conds.append(a.cadastral_number == b.cadastral_number)
    return conds


def _mark_repeats(session: Session, key: str, source: RegisterSource,
                  report: ImportReport) -> int:
    """Rows naming the same person (land: the same person and property) more than once:
    all different -> contradictory (all skipped); identical -> the first one is kept.

    Returns how many "ok" rows became "dup" or "conflict". One grouped scan of the staging
    index finds the people named more than once; the row-by-row checks run only for them.
    """
    repeated = (select(StagedRow.person_ref).where(StagedRow.import_key == key)
                .group_by(StagedRow.person_ref).having(func.count() > 1))
    if session.execute(repeated.limit(1)).first() is None:
        return 0
    conn = session.connection()
    other = aliased(StagedRow)
    candidates = (StagedRow.import_key == key, StagedRow.status == "ok",
                  StagedRow.person_ref.in_(repeated.subquery().select()))
    conflicts = conn.execute(update(StagedRow).where(
        *candidates,
        exists().where(*_same_key(source, other, StagedRow), other.status.in_(("ok", "conflict")),
                       other.row_hash != StagedRow.row_hash),
    ).values(status="conflict").execution_options(preserve_rowcount=True))
    dups = conn.execute(update(StagedRow).where(
        *candidates,
        exists().where(*_same_key(source, other, StagedRow), other.status.in_(("ok", "dup")),
                       other.line < StagedRow.line),
    ).values(status="dup").execution_options(preserve_rowcount=True))
    total = max(conflicts.rowcount or 0, 0) + max(dups.rowcount or 0, 0)
    if not total:
        return 0
    first_line = (select(func.min(other.line)).where(
        *_same_key(source, other, StagedRow), other.id != StagedRow.id)
        .correlate(StagedRow).scalar_subquery())
    room = max(0, MAX_PROBLEMS_KEPT - len(report.problems))
    for line, status, other_line in session.execute(
            select(StagedRow.line, StagedRow.status, first_line).where(
                StagedRow.import_key == key, StagedRow.status.in_(("dup", "conflict")),
                StagedRow.person_ref.in_(repeated.subquery().select()))
            .order_by(StagedRow.line).limit(room)):
        kind = Problem.DUPLICATE if status == "dup" else Problem.CONTRADICTORY
        report.add(RowProblem(line, kind, other_line=other_line))
    report.problem_count += total - min(total, room)
    report.problems.sort(key=lambda p: p.line)
    return total


# INSERT ... ON CONFLICT DO NOTHING, per dialect (both have a unique constraint to name).
_UPSERT_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _apply(session: Session, clock: Clock, key: str, source: RegisterSource,
           scope_id: int | None, report: ImportReport, ok_count: int) -> None:
    """Apply the staged diff set-based: update changed, remove missing, insert new records.
    ``ok_count`` is the number of staged rows still "ok" (to count the unchanged)."""
    now = clock.now()
    # Core execution keeping row counts (not reported for INSERT ... SELECT by default).
    conn = session.connection()
    ok = (StagedRow.import_key == key, StagedRow.status == "ok")
    if source == RegisterSource.POPULATION:
        target: Any = PersonRecord
        same = (StagedRow.person_ref == PersonRecord.person_ref,)
        same_cols: tuple[Any, ...] = (PersonRecord.person_ref,)
        values = {"name": StagedRow.name, "birth_date": StagedRow.birth_date,
                  "citizenship": StagedRow.citizenship,
                  "residence_municipality_id": StagedRow.municipality_id}
        scope = (PersonRecord.residence_municipality_id == scope_id,) if scope_id else ()
        cols = ["person_ref", "personal_code_enc", "name", "birth_date", "citizenship",
                "residence_municipality_id", "row_hash", "updated_at"]
        picked = [StagedRow.person_ref, StagedRow.code_enc, StagedRow.name,
                  StagedRow.birth_date, StagedRow.citizenship, StagedRow.municipality_id,
                  StagedRow.row_hash, literal(now, UTCDateTime())]
        kept = exists().where(StagedRow.import_key == key,
                              StagedRow.person_ref == PersonRecord.person_ref)
    else:
        target = LandOwnerRecord
        same = (StagedRow.person_ref == LandOwnerRecord.person_ref,
                StagedRow.cadastral_number == LandOwnerRecord.cadastral_number)
        same_cols = (LandOwnerRecord.person_ref, LandOwnerRecord.cadastral_number)
        values = {"municipality_id": StagedRow.municipality_id}
        scope = (LandOwnerRecord.municipality_id == scope_id,) if scope_id else ()
        cols = ["person_ref", "personal_code_enc", "cadastral_number", "municipality_id",
                "row_hash", "updated_at"]
        picked = [StagedRow.person_ref, StagedRow.code_enc, StagedRow.cadastral_number,
                  StagedRow.municipality_id, StagedRow.row_hash, literal(now, UTCDateTime())]
        # A bad row with a valid code (cadastral number unknown) keeps all that person's
        # properties in the scope.
        kept = exists().where(
            StagedRow.import_key == key, StagedRow.person_ref == LandOwnerRecord.person_ref,
            or_(StagedRow.cadastral_number == LandOwnerRecord.cadastral_number,
                StagedRow.status == "invalid"))
    changed = conn.execute(
        update(target).where(*ok, *same, StagedRow.row_hash != target.row_hash)
        .values(**values, row_hash=StagedRow.row_hash, updated_at=now)
        .execution_options(preserve_rowcount=True))
    report.updated = max(changed.rowcount or 0, 0)
    removed = conn.execute(
        delete(target).where(*scope, ~kept).execution_options(preserve_rowcount=True))
    report.removed = max(removed.rowcount or 0, 0)
    # New records: ON CONFLICT rather than an anti-join, which could be planned as a nested loop
    # scanning the register once per staged row, the register growing as the statement inserts
    # (PostgreSQL estimates an empty table at plan time as empty, e.g. at a first import); it
    # also keeps a record another import added meanwhile.
    new_rows = select(*picked).where(*ok)
    if conn.dialect.name in _UPSERT_INSERTS:
        statement: Any = (_UPSERT_INSERTS[conn.dialect.name](target).from_select(cols, new_rows)
                          .on_conflict_do_nothing(index_elements=[c.name for c in same_cols]))
    else:
        statement = insert(target).from_select(cols, new_rows.where(~exists().where(*same)))
    inserted = conn.execute(statement.execution_options(preserve_rowcount=True))
    report.inserted = max(inserted.rowcount or 0, 0)
    report.unchanged = ok_count - report.inserted - report.updated
    session.expire_all()
