"""memberships.case_id references cases (observer accredited to one referendum)

Revision ID: c4e8f1a2b6d0
Revises: b7d2e4a1c3f9
Create Date: 2026-11-29 15:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e8f1a2b6d0'
# After the latest voting revision, which itself comes after the latest cases revision.
down_revision = 'b7d2e4a1c3f9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An accreditation to a referendum that does not exist grants nothing today (no case has
    # that id); drop such rows rather than nulling case_id, which would widen the scope.
    op.execute(sa.text(
        "DELETE FROM memberships WHERE case_id IS NOT NULL "
        "AND case_id NOT IN (SELECT id FROM cases)"))
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_memberships_case_id_cases'), 'cases',
                                    ['case_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_memberships_case_id_cases'), type_='foreignkey')
