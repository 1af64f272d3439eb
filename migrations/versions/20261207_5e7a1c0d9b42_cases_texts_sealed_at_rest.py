"""cases: the texts people type are sealed at rest

Revision ID: 5e7a1c0d9b42
Revises: b7d2e4f91c38
Create Date: 2026-12-07 09:00:00.000000

Case titles and summaries, timeline notes (comments, reasons of transitions and deadline
changes, message excerpts), observer reports' descriptions, what a complaint contests, case
photos, home-voting addresses and reasons, and initiatives' questions and reasons become
AES-256-GCM sealed bytes (``referendum_core.sealing``, version 1) under the column key derived
from ``DATA_KEY``; the rows already there are sealed here. Numbers, states, dates and
municipalities stay plain.

The key is ``DATA_KEY`` read as the portal reads it (``portal.config.from_env``: the
environment, else the development secret under ``instance/``), so this must run with the
servers' ``DATA_KEY``. The derivation, the associated data and the serialisation are written
out here as they were when this revision was made, so later changes to the code cannot change
what it does.

SQLite cannot change a column's type in place, and rebuilding ``cases`` would lose its
expression indexes (and, with foreign keys on, dropping the old table would cascade into the
timeline): there each column is added anew, filled, the old one dropped and the new one given
its name. SQLite requires a default on an added NOT NULL column, so those keep ``DEFAULT x''``
(the empty value, which is also how a blank text is stored).
"""
import os

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

revision = '5e7a1c0d9b42'
down_revision = 'b7d2e4f91c38'
branch_labels = None
depends_on = None

# (table, primary key, column, type before this revision)
TEXTS = (
    ('cases', 'id', 'title', 'VARCHAR(200)'),
    ('cases', 'id', 'summary', 'TEXT'),
    ('case_events', 'id', 'note', 'TEXT'),
    ('case_observer_reports', 'case_id', 'description', 'TEXT'),
    ('case_complaints', 'case_id', 'contested', 'VARCHAR(300)'),
    ('voting_home_requests', 'case_id', 'address', 'TEXT'),
    ('voting_home_requests', 'case_id', 'reason', 'TEXT'),
    ('initiatives', 'id', 'question', 'TEXT'),
    ('initiatives', 'id', 'reasons', 'TEXT'),
)
BLOBS = (('case_photos', 'id', 'data'),)
BATCH = 1000
_PURPOSE = b"referendum-portal/sealed-columns/v1"
_VERSION = 1


class _Sealer:
    """The column key, derived the first time a row needs it (an empty database needs none)."""

    def __init__(self) -> None:
        self._aead: AESGCM | None = None

    def _key(self) -> AESGCM:
        if self._aead is None:
            from portal.config import from_env

            data_key = from_env(dict(os.environ)).DATA_KEY
            if not data_key:
                raise RuntimeError("DATA_KEY is not set: case texts cannot be sealed without it")
            key = HKDF(algorithm=SHA256(), length=32, salt=None, info=_PURPOSE).derive(
                data_key.encode())
            self._aead = AESGCM(key)
        return self._aead

    def seal(self, table: str, column: str, plain: bytes) -> bytes:
        if not plain:
            return b""
        nonce = os.urandom(12)
        return bytes([_VERSION]) + nonce + self._key().encrypt(nonce, plain,
                                                               _aad(table, column))

    def open(self, table: str, column: str, sealed: bytes) -> bytes:
        if not sealed:
            return b""
        if sealed[0] != _VERSION:
            raise RuntimeError(f"{table}.{column}: not a version-1 sealed value")
        return self._key().decrypt(sealed[1:13], sealed[13:], _aad(table, column))


def _aad(table: str, column: str) -> bytes:
    return f"referendum-portal/sealed-column/v{_VERSION}|{table}.{column}".encode()


def _rows(conn, table: str, pk: str, column: str):
    """(key, value) of every row, in batches by key (a large timeline is never held whole)."""
    last = None
    while True:
        where, params = (f"WHERE {pk} > :last ", {"last": last}) if last is not None else ("", {})
        batch = conn.execute(sa.text(
            f"SELECT {pk}, {column} FROM {table} {where}ORDER BY {pk} LIMIT {BATCH}"),  # noqa: S608
            params).all()
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


def _update(conn, table: str, pk: str, column: str, values: list) -> None:
    if values:
        conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE {pk} = :k"),  # noqa: S608
                     [{"k": k, "v": v} for k, v in values])


def _rewrite(conn, table: str, pk: str, column: str, new_type: str, transform) -> None:
    """Give ``column`` the type ``new_type`` with every value passed through ``transform``."""
    if conn.dialect.name == "postgresql":
        if new_type == "BLOB":
            using, pg_type = f"convert_to({column}, 'UTF8')", "BYTEA"
        else:
            using, pg_type = f"convert_from({column}, 'UTF8')", new_type
            # Values become UTF-8 before the type changes back to text.
            _fill(conn, table, pk, column, column, transform, to_text=False)
            transform = None
        conn.execute(sa.text(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {pg_type} USING {using}"))
        if transform is not None:
            _fill(conn, table, pk, column, column, transform, to_text=False)
        return
    temporary = f"{column}__rewritten"
    default = "x''" if new_type == "BLOB" else "''"
    conn.execute(sa.text(
        f"ALTER TABLE {table} ADD COLUMN {temporary} {new_type} NOT NULL DEFAULT {default}"))
    _fill(conn, table, pk, column, temporary, transform, to_text=new_type != "BLOB")
    conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    conn.execute(sa.text(f"ALTER TABLE {table} RENAME COLUMN {temporary} TO {column}"))


def _fill(conn, source_table: str, pk: str, source: str, target: str, transform, *,
          to_text: bool) -> None:
    """Write ``transform(value)`` of each row's ``source`` into its ``target`` column."""
    pending = []
    for key, value in _rows(conn, source_table, pk, source):
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value or b"")
        out = transform(raw)
        if (out == raw) if source == target else not out:
            continue  # unchanged, or empty where the new column's default is empty already
        pending.append((key, out.decode("utf-8") if to_text else out))
        if len(pending) >= BATCH:
            _update(conn, source_table, pk, target, pending)
            pending = []
    _update(conn, source_table, pk, target, pending)


def upgrade() -> None:
    conn = op.get_bind()
    sealer = _Sealer()
    for table, pk, column, _old in TEXTS:
        _rewrite(conn, table, pk, column, "BLOB",
                 lambda plain, t=table, c=column: sealer.seal(t, c, plain))
    for table, pk, column in BLOBS:
        _fill(conn, table, pk, column, column,
              lambda plain, t=table, c=column: sealer.seal(t, c, plain), to_text=False)


def downgrade() -> None:
    conn = op.get_bind()
    sealer = _Sealer()
    for table, pk, column in BLOBS:
        _fill(conn, table, pk, column, column,
              lambda sealed, t=table, c=column: sealer.open(t, c, sealed), to_text=False)
    for table, pk, column, old in reversed(TEXTS):
        _rewrite(conn, table, pk, column, old,
                 lambda sealed, t=table, c=column: sealer.open(t, c, sealed))
