"""The polling-station table for the commission and CVK: for each polling station of a
referendum under way, its accredited observers and its open incident reports; and for each
station with open reports that belong to no referendum, a row of those. Other features
add columns in the portal (``portal.observers.station_table``) keyed by the same row key."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referendum_core.cases.models import Case, CaseType, ObserverReport
from referendum_core.observation.models import ObserverSubmission
from referendum_core.observers.accreditation import rights_window
from referendum_core.observers.models import AccreditationStatus, ObserverAccreditation
from referendum_core.organisation import Municipality, PollingStation
from referendum_core.voting.models import Referendum, Stage


@dataclass(frozen=True)
class StationRow:
    """One polling station of one referendum, or (``referendum_id`` ``None``) a station's
    open observer reports that belong to no referendum."""

    referendum_id: int | None
    referendum_day: str
    municipality_id: int
    municipality: str
    station_id: int
    station_number: int
    station_name: str
    observers: tuple[str, ...]
    open_incidents: int
    # Observers with no accreditation at the station (standing observers of the municipality)
    # who sent a report or checklist answers for it in the referendum: user ids, so the portal
    # names them; they are present too.
    reporting_observer_ids: tuple[int, ...] = ()
    referendum_date: date | None = None
    question_lv: str = ""
    question_en: str = ""

    @property
    def key(self) -> tuple[int | None, int]:
        """What extra columns are keyed by: (referendum id, polling station id)."""
        return (self.referendum_id, self.station_id)


def station_rows(session: Session, *, municipality_ids: Collection[int] | None,
                 referendum_id: int | None = None,
                 without_observers: bool = False,
                 at: datetime | None = None) -> list[StationRow]:
    """Rows of the referendums whose results are not yet approved, in the municipalities
    ``municipality_ids`` (``None``: all of them), by municipality and station number.

    ``without_observers``: only the stations nobody observes — no approved observer and no
    observer who sent something for it — of referendums still observable at ``at`` (whose
    observers' rights have not ended: ``rights_window``)."""
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
    loose = ([] if referendum_id is not None
             else _reports_of_no_referendum(session, municipality_ids))
    if not found and not loose:
        return []
    referendum_ids = {r.id for r, _s, _m in found}
    station_ids = {s.id for _r, s, _m in found}
    names: dict[tuple[int, int], list[str]] = {}
    # Whoever holds or held an accreditation at a station is not named again as a sender.
    accredited: set[tuple[int, int, int]] = set()
    for row in session.scalars(select(ObserverAccreditation).where(
            ObserverAccreditation.referendum_id.in_(sorted(referendum_ids)),
            ObserverAccreditation.status.in_((AccreditationStatus.APPROVED,
                                              AccreditationStatus.REVOKED)))
            .order_by(ObserverAccreditation.full_name, ObserverAccreditation.id)):
        if row.user_id is not None:
            accredited.add((row.referendum_id, row.polling_station_id, row.user_id))
        if row.status == AccreditationStatus.APPROVED:
            names.setdefault((row.referendum_id, row.polling_station_id), []).append(
                row.full_name)
    senders: dict[tuple[int, int], set[int]] = {}
    for referendum, station, user in _senders(session, referendum_ids, station_ids):
        if (referendum, station, user) not in accredited:
            senders.setdefault((referendum, station), set()).add(user)
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
        observers=tuple(names.get((r.id, s.id), ())), open_incidents=incidents.get((r.id, s.id), 0),
        reporting_observer_ids=tuple(sorted(senders.get((r.id, s.id), ()))),
        referendum_date=r.referendum_day, question_lv=r.question_lv, question_en=r.question_en)
        for r, s, m in found if not without_observers or at is None
        or at < rights_window(r)[1]]
    # A station's open reports of no referendum: one row of their own, after its referendums'.
    rows += [StationRow(
        referendum_id=None, referendum_day="", municipality_id=m.id, municipality=m.name,
        station_id=s.id, station_number=s.number, station_name=s.name, observers=(),
        open_incidents=count) for s, m, count in loose]
    rows.sort(key=lambda row: (row.municipality, row.referendum_id is None,
                               row.referendum_day, row.referendum_id or 0, row.station_number))
    if without_observers:
        rows = [row for row in rows if not row.observers and not row.reporting_observer_ids
                and row.referendum_id is not None]
    return rows


def _senders(session: Session, referendum_ids: Collection[int], station_ids: Collection[int]
             ) -> set[tuple[int, int, int]]:
    """(referendum, station, observer) of everyone who sent checklist answers or a report for
    a station of a referendum (through the observer app or the report form)."""
    if not referendum_ids or not station_ids:
        return set()
    sent = select(ObserverSubmission.referendum_id, ObserverSubmission.polling_station_id,
                  ObserverSubmission.observer_id).distinct().where(
        ObserverSubmission.referendum_id.in_(sorted(referendum_ids)),
        ObserverSubmission.polling_station_id.in_(sorted(station_ids)))
    filed = select(ObserverReport.referendum_id, Case.polling_station_id,
                   Case.created_by_id).distinct().join(
        ObserverReport, ObserverReport.case_id == Case.id).where(
        Case.type == CaseType.OBSERVER_REPORT, Case.created_by_id.is_not(None),
        ObserverReport.referendum_id.in_(sorted(referendum_ids)),
        Case.polling_station_id.in_(sorted(station_ids)))
    return ({(r, s, u) for r, s, u in session.execute(sent)}
            | {(r, s, u) for r, s, u in session.execute(filed)})


def _reports_of_no_referendum(session: Session, municipality_ids: Collection[int] | None
                              ) -> list[tuple[PollingStation, Municipality, int]]:
    """Each station (of ``municipality_ids``; ``None``: all) with open observer reports that
    belong to no referendum, and how many."""
    stmt = (select(PollingStation, Municipality, func.count(Case.id))
            .join(Case, Case.polling_station_id == PollingStation.id)
            .join(ObserverReport, ObserverReport.case_id == Case.id)
            .join(Municipality, Municipality.id == PollingStation.municipality_id)
            .where(Case.type == CaseType.OBSERVER_REPORT, Case.is_open.is_(True),
                   ObserverReport.referendum_id.is_(None))
            .group_by(PollingStation.id, Municipality.id))
    if municipality_ids is not None:
        stmt = stmt.where(PollingStation.municipality_id.in_(sorted(municipality_ids)))
    return [(s, m, count) for s, m, count in session.execute(stmt).all()]
