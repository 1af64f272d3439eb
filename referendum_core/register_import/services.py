"""One import of an extract: refused before anything is written, or staged, diffed and applied
inside one savepoint, and audited either way."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock
from referendum_core.organisation import Municipality
from referendum_core.personal_code import PersonalCodeProtector
from referendum_core.register_import.diff import apply_diff, refresh_statistics
from referendum_core.register_import.exceptions import ImportRefused
from referendum_core.register_import.models import (
    BATCH_SIZE,
    SQLITE_CACHE_KIB,
    WARNINGS,
    FileFormat,
    ImportMode,
    ImportReport,
    RegisterImport,
    RegisterSource,
    StagedRow,
)
from referendum_core.register_import.reading import chain, csv_rows, json_rows
from referendum_core.register_import.staging import mark_repeats, stage_rows
from referendum_core.register_import.validation import ImportContext
from referendum_core.uploads import TEXT_TYPES, UploadRejected, check_upload_stream


def import_register(session: Session, clock: Clock, actor: Actor | None,
                    protector: PersonalCodeProtector, source: RegisterSource,
                    stream: IO[bytes], *, file_format: FileFormat, mode: ImportMode,
                    municipality: Municipality | None = None, filename: str | None = None,
                    context: AuditContext | None = None,
                    batch_size: int = BATCH_SIZE) -> tuple[RegisterImport, ImportReport]:
    """Import one extract as a diff against the register (see ``referendum_core.register_import``).

    ``municipality`` limits the import to one municipality (rows for another are refused,
    and only that municipality's records are removed when missing); ``None`` means the whole
    country. Returns the history row and the report (``report.applied`` is False when the
    operator chose "abort" and an error was found).

    Raises:
        ImportRefused: wrong header, empty or unreadable file, or not text (an archive, an
            image); nothing was written.
    """
    source, mode, file_format = (RegisterSource(source), ImportMode(mode),
                                 FileFormat(file_format))
    scope_id = municipality.id if municipality is not None else None
    report = ImportReport(source=source, municipality_id=scope_id, mode=mode)
    reader = csv_rows if file_format == FileFormat.CSV else json_rows
    rows = reader(source, stream)
    try:
        try:  # the portal's one upload check: an extract is UTF-8 text, never an archive
            check_upload_stream(stream, filename, allowed=TEXT_TYPES)
        except UploadRejected as err:
            raise ImportRefused(err.reason) from err
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
    ctx = ImportContext(source=source, protector=protector, scope_id=scope_id,
                        today=clock.now().date(),
                        municipalities={atvk: muni_id for atvk, muni_id in session.execute(
                            select(Municipality.atvk_code, Municipality.id))})
    key = uuid.uuid4().hex
    with _import_settings(session):
        savepoint = session.begin_nested()
        try:
            staged_ok = 0
            if first is not None:
                staged_ok = stage_rows(session, ctx, key, chain(first, rows), report, batch_size)
            refresh_statistics(session, source)
            staged_ok -= mark_repeats(session, key, source, report)
            has_errors = any(p.kind not in WARNINGS for p in report.problems) or (
                report.problem_count > len(report.problems))
            if mode == ImportMode.ABORT and has_errors:
                savepoint.rollback()
            else:
                apply_diff(session, clock, key, source, scope_id, report, staged_ok)
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
    whatever the tables held then. A plan made while the register was empty is a sequential
    scan testing every record against a 5,000-element array parameter one element at a time
    (a constant array is hashed), hundreds of times slower than a fresh plan, and it stays
    until autovacuum happens to invalidate it (``bench/results.md``, "Register"). The diff's
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
