"""cases: index for the "recently changed" queue

Revision ID: d81c5e3f0a27
Revises: c4e8f1a2b6d0
Create Date: 2026-11-29 09:00:00.000000

* ``ix_cases_updated_id`` (updated_at, id): the work queue sorted "Recently changed" (newest
  change first) comes in index order; without it every request sorted all cases (32 ms for
  the first page of 100 000 on PostgreSQL, 57 ms for page 300; with it 0.1 ms and 2 ms).
"""
from alembic import op

revision = 'd81c5e3f0a27'
down_revision = 'c4e8f1a2b6d0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_updated_id', 'cases', ['updated_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_updated_id', table_name='cases')
