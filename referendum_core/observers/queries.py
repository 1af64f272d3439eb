"""Who observes where: the read side other features (checklists, conflicts, the station table)
use to learn which observers are accredited at which polling station of a referendum."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core.observers.accreditation import rights_window
from referendum_core.observers.models import AccreditationStatus, ObserverAccreditation
from referendum_core.organisation import PollingStation
from referendum_core.voting.models import Referendum, Stage


def accredited_observers(session: Session, referendum_id: int, station_id: int | None = None,
                         *, at: datetime | None = None) -> list[ObserverAccreditation]:
    """Approved accreditations of a referendum (of one polling station when ``station_id`` is
    given), by station number and name. With ``at``, only those whose rights run then (the
    referendum's days); each row has ``user_id``, ``polling_station_id`` and ``kind``."""
    stmt = (select(ObserverAccreditation)
            .join(PollingStation, PollingStation.id == ObserverAccreditation.polling_station_id)
            .where(ObserverAccreditation.referendum_id == referendum_id,
                   ObserverAccreditation.status == AccreditationStatus.APPROVED)
            .order_by(PollingStation.number, ObserverAccreditation.full_name,
                      ObserverAccreditation.id))
    if station_id is not None:
        stmt = stmt.where(ObserverAccreditation.polling_station_id == station_id)
    if at is not None:
        stmt = stmt.where(ObserverAccreditation.starts_at <= at, ObserverAccreditation.ends_at > at)
    return list(session.scalars(stmt))


def observer_stations(session: Session, user_id: int, referendum_id: int, *,
                      at: datetime | None = None) -> list[int]:
    """Ids of the polling stations where the person ``user_id`` is an approved observer of the
    referendum (only while their rights run, with ``at``), sorted."""
    stmt = select(ObserverAccreditation.polling_station_id).where(
        ObserverAccreditation.user_id == user_id,
        ObserverAccreditation.referendum_id == referendum_id,
        ObserverAccreditation.status == AccreditationStatus.APPROVED)
    if at is not None:
        stmt = stmt.where(ObserverAccreditation.starts_at <= at, ObserverAccreditation.ends_at > at)
    return sorted(set(session.scalars(stmt)))


def is_observer_at(session: Session, user_id: int, referendum_id: int, station_id: int,
                   at: datetime) -> bool:
    """Does ``user_id`` observe ``station_id`` of the referendum at the moment ``at``?"""
    return station_id in observer_stations(session, user_id, referendum_id, at=at)


def observation_rights(session: Session, user_id: int, referendum: Referendum, at: datetime, *,
                       standing: bool) -> set[int] | None:
    """The polling stations of ``referendum`` the person ``user_id`` observes at ``at``:
    ``None`` for every station of its municipality, an empty set for none.

    Rights are per referendum and station. A person named in an accreditation of the
    referendum (approved or revoked) observes exactly the stations of their approved
    accreditations whose rights run at ``at`` (Art. 18(3): observers are authorised per polling
    station; Art. 20(3): for the referendum's days); a revoked accreditation takes the station
    away, whatever other role the person holds. A ``standing`` observer of the municipality
    (an observer appointed under People and roles, not through an accreditation) who is named
    in none of the referendum's accreditations observes all of its stations from the
    referendum's registration until the accredited observers' rights end (``rights_window``:
    the commission appointed them before any accreditation, so they may prepare before the
    days of voting, but nobody observes a referendum after its observation days). A referendum
    whose results are approved has nothing left to observe.
    """
    if referendum.stage == Stage.APPROVED:
        return set()
    rows = list(session.scalars(select(ObserverAccreditation).where(
        ObserverAccreditation.user_id == user_id,
        ObserverAccreditation.referendum_id == referendum.id,
        ObserverAccreditation.status.in_((AccreditationStatus.APPROVED,
                                          AccreditationStatus.REVOKED)))))
    if rows:
        return {r.polling_station_id for r in rows
                if r.status == AccreditationStatus.APPROVED and r.starts_at is not None
                and r.ends_at is not None and r.starts_at <= at < r.ends_at}
    if not standing:
        return set()
    return None if at < rights_window(referendum)[1] else set()


def stations_without_observers(session: Session, referendum_id: int,
                               municipality_id: int) -> list[PollingStation]:
    """The municipality's polling stations with no approved observer in the referendum."""
    covered = select(ObserverAccreditation.polling_station_id).where(
        ObserverAccreditation.referendum_id == referendum_id,
        ObserverAccreditation.status == AccreditationStatus.APPROVED)
    return list(session.scalars(select(PollingStation).where(
        PollingStation.municipality_id == municipality_id,
        PollingStation.id.not_in(covered)).order_by(PollingStation.number)))


def nearest_first(referendums: Iterable[Referendum], today: date) -> list[Referendum]:
    """Referendums in the order an observer needs them: today's or the soonest to come first,
    then later ones, then those whose day has passed (most recent first), so that a referendum
    still being prepared for next year never comes before this week's."""
    def key(referendum: Referendum) -> tuple[bool, int, int]:
        days = (referendum.referendum_day - today).days
        return (days < 0, abs(days), referendum.id)

    return sorted(referendums, key=key)
