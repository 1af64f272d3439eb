"""The polling-station table for the commission and CVK: for each polling station of a
referendum under way, its accredited observers and its open incident reports. Other features
add columns in the portal (``portal.observers.station_table``) keyed by the same row key."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referendum_core.cases.models import Case, CaseType, ObserverReport
from referendum_core.observers.models import AccreditationStatus, ObserverAccreditation
from referendum_core.organisation import Municipality, PollingStation
from referendum_core.voting.models import Referendum, Stage


@dataclass(frozen=True)
class StationRow:
    """One polling station of one referendum."""

    referendum_id: int
    referendum_day: str
    municipality_id: int
    municipality: str
    station_id: int
    station_number: int
    station_name: str
    observers: tuple[str, ...]
    open_incidents: int

    @property
    def key(self) -> tuple[int, int]:
        """What extra columns are keyed by: (referendum id, polling station id)."""
        return (self.referendum_id, self.station_id)


def station_rows(session: Session, *, municipality_ids: Collection[int] | None,
                 referendum_id: int | None = None,
                 without_observers: bool = False) -> list[StationRow]:
    """Rows of the referendums whose results are not yet approved, in the municipalities
    ``municipality_ids`` (``None``: all of them), by municipality and station number."""
    stmt = (select(Referendum, PollingStation, Municipality)
            .join(PollingStation, PollingStation.municipality_id == Referendum.municipality_id)
            .join(Municipality, Municipality.id == Referendum.municipality_id)
            .where(Referendum.stage != Stage.APPROVED)
            .order_by(Municipality.name, Referendum.referendum_day, Referendum.id,
                      PollingStation.number))
    if municipality_ids is not None:
        stmt = stmt.where(Referendum.municipality_id.in_(sorted(municipality_ids)))
    if referendum_id is not None:
        stmt = stmt.where(Referendum.id == referendum_id)
    found = session.execute(stmt).all()
    if not found:
        return []
    referendum_ids = {r.id for r, _s, _m in found}
    station_ids = {s.id for _r, s, _m in found}
    names: dict[tuple[int, int], list[str]] = {}
    for row in session.scalars(select(ObserverAccreditation).where(
            ObserverAccreditation.referendum_id.in_(sorted(referendum_ids)),
            ObserverAccreditation.status == AccreditationStatus.APPROVED)
            .order_by(ObserverAccreditation.full_name, ObserverAccreditation.id)):
        names.setdefault((row.referendum_id, row.polling_station_id), []).append(row.full_name)
    # A report counts at its station for the referendum it was filed for, no other.
    incidents: dict[tuple[int, int], int] = {
        (referendum, station): count for referendum, station, count in session.execute(
            select(ObserverReport.referendum_id, Case.polling_station_id, func.count(Case.id))
            .join(ObserverReport, ObserverReport.case_id == Case.id).where(
                Case.type == CaseType.OBSERVER_REPORT, Case.is_open.is_(True),
                Case.polling_station_id.in_(sorted(station_ids)),
                ObserverReport.referendum_id.in_(sorted(referendum_ids)))
            .group_by(ObserverReport.referendum_id, Case.polling_station_id))}
    rows = [StationRow(
        referendum_id=r.id, referendum_day=r.referendum_day.isoformat(), municipality_id=m.id,
        municipality=m.name, station_id=s.id, station_number=s.number, station_name=s.name,
        observers=tuple(names.get((r.id, s.id), ())), open_incidents=incidents.get((r.id, s.id), 0))
        for r, s, m in found]
    if without_observers:
        rows = [row for row in rows if not row.observers]
    return rows
