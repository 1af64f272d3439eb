"""the issued decisions of the commission's signature checks

Revision ID: b7e3c1a9d5f2
Revises: a7c3e5f1b2d9
Create Date: 2026-12-08 10:00:00.000000

* ``initiative_check_decisions``: the Art. 13 decision as issued, a PDF signed with PAdES by
  the commission, and the portal's detached OpenPGP signature of it.
"""
import sqlalchemy as sa
from alembic import op

from referendum_core.db import UTCDateTime

revision = 'b7e3c1a9d5f2'
down_revision = 'a7c3e5f1b2d9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'initiative_check_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('initiative_id', sa.Integer(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.Column('pgp_signature', sa.Text(), nullable=False),
        sa.Column('issued_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['initiative_id'], ['initiatives.id'],
            name=op.f('fk_initiative_check_decisions_initiative_id_initiatives'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_initiative_check_decisions')),
        sa.UniqueConstraint('initiative_id',
                            name=op.f('uq_initiative_check_decisions_initiative_id')),
    )


def downgrade() -> None:
    op.drop_table('initiative_check_decisions')
