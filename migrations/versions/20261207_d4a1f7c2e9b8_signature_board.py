"""the public signature board of each initiative

Revision ID: d4a1f7c2e9b8
Revises: e4b1d9a6c2f7
Create Date: 2026-12-07 10:00:00.000000

* ``signature_board_entries``: receipts of signatures and exclusions, pending (``seq`` null)
  until their batch is published on the initiative's hash chain
  (``docs/spec/signature-board.md``).
"""
import sqlalchemy as sa
from alembic import op

from referendum_core.db import UTCDateTime

revision = 'd4a1f7c2e9b8'
down_revision = 'e4b1d9a6c2f7'
branch_labels = None
depends_on = None

TABLE = 'signature_board_entries'


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('initiative_id', sa.Integer(), nullable=False),
        sa.Column('signature_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('receipt', sa.String(length=64), nullable=False),
        sa.Column('method', sa.String(length=12), nullable=True),
        sa.Column('day', sa.String(length=10), nullable=True),
        sa.Column('reason', sa.String(length=20), nullable=True),
        sa.Column('seq', sa.Integer(), nullable=True),
        sa.Column('entry_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('published_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['initiative_id'], ['initiatives.id'],
                                name=op.f('fk_signature_board_entries_initiative_id_initiatives'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signature_id'], ['initiative_signatures.id'],
                                name=op.f('fk_signature_board_entries_signature_id_initiative_signatures'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signature_board_entries')),
        sa.UniqueConstraint('initiative_id', 'seq',
                            name=op.f('uq_signature_board_entries_initiative_id_seq')),
        sa.UniqueConstraint('initiative_id', 'kind', 'receipt',
                            name=op.f('uq_signature_board_entries_initiative_id_kind_receipt')),
    )
    for column in ('initiative_id', 'signature_id', 'receipt'):
        op.create_index(op.f(f'ix_{TABLE}_{column}'), TABLE, [column], unique=False)


def downgrade() -> None:
    for column in ('initiative_id', 'signature_id', 'receipt'):
        op.drop_index(op.f(f'ix_{TABLE}_{column}'), table_name=TABLE)
    op.drop_table(TABLE)
