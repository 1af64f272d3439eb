"""signed checkpoints of the audit log and the bulletin boards

Revision ID: c7e2a9d41f03
Revises: b885d4a0593a
Create Date: 2026-12-07 09:00:00.000000

* ``signed_checkpoints``: the database's copy of every checkpoint the portal signed
  (``docs/spec/checkpoints.md``), for the pages; the signing key is never stored.
"""
import sqlalchemy as sa
from alembic import op

from referendum_core.db import UTCDateTime

revision = 'c7e2a9d41f03'
down_revision = 'b885d4a0593a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'signed_checkpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('log', sa.String(length=120), nullable=False),
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('head', sa.String(length=64), nullable=False),
        sa.Column('at', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('signature', sa.String(length=128), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signed_checkpoints')),
        sa.UniqueConstraint('signature', name=op.f('uq_signed_checkpoints_signature')),
    )
    op.create_index(op.f('ix_signed_checkpoints_log'), 'signed_checkpoints', ['log'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_signed_checkpoints_log'), table_name='signed_checkpoints')
    op.drop_table('signed_checkpoints')
