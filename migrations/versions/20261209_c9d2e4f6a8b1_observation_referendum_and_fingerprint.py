"""observer reports belong to a referendum; submissions keep a digest of what was sent;
accreditations can be revoked

Revision ID: c9d2e4f6a8b1
Revises: b3f8e1c6a2d4
Create Date: 2026-12-09 10:00:00.000000

* ``case_observer_reports.referendum_id``: the referendum a report belongs to, filled for the
  reports already received from the observer app from their submission (the append-only
  trigger is lifted for that one statement and put back);
* ``observer_submissions.payload_sha256``: the digest of what was sent under the key;
* ``observer_accreditations.revoked_at``: when an approved accreditation was revoked.
"""
import sqlalchemy as sa
from alembic import op

from referendum_core.db import UTCDateTime

revision = 'c9d2e4f6a8b1'
down_revision = 'b3f8e1c6a2d4'
branch_labels = None
depends_on = None

REPORTS = 'case_observer_reports'


def _trigger(create: bool) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(f'ALTER TABLE {REPORTS} {"ENABLE" if create else "DISABLE"} TRIGGER '
                   f'{REPORTS}_append_only')
    elif dialect == 'sqlite':
        if create:
            op.execute(f'CREATE TRIGGER {REPORTS}_append_only BEFORE UPDATE ON {REPORTS} '
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {REPORTS} are append-only'); END")
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {REPORTS}_append_only')


def upgrade() -> None:
    with op.batch_alter_table(REPORTS) as batch:
        batch.add_column(sa.Column('referendum_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f(f'fk_{REPORTS}_referendum_id_voting_referendums'),
                                 'voting_referendums', ['referendum_id'], ['id'])
        batch.create_index(op.f(f'ix_{REPORTS}_referendum_id'), ['referendum_id'])
    _trigger(False)
    op.execute(f'UPDATE {REPORTS} SET referendum_id = (SELECT s.referendum_id FROM '
               f'observer_submissions s WHERE s.case_id = {REPORTS}.case_id)')
    _trigger(True)
    with op.batch_alter_table('observer_submissions') as batch:
        batch.add_column(sa.Column('payload_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('observer_accreditations') as batch:
        batch.add_column(sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('observer_accreditations') as batch:
        batch.drop_column('revoked_at')
    with op.batch_alter_table('observer_submissions') as batch:
        batch.drop_column('payload_sha256')
    with op.batch_alter_table(REPORTS) as batch:
        batch.drop_index(op.f(f'ix_{REPORTS}_referendum_id'))
        batch.drop_constraint(op.f(f'fk_{REPORTS}_referendum_id_voting_referendums'),
                              type_='foreignkey')
        batch.drop_column('referendum_id')
    _trigger(False)  # SQLite rebuilt the table without it
    _trigger(True)
