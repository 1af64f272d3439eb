"""Loading what the observer pages act on, checked in the same call (401/403/404)."""
from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy.orm import Session

from portal.permissions import Permission, Scope, municipalities_for, require
from portal.realtime import as_id
from referendum_core.cases.models import Case
from referendum_core.observers import ObserverAccreditation
from referendum_core.observers.accreditation import rows_of
from referendum_core.voting.models import Referendum


def scope_of(referendum: Referendum) -> Scope:
    return Scope(referendum.municipality_id, referendum.case_id)


def access_referendum(session: Session, actor: Any, referendum_id: int,
                      permission: Permission) -> Referendum:
    """A referendum ``actor`` holds ``permission`` for (401 signed out, 404 absent, 403 else)."""
    referendum = session.get(Referendum, referendum_id) if as_id(referendum_id) else None
    if referendum is None:
        require(permission, user=actor)
        abort(404)
    require(permission, scope_of(referendum), user=actor)
    return referendum


def access_accreditation(session: Session, actor: Any, case_id: int, permission: Permission,
                         *, referendum_id: int) -> tuple[Referendum, Case]:
    """An accreditation case of a referendum ``actor`` holds ``permission`` for (404 when the
    case is of another referendum or type)."""
    referendum = access_referendum(session, actor, referendum_id, permission)
    case = session.get(Case, case_id) if as_id(case_id) else None
    rows = rows_of(session, case) if case is not None else []
    if case is None or not rows or rows[0].referendum_id != referendum.id:
        abort(404)
    return referendum, case


def station_table_scope(user: Any) -> set[int] | None:
    """Municipalities whose polling stations ``user`` may list (``None``: all, CVK)."""
    require(Permission.VIEW_STATION_TABLE, user=user)
    return municipalities_for(user, Permission.VIEW_STATION_TABLE)


def access_accredited_observer(session: Session, actor: Any, accreditation_id: int,
                               permission: Permission, *, referendum_id: int
                               ) -> tuple[Referendum, ObserverAccreditation]:
    """One observer's accreditation of a referendum ``actor`` holds ``permission`` for (404
    when it is absent or of another referendum)."""
    referendum = access_referendum(session, actor, referendum_id, permission)
    row = session.get(ObserverAccreditation, accreditation_id) if as_id(accreditation_id) else None
    if row is None or row.referendum_id != referendum.id:
        abort(404)
    return referendum, row
