"""Who observes which station, and loading what observers sent through one check.

What an observer observes is decided per referendum and station
(``referendum_core.observers.observation_rights``): a person named in an accreditation of the
referendum observes the stations of their approved accreditations, for the referendum's days,
and nothing else of it (a revoked one takes its station away, whatever other role they hold);
a standing observer of the municipality (appointed under People and roles) named in none of
the referendum's accreditations observes all its stations until those days end. The time-limited
observer role an accreditation gives opens nothing by itself: it is only the key to the app. Commissions see the observations of their
municipality, CVK all of them (``VIEW_OBSERVATIONS``); an object outside someone's scope is a
404, so its existence is not disclosed.
"""
from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import Unauthorized

from portal.accounts.models import Role
from portal.permissions import (
    Permission,
    Scope,
    has_permission,
    is_standing_observer,
    municipalities_for,
    require,
)
from portal.realtime import as_id
from portal.web import clock
from referendum_core.clock import to_riga
from referendum_core.observation.exceptions import NotObserverHere, ObserverRightsEnded
from referendum_core.observers import nearest_first, observation_rights
from referendum_core.organisation import PollingStation
from referendum_core.voting.models import Referendum, Stage


def _scope(referendum: Referendum) -> Scope:
    return Scope(municipality_id=referendum.municipality_id, case_id=referendum.case_id)


def require_observer_now(user: Any, *permissions: Permission) -> None:
    """The observer app's API may be used by ``user`` now (``permissions``, held somewhere):
    401 signed out; else a refusal with its code (403), never a bare 403, so that the phone can
    say why: ``observer_rights_ended`` for a person who was an observer and holds no observer's
    rights now (the observation days of their accreditation are over), ``not_observer_here``
    for anyone else.

    Raises:
        ObserverRightsEnded, NotObserverHere: as above.
    """
    if not getattr(user, "is_authenticated", False):
        raise Unauthorized()
    if all(has_permission(user, p) for p in permissions):
        return
    if any(m.role == Role.OBSERVER for m in user.memberships):
        raise ObserverRightsEnded("no observer's rights now")
    raise NotObserverHere("not an observer")


def stations_observed(session: Session, user: Any, referendum: Referendum) -> set[int] | None:
    """The stations of ``referendum`` ``user`` observes now (``None``: all of its
    municipality's; empty: none)."""
    if not has_permission(user, Permission.FILL_CHECKLIST, _scope(referendum)):
        return set()
    return observation_rights(session, user.id, referendum, clock().now(),
                              standing=is_standing_observer(user, referendum.municipality_id))


def may_observe(session: Session, user: Any) -> Any:
    """``may_observe(referendum_id, station_id)`` for the observation services."""

    def check(referendum_id: int, station_id: int) -> bool:
        if as_id(referendum_id) is None or as_id(station_id) is None:
            return False
        referendum = session.get(Referendum, referendum_id)
        station = session.get(PollingStation, station_id)
        if referendum is None or station is None \
                or station.municipality_id != referendum.municipality_id:
            return False
        observed = stations_observed(session, user, referendum)
        return observed is None or station_id in observed

    return check


def observed_stations(session: Session, user: Any) -> list[tuple[Referendum, list[PollingStation]]]:
    """The referendums ``user`` observes, each with its polling stations (the observer app's
    choices), today's or the soonest first (``observers.nearest_first``)."""
    require(Permission.FILL_CHECKLIST, user=user)
    # A referendum whose results are approved has nothing left to observe.
    stmt = select(Referendum).where(Referendum.stage != Stage.APPROVED)
    found = []
    for referendum in nearest_first(session.scalars(stmt), to_riga(clock().now()).date()):
        observed = stations_observed(session, user, referendum)
        if observed is not None and not observed:
            continue
        stmt = select(PollingStation).where(
            PollingStation.municipality_id == referendum.municipality_id)
        if observed is not None:
            stmt = stmt.where(PollingStation.id.in_(observed))
        stations = list(session.scalars(stmt.order_by(PollingStation.number)))
        if stations:
            found.append((referendum, stations))
    return found


def access_station_alone(session: Session, actor: Any, station_id: int,
                         permission: Permission) -> PollingStation:
    """A polling station ``actor`` may follow, whatever the referendum (its reports of no
    referendum); 401 signed out, 404 otherwise."""
    require(permission, user=actor)
    station = session.get(PollingStation, station_id) if as_id(station_id) else None
    if station is None or not has_permission(
            actor, permission, Scope(municipality_id=station.municipality_id)):
        abort(404)
    return station


def access_station(session: Session, actor: Any, station_id: int, permission: Permission,
                   *, referendum_id: int) -> tuple[Referendum, PollingStation]:
    """A referendum's polling station ``actor`` may follow; 401 signed out, 404 otherwise."""
    user = actor
    require(permission, user=user)
    if as_id(referendum_id) is None or as_id(station_id) is None:
        abort(404)
    referendum = session.get(Referendum, referendum_id)
    station = session.get(PollingStation, station_id)
    if referendum is None or station is None \
            or station.municipality_id != referendum.municipality_id \
            or not has_permission(user, permission, _scope(referendum)):
        abort(404)
    return referendum, station


def watched_municipalities(user: Any) -> set[int] | None:
    """Municipalities whose observations ``user`` follows (``None``: all of them)."""
    return municipalities_for(user, Permission.VIEW_OBSERVATIONS)
