"""Who observes which station, and loading what observers sent through one check.

An observer accredited to polling stations of a referendum (``referendum_core.observers``,
for the referendum's days) observes those stations; an observer with a standing accreditation
to a municipality (granted under People and roles, as reports have always been filed) observes
every station of the referendums there. Commissions see the observations of their
municipality, CVK all of them (``VIEW_OBSERVATIONS``); an object outside someone's scope is a
404, so its existence is not disclosed.
"""
from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.permissions import Permission, Scope, has_permission, municipalities_for, require
from portal.web import clock
from referendum_core.observers import observer_stations
from referendum_core.organisation import PollingStation
from referendum_core.voting.models import Referendum, Stage


def _scope(referendum: Referendum) -> Scope:
    return Scope(municipality_id=referendum.municipality_id, case_id=referendum.case_id)


def _accredited_stations(session: Session, user: Any, referendum: Referendum) -> list[int]:
    """The stations ``user`` is accredited to now for ``referendum`` (empty: none by station)."""
    return observer_stations(session, user.id, referendum.id, at=clock().now())


def may_observe(session: Session, user: Any) -> Any:
    """``may_observe(referendum_id, station_id)`` for the observation services."""

    def check(referendum_id: int, station_id: int) -> bool:
        referendum = session.get(Referendum, referendum_id)
        station = session.get(PollingStation, station_id)
        # A referendum whose results are approved has nothing left to observe.
        if referendum is None or station is None or referendum.stage == Stage.APPROVED \
                or station.municipality_id != referendum.municipality_id \
                or not has_permission(user, Permission.FILL_CHECKLIST, _scope(referendum)):
            return False
        accredited = _accredited_stations(session, user, referendum)
        return not accredited or station_id in accredited

    return check


def observed_stations(session: Session, user: Any) -> list[tuple[Referendum, list[PollingStation]]]:
    """The referendums ``user`` observes, each with its polling stations (the observer app's
    choices), newest referendum day first."""
    require(Permission.FILL_CHECKLIST, user=user)
    # A referendum whose results are approved has nothing left to observe.
    stmt = select(Referendum).where(Referendum.stage != Stage.APPROVED).order_by(
        Referendum.referendum_day.desc(), Referendum.id)
    found = []
    for referendum in session.scalars(stmt):
        if not has_permission(user, Permission.FILL_CHECKLIST, _scope(referendum)):
            continue
        stmt = select(PollingStation).where(
            PollingStation.municipality_id == referendum.municipality_id)
        accredited = _accredited_stations(session, user, referendum)
        if accredited:
            stmt = stmt.where(PollingStation.id.in_(accredited))
        stations = list(session.scalars(stmt.order_by(PollingStation.number)))
        if stations:
            found.append((referendum, stations))
    return found


def access_station(session: Session, actor: Any, station_id: int, permission: Permission,
                   *, referendum_id: int) -> tuple[Referendum, PollingStation]:
    """A referendum's polling station ``actor`` may follow; 401 signed out, 404 otherwise."""
    user = actor
    require(permission, user=user)
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
