"""voting: online voters counted as ballots are cast

Revision ID: e5a7c2d9b134
Revises: 7b3e9c41d2f6
Create Date: 2026-11-29 09:20:00.000000

* ``voting_referendums.online_voters``: the number of distinct aliases on the board, advanced
  in the cast's own statement. Live turnout (pushed every second, fetched by every page that
  follows it) read ``count(DISTINCT alias)`` over the whole board each time: a full index scan
  per push and per viewer, growing with the election. Existing boards are counted once here.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e5a7c2d9b134'
down_revision = '7b3e9c41d2f6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('voting_referendums') as batch:
        batch.add_column(sa.Column('online_voters', sa.Integer(), server_default='0',
                                   nullable=False))
    op.execute("UPDATE voting_referendums SET online_voters = (SELECT count(DISTINCT alias) "
               "FROM voting_board WHERE voting_board.referendum_id = voting_referendums.id)")


def downgrade() -> None:
    with op.batch_alter_table('voting_referendums') as batch:
        batch.drop_column('online_voters')
