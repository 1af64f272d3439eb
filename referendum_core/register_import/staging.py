"""Staging validated rows in batches (``COPY`` on PostgreSQL, memory bounded by the batch) and
finding repeated and contradictory rows in SQL."""
from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, aliased

from referendum_core.register_import.models import (
    MAX_PROBLEMS_KEPT,
    ImportReport,
    Problem,
    RegisterSource,
    RowProblem,
    StagedRow,
)
from referendum_core.register_import.reading import NOT_JSON_ROW
from referendum_core.register_import.validation import ImportContext, RowError, validate


def stage_rows(session: Session, ctx: ImportContext, key: str,
               rows: Iterator[tuple[int, Any]], report: ImportReport, batch_size: int) -> int:
    """Validate and stage every row in batches; returns the number of rows staged as "ok"."""
    batch: list[dict[str, Any]] = []
    staged_ok = 0
    empty = dict.fromkeys(_STAGED_COLUMNS)
    for line, row in rows:
        report.rows_read += 1
        if row is None:
            report.add(RowProblem(line, Problem.WRONG_FIELDS))
            continue
        if row is NOT_JSON_ROW:
            report.add(RowProblem(line, Problem.NOT_JSON))
            continue
        try:
            ref, values = validate(ctx, row)
        except RowError as err:
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


def _flush_batch(session: Session, ctx: ImportContext, batch: list[dict[str, Any]]) -> None:
    """Stage one batch in a single round trip (Core, not ORM objects), every valid row with its
    encrypted code: no look-up of the register per batch (see ``apply_diff``)."""
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


def mark_repeats(session: Session, key: str, source: RegisterSource,
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
