"""How a case comes to be and moves between states: the timeline row, entering a state (and
starting its deadline), opening a case of any registered type, the automatic effects workflows
name, and the plumbing every case write shares (refusal audit, text checks, optimistic
concurrency). The verb-named writes live in ``filing``, ``handling`` and ``saved_filters``;
``services`` re-exports them all.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.exceptions import BadCharacters, InvalidCaseData, StaleCase
from referendum_core.cases.models import (
    Case,
    CaseEvent,
    ComplaintDetails,
    EventKind,
    ObserverReport,
)
from referendum_core.cases.workflows import REGISTRY, Party, State, Workflow
from referendum_core.clock import Clock
from referendum_core.organisation import PollingStation
from referendum_core.text import normalise_lines, printable

Parties = Collection[Party]
OFFICIAL_PARTIES = frozenset({Party.COMMISSION, Party.CHAIR, Party.CVK})
MAX_TEXT = 10_000
# A form started more than this long before it was sent says nothing about filing time.
MAX_DRAFT_AGE = timedelta(hours=12)

Effect = Callable[[Session, Clock, WorkingDayCalendar, Case], None]
EFFECTS: dict[str, Effect] = {}
DEFAULT_CALENDAR = WorkingDayCalendar()


def register_effect(name: str) -> Callable[[Effect], Effect]:
    """Declare an automatic action a workflow may name (``on_open`` or a transition's effects)."""

    def decorator(fn: Effect) -> Effect:
        EFFECTS[name] = fn
        return fn

    return decorator


# --- shared plumbing -----------------------------------------------------------------------

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


def refuse(session: Session, clock: Clock, actor: Actor | None, case: Case | None,
           error: Exception, action: str, context: AuditContext | None,
           **detail: Any) -> NoReturn:
    """Audit a refusal (``case.refused``) in the caller's transaction, then raise ``error``."""
    audit.record(session, clock, actor, "case.refused", obj=case, object_type="Case",
                 context=context, attempted=action, reason=type(error).__name__, **detail)
    raise error


def clean_text(value: str | None, name: str, *, required: bool = True,
               limit: int = MAX_TEXT) -> str:
    """``value`` stripped, checked for presence, length and characters (the same rule as for
    names, ``referendum_core.text``: line breaks, normalised to ``\n``, and tabs are kept;
    other controls, NUL and bidirectional controls are refused; emoji sequences, tags,
    variation selectors and the soft hyphen are kept).

    Raises:
        InvalidCaseData: empty when ``required``, or longer than ``limit``.
        BadCharacters: a character that does not show as what it is.
    """
    text = normalise_lines(value or "").strip()
    if not printable(text, multiline=True):
        raise BadCharacters(f"{name} holds control or formatting characters")
    if required and not text:
        raise InvalidCaseData(f"{name} is required", field=name, problem="required")
    if len(text) > limit:
        raise InvalidCaseData(f"{name} is longer than {limit} characters", field=name,
                              problem="too_long", limit=limit)
    return text


def enter_state(case: Case, workflow: Workflow, state: State, now: datetime,
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


def flush_case(session: Session, case: Case) -> None:
    """Flush; a concurrent update of ``case`` (its version moved) becomes ``StaleCase``."""
    case_id = case.id  # read before a failed flush expires the object
    try:
        session.flush()
    except StaleDataError as err:
        stale = StaleCase(f"case {case_id} was changed by someone else")
        stale.is_audited = False  # the failed flush leaves nothing to audit in
        raise stale from err


@contextmanager
def changing(session: Session, case: Case) -> Iterator[None]:
    """Make changes to ``case`` without autoflush, then flush once; a concurrent update of the
    row (version no longer matches) becomes ``StaleCase``."""
    with session.no_autoflush:
        yield
    flush_case(session, case)


def check_version(session: Session, clock: Clock, actor: Actor | None, case: Case,
                  expected_version: int | None, action: str,
                  context: AuditContext | None) -> None:
    """Refuse (audited) when the actor saw another version of ``case`` than the current one.

    Raises:
        StaleCase: ``expected_version`` is given and differs.
    """
    if expected_version is not None and case.version != expected_version:
        refuse(session, clock, actor, case, StaleCase("case changed since it was loaded"),
               action, context, expected_version=expected_version, version=case.version)


# --- opening -------------------------------------------------------------------------------

def open_new(session: Session, clock: Clock, calendar: WorkingDayCalendar, actor: Actor | None,
             *, case_type: str, title: str, summary: str, municipality_id: int | None,
             polling_station_id: int | None = None, draft_started_at: datetime | None = None,
             parent_case_id: int | None = None, details: Any = None,
             context: AuditContext | None = None) -> Case:
    """Create a case of ``case_type`` in its initial state with checked fields, run the
    workflow's ``on_open`` effects, write the timeline and audit it (callers check input).

    Raises:
        UnknownCaseType: no workflow registered for ``case_type``.
    """
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
    enter_state(case, workflow, workflow.state(workflow.initial), now, calendar)
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
    title = clean_text(title, "title", limit=200)
    summary = clean_text(summary, "summary", required=False)
    return open_new(session, clock, calendar or DEFAULT_CALENDAR, actor, case_type=case_type,
                    title=title, summary=summary, municipality_id=municipality_id,
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
