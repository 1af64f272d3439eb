"""observer accreditation: observers named for polling stations, memberships limited in time

Revision ID: a7c3e5f1b2d9
Revises: a3c5e7f90b12
Create Date: 2026-12-08 10:00:00.000000

* ``observer_accreditations``: one observer at one polling station of one referendum, in an
  accreditation case; an initiator's observer holds slot 1 or 2 at the station (Art. 18(3)).
* ``memberships.starts_at`` / ``ends_at``: an accredited observer's rights run through the
  referendum's days only.
"""
import sqlalchemy as sa
from alembic import op

from referendum_core.db import UTCDateTime

revision = 'a7c3e5f1b2d9'
down_revision = 'a3c5e7f90b12'
branch_labels = None
depends_on = None

TABLE = 'observer_accreditations'


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('referendum_id', sa.Integer(), nullable=False),
        sa.Column('polling_station_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('initiative_id', sa.Integer(), nullable=True),
        sa.Column('slot', sa.Integer(), nullable=True),
        sa.Column('full_name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('organisation', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('starts_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('ends_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('requested_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_observer_accreditations_case_id_cases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['referendum_id'], ['voting_referendums.id'],
                                name=op.f('fk_observer_accreditations_referendum_id_voting_referendums')),
        sa.ForeignKeyConstraint(['polling_station_id'], ['polling_stations.id'],
                                name=op.f('fk_observer_accreditations_polling_station_id_polling_stations')),
        sa.ForeignKeyConstraint(['initiative_id'], ['initiatives.id'],
                                name=op.f('fk_observer_accreditations_initiative_id_initiatives')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_observer_accreditations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_observer_accreditations')),
        sa.UniqueConstraint('referendum_id', 'polling_station_id', 'initiative_id', 'slot',
                            name='uq_observer_accreditations_station_slot'),
    )
    op.create_index(op.f('ix_observer_accreditations_case_id'), TABLE, ['case_id'], unique=False)
    op.create_index(op.f('ix_observer_accreditations_user_id'), TABLE, ['user_id'], unique=False)
    op.create_index('ix_observer_accreditations_referendum_station_status', TABLE,
                    ['referendum_id', 'polling_station_id', 'status'], unique=False)
    with op.batch_alter_table('memberships') as batch:
        batch.add_column(sa.Column('starts_at', UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('ends_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('memberships') as batch:
        batch.drop_column('ends_at')
        batch.drop_column('starts_at')
    op.drop_index('ix_observer_accreditations_referendum_station_status', table_name=TABLE)
    op.drop_index(op.f('ix_observer_accreditations_user_id'), table_name=TABLE)
    op.drop_index(op.f('ix_observer_accreditations_case_id'), table_name=TABLE)
    op.drop_table(TABLE)
