"""Verb-named writes on cases. Each checks the rule, writes, appends a timeline event, audits,
and raises a domain exception when refused (nothing is written then).

The caller says which *parties* the actor acts as for the case (``portal.cases.access`` works
that out from roles and municipality); the workflow says which parties may make each move.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import filetype
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.exceptions import (
    FilingPeriodOver,
    InvalidCaseData,
    InvalidPhoto,
    InvalidTransition,
    NotAccredited,
    NotAllowed,
    NoteRequired,
    StaleCase,
)
from referendum_core.cases.models import (
    Case,
    CaseEvent,
    CasePhoto,
    CaseType,
    ComplaintDetails,
    EventKind,
    ObserverReport,
    SavedFilter,
)
from referendum_core.cases.workflows import (
    APPEAL_RULES,
    REGISTRY,
    SERVICE_LEVEL,
    ApplicantKind,
    Grounds,
    Party,
    State,
    Transition,
    Workflow,
)
from referendum_core.clock import RIGA, Clock, to_riga
from referendum_core.organisation import PollingStation

Parties = Collection[Party]
OFFICIAL_PARTIES = frozenset({Party.COMMISSION, Party.CHAIR, Party.CVK})


class ReportCategory(StrEnum):
    VOTER_LIST = "voter_list"
    BALLOT_SECRECY = "ballot_secrecy"
    BALLOT_BOX = "ballot_box"
    CAMPAIGNING = "campaigning"
    INTIMIDATION = "intimidation"
    ACCESSIBILITY = "accessibility"
    COUNTING = "counting"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


ALLOWED_PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic",
                                 "image/heif"})
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTOS_PER_CASE = 6
MAX_TEXT = 10_000
# A form started more than this long before it was sent says nothing about filing time.
MAX_DRAFT_AGE = timedelta(hours=12)

Effect = Callable[[Session, Clock, WorkingDayCalendar, Case], None]
EFFECTS: dict[str, Effect] = {}
_CALENDAR = WorkingDayCalendar()


def register_effect(name: str) -> Callable[[Effect], Effect]:
    """Declare an automatic action a workflow may name (``on_open`` or a transition's effects)."""

    def decorator(fn: Effect) -> Effect:
        EFFECTS[name] = fn
        return fn

    return decorator


# --- helpers -------------------------------------------------------------------------------

def _label(actor: Actor | None) -> str:
    return actor.audit_label if actor is not None else "system"


def add_event(case: Case, clock: Clock, actor: Actor | None, kind: EventKind, *,
              note: str = "", transition: str | None = None, from_state: str | None = None,
              to_state: str | None = None, at: datetime | None = None, **data: Any) -> CaseEvent:
    """Append a timeline row to ``case`` (flushed with the case)."""
    event = CaseEvent(
        at=at or clock.now(), kind=kind.value, actor_id=actor.id if actor is not None else None,
        actor_label=_label(actor), note=note, transition=transition, from_state=from_state,
        to_state=to_state, deadline_at=case.deadline_at,
        data=json.dumps(data, sort_keys=True, ensure_ascii=False),
    )
    case.events.append(event)
    return event


def _refuse(session: Session, clock: Clock, actor: Actor | None, case: Case | None,
            error: Exception, action: str, context: AuditContext | None, **detail: Any) -> None:
    audit.record(session, clock, actor, "case.refused", obj=case, object_type="Case",
                 context=context, attempted=action, reason=type(error).__name__, **detail)
    raise error


def _clean_text(value: str | None, name: str, *, required: bool = True,
                limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidCaseData(f"{name} is required")
    if len(text) > limit:
        raise InvalidCaseData(f"{name} is longer than {limit} characters")
    return text


def _enter_state(case: Case, workflow: Workflow, state: State, now: datetime,
                 calendar: WorkingDayCalendar) -> bool:
    """Put ``case`` into ``state`` and start its deadline; True if the deadline changed."""
    before = case.deadline_at
    case.state = state.name
    case.owner_party = state.owner.value
    case.is_open = not state.is_final
    case.updated_at = now
    if state.is_final:
        case.closed_at = now
        return False
    case.closed_at = None
    if not state.deadline_continues:
        rule = workflow.deadline_for(case, state)
        case.deadline_at = rule.period.ends_at(calendar, now) if rule is not None else None
        case.deadline_basis = rule.basis if rule is not None else None
    if case.deadline_at != before:
        case.escalation_level = 0
        return True
    return False


def _flush(session: Session, case: Case) -> None:
    case_id = case.id  # read before a failed flush expires the object
    try:
        session.flush()
    except StaleDataError as err:
        raise StaleCase(f"case {case_id} was changed by someone else") from err


@contextmanager
def _changing(session: Session, case: Case) -> Iterator[None]:
    """Make changes to ``case`` without autoflush, then flush once; a concurrent update of the
    row (version no longer matches) becomes ``StaleCase``."""
    with session.no_autoflush:
        yield
    _flush(session, case)


def _open(session: Session, clock: Clock, calendar: WorkingDayCalendar, actor: Actor | None, *,
          case_type: str, title: str, summary: str, municipality_id: int | None,
          polling_station_id: int | None = None, draft_started_at: datetime | None = None,
          parent_case_id: int | None = None, details: Any = None,
          context: AuditContext | None = None) -> Case:
    workflow = REGISTRY.get(case_type)
    now = clock.now()
    case = Case(type=str(case_type), state=workflow.initial, title=title, summary=summary,
                municipality_id=municipality_id, polling_station_id=polling_station_id,
                created_by_id=actor.id if actor is not None else None, opened_at=now,
                updated_at=now, parent_case_id=parent_case_id)
    if isinstance(details, ObserverReport):
        case.observer_report = details
    elif isinstance(details, ComplaintDetails):
        case.complaint = details
    session.add(case)
    for name in workflow.on_open:
        EFFECTS[name](session, clock, calendar, case)
    _enter_state(case, workflow, workflow.state(workflow.initial), now, calendar)
    if draft_started_at is not None and now - MAX_DRAFT_AGE <= draft_started_at <= now:
        add_event(case, clock, actor, EventKind.DRAFT_STARTED, at=draft_started_at)
    add_event(case, clock, actor, EventKind.OPENED, to_state=case.state)
    session.flush()
    audit.record(session, clock, actor, "case.opened", obj=case, context=context,
                 case_type=case.type, state=case.state)
    return case


def open_case(session: Session, clock: Clock, actor: Actor | None, *, case_type: str, title: str,
              summary: str = "", municipality_id: int | None, polling_station_id: int | None = None,
              parent_case_id: int | None = None, draft_started_at: datetime | None = None,
              calendar: WorkingDayCalendar | None = None,
              context: AuditContext | None = None) -> Case:
    """Open a case of a registered type in its initial state (for types without extra details,
    e.g. initiatives and referendums declared by their own modules).

    Raises:
        UnknownCaseType: no workflow registered for ``case_type``.
        InvalidCaseData: empty or over-long title.
    """
    title = _clean_text(title, "title", limit=200)
    summary = _clean_text(summary, "summary", required=False)
    return _open(session, clock, calendar or _CALENDAR, actor, case_type=case_type, title=title,
                 summary=summary, municipality_id=municipality_id,
                 polling_station_id=polling_station_id, draft_started_at=draft_started_at,
                 parent_case_id=parent_case_id, context=context)


# --- effects -------------------------------------------------------------------------------

@register_effect("route_to_station_commission")
def _route_to_station_commission(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                                 case: Case) -> None:
    """Observer reports go to the commission of the polling station's municipality."""
    station = session.get(PollingStation, case.polling_station_id)
    if station is None:
        raise InvalidCaseData("unknown polling station")
    case.municipality_id = station.municipality_id
    case.owner_party = Party.COMMISSION.value


def _record_decision(decision: str) -> Effect:
    def effect(session: Session, clock: Clock, calendar: WorkingDayCalendar, case: Case) -> None:
        if case.complaint is not None:
            case.complaint.decision = decision
            case.complaint.decided_at = clock.now()
            case.complaint.court_deadline_at = case.deadline_at

    return effect


EFFECTS["record_decision_upheld"] = _record_decision("upheld")
EFFECTS["record_decision_rejected"] = _record_decision("rejected")


# --- filing --------------------------------------------------------------------------------

def _sniff_photo(data: bytes) -> str:
    if not data:
        raise InvalidPhoto("empty file")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidPhoto("photo too large")
    kind = filetype.guess(data)
    mime = kind.mime if kind is not None else None
    if mime not in ALLOWED_PHOTO_TYPES:
        raise InvalidPhoto("not an image")
    return mime


def _attach(case: Case, clock: Clock, actor: Actor | None, data: bytes) -> CasePhoto:
    mime = _sniff_photo(data)
    if len(case.photos) >= MAX_PHOTOS_PER_CASE:
        raise InvalidPhoto("too many photos")
    photo = CasePhoto(content_type=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                      data=data, uploaded_by_id=actor.id if actor is not None else None,
                      uploaded_at=clock.now())
    case.photos.append(photo)
    return photo


def file_observer_report(session: Session, clock: Clock, actor: Actor, *, polling_station_id: int,
                         category: str, severity: str, description: str,
                         is_accredited: Callable[[int], bool], observed_at: datetime | None = None,
                         photos: Iterable[bytes] = (), draft_started_at: datetime | None = None,
                         calendar: WorkingDayCalendar | None = None,
                         context: AuditContext | None = None) -> Case:
    """File an observer's report; it is routed to the station's municipal commission.

    ``is_accredited(municipality_id)`` answers whether the observer is accredited there.

    Raises:
        NotAccredited: the observer is not accredited in the station's municipality.
        InvalidCaseData: unknown station, category or severity, or an empty description.
        InvalidPhoto: a photo that is not an accepted image, too large, or too many.
    """
    station = session.get(PollingStation, polling_station_id)
    if station is None:
        raise InvalidCaseData("unknown polling station")
    if not is_accredited(station.municipality_id):
        _refuse(session, clock, actor, None, NotAccredited("observer not accredited there"),
                "file_observer_report", context, municipality_id=station.municipality_id,
                polling_station_id=station.id)
    try:
        category, severity = ReportCategory(category).value, Severity(severity).value
    except ValueError:
        raise InvalidCaseData("unknown category or severity") from None
    description = _clean_text(description, "description")
    photo_data = list(photos)
    if len(photo_data) > MAX_PHOTOS_PER_CASE:
        raise InvalidPhoto("too many photos")
    for data in photo_data:
        _sniff_photo(data)
    if observed_at is not None and observed_at > clock.now() + timedelta(minutes=5):
        raise InvalidCaseData("observed in the future")
    title = f"{station.number}. {station.name}: {description.splitlines()[0][:120]}"
    report = ObserverReport(category=category, severity=severity, description=description,
                            observed_at=observed_at)
    case = _open(session, clock, calendar or _CALENDAR, actor,
                 case_type=CaseType.OBSERVER_REPORT, title=title[:200], summary=description,
                 municipality_id=station.municipality_id, polling_station_id=station.id,
                 draft_started_at=draft_started_at, details=report, context=context)
    for data in photo_data:
        photo = _attach(case, clock, actor, data)
        session.flush()
        add_event(case, clock, actor, EventKind.ATTACHMENT, photo_id=photo.id,
                  content_type=photo.content_type, size=photo.size)
    session.flush()
    return case


def complaint_filing_deadline(calendar: WorkingDayCalendar, grounds: Grounds,
                              contested_on: date) -> datetime | None:
    """The last moment to file a complaint on ``grounds`` about something dated ``contested_on``."""
    rule = APPEAL_RULES[grounds]
    if rule.file_within is None:
        return None
    return rule.file_within.ends_at(calendar, _day_start(contested_on))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=RIGA)


def file_complaint(session: Session, clock: Clock, actor: Actor, *, municipality_id: int,
                   grounds: str, applicant_kind: str, contested: str, contested_on: date,
                   summary: str, draft_started_at: datetime | None = None,
                   calendar: WorkingDayCalendar | None = None,
                   context: AuditContext | None = None) -> Case:
    """File a complaint or appeal against a commission decision, a count protocol or the
    municipality's refusal; the deadline to decide it follows the article for its grounds.

    Raises:
        InvalidCaseData: unknown grounds/applicant, empty text, a future date, or filed after
            the law's period to contest (Art. 20(7), 13(6), 10(7)).
    """
    cal = calendar or _CALENDAR
    try:
        grounds_value, applicant = Grounds(grounds), ApplicantKind(applicant_kind)
    except ValueError:
        raise InvalidCaseData("unknown grounds or applicant") from None
    contested = _clean_text(contested, "contested", limit=300)
    summary = _clean_text(summary, "summary")
    today = to_riga(clock.now()).date()
    if contested_on > today:
        raise InvalidCaseData("the contested decision cannot be in the future")
    last = complaint_filing_deadline(cal, grounds_value, contested_on)
    if last is not None and clock.now() > last:
        raise FilingPeriodOver(APPEAL_RULES[grounds_value].article)
    details = ComplaintDetails(grounds=grounds_value.value, applicant_kind=applicant.value,
                               contested=contested)
    return _open(session, clock, cal, actor, case_type=CaseType.COMPLAINT, title=contested[:200],
                 summary=summary, municipality_id=municipality_id,
                 draft_started_at=draft_started_at, details=details, context=context)


def ask_cvk(session: Session, clock: Clock, actor: Actor, *, municipality_id: int, title: str,
            question: str, parties: Parties, draft_started_at: datetime | None = None,
            calendar: WorkingDayCalendar | None = None,
            context: AuditContext | None = None) -> Case:
    """A municipal commission asks CVK for methodological help (a commission query).

    Raises:
        NotAllowed: the actor does not act for that municipality's commission.
        InvalidCaseData: empty title or question.
    """
    if Party.COMMISSION not in parties:
        _refuse(session, clock, actor, None, NotAllowed("only a commission asks CVK"),
                "ask_cvk", context, municipality_id=municipality_id)
    title = _clean_text(title, "title", limit=200)
    question = _clean_text(question, "question")
    return _open(session, clock, calendar or _CALENDAR, actor,
                 case_type=CaseType.COMMISSION_QUERY, title=title, summary=question,
                 municipality_id=municipality_id, draft_started_at=draft_started_at,
                 context=context)


# --- moving and working cases --------------------------------------------------------------

def resolve_transition(workflow: Workflow, case: Case, to_state: str,
                       parties: Parties) -> Transition:
    """The declared transition meant by ``to_state`` (a transition name or a target state).

    Raises:
        InvalidTransition: nothing declared, or a target state reachable by several moves.
    """
    by_name = workflow.find(case.state, to_state)
    if by_name is not None:
        return by_name
    moves = [t for t in workflow.outgoing(case.state) if t.target == to_state]
    permitted = [t for t in moves if t.parties & frozenset(parties)]
    if len(permitted) == 1:
        return permitted[0]
    if len(moves) == 1:
        return moves[0]
    if not moves:
        raise InvalidTransition(f"no move from {case.state} to {to_state}")
    raise InvalidTransition(f"several moves lead to {to_state}; name one")


def _check_version(session: Session, clock: Clock, actor: Actor | None, case: Case,
                   expected_version: int | None, action: str,
                   context: AuditContext | None) -> None:
    if expected_version is not None and case.version != expected_version:
        _refuse(session, clock, actor, case, StaleCase("case changed since it was loaded"),
                action, context, expected_version=expected_version, version=case.version)


def transition_case(session: Session, clock: Clock, actor: Actor | None, case: Case,
                    to_state: str, expected_version: int | None, note: str = "", *,
                    parties: Parties, calendar: WorkingDayCalendar | None = None,
                    context: AuditContext | None = None) -> Transition:
    """Move ``case`` along a declared transition (named, or by its target state).

    ``expected_version`` is the version the actor saw; ``None`` only for the system job.

    Raises:
        StaleCase: the case changed since the actor loaded it (someone else moved it).
        InvalidTransition: no such move from the current state, or a note is missing.
        NotAllowed: none of the actor's parties may make this move.
    """
    cal = calendar or _CALENDAR
    workflow = REGISTRY.get(case.type)
    _check_version(session, clock, actor, case, expected_version, "transition", context)
    try:
        move = resolve_transition(workflow, case, to_state, parties)
    except InvalidTransition as err:
        _refuse(session, clock, actor, case, err, "transition", context, to=to_state,
                state=case.state)
    if not move.parties & frozenset(parties):
        _refuse(session, clock, actor, case, NotAllowed(f"{move.name} not allowed"),
                "transition", context, transition=move.name, state=case.state)
    if move.requires_note and not (note or "").strip():
        raise NoteRequired(f"{move.name} needs a note")
    note = _clean_text(note, "note", required=False)
    source = case.state
    now = clock.now()
    with _changing(session, case):
        _enter_state(case, workflow, workflow.state(move.target), now, cal)
        for name in move.effects:
            EFFECTS[name](session, clock, cal, case)
        add_event(case, clock, actor, EventKind.TRANSITION, note=note, transition=move.name,
                  from_state=source, to_state=move.target)
        if move.returns_to_requester:
            add_event(case, clock, actor, EventKind.RETURNED_TO_REQUESTER, note=note)
        if move.is_resubmission:
            add_event(case, clock, actor, EventKind.RESUBMITTED, note=note)
        if not case.is_open:
            add_event(case, clock, actor, EventKind.CLOSED, to_state=case.state,
                      opened_at=case.opened_at.isoformat())
    audit.record(session, clock, actor, "case.transition", obj=case, context=context,
                 transition=move.name, from_state=source, to_state=move.target,
                 version=case.version)
    return move


def assign_case(session: Session, clock: Clock, actor: Actor, case: Case, assignee: Actor | None,
                *, parties: Parties, assignee_may_work: bool, expected_version: int | None = None,
                context: AuditContext | None = None) -> None:
    """Give ``case`` to ``assignee`` (or nobody). Only officials assign, only to officials who
    may work on the case (``assignee_may_work``, decided by the caller's permission check).

    Raises:
        NotAllowed: the actor is not an official for this case, or the assignee may not work it.
        StaleCase: the case changed since it was loaded.
    """
    _check_version(session, clock, actor, case, expected_version, "assign", context)
    if not OFFICIAL_PARTIES & frozenset(parties):
        _refuse(session, clock, actor, case, NotAllowed("only officials assign"), "assign",
                context)
    if assignee is not None and not assignee_may_work:
        _refuse(session, clock, actor, case, NotAllowed("assignee may not work on it"),
                "assign", context, assignee_id=assignee.id)
    if not case.is_open:
        _refuse(session, clock, actor, case, InvalidTransition("case is closed"), "assign",
                context)
    previous = case.assignee_id
    with _changing(session, case):
        case.assignee_id = assignee.id if assignee is not None else None
        case.updated_at = clock.now()
        add_event(case, clock, actor, EventKind.ASSIGNMENT, previous_id=previous,
                  assignee_id=case.assignee_id,
                  assignee=assignee.audit_label if assignee is not None else None)
    audit.record(session, clock, actor, "case.assigned", obj=case, context=context,
                 assignee_id=case.assignee_id, previous_id=previous)


def comment_on_case(session: Session, clock: Clock, actor: Actor, case: Case, text: str, *,
                    parties: Parties, context: AuditContext | None = None) -> CaseEvent:
    """Add a comment to the timeline (anyone with a part in the case).

    Raises:
        NotAllowed: the actor has no part in the case.
        InvalidCaseData: empty or over-long comment.
    """
    if not parties:
        _refuse(session, clock, actor, case, NotAllowed("no part in this case"), "comment",
                context)
    text = _clean_text(text, "comment")
    with _changing(session, case):
        event = add_event(case, clock, actor, EventKind.COMMENT, note=text)
        case.updated_at = clock.now()
    audit.record(session, clock, actor, "case.commented", obj=case, context=context,
                 event_id=event.id)
    return event


def add_photo(session: Session, clock: Clock, actor: Actor, case: Case, data: bytes, *,
              parties: Parties, context: AuditContext | None = None) -> CasePhoto:
    """Attach a photo (requester or officials; images only, size and count limited).

    Raises:
        NotAllowed: the actor has no part in the case, or it is closed.
        InvalidPhoto: not an accepted image, too large, or too many.
    """
    if not parties or Party.SYSTEM in parties:
        _refuse(session, clock, actor, case, NotAllowed("no part in this case"), "add_photo",
                context)
    if not case.is_open:
        _refuse(session, clock, actor, case, NotAllowed("case is closed"), "add_photo", context)
    with _changing(session, case):
        photo = _attach(case, clock, actor, data)
        case.updated_at = clock.now()
    with _changing(session, case):
        add_event(case, clock, actor, EventKind.ATTACHMENT, photo_id=photo.id,
                  content_type=photo.content_type, size=photo.size)
    audit.record(session, clock, actor, "case.photo_added", obj=case, context=context,
                 photo_id=photo.id, sha256=photo.sha256)
    return photo


def change_deadline(session: Session, clock: Clock, actor: Actor, case: Case,
                    new_deadline: datetime, reason: str, *, parties: Parties,
                    context: AuditContext | None = None) -> None:
    """Move a service-level deadline (commission chair or CVK). Deadlines set by an article
    of the law cannot be moved by anyone.

    Raises:
        NotAllowed: not a chair/CVK, or the deadline comes from the law.
        InvalidCaseData: no reason, or a deadline in the past.
    """
    if not {Party.CHAIR, Party.CVK} & frozenset(parties):
        _refuse(session, clock, actor, case, NotAllowed("only a chair or CVK"),
                "change_deadline", context)
    if case.deadline_basis not in (None, SERVICE_LEVEL):
        _refuse(session, clock, actor, case, NotAllowed("deadline set by law"),
                "change_deadline", context, basis=case.deadline_basis)
    reason = _clean_text(reason, "reason")
    if new_deadline <= clock.now():
        raise InvalidCaseData("deadline in the past")
    previous = case.deadline_at
    with _changing(session, case):
        case.deadline_at, case.deadline_basis = new_deadline, SERVICE_LEVEL
        case.escalation_level = 0
        case.updated_at = clock.now()
        add_event(case, clock, actor, EventKind.DEADLINE_CHANGED, note=reason,
                  previous=previous.isoformat() if previous else None,
                  deadline=new_deadline.isoformat())
    audit.record(session, clock, actor, "case.deadline_changed", obj=case, context=context,
                 previous=previous.isoformat() if previous else None,
                 deadline=new_deadline.isoformat())


def record_message(session: Session, clock: Clock, actor: Actor | None, case: Case,
                   excerpt: str) -> CaseEvent:
    """Note on the timeline that a message was posted in the case's thread."""
    event = add_event(case, clock, actor, EventKind.MESSAGE, note=excerpt[:300])
    session.flush()
    return event


def save_filter(session: Session, clock: Clock, user: Actor, name: str, query: str) -> SavedFilter:
    """Save (or replace) a named work-queue filter for ``user``.

    Raises:
        InvalidCaseData: empty name, or a query string too long.
    """
    name = _clean_text(name, "name", limit=80)
    query = _clean_text(query, "query", required=False, limit=1000)
    existing = session.query(SavedFilter).filter_by(user_id=user.id, name=name).one_or_none()
    if existing is not None:
        existing.query = query
        session.flush()
        return existing
    saved = SavedFilter(user_id=user.id, name=name, query=query, created_at=clock.now())
    session.add(saved)
    session.flush()
    return saved


def delete_filter(session: Session, user: Actor, filter_id: int) -> None:
    """Delete one of ``user``'s saved filters (others' are left alone).

    Raises:
        NotAllowed: no such filter of this user.
    """
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user.id:
        raise NotAllowed("no such filter")
    session.delete(saved)
    session.flush()
