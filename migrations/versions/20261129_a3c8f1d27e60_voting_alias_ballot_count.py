"""voting: each alias counts its ballots on the board

Revision ID: a3c8f1d27e60
Revises: e5a7c2d9b134
Create Date: 2026-11-29 15:00:00.000000

* ``voting_aliases.ballots``: advanced by the cast's own statement, which on PostgreSQL now also
  takes the board's lock and computes its head (one statement instead of a locking read and a
  write). "First ballot of this alias" (a new online voter) was an ``EXISTS`` over the board,
  read in the statement's snapshot: right only while the board was locked before the statement
  began. An ``UPDATE`` of the alias row re-reads the newest row version when it has to wait
  for another cast of the same voter, so the count stays right without the earlier lock.
  Existing boards are counted once here.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a3c8f1d27e60'
down_revision = 'e5a7c2d9b134'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('voting_aliases') as batch:
        batch.add_column(sa.Column('ballots', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE voting_aliases SET ballots = (SELECT count(*) FROM voting_board "
               "WHERE voting_board.referendum_id = voting_aliases.referendum_id "
               "AND voting_board.alias = voting_aliases.alias)")


def downgrade() -> None:
    with op.batch_alter_table('voting_aliases') as batch:
        batch.drop_column('ballots')
