"""accounts: sessions ended by signing out

Revision ID: b7e2d4f9a1c3
Revises: c7e2a9d41f03
Create Date: 2026-12-07 09:00:00.000000

* ``ended_sessions``: the hash of each signed-out session's id, so that a copy of its cookie no
  longer signs anyone in; rows older than the session lifetime can be deleted.
"""
import sqlalchemy as sa
from alembic import op

import referendum_core.db

revision = 'b7e2d4f9a1c3'
down_revision = 'c7e2a9d41f03'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ended_sessions',
        sa.Column('sid_hash', sa.String(length=64), nullable=False),
        sa.Column('ended_at', referendum_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sid_hash', name=op.f('pk_ended_sessions')),
    )
    op.create_index(op.f('ix_ended_sessions_ended_at'), 'ended_sessions', ['ended_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ended_sessions_ended_at'), table_name='ended_sessions')
    op.drop_table('ended_sessions')
