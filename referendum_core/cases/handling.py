"""Working on a filed case: moving it along its workflow, assigning it, commenting, adding
photos, moving a service-level deadline, and noting thread messages on the timeline.

The caller says which *parties* the actor acts as for the case (``portal.cases.access`` works
that out from roles and municipality); the workflow says which parties may make each move.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.exceptions import (
    DeadlineSetByLaw,
    InvalidCaseData,
    InvalidTransition,
    NotAllowed,
    NoteRequired,
)
from referendum_core.cases.filing import attach_photo
from referendum_core.cases.lifecycle import (
    DEFAULT_CALENDAR,
    EFFECTS,
    OFFICIAL_PARTIES,
    Parties,
    add_event,
    changing,
    check_version,
    clean_text,
    enter_state,
    refuse,
)
from referendum_core.cases.models import Case, CaseEvent, CasePhoto, EventKind
from referendum_core.cases.workflows import (
    REGISTRY,
    SERVICE_LEVEL,
    Party,
    Transition,
    Workflow,
)
from referendum_core.clock import Clock

DEADLINE_MOVERS = frozenset({Party.CHAIR, Party.CVK})


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
    cal = calendar or DEFAULT_CALENDAR
    workflow = REGISTRY.get(case.type)
    check_version(session, clock, actor, case, expected_version, "transition", context)
    try:
        move = resolve_transition(workflow, case, to_state, parties)
    except InvalidTransition as err:
        refuse(session, clock, actor, case, err, "transition", context, to=to_state,
               state=case.state)
    if not move.parties & frozenset(parties):
        refuse(session, clock, actor, case, NotAllowed(f"{move.name} not allowed"),
               "transition", context, transition=move.name, state=case.state)
    if move.requires_note and not (note or "").strip():
        raise NoteRequired(f"{move.name} needs a note")
    note = clean_text(note, "note", required=False)
    source = case.state
    now = clock.now()
    with changing(session, case):
        enter_state(case, workflow, workflow.state(move.target), now, cal)
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
    check_version(session, clock, actor, case, expected_version, "assign", context)
    if not OFFICIAL_PARTIES & frozenset(parties):
        refuse(session, clock, actor, case, NotAllowed("only officials assign"), "assign",
               context)
    if assignee is not None and not assignee_may_work:
        refuse(session, clock, actor, case, NotAllowed("assignee may not work on it"),
               "assign", context, assignee_id=assignee.id)
    if not case.is_open:
        refuse(session, clock, actor, case, InvalidTransition("case is closed"), "assign",
               context)
    previous = case.assignee_id
    with changing(session, case):
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
        refuse(session, clock, actor, case, NotAllowed("no part in this case"), "comment",
               context)
    text = clean_text(text, "comment")
    with changing(session, case):
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
        refuse(session, clock, actor, case, NotAllowed("no part in this case"), "add_photo",
               context)
    if not case.is_open:
        refuse(session, clock, actor, case, NotAllowed("case is closed"), "add_photo", context)
    with changing(session, case):
        photo = attach_photo(case, clock, actor, data)
        case.updated_at = clock.now()
    with changing(session, case):
        add_event(case, clock, actor, EventKind.ATTACHMENT, photo_id=photo.id,
                  content_type=photo.content_type, size=photo.size)
    audit.record(session, clock, actor, "case.photo_added", obj=case, context=context,
                 photo_id=photo.id, sha256=photo.sha256)
    return photo


def deadline_is_movable(case: Case) -> bool:
    """Is ``case``'s deadline a service level (movable), not one set by an article of the law?"""
    return case.is_open and case.deadline_basis in (None, SERVICE_LEVEL)


def change_deadline(session: Session, clock: Clock, actor: Actor, case: Case,
                    new_deadline: datetime, reason: str, *, parties: Parties,
                    context: AuditContext | None = None) -> None:
    """Move a service-level deadline (commission chair or CVK). Deadlines set by an article
    of the law cannot be moved by anyone.

    Raises:
        NotAllowed: not a chair/CVK.
        DeadlineSetByLaw: the deadline comes from an article of the law.
        InvalidCaseData: no reason, or a deadline in the past.
    """
    if not DEADLINE_MOVERS & frozenset(parties):
        refuse(session, clock, actor, case, NotAllowed("only a chair or CVK"),
               "change_deadline", context)
    if case.deadline_basis not in (None, SERVICE_LEVEL):
        refuse(session, clock, actor, case, DeadlineSetByLaw(case.deadline_basis or ""),
               "change_deadline", context, basis=case.deadline_basis)
    reason = clean_text(reason, "reason")
    if new_deadline <= clock.now():
        raise InvalidCaseData("deadline in the past")
    previous = case.deadline_at
    with changing(session, case):
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
