"""law: the council's decision on an initiative, the day a referendum was decided

Revision ID: b71e4c9a0d52
Revises: 5e7a1c0d9b42
Create Date: 2026-12-07 09:00:00.000000

* ``initiatives.council_decided_on`` / ``council_decision_number``: the council's own decision
  to hold a referendum (Art. 8(2)), recorded with the votes for out of all councillors.
* ``initiatives.apply_due_on`` / ``applied_at``: the organiser's application to the election
  commission within 3 working days (Art. 11(2)); the check's 20 working days run from it.
* ``initiatives.referendum_decided_on``: the day the referendum was decided; the 4-month limit
  (Art. 13(4)) and the voter list (Art. 7(2)) count from it; ``referendum_same_day``: the day
  of a referendum already scheduled that this one joins (Art. 13(5)).
"""
import sqlalchemy as sa
from alembic import op

import referendum_core.db

revision = 'b71e4c9a0d52'
down_revision = '5e7a1c0d9b42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('initiatives') as batch:
        batch.add_column(sa.Column('council_decided_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('council_decision_number', sa.String(length=40),
                                   nullable=True))
        batch.add_column(sa.Column('referendum_decided_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('referendum_same_day', sa.Date(), nullable=True))
        batch.add_column(sa.Column('apply_due_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('applied_at', referendum_core.db.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('initiatives') as batch:
        batch.drop_column('applied_at')
        batch.drop_column('apply_due_on')
        batch.drop_column('referendum_same_day')
        batch.drop_column('referendum_decided_on')
        batch.drop_column('council_decision_number')
        batch.drop_column('council_decided_on')
