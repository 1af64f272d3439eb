"""memberships: the internet polling-station commission's own roles

Revision ID: b885d4a0593a
Revises: a3c8f1d27e60
Create Date: 2026-12-07 09:00:00.000000

* Members of the internet polling-station commission held the municipal commission roles
  (``commission_chair`` / ``commission_member``) with no municipality, which the permission
  check read as "every municipality". They now hold ``internet_commission_chair`` /
  ``internet_commission_member``, which grant only the trustee's work (Art. 20(4)-(6)).
  Existing memberships move to the matching new role; the mapping is one to one, so the
  memberships' unique constraint cannot be hit.
"""
import sqlalchemy as sa
from alembic import op

revision = 'b885d4a0593a'
down_revision = 'a3c8f1d27e60'
branch_labels = None
depends_on = None

_INTERNET = "SELECT id FROM commissions WHERE kind = 'internet'"
_RENAMES = (("commission_chair", "internet_commission_chair"),
            ("commission_member", "internet_commission_member"))


def _rename(old: str, new: str) -> None:
    op.execute(sa.text(
        f"UPDATE memberships SET role = :new WHERE role = :old "  # noqa: S608 - constant SQL
        f"AND commission_id IN ({_INTERNET})").bindparams(old=old, new=new))


def upgrade() -> None:
    for old, new in _RENAMES:
        _rename(old, new)


def downgrade() -> None:
    for old, new in _RENAMES:
        _rename(new, old)
