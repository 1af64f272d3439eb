"""the key generation's deadline of each round and the reminders sent before them

Revision ID: f3c8a1d5e7b2
Revises: b7e3c1a9d5f2
Create Date: 2026-12-08 09:00:00.000000

* ``voting_referendums.dkg_commit_by`` … ``dkg_check_by``: the deadlines of the commit, reveal,
  shares and check rounds (``dkg_ends_at`` stays the last, the answers');
* ``voting_dkg_reminders``: one row per trustee, round and lead time, so each reminder before a
  deadline goes out once.
"""
import sqlalchemy as sa
from alembic import op

from referendum_core.db import UTCDateTime

revision = 'f3c8a1d5e7b2'
down_revision = 'b7e3c1a9d5f2'
branch_labels = None
depends_on = None

COLUMNS = ('dkg_commit_by', 'dkg_reveal_by', 'dkg_shares_by', 'dkg_check_by')


def upgrade() -> None:
    with op.batch_alter_table('voting_referendums') as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'voting_dkg_reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referendum_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.String(length=12), nullable=False),
        sa.Column('lead', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('deadline', UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['referendum_id'], ['voting_referendums.id'],
                                name=op.f('fk_voting_dkg_reminders_referendum_id_voting_referendums')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_dkg_reminders')),
        sa.UniqueConstraint('referendum_id', 'round', 'lead', 'position',
                            name=op.f('uq_voting_dkg_reminders_referendum_id_round_lead_position')),
    )


def downgrade() -> None:
    op.drop_table('voting_dkg_reminders')
    with op.batch_alter_table('voting_referendums') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
