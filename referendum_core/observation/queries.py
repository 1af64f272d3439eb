"""What the commission reads from observers' entries: each observer's current answers, the
conflicts between observers at one station, a station's progress through its checklist and
the critical reports still waiting for the commission.

The answers of an observer whose accreditation at a station of a referendum is revoked (and
not approved again there) no longer count: they make no conflict and no progress, and are
shown set aside (``Conflict.set_aside``, ``revoked_observers``). Every view reads conflicts
and progress through this module, so the rule holds everywhere."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, aliased

from referendum_core.cases.models import Case, CaseType, ObserverReport
from referendum_core.observation.checklists import Item, ItemKind, checklist
from referendum_core.observation.models import ChecklistAnswer, ObserverSubmission
from referendum_core.observation.services import pinned_version
from referendum_core.observers.models import AccreditationStatus, ObserverAccreditation
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
    # Current answers of observers whose accreditation here is revoked: shown, not counted.
    set_aside: dict[int, bool | int] = field(default_factory=dict, hash=False, compare=False)


def answer_is_revoked(answer: type[ChecklistAnswer] | Any = ChecklistAnswer
                      ) -> ColumnElement[bool]:
    """True for an answer whose observer's accreditation at its station of its referendum is
    revoked and not approved again there (a standing observer, never accredited, counts)."""
    revoked = aliased(ObserverAccreditation)
    approved = aliased(ObserverAccreditation)
    return select(revoked.id).where(
        revoked.user_id == answer.observer_id, revoked.referendum_id == answer.referendum_id,
        revoked.polling_station_id == answer.polling_station_id,
        revoked.status == AccreditationStatus.REVOKED,
        ~select(approved.id).where(
            approved.user_id == answer.observer_id,
            approved.referendum_id == answer.referendum_id,
            approved.polling_station_id == answer.polling_station_id,
            approved.status == AccreditationStatus.APPROVED).exists()).exists()


def revoked_observers(session: Session, referendum_id: int, station_id: int) -> set[int]:
    """Observers whose answers at the station no longer count (accreditation revoked)."""
    return set(session.scalars(select(ChecklistAnswer.observer_id).distinct().where(
        ChecklistAnswer.referendum_id == referendum_id,
        ChecklistAnswer.polling_station_id == station_id, answer_is_revoked())))


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
    aside: dict[tuple[int, int, str], dict[int, bool | int]] = defaultdict(dict)
    items: dict[tuple[int, int, str], Item] = {}
    stmt = current_answers(referendum_id, municipality_ids, station_id).add_columns(
        answer_is_revoked().label("revoked"))
    for answer, revoked in session.execute(stmt):
        key = (answer.referendum_id, answer.polling_station_id, answer.item_key)
        (aside if revoked else grouped)[key][answer.observer_id] = answer.value
        if key not in items:
            found = checklist(answer.version).items().get(answer.item_key)
            items[key] = found or Item(answer.item_key, ItemKind.NUMBER
                                       if answer.value_bool is None else ItemKind.YES_NO)
    return [Conflict(r, s, item, values, dict(aside.get((r, s, item), {})))
            for (r, s, item), values in grouped.items()
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


def answered_items(session: Session, referendum_ids: Collection[int],
                   station_id: int | None = None) -> dict[tuple[int, int], set[str]]:
    """The items some observer whose answers count has answered, per (referendum, station)."""
    if not referendum_ids:
        return {}
    stmt = select(ChecklistAnswer.referendum_id, ChecklistAnswer.polling_station_id,
                  ChecklistAnswer.item_key).distinct().where(
        ChecklistAnswer.referendum_id.in_(sorted(referendum_ids)), ~answer_is_revoked())
    if station_id is not None:
        stmt = stmt.where(ChecklistAnswer.polling_station_id == station_id)
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    for referendum, station, item in session.execute(stmt):
        found[(referendum, station)].add(item)
    return dict(found)


def progress_of(session: Session, referendum_ids: Collection[int],
                station_id: int | None = None) -> dict[tuple[int, int], Progress]:
    """Checklist progress per (referendum, station) that has counting answers (a station
    missing from the result has answered nothing: ``Progress(0, total)``)."""
    totals = {r: checklist(pinned_version(session, r)).items() for r in referendum_ids}
    return {(r, s): Progress(len(items & set(totals[r])), len(totals[r]))
            for (r, s), items in answered_items(session, referendum_ids, station_id).items()}


def progress(session: Session, referendum_id: int, station_id: int) -> Progress:
    """How many of the checklist's items some observer (whose answers count) has answered at
    the station."""
    found = progress_of(session, [referendum_id], station_id).get((referendum_id, station_id))
    if found is not None:
        return found
    return Progress(0, len(checklist(pinned_version(session, referendum_id)).items()))


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
    with ``referendum_id``, that referendum's only). A corrected report is judged by its latest
    version: a report a later one corrects is never waiting (a critical report corrected to
    "low" leaves; a report corrected up to critical arrives as the correction)."""
    stmt = select(Case).join(ObserverReport, ObserverReport.case_id == Case.id).where(
        Case.type == CaseType.OBSERVER_REPORT, Case.state == WAITING_STATE,
        ObserverReport.severity == CRITICAL,
        ~select(ObserverSubmission.id).where(
            ObserverSubmission.corrects_case_id == Case.id).exists())
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
