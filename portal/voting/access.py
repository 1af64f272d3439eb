"""Loading referendums for the web: every view reaches a referendum through these checks."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

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


def access_referendum(referendum_id: int, permission: Permission) -> Referendum:
    """A referendum the signed-in person holds ``permission`` for (401/403/404)."""
    referendum = get_referendum(referendum_id)
    require(permission, scope_of(referendum))
    return referendum


def access_referendum_to_cast(referendum_id: int) -> tuple[Referendum, VoterStanding]:
    """``access_referendum(…, VOTE)`` for the cast, with the signed-in voter's standing read
    in the same round trip (``load_for_casting``)."""
    found = load_for_casting(db(), referendum_id, getattr(current_user, "person_ref", None))
    if found is None:
        abort(404)
    require(Permission.VOTE, scope_of(found[0]))
    return found


def can(permission: Permission, referendum: Referendum) -> bool:
    """Does the signed-in person hold ``permission`` for this referendum?"""
    return has_permission(current_user, permission, scope_of(referendum))


def access_station(referendum: Referendum, station_id: int | None) -> PollingStation:
    """A polling station of the referendum's municipality (404 otherwise)."""
    station = db().get(PollingStation, station_id) if station_id else None
    if station is None or station.municipality_id != referendum.municipality_id:
        abort(404)
    return station


def stations(referendum: Referendum) -> list[PollingStation]:
    """The referendum municipality's polling stations, by number."""
    return list(db().scalars(select(PollingStation).where(
        PollingStation.municipality_id == referendum.municipality_id)
        .order_by(PollingStation.number)))
