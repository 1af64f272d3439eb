"""signature ids are never given again (SQLite)

Revision ID: d4e6f8a0b2c3
Revises: c9d2e4f6a8b1
Create Date: 2026-12-09 12:00:00.000000

* ``initiative_signatures`` is rebuilt on SQLite with ``AUTOINCREMENT``: a withdrawn
  signature's row is deleted, and without it SQLite gave the next signature the same id, so
  the audit log named two signatures by one id. The copied rows keep their ids and set the
  table's sequence past the largest. PostgreSQL's sequence never goes back: nothing to do.
"""
from alembic import op

revision = 'd4e6f8a0b2c3'
down_revision = 'c9d2e4f6a8b1'
branch_labels = None
depends_on = None

TABLE = 'initiative_signatures'


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.batch_alter_table(TABLE, recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
