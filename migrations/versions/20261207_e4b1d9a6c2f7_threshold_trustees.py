"""t-of-n trustees: the threshold and the key generation's transcript

Revision ID: e4b1d9a6c2f7
Revises: b71e4c9a0d52
Create Date: 2026-12-07 09:40:00.000000

* ``voting_referendums.threshold``: t of the t-of-n trustees (``docs/spec/threshold-trustees.md``);
* ``voting_referendums.dkg_transcript``: the distributed key generation's published messages;
* ``voting_referendums.dkg_ends_at``: its last deadline.
"""
import sqlalchemy as sa
from alembic import op

from referendum_core.db import UTCDateTime

revision = 'e4b1d9a6c2f7'
down_revision = 'b71e4c9a0d52'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('voting_referendums') as batch:
        batch.add_column(sa.Column('threshold', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('dkg_transcript', sa.Text(), nullable=True))
        batch.add_column(sa.Column('dkg_ends_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('voting_referendums') as batch:
        batch.drop_column('dkg_ends_at')
        batch.drop_column('dkg_transcript')
        batch.drop_column('threshold')
