"""Deadline countdowns and the escalation job.

Escalation ladder for an open case with a deadline (only ever climbs, one event per step):

1. the deadline is at most one working day away — remind the owner (assignee, or the party
   that must act);
2. the deadline has passed — tell the commission chair of the case's municipality;
3. the deadline passed two or more working days ago — tell CVK.

States that declare ``on_deadline`` (e.g. a complaint's court window) are moved automatically
by the system instead. The job is idempotent: running it twice changes nothing the second time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.handling import transition_case
from referendum_core.cases.lifecycle import add_event
from referendum_core.cases.models import Case, EventKind
from referendum_core.cases.workflows import REGISTRY, Party
from referendum_core.clock import Clock, to_riga

NOTIFY = {1: "owner", 2: "chair", 3: "cvk"}
# Look this far ahead for "nearing" deadlines: one working day can span a long weekend.
LOOKAHEAD = timedelta(days=6)


@dataclass(frozen=True)
class Countdown:
    """What a deadline means right now, for showing."""

    deadline_at: datetime
    working_days_left: int  # 0 on the last day; negative once past (working days overdue)
    is_overdue: bool


def countdown(calendar: WorkingDayCalendar, now: datetime, deadline_at: datetime) -> Countdown:
    """Working days left until ``deadline_at`` (Riga dates), or overdue by how many."""
    today, last = to_riga(now).date(), to_riga(deadline_at).date()
    if now > deadline_at:
        return Countdown(deadline_at, -max(1, calendar.working_days_between(last, today)), True)
    return Countdown(deadline_at, calendar.working_days_between(today, last), False)


def due_level(calendar: WorkingDayCalendar, now: datetime, deadline_at: datetime | None) -> int:
    """The escalation level a deadline calls for at ``now`` (0 = nothing to do)."""
    if deadline_at is None:
        return 0
    left = countdown(calendar, now, deadline_at)
    if left.is_overdue:
        return 3 if -left.working_days_left >= 2 else 2
    return 1 if left.working_days_left <= 1 else 0


@dataclass(frozen=True)
class Escalation:
    """One thing the job did: a notification to send, or an automatic transition made."""

    case_id: int
    municipality_id: int | None
    level: int
    notify: str | None  # "owner" | "chair" | "cvk"; None for automatic transitions
    owner_party: str
    assignee_id: int | None
    deadline_at: datetime
    auto_transition: str | None = None


def escalate_due_cases(session: Session, clock: Clock, calendar: WorkingDayCalendar, *,
                       batch: int = 500) -> list[Escalation]:
    """Escalate open cases whose deadline is near or past; make automatic deadline moves.

    Returns what was done, so the caller can deliver notifications after committing.
    """
    now = clock.now()
    done: list[Escalation] = []
    cases = session.scalars(
        select(Case).where(Case.is_open.is_(True), Case.deadline_at.is_not(None),
                           Case.deadline_at <= now + LOOKAHEAD)
        .order_by(Case.deadline_at, Case.id).limit(batch)
    ).all()
    for case in cases:
        if case.type not in REGISTRY:
            continue
        workflow = REGISTRY.get(case.type)
        state = workflow.state(case.state)
        deadline = case.deadline_at
        assert deadline is not None  # noqa: S101 - filtered in the query
        if now > deadline and state.on_deadline is not None:
            transition_case(session, clock, None, case, state.on_deadline, None,
                            "deadline passed", parties={Party.SYSTEM}, calendar=calendar)
            done.append(Escalation(case.id, case.municipality_id, 0, None, case.owner_party,
                                   case.assignee_id, deadline, state.on_deadline))
            continue
        if not state.escalates:
            continue
        level = due_level(calendar, now, deadline)
        if level <= case.escalation_level:
            continue
        # A Core UPDATE: escalating must not bump the version an official's open form holds.
        session.execute(update(Case).where(Case.id == case.id).values(escalation_level=level)
                        .execution_options(synchronize_session=False))
        event = add_event(case, clock, None, EventKind.ESCALATION, level=level,
                          notify=NOTIFY[level])
        session.add(event)
        session.flush()
        session.expire(case, ["escalation_level"])
        audit.record(session, clock, None, "case.escalated", obj=case, level=level,
                     notify=NOTIFY[level], deadline_at=deadline.isoformat())
        done.append(Escalation(case.id, case.municipality_id, level, NOTIFY[level],
                               case.owner_party, case.assignee_id, deadline))
    return done
