"""accounts: single-use invitations; failed sign-ins counted for notices, no lock

Revision ID: b7d2e4f91c38
Revises: b7e2d4f9a1c3
Create Date: 2026-12-07 09:00:00.000000

* ``invitations``: activation links (keyed hash of the token, expiry, use).
* ``users.locked_until`` goes: a stranger could lock an official out by failing on purpose.
  Sign-in is throttled per account and address instead; ``users.last_failed_login_at`` dates
  the failures the person is told about.
"""
import sqlalchemy as sa
from alembic import op

import referendum_core.db

revision = 'b7d2e4f91c38'
down_revision = 'b7e2d4f9a1c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', referendum_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', referendum_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', referendum_core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_invitations_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_invitations_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash')),
    )
    with op.batch_alter_table('invitations') as batch:
        batch.create_index('ix_invitations_user_id', ['user_id'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('last_failed_login_at', referendum_core.db.UTCDateTime(timezone=True), nullable=True))
        batch.drop_column('locked_until')


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('locked_until', referendum_core.db.UTCDateTime(timezone=True), nullable=True))
        batch.drop_column('last_failed_login_at')
    with op.batch_alter_table('invitations') as batch:
        batch.drop_index('ix_invitations_user_id')
    op.drop_table('invitations')
