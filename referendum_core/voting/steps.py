"""Steps the law requires by a deadline, written on a referendum case's timeline (the case page
shows each with its deadline and article): the Voter Register Law's steps at set-up, and after
the results Art. 12 (the suspension ends), Art. 23 and Art. 24."""
from __future__ import annotations

from collections.abc import Iterable

from referendum_core.audit import Actor
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.lifecycle import add_event
from referendum_core.cases.models import Case, EventKind
from referendum_core.clock import Clock, to_riga
from referendum_core.voting import rules
from referendum_core.voting.models import Referendum


def add_steps(case: Case, clock: Clock, actor: Actor | None, steps: Iterable[rules.Step]
              ) -> None:
    """One timeline row per step, with its deadline (flushed with the case)."""
    for step in steps:
        event = add_event(case, clock, actor, EventKind.STEP, step=step.name, basis=step.basis)
        event.deadline_at = step.due_at


def add_results_steps(clock: Clock, calendar: WorkingDayCalendar | None, actor: Actor | None,
                      referendum: Referendum, *, is_valid: bool, is_passed: bool) -> None:
    """After the results are approved: Art. 23 and 24 steps of a valid, passed result, and for
    a construction referendum the end of the council decision's suspension (Art. 12)."""
    add_steps(referendum.case, clock, actor, rules.after_results_steps(
        calendar or WorkingDayCalendar(), referendum.subject, is_valid=is_valid,
        is_passed=is_passed, announced_on=to_riga(clock.now()).date()))
    if referendum.subject == "construction":
        add_event(referendum.case, clock, actor, EventKind.STEP,
                  step="council_decision_suspension_ended", basis="Art. 12")
