"""cases: composite indexes for deadline-sorted / open / overdue queues and the dashboard

Revision ID: 563abfe3db9a
Revises: fdd4db87aea7
Create Date: 2026-11-29 07:00:00.000000

* ``ix_cases_type_open_deadline`` (type, is_open, deadline_at IS NULL, deadline_at, id): a
  type's open cases in deadline order (no deadline last) straight from the index, so the page
  needs no sort of every matching row; the expression matches the queue's ORDER BY.
* ``ix_cases_open_opened`` (is_open, opened_at, id, deadline_at): open and overdue queues newest
  or oldest first; ``deadline_at`` is in the index so the overdue test needs no row lookup.
* ``ix_case_events_kind_case_at`` (kind, case_id, at, deadline_at) replaces
  ``ix_case_events_kind_case``: the service-level figures join "opened"/"closed" events by
  kind and case and read only ``at``/``deadline_at``, all from the index.
"""
import sqlalchemy as sa
from alembic import op

revision = '563abfe3db9a'
down_revision = 'fdd4db87aea7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_type_open_deadline', 'cases',
                    ['type', 'is_open', sa.text('(deadline_at IS NULL)'), 'deadline_at', 'id'],
                    unique=False)
    op.create_index('ix_cases_open_opened', 'cases', ['is_open', 'opened_at', 'id', 'deadline_at'],
                    unique=False)
    op.create_index('ix_case_events_kind_case_at', 'case_events',
                    ['kind', 'case_id', 'at', 'deadline_at'], unique=False)
    op.drop_index('ix_case_events_kind_case', table_name='case_events')


def downgrade() -> None:
    op.create_index('ix_case_events_kind_case', 'case_events', ['kind', 'case_id'], unique=False)
    op.drop_index('ix_case_events_kind_case_at', table_name='case_events')
    op.drop_index('ix_cases_open_opened', table_name='cases')
    op.drop_index('ix_cases_type_open_deadline', table_name='cases')
