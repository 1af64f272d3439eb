"""Read-only look-ups of people and commissions.

``messaging`` may not import the portal, so it reads the ``users``, ``memberships`` and
``commissions`` tables through SQLAlchemy Core (``Base.metadata``) instead of the portal's
classes. Actors handed in by callers are the portal's ``User`` objects, used by duck typing
(``id``, ``memberships``, ``person_ref``, ``is_active``, ``audit_label``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, and_, or_, select, union
from sqlalchemy.orm import Session

from referendum_core.db import Base
from referendum_core.organisation import Commission, CommissionKind

CVK_ADMIN = "cvk_admin"
CVK_OFFICER = "cvk_officer"
COMMISSION_CHAIR = "commission_chair"
COMMISSION_MEMBER = "commission_member"
OBSERVER = "observer"
CVK_ROLES = frozenset({CVK_ADMIN, CVK_OFFICER})
COMMISSION_ROLES = frozenset({COMMISSION_CHAIR, COMMISSION_MEMBER})


def _table(name: str) -> Table:
    try:
        return Base.metadata.tables[name]
    except KeyError as exc:  # pragma: no cover - only when the portal's models are not loaded
        raise RuntimeError(f"table {name!r} is not mapped; import the account models first") from exc


@dataclass(frozen=True)
class Person:
    """What messaging needs to know about a user."""

    id: int
    email: str | None
    display_name: str
    locale: str
    is_active: bool
    pgp_public_key: str | None
    pgp_fingerprint: str | None


def person(session: Session, user_id: int) -> Person | None:
    """The user ``user_id`` or None."""
    users = _table("users")
    row = session.execute(select(
        users.c.id, users.c.email, users.c.display_name, users.c.locale, users.c.is_active,
        users.c.pgp_public_key, users.c.pgp_fingerprint).where(users.c.id == user_id)).first()
    return Person(*row) if row else None


def people(session: Session, user_ids: Iterable[int]) -> dict[int, Person]:
    """Several users by id."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    users = _table("users")
    rows = session.execute(select(
        users.c.id, users.c.email, users.c.display_name, users.c.locale, users.c.is_active,
        users.c.pgp_public_key, users.c.pgp_fingerprint).where(users.c.id.in_(ids))).all()
    return {row[0]: Person(*row) for row in rows}


def user_id_by_email(session: Session, email: str) -> int | None:
    """The id of the active user with this e-mail address (case-insensitive)."""
    users = _table("users")
    return session.execute(select(users.c.id).where(
        users.c.email == email.strip().lower(), users.c.is_active.is_(True))).scalar()


def readers_select(participants: Table, thread_id: Any) -> Select[tuple[int]]:
    """The ids of the active users who read the thread ``thread_id`` (a value or a
    ``bindparam``), in one statement however many groups take part: the persons among its
    ``participants`` rows (the ``thread_participants`` table, handed in because this module
    knows people, not threads) and the members of its groups — every role of the commission,
    or the group's one role. CVK administrators are never members of a group: they read a
    thread only when added in person (which is audited)."""
    memberships, users = _table("memberships"), _table("users")
    persons = select(participants.c.user_id).where(participants.c.thread_id == thread_id,
                                                   participants.c.user_id.is_not(None))
    members = (
        select(memberships.c.user_id)
        .join(participants, and_(participants.c.commission_id == memberships.c.commission_id,
                                 or_(participants.c.role.is_(None),
                                     participants.c.role == memberships.c.role)))
        .where(participants.c.thread_id == thread_id, participants.c.user_id.is_(None),
               memberships.c.role != CVK_ADMIN))
    return select(users.c.id).where(users.c.is_active.is_(True),
                                    users.c.id.in_(union(persons, members)))


def users_table() -> Table:
    """The ``users`` table (for statements built on ``readers_select``)."""
    return _table("users")


def cvk_commission(session: Session) -> Commission:
    """The Central Election Commission's row."""
    return session.scalars(select(Commission).where(Commission.kind == CommissionKind.CVK)).one()


def municipal_commission(session: Session, municipality_id: int) -> Commission | None:
    """The municipal election commission of a municipality."""
    return session.scalars(select(Commission).where(
        Commission.kind == CommissionKind.MUNICIPAL,
        Commission.municipality_id == municipality_id)).first()


def membership_groups(user: Any) -> list[tuple[int, str]]:
    """(commission id, role) of every commission membership of ``user`` except CVK admin ones."""
    return [(m.commission_id, str(m.role)) for m in getattr(user, "memberships", ())
            if m.commission_id is not None and str(m.role) != CVK_ADMIN]


def participant_clause(participant_table: Any, user: Any) -> Any:
    """A WHERE clause selecting the participant rows that include ``user``."""
    clauses = [participant_table.user_id == user.id]
    for commission_id, role in membership_groups(user):
        clauses.append(and_(participant_table.commission_id == commission_id,
                            or_(participant_table.role.is_(None),
                                participant_table.role == role)))
    return or_(*clauses)
