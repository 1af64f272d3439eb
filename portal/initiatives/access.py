"""Loading initiatives for the web: every initiative page reaches its initiative through
``access_initiative``, which checks who may see it and the permission asked for in one call."""
from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy.orm import Session

from portal.permissions import Permission, Scope, has_permission, require
from referendum_core.initiatives import Initiative, get_initiative


def scope_of(initiative: Initiative) -> Scope:
    """The permission scope of an initiative: its municipality and its case."""
    return Scope(initiative.municipality_id, initiative.case_id)


def access_initiative(session: Session, actor: Any, initiative_id: int,
                      permission: Permission | None) -> Initiative:
    """An initiative ``actor`` may see (404 otherwise: the public sees it once it is found
    admissible, officials of its municipality and its applicant always), and for which
    ``actor`` holds ``permission`` (401/403); ``None`` asks only to see it."""
    initiative = get_initiative(session, initiative_id)
    if initiative is None:
        abort(404)
    if initiative.decision != "can" and not (
            has_permission(actor, Permission.VIEW_CASES, scope_of(initiative))
            or (getattr(actor, "is_authenticated", False)
                and initiative.applicant_id == actor.id)):
        abort(404)
    if permission is not None:
        require(permission, scope_of(initiative), user=actor)
    return initiative
