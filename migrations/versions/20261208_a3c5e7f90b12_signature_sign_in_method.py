"""how an online signer signed in: identity provider, method and level of assurance

Revision ID: a3c5e7f90b12
Revises: d4a1f7c2e9b8
Create Date: 2026-12-08 10:00:00.000000

* ``initiative_signatures.auth_provider``, ``auth_method``, ``auth_level``: the identity
  provider the voter signed in with (e.g. ``latvija``, ``eidas``, ``otp``), the method it
  reported (eParaksts Mobile, Smart-ID, eID card, a bank) and the eIDAS level of assurance.
  Empty for in-person signatures and for signatures given before this revision.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a3c5e7f90b12'
down_revision = 'd4a1f7c2e9b8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('initiative_signatures') as batch:
        batch.add_column(sa.Column('auth_provider', sa.String(length=30), nullable=True))
        batch.add_column(sa.Column('auth_method', sa.String(length=60), nullable=True))
        batch.add_column(sa.Column('auth_level', sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('initiative_signatures') as batch:
        batch.drop_column('auth_level')
        batch.drop_column('auth_method')
        batch.drop_column('auth_provider')
