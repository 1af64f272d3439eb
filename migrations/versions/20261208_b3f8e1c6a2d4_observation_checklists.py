"""observers' checklists and submissions, append-only

Revision ID: b3f8e1c6a2d4
Revises: f3c8a1d5e7b2
Create Date: 2026-12-08 10:00:00.000000

* ``observer_submissions``: what an observer's phone sent, once per idempotency key;
* ``checklist_photos``, ``checklist_answers``: answers to checklist items, a correction
  pointing to the answer it corrects;
* ``checklist_pins``: the checklist version of each referendum;
* triggers refusing any ``UPDATE`` of these tables and of ``case_observer_reports`` (what an
  observer sent is corrected by appending, never rewritten).
"""
import sqlalchemy as sa
from alembic import op

from referendum_core.db import UTCDateTime

revision = 'b3f8e1c6a2d4'
down_revision = 'f3c8a1d5e7b2'
branch_labels = None
depends_on = None

APPEND_ONLY = ('observer_submissions', 'checklist_answers', 'checklist_photos',
               'case_observer_reports')


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'))


def upgrade() -> None:
    op.create_table(
        'observer_submissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('observer_id', sa.Integer(), nullable=False),
        sa.Column('client_key', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('referendum_id', sa.Integer(), nullable=False),
        sa.Column('polling_station_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('corrects_case_id', sa.Integer(), nullable=True),
        sa.Column('filled_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('received_at', UTCDateTime(timezone=True), nullable=False),
        _fk('observer_submissions', 'observer_id', 'users'),
        _fk('observer_submissions', 'referendum_id', 'voting_referendums'),
        _fk('observer_submissions', 'polling_station_id', 'polling_stations'),
        _fk('observer_submissions', 'case_id', 'cases'),
        _fk('observer_submissions', 'corrects_case_id', 'cases'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_observer_submissions')),
        sa.UniqueConstraint('observer_id', 'client_key',
                            name=op.f('uq_observer_submissions_observer_id_client_key')),
        sa.UniqueConstraint('case_id', name=op.f('uq_observer_submissions_case_id')),
        sa.UniqueConstraint('corrects_case_id',
                            name=op.f('uq_observer_submissions_corrects_case_id')),
    )
    for column in ('observer_id', 'referendum_id', 'polling_station_id', 'received_at'):
        op.create_index(op.f(f'ix_observer_submissions_{column}'), 'observer_submissions',
                        [column])
    op.create_table(
        'checklist_photos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('observer_id', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('uploaded_at', UTCDateTime(timezone=True), nullable=False),
        _fk('checklist_photos', 'observer_id', 'users'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_photos')),
    )
    op.create_index(op.f('ix_checklist_photos_observer_id'), 'checklist_photos',
                    ['observer_id'])
    op.create_table(
        'checklist_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('referendum_id', sa.Integer(), nullable=False),
        sa.Column('polling_station_id', sa.Integer(), nullable=False),
        sa.Column('observer_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('item_key', sa.String(length=40), nullable=False),
        sa.Column('value_bool', sa.Boolean(), nullable=True),
        sa.Column('value_number', sa.Integer(), nullable=True),
        sa.Column('photo_id', sa.Integer(), nullable=True),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.Column('received_at', UTCDateTime(timezone=True), nullable=False),
        _fk('checklist_answers', 'submission_id', 'observer_submissions'),
        _fk('checklist_answers', 'referendum_id', 'voting_referendums'),
        _fk('checklist_answers', 'polling_station_id', 'polling_stations'),
        _fk('checklist_answers', 'observer_id', 'users'),
        _fk('checklist_answers', 'photo_id', 'checklist_photos'),
        _fk('checklist_answers', 'corrects_id', 'checklist_answers'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_answers')),
        sa.UniqueConstraint('corrects_id', name=op.f('uq_checklist_answers_corrects_id')),
    )
    op.create_index(op.f('ix_checklist_answers_submission_id'), 'checklist_answers',
                    ['submission_id'])
    op.create_index('ix_checklist_answers_station', 'checklist_answers',
                    ['referendum_id', 'polling_station_id', 'item_key'])
    op.create_table(
        'checklist_pins',
        sa.Column('referendum_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('pinned_at', UTCDateTime(timezone=True), nullable=False),
        _fk('checklist_pins', 'referendum_id', 'voting_referendums'),
        sa.PrimaryKeyConstraint('referendum_id', name=op.f('pk_checklist_pins')),
    )
    _append_only_triggers()


def _append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("""
            CREATE FUNCTION refuse_update_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'rows of % are append-only', TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation';
            END
            $$ LANGUAGE plpgsql""")
        for table in APPEND_ONLY:
            op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} '
                       'FOR EACH ROW EXECUTE FUNCTION refuse_update_append_only()')
    elif dialect == 'sqlite':
        for table in APPEND_ONLY:
            op.execute(f'CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} '
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only'); END")


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only'
                   + (f' ON {table}' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS refuse_update_append_only()')
    op.drop_table('checklist_pins')
    op.drop_index('ix_checklist_answers_station', table_name='checklist_answers')
    op.drop_index(op.f('ix_checklist_answers_submission_id'), table_name='checklist_answers')
    op.drop_table('checklist_answers')
    op.drop_index(op.f('ix_checklist_photos_observer_id'), table_name='checklist_photos')
    op.drop_table('checklist_photos')
    for column in ('observer_id', 'referendum_id', 'polling_station_id', 'received_at'):
        op.drop_index(op.f(f'ix_observer_submissions_{column}'),
                      table_name='observer_submissions')
    op.drop_table('observer_submissions')
