"""Portal-level case services: what every entry point (page, JSON API, task) calls to file or
move a case. Each does the domain write (``referendum_core.cases``) plus what lives outside the
domain — every case has one message thread (``messaging``) and workflow notices go into it — so
a transition through the API has the same effects as the same transition through the page.

The services flush; the request or task commits. Live events of the thread notices are queued
by messaging and sent only after that commit (``portal.realtime``).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging import services as messaging
from portal.cases.access import accreditation_check, parties_for, referendum_for_report
from portal.cases.labels import NOTIFY, STATES, TRANSITIONS, label
from portal.permissions import Permission, Scope, has_permission
from portal.realtime import as_id
from referendum_core.audit import AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases import services as domain
from referendum_core.cases.deadlines import Escalation
from referendum_core.cases.deadlines import escalate_due_cases as escalate_in_domain
from referendum_core.cases.exceptions import CaseError, InvalidCaseData, NotAccredited, NotAllowed
from referendum_core.cases.lifecycle import refuse
from referendum_core.cases.models import Case, CaseEvent, CaseType, EventKind, ObserverReport
from referendum_core.cases.workflows import REGISTRY, Party, Transition
from referendum_core.clock import Clock, to_riga
from referendum_core.organisation import PollingStation


@contextmanager
def thread_language() -> Iterator[None]:
    """Texts written into a shared thread are in the portal's language (Latvian), whatever
    the language of the page the actor happened to use."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "lv")):
        yield


def open_thread(session: Session, clock: Clock, actor: Any, case: Case) -> Any:
    """Open the case's thread (CVK, the municipality's commission and the requester) and note
    it on the timeline; calling it again returns the same thread."""
    participants = [case.created_by_id] if case.created_by_id is not None else []
    thread = messaging.open_case_thread(
        session, clock, actor, case_id=case.id, subject=f"{case.reference}: {case.title}",
        municipality_id=case.municipality_id, participant_user_ids=participants)
    if not any(e.kind == EventKind.MESSAGE for e in case.events):
        domain.add_event(case, clock, actor, EventKind.MESSAGE, note="", thread_id=thread.id)
        session.flush()
    return thread


def thread_id_for(session: Session, case: Case) -> int | None:
    """The id of the case's thread, if it has one."""
    thread = messaging.thread_for_case(session, case.id)
    return thread.id if thread is not None else None


def notify_in_thread(session: Session, clock: Clock, case: Case, text: str,
                     actor: Any = None) -> None:
    """Post a system notice in the case's thread (opening the thread if needed); it is read
    already for ``actor``, whose action it reports."""
    thread = messaging.thread_for_case(session, case.id) or open_thread(session, clock, None, case)
    messaging.post_system_message(session, clock, thread, text, read_by=actor)


# --- filing --------------------------------------------------------------------------------

def file_observer_report(session: Session, clock: Clock, actor: Any, *,
                         polling_station_id: int, category: str, severity: str,
                         description: str, photos: Sequence[bytes] = (),
                         draft_started_at: datetime | None = None,
                         referendum_id: int | None = None,
                         calendar: WorkingDayCalendar, context: AuditContext | None = None
                         ) -> Case:
    """An observer files a report at a polling station they observe in ``referendum_id``
    (when no referendum is named: the municipality's one under way, if exactly one); the
    case's thread is opened.

    Raises:
        CaseError: refused by the domain (not accredited there, no referendum chosen while
            several are under way, bad data or photo).
    """
    station_id, chosen = as_id(polling_station_id), as_id(referendum_id)
    if station_id is None or (referendum_id is not None and chosen is None):
        raise InvalidCaseData("unknown polling station or referendum")
    polling_station_id, referendum_id = station_id, chosen
    station = session.get(PollingStation, polling_station_id)
    allowed = False
    if station is not None:
        referendum_id, allowed = referendum_for_report(session, actor, clock.now(), station,
                                                       referendum_id)
    case = domain.file_observer_report(
        session, clock, actor, polling_station_id=polling_station_id, category=category,
        severity=severity, description=description, is_accredited=lambda _station: allowed,
        photos=list(photos), draft_started_at=draft_started_at, referendum_id=referendum_id,
        calendar=calendar, context=context)
    open_thread(session, clock, actor, case)
    return case


def file_complaint(session: Session, clock: Clock, actor: Any, *, municipality_id: int,
                   grounds: str, applicant_kind: str, contested: str, contested_on: date,
                   summary: str, draft_started_at: datetime | None = None,
                   calendar: WorkingDayCalendar, context: AuditContext | None = None) -> Case:
    """File a complaint or appeal; the case's thread is opened.

    Raises:
        CaseError: refused by the domain (unknown grounds, empty text, period over).
    """
    case = domain.file_complaint(
        session, clock, actor, municipality_id=municipality_id, grounds=grounds,
        applicant_kind=applicant_kind, contested=contested, contested_on=contested_on,
        summary=summary, draft_started_at=draft_started_at, calendar=calendar,
        context=context)
    open_thread(session, clock, actor, case)
    return case


def ask_cvk(session: Session, clock: Clock, actor: Any, *, municipality_id: int, title: str,
            question: str, draft_started_at: datetime | None = None,
            calendar: WorkingDayCalendar, context: AuditContext | None = None) -> Case:
    """A municipal commission official asks CVK (a commission query); the thread is opened.

    Raises:
        CaseError: the actor does not act for that municipality's commission, or bad data.
    """
    parties = {Party.REQUESTER}
    if has_permission(actor, Permission.HANDLE_COMMISSION_CASES,
                      Scope(municipality_id=municipality_id)):
        parties.add(Party.COMMISSION)
    case = domain.ask_cvk(
        session, clock, actor, municipality_id=municipality_id, title=title,
        question=question, parties=parties, draft_started_at=draft_started_at,
        calendar=calendar, context=context)
    open_thread(session, clock, actor, case)
    return case


# --- working on a case ---------------------------------------------------------------------

def requestable_moves(actor: Any, case: Case) -> list[Transition]:
    """The moves ``actor`` may ask for on ``case`` through ``transition_case`` (not those a
    step of their own makes, such as opening the vote: that is done on its own page)."""
    return REGISTRY.get(case.type).requestable(case.state, parties_for(actor, case))


def transition_case(session: Session, clock: Clock, actor: Any, case: Case, to_state: str,
                    expected_version: int | None, note: str = "", *,
                    calendar: WorkingDayCalendar, context: AuditContext | None = None
                    ) -> Transition:
    """Move ``case`` along its workflow as ``actor`` (the parties their roles give them for
    it) and say so in the case's thread: who, which move, and the new state.

    Raises:
        CaseError: stale version, no such move, not allowed (a move only its own step makes
            included), or a missing note.
    """
    parties = parties_for(actor, case)
    try:
        wanted = domain.resolve_transition(REGISTRY.get(case.type), case, to_state, parties)
    except CaseError:
        wanted = None  # the domain refuses it below, audited
    if wanted is not None and wanted.made_by is not None:
        refuse(session, clock, actor, case, NotAllowed(f"{wanted.name} is made by "
                                                       f"{wanted.made_by}"),
               "transition", context, transition=wanted.name, made_by=wanted.made_by)
    move = domain.transition_case(session, clock, actor, case, to_state, expected_version,
                                  note, parties=parties, calendar=calendar, context=context)
    with thread_language():
        text = gettext("%(who)s: %(action)s → %(state)s", who=actor.display_name,
                       action=label(TRANSITIONS, move.name), state=label(STATES, case.state))
    notify_in_thread(session, clock, case, text, actor)
    return move


def add_photo(session: Session, clock: Clock, actor: Any, case: Case, data: bytes, *,
              context: AuditContext | None = None) -> Any:
    """Attach a photo to ``case``. A photo added to an observer's report by the observer who
    filed it is evidence from the station, so it is accepted only while they still observe
    it in the report's referendum (Art. 18(3)): once their accreditation is revoked, nothing
    more is received from them for the station, as the revocation page says. (Their comments
    stay open: answering the commission about what they saw while accredited is not
    observing.)

    Raises:
        CaseError: not a party, closed case, a bad photo, or (``NotAccredited``) an observer
            who no longer observes the report's station.
    """
    parties = parties_for(actor, case)
    if case.type == CaseType.OBSERVER_REPORT and case.polling_station_id is not None \
            and not parties & {Party.COMMISSION, Party.CHAIR, Party.CVK}:
        station = session.get(PollingStation, case.polling_station_id)
        referendum_id = session.scalar(select(ObserverReport.referendum_id).where(
            ObserverReport.case_id == case.id))
        if station is not None and not accreditation_check(
                session, actor, clock.now(), referendum_id)(station):
            refuse(session, clock, actor, case, NotAccredited("no longer observes there"),
                   "add_photo", context)
    return domain.add_photo(session, clock, actor, case, data, parties=parties,
                            context=context)


def comment_on_case(session: Session, clock: Clock, actor: Any, case: Case, text: str, *,
                    context: AuditContext | None = None) -> CaseEvent:
    """Add ``actor``'s comment to the case's timeline.

    Raises:
        CaseError: not a party to the case, or an empty or over-long text.
    """
    return domain.comment_on_case(session, clock, actor, case, text,
                                  parties=parties_for(actor, case), context=context)


# --- deadlines -----------------------------------------------------------------------------

def _escalation_notice(escalation: Escalation) -> str:
    when = to_riga(escalation.deadline_at).strftime("%d.%m.%Y %H:%M")
    if escalation.auto_transition:
        return gettext("The deadline (%(when)s) has passed: %(action)s.", when=when,
                       action=label(TRANSITIONS, escalation.auto_transition))
    return gettext("Deadline %(when)s: %(step)s.", when=when,
                   step=label(NOTIFY, escalation.notify))


def escalate_cases(session: Session, clock: Clock, calendar: WorkingDayCalendar
                   ) -> dict[str, int]:
    """Remind owners, then chairs, then CVK of due cases, make the moves the law makes when a
    deadline passes, and post a notice of each in the case's thread (whose participants are
    the commission, CVK and the requester; messaging's notifications reach the unread).
    Returns how many of each kind (``owner``, ``chair``, ``cvk``, ``automatic``)."""
    counts: dict[str, int] = {}
    with thread_language():
        for escalation in escalate_in_domain(session, clock, calendar):
            case = session.get(Case, escalation.case_id)
            notify_in_thread(session, clock, case, _escalation_notice(escalation))
            key = escalation.notify or "automatic"
            counts[key] = counts.get(key, 0) + 1
    return counts
