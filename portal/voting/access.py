"""Loading referendums for the web: every view that acts on a referendum reaches it through
``access_referendum`` (public pages read it with ``get_referendum``)."""
from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.permissions import Permission, Scope, has_permission, require
from portal.web import db
from referendum_core.organisation import PollingStation
from referendum_core.voting.eligibility import VoterStanding, load_for_casting
from referendum_core.voting.models import Referendum


def scope_of(referendum: Referendum) -> Scope:
    """The permission scope of a referendum: its municipality and its case."""
    return Scope(referendum.municipality_id, referendum.case_id)


def get_referendum(referendum_id: int) -> Referendum:
    """A referendum anyone may read about (public pages); 404 if there is none."""
    referendum = db().get(Referendum, referendum_id)
    if referendum is None:
        abort(404)
    return referendum


def access_referendum(session: Session, actor: Any, referendum_id: int,
                      permission: Permission) -> Referendum:
    """A referendum ``actor`` holds ``permission`` for (401/403/404)."""
    referendum = session.get(Referendum, referendum_id)
    if referendum is None:
        abort(404)
    require(permission, scope_of(referendum), user=actor)
    return referendum


def access_referendum_to_cast(session: Session, actor: Any, referendum_id: int,
                              permission: Permission) -> tuple[Referendum, VoterStanding]:
    """``access_referendum`` for the cast, with the voter's standing read in the same round
    trip (``load_for_casting``)."""
    found = load_for_casting(session, referendum_id, getattr(actor, "person_ref", None))
    if found is None:
        abort(404)
    require(permission, scope_of(found[0]), user=actor)
    return found


def can(permission: Permission, referendum: Referendum) -> bool:
    """Does the signed-in person hold ``permission`` for this referendum?"""
    return has_permission(current_user, permission, scope_of(referendum))


def access_station(session: Session, actor: Any, station_id: int | None,
                   permission: Permission, *, referendum: Referendum) -> PollingStation:
    """A polling station of ``referendum``'s municipality (404 otherwise) where ``actor``
    holds ``permission`` for the referendum (401/403)."""
    station = session.get(PollingStation, station_id) if station_id else None
    if station is None or station.municipality_id != referendum.municipality_id:
        abort(404)
    require(permission, scope_of(referendum), user=actor)
    return station


def stations(referendum: Referendum) -> list[PollingStation]:
    """The referendum municipality's polling stations, by number."""
    return list(db().scalars(select(PollingStation).where(
        PollingStation.municipality_id == referendum.municipality_id)
        .order_by(PollingStation.number)))
