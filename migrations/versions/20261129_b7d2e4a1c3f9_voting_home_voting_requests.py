"""voting home-voting requests (Art. 19)

Revision ID: b7d2e4a1c3f9
Revises: ee74ceab5923
Create Date: 2026-11-29 14:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import referendum_core.db

revision = 'b7d2e4a1c3f9'
down_revision = 'ee74ceab5923'
branch_labels = None
# The case tables and their latest indexes come first (home-voting requests are cases).
depends_on = None


def upgrade() -> None:
    op.create_table('voting_home_requests',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('referendum_id', sa.Integer(), nullable=False),
    sa.Column('person_ref', sa.String(length=64), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('entered_by_commission', sa.Boolean(), nullable=False),
    sa.Column('requested_at', referendum_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('visited_at', referendum_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_voting_home_requests_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['referendum_id'], ['voting_referendums.id'], name=op.f('fk_voting_home_requests_referendum_id_voting_referendums')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_voting_home_requests'))
    )
    with op.batch_alter_table('voting_home_requests', schema=None) as batch_op:
        batch_op.create_index('ix_voting_home_requests_ref_person', ['referendum_id', 'person_ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('voting_home_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_voting_home_requests_ref_person')
    op.drop_table('voting_home_requests')
