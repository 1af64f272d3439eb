"""What the commission reads from observers' entries: each observer's current answers, the
conflicts between observers at one station, a station's progress through its checklist and
the critical reports still waiting for the commission."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from referendum_core.cases.models import Case, CaseType, ObserverReport
from referendum_core.observation.checklists import Item, ItemKind, checklist
from referendum_core.observation.models import ChecklistAnswer
from referendum_core.observation.services import pinned_version
from referendum_core.organisation import PollingStation
from referendum_core.voting.models import Referendum

CRITICAL = "critical"
WAITING_STATE = "submitted"  # an observer report nobody at the commission has triaged yet


@dataclass(frozen=True)
class Conflict:
    """Observers at one station whose current answers to one item differ."""

    referendum_id: int
    polling_station_id: int
    item_key: str
    answers: dict[int, bool | int] = field(hash=False)  # observer id -> current value


def current_answers(referendum_id: int | None = None,
                    municipality_ids: Collection[int] | None = None,
                    station_id: int | None = None) -> Select[tuple[ChecklistAnswer]]:
    """Answers no later answer corrects (each observer's current answer per item)."""
    newer = aliased(ChecklistAnswer)
    stmt = select(ChecklistAnswer).where(
        ~select(newer.id).where(newer.corrects_id == ChecklistAnswer.id).exists())
    if referendum_id is not None:
        stmt = stmt.where(ChecklistAnswer.referendum_id == referendum_id)
    if station_id is not None:
        stmt = stmt.where(ChecklistAnswer.polling_station_id == station_id)
    if municipality_ids is not None:
        stmt = stmt.join(PollingStation,
                         PollingStation.id == ChecklistAnswer.polling_station_id).where(
            PollingStation.municipality_id.in_(sorted(municipality_ids)))
    return stmt.order_by(ChecklistAnswer.polling_station_id, ChecklistAnswer.item_key,
                         ChecklistAnswer.observer_id)


def conflicts(session: Session, *, referendum_id: int | None = None,
              municipality_ids: Collection[int] | None = None,
              station_id: int | None = None) -> list[Conflict]:
    """Items on which two or more observers of one station of one referendum currently
    disagree, beyond the item's tolerance (``municipality_ids`` None: everywhere)."""
    grouped: dict[tuple[int, int, str], dict[int, bool | int]] = defaultdict(dict)
    items: dict[tuple[int, int, str], Item] = {}
    for answer in session.scalars(current_answers(referendum_id, municipality_ids, station_id)):
        key = (answer.referendum_id, answer.polling_station_id, answer.item_key)
        grouped[key][answer.observer_id] = answer.value
        if key not in items:
            found = checklist(answer.version).items().get(answer.item_key)
            items[key] = found or Item(answer.item_key, ItemKind.NUMBER
                                       if answer.value_bool is None else ItemKind.YES_NO)
    return [Conflict(r, s, item, values) for (r, s, item), values in grouped.items()
            if items[(r, s, item)].disagree(list(values.values()))]


def station_entries(session: Session, referendum_id: int,
                    station_id: int) -> list[ChecklistAnswer]:
    """Every answer given at a station, corrections and what they correct alike, in order."""
    return list(session.scalars(select(ChecklistAnswer).where(
        ChecklistAnswer.referendum_id == referendum_id,
        ChecklistAnswer.polling_station_id == station_id).order_by(ChecklistAnswer.id)))


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int


def progress(session: Session, referendum_id: int, station_id: int) -> Progress:
    """How many of the checklist's items some observer has answered at the station."""
    listed = checklist(pinned_version(session, referendum_id))
    answered = set(session.scalars(select(ChecklistAnswer.item_key).distinct().where(
        ChecklistAnswer.referendum_id == referendum_id,
        ChecklistAnswer.polling_station_id == station_id)))
    return Progress(len(answered & set(listed.items())), len(listed.items()))


def station_reports(session: Session, referendum_id: int | None, station_id: int) -> list[Case]:
    """The observer reports filed at a station for one referendum, in order
    (``referendum_id`` ``None``: those that belong to no referendum, filed while none or,
    before the form asked, several were under way)."""
    belongs = (ObserverReport.referendum_id.is_(None) if referendum_id is None
               else ObserverReport.referendum_id == referendum_id)
    return list(session.scalars(select(Case).join(
        ObserverReport, ObserverReport.case_id == Case.id).where(
        Case.type == CaseType.OBSERVER_REPORT, Case.polling_station_id == station_id,
        belongs).order_by(Case.id)))


def critical_reports_waiting(session: Session, municipality_ids: Collection[int] | None,
                             limit: int = 50, *, referendum_id: int | None = None
                             ) -> list[Case]:
    """Critical observer reports nobody has triaged yet, oldest first (``None``: everywhere;
    with ``referendum_id``, that referendum's only)."""
    stmt = select(Case).join(ObserverReport, ObserverReport.case_id == Case.id).where(
        Case.type == CaseType.OBSERVER_REPORT, Case.state == WAITING_STATE,
        ObserverReport.severity == CRITICAL)
    if referendum_id is not None:
        stmt = stmt.where(ObserverReport.referendum_id == referendum_id)
    if municipality_ids is not None:
        stmt = stmt.where(Case.municipality_id.in_(sorted(municipality_ids)))
    return list(session.scalars(stmt.order_by(Case.opened_at, Case.id).limit(limit)))


def referendums_observed(session: Session, municipality_ids: Collection[int] | None
                         ) -> list[Referendum]:
    """Referendums with polling stations to observe, newest referendum day first."""
    stmt = select(Referendum)
    if municipality_ids is not None:
        stmt = stmt.where(Referendum.municipality_id.in_(sorted(municipality_ids)))
    return list(session.scalars(stmt.order_by(Referendum.referendum_day.desc(), Referendum.id)))
