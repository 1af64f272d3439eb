"""Applying the staged diff to the register set-based (update changed, remove missing, insert
new), planned with fresh statistics."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from referendum_core.clock import Clock
from referendum_core.db import UPSERT_INSERTS, UTCDateTime
from referendum_core.register import LandOwnerRecord, PersonRecord
from referendum_core.register_import.models import ImportReport, RegisterSource, StagedRow


def refresh_statistics(session: Session, source: RegisterSource) -> None:
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


@contextmanager
def _index_scans_only(conn: Connection) -> Iterator[None]:
    """PostgreSQL plans the next statements without sequential scans where an index serves
    (transaction-local, restored afterwards); other databases as usual."""
    if conn.dialect.name != "postgresql":
        yield
        return
    previous = conn.execute(select(func.current_setting("enable_seqscan"))).scalar()
    conn.execute(select(func.set_config("enable_seqscan", "off", True)))
    yield
    conn.execute(select(func.set_config("enable_seqscan", previous, True)))


def apply_diff(session: Session, clock: Clock, key: str, source: RegisterSource,
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
    # New records. ON CONFLICT keeps a record another import added meanwhile. On PostgreSQL the
    # staged people the register already holds are left out by an anti-join first (probing the
    # unique index for each of them is most of a re-import's insert), joined through the
    # register's index: a nested loop over a sequential scan would read the whole register once
    # per staged row while the statement makes it grow (an empty register is estimated empty,
    # as at a first import: 100,000 rows took minutes instead of seconds that way).
    new_rows = select(*picked).where(*ok)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        new_rows = new_rows.where(~exists().where(*same))
    if dialect in UPSERT_INSERTS:
        statement: Any = (UPSERT_INSERTS[dialect](target).from_select(cols, new_rows)
                          .on_conflict_do_nothing(index_elements=[c.name for c in same_cols]))
    else:
        statement = insert(target).from_select(cols, new_rows.where(~exists().where(*same)))
    with _index_scans_only(conn):
        inserted = conn.execute(statement.execution_options(preserve_rowcount=True))
    report.inserted = max(inserted.rowcount or 0, 0)
    report.unchanged = ok_count - report.inserted - report.updated
    session.expire_all()
