"""Case types and their workflows, declared as data in one place.

A ``Workflow`` names its states (who must act in each, the deadline that runs there and what
happens automatically when it passes) and its transitions (from which states, to which, which
*parties* may make them, and effects to apply). The services only ever move a case along a
declared transition, and the case page draws the same data as a diagram.

Parties, not roles, appear here so the domain stays free of the web layer: the portal decides
which parties a signed-in person acts as for a given case (``portal.cases.access``):

* ``requester`` — whoever filed the case;
* ``commission`` — an official of the municipal election commission the case belongs to;
* ``chair`` — that commission's chair (decisions the law gives to the commission as a body);
* ``cvk`` — an official of the Central Election Commission;
* ``system`` — the deadline job.

Other modules (initiatives, referendums) declare their own workflows and ``register`` them
into ``REGISTRY``; the case model, queues and dashboard then handle them like any other.
"""
from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from referendum_core.cases.exceptions import InvalidTransition, UnknownCaseType
from referendum_core.cases.models import CaseType
from referendum_core.clock import RIGA, to_riga

if TYPE_CHECKING:
    from referendum_core.calendar import WorkingDayCalendar
    from referendum_core.cases.models import Case


class Party(StrEnum):
    """Who may make a transition (see the module docstring)."""

    REQUESTER = "requester"
    COMMISSION = "commission"
    CHAIR = "chair"
    CVK = "cvk"
    SYSTEM = "system"


class Unit(StrEnum):
    WORKING_DAYS = "working_days"
    DAYS = "days"
    MONTHS = "months"


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=RIGA)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Period:
    """A length of time the law (or a service level) gives someone to act."""

    amount: int
    unit: Unit = Unit.WORKING_DAYS

    def ends_at(self, calendar: WorkingDayCalendar, start: datetime) -> datetime:
        """The end (23:59:59 Riga time, as UTC) of a period that starts at ``start``.

        Working days are counted from the day after ``start`` on the Latvian holiday calendar.
        A period in calendar days or months that ends on a rest day ends on the next working
        day (the general rule for procedural deadlines; it never shortens a period).
        """
        first = to_riga(start).date()
        if self.unit == Unit.WORKING_DAYS:
            return calendar.deadline_at(first, self.amount)
        last = (first + timedelta(days=self.amount) if self.unit == Unit.DAYS
                else _add_months(first, self.amount))
        last = calendar.add_working_days(last, 0)
        return _end_of_day(last).astimezone(start.tzinfo)


@dataclass(frozen=True)
class DeadlineRule:
    """A period and where it comes from (an article of the law, or the service level)."""

    period: Period
    basis: str  # e.g. "Art. 20(7)" or "service level"


@dataclass(frozen=True)
class State:
    """A state of a workflow."""

    name: str
    owner: Party  # who must act while the case is here
    is_final: bool = False
    deadline: DeadlineRule | None = None
    # Keep the deadline that was already running (the law's clock does not restart).
    deadline_continues: bool = False
    # Transition the deadline job makes by itself when the deadline has passed.
    on_deadline: str | None = None
    # Remind and escalate when the deadline nears/passes (off where nobody in the portal acts,
    # e.g. while a court decides).
    escalates: bool = True


@dataclass(frozen=True)
class Transition:
    """A declared move between states."""

    name: str
    sources: tuple[str, ...]
    target: str
    parties: frozenset[Party]
    requires_note: bool = False
    # The case goes back to the requester for more information ...
    returns_to_requester: bool = False
    # ... or the requester sends it back again (both count against the service level).
    is_resubmission: bool = False
    effects: tuple[str, ...] = ()
    # The service that makes this move together with what else the step needs (e.g.
    # ``decide_initiative`` sets the collection period): a plain "move the case" request, from
    # the case page or the API, may not make it.
    made_by: str | None = None


DeadlineResolver = Callable[["Case", State], DeadlineRule | None]


@dataclass(frozen=True)
class Workflow:
    """States, transitions and automatic actions of one case type."""

    case_type: str
    states: tuple[State, ...]
    initial: str
    transitions: tuple[Transition, ...]
    # Automatic actions when a case of this type is opened (names of registered effects).
    on_open: tuple[str, ...] = ()
    # Per-case deadlines (e.g. a complaint's article depends on what it contests).
    deadline_resolver: DeadlineResolver | None = None
    _by_name: dict[str, State] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_name.update({s.name: s for s in self.states})
        self.validate()

    def validate(self) -> None:
        """Check the declaration is coherent.

        Raises:
            ValueError: unknown states, duplicate names, moves out of a final state, or an
                automatic move the system may not make.
        """
        if len(self._by_name) != len(self.states):
            raise ValueError(f"{self.case_type}: duplicate state names")
        if self.initial not in self._by_name:
            raise ValueError(f"{self.case_type}: unknown initial state {self.initial}")
        names = [t.name for t in self.transitions]
        for t in self.transitions:
            for source in t.sources:
                if source not in self._by_name:
                    raise ValueError(f"{self.case_type}.{t.name}: unknown source {source}")
                if self._by_name[source].is_final:
                    raise ValueError(f"{self.case_type}.{t.name}: leaves final state {source}")
                if names.count(t.name) > 1 and any(
                        source in o.sources for o in self.transitions
                        if o.name == t.name and o is not t):
                    raise ValueError(f"{self.case_type}.{t.name}: ambiguous from {source}")
            if t.target not in self._by_name:
                raise ValueError(f"{self.case_type}.{t.name}: unknown target {t.target}")
            if not t.parties:
                raise ValueError(f"{self.case_type}.{t.name}: nobody may make it")
        for state in self.states:
            if state.on_deadline is not None:
                move = self.find(state.name, state.on_deadline)
                if move is None or Party.SYSTEM not in move.parties:
                    raise ValueError(f"{self.case_type}.{state.name}: automatic move "
                                     f"{state.on_deadline} is not a system transition from it")

    def state(self, name: str) -> State:
        """The declared state ``name``.

        Raises:
            InvalidTransition: no such state in this workflow.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidTransition(f"{self.case_type} has no state {name}") from None

    def find(self, source: str, name: str) -> Transition | None:
        """The transition ``name`` out of ``source``, if declared."""
        for t in self.transitions:
            if t.name == name and source in t.sources:
                return t
        return None

    def outgoing(self, source: str) -> list[Transition]:
        """Every transition declared out of ``source``."""
        return [t for t in self.transitions if source in t.sources]

    def allowed(self, source: str, parties: Iterable[Party]) -> list[Transition]:
        """Transitions out of ``source`` that one of ``parties`` may make."""
        held = frozenset(parties)
        return [t for t in self.outgoing(source) if t.parties & held]

    def requestable(self, source: str, parties: Iterable[Party]) -> list[Transition]:
        """The allowed transitions out of ``source`` that a plain request may make (those
        without a service of their own, ``Transition.made_by``)."""
        return [t for t in self.allowed(source, parties) if t.made_by is None]

    def deadline_for(self, case: Case, state: State) -> DeadlineRule | None:
        """The deadline that starts when ``case`` enters ``state``."""
        if self.deadline_resolver is not None:
            return self.deadline_resolver(case, state)
        return state.deadline

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.is_final)


class WorkflowRegistry:
    """Workflows by case type; other modules register theirs at import time."""

    def __init__(self) -> None:
        self._workflows: dict[str, Workflow] = {}

    def register(self, workflow: Workflow) -> Workflow:
        """Add ``workflow``; registering the same declaration twice is harmless.

        Raises:
            ValueError: a different workflow is already registered for that case type.
        """
        existing = self._workflows.get(workflow.case_type)
        if existing is not None and existing is not workflow:
            raise ValueError(f"a workflow for {workflow.case_type} is already registered")
        self._workflows[workflow.case_type] = workflow
        return workflow

    def get(self, case_type: str) -> Workflow:
        """The workflow of ``case_type``.

        Raises:
            UnknownCaseType: nothing registered for it.
        """
        try:
            return self._workflows[case_type]
        except KeyError:
            raise UnknownCaseType(case_type) from None

    def __contains__(self, case_type: object) -> bool:
        return case_type in self._workflows

    def all(self) -> list[Workflow]:
        return list(self._workflows.values())


REGISTRY = WorkflowRegistry()
register = REGISTRY.register


# --- Observer reports ----------------------------------------------------------------------
# No article sets these; they are the operator's service levels (triage within a working day).
SERVICE_LEVEL = "service level"
C, R, CH, V, S = Party.COMMISSION, Party.REQUESTER, Party.CHAIR, Party.CVK, Party.SYSTEM

OBSERVER_REPORT = register(Workflow(
    case_type=CaseType.OBSERVER_REPORT,
    initial="submitted",
    on_open=("route_to_station_commission",),
    states=(
        State("submitted", C, deadline=DeadlineRule(Period(1), SERVICE_LEVEL)),
        State("triaged", C, deadline=DeadlineRule(Period(3), SERVICE_LEVEL)),
        State("investigating", C, deadline_continues=True),
        State("awaiting_information", R),
        State("resolved", C, is_final=True),
        State("dismissed", C, is_final=True),
    ),
    transitions=(
        Transition("triage", ("submitted",), "triaged", frozenset({C})),
        Transition("investigate", ("triaged",), "investigating", frozenset({C})),
        Transition("request_information", ("triaged", "investigating"), "awaiting_information",
                   frozenset({C}), requires_note=True, returns_to_requester=True),
        Transition("resubmit", ("awaiting_information",), "triaged", frozenset({R}),
                   requires_note=True, is_resubmission=True),
        Transition("resolve", ("triaged", "investigating"), "resolved", frozenset({C}),
                   requires_note=True),
        Transition("dismiss", ("submitted", "triaged", "investigating"), "dismissed",
                   frozenset({C}), requires_note=True),
    ),
))


# --- Complaints and appeals ----------------------------------------------------------------
class Grounds(StrEnum):
    """What a complaint contests; each has its own article and deadlines."""

    COUNT_PROTOCOL = "count_protocol"
    COMMISSION_DECISION = "commission_decision"
    MUNICIPALITY_REFUSAL = "municipality_refusal"


class ApplicantKind(StrEnum):
    VOTER = "voter"
    INITIATOR = "initiator"
    OBSERVER = "observer"


@dataclass(frozen=True)
class AppealRule:
    """The law's route for one kind of complaint."""

    article: str
    decided_by: str  # "commission" or "council"
    file_within: Period | None  # from the contested decision / protocol
    decide_within: Period | None  # from receipt
    court_within: Period  # from the decision on the complaint


# Art. 31: the court decides within 30 days and there is no further appeal.
COURT_DECIDES_WITHIN = DeadlineRule(Period(30, Unit.DAYS), "Art. 31")

APPEAL_RULES: dict[Grounds, AppealRule] = {
    # Art. 20(7): a count protocol is contested at the commission within 3 working days; it
    # decides within 3 working days; then the applicant has 5 working days to go to court.
    Grounds.COUNT_PROTOCOL: AppealRule("Art. 20(7)", "commission", Period(3), Period(3),
                                       Period(5)),
    # Art. 13(6)-(7): a commission's refusal goes to the council within 5 working days, the
    # council decides within 5, then court within 5.
    Grounds.COMMISSION_DECISION: AppealRule("Art. 13(6)-(7)", "council", Period(5), Period(5),
                                            Period(5)),
    # Art. 10(7): the municipality's refusal goes to the council and then to the
    # Administrative Regional Court. The referendum law sets no period, so the general
    # administrative-procedure month applies (open rule; default one month each).
    Grounds.MUNICIPALITY_REFUSAL: AppealRule("Art. 10(7)", "council", Period(1, Unit.MONTHS),
                                             Period(1, Unit.MONTHS), Period(1, Unit.MONTHS)),
}


def _complaint_deadline(case: Case, state: State) -> DeadlineRule | None:
    details = case.complaint
    rule = APPEAL_RULES[Grounds(details.grounds)] if details is not None else None
    if rule is None:
        return state.deadline
    if state.name == "submitted" and rule.decide_within is not None:
        return DeadlineRule(rule.decide_within, rule.article)
    if state.name == "decided":
        return DeadlineRule(rule.court_within, rule.article)
    if state.name == "in_court":
        return COURT_DECIDES_WITHIN
    return state.deadline


COMPLAINT = register(Workflow(
    case_type=CaseType.COMPLAINT,
    initial="submitted",
    deadline_resolver=_complaint_deadline,
    states=(
        State("submitted", C),
        State("under_review", C, deadline_continues=True),
        # The law's clock keeps running while the applicant adds information.
        State("awaiting_information", R, deadline_continues=True),
        # The applicant's window to go to court; closes by itself when it lapses.
        State("decided", R, on_deadline="close_unappealed", escalates=False),
        State("in_court", C, escalates=False),
        State("closed", C, is_final=True),
        State("withdrawn", R, is_final=True),
    ),
    transitions=(
        Transition("review", ("submitted",), "under_review", frozenset({C})),
        Transition("request_information", ("submitted", "under_review"), "awaiting_information",
                   frozenset({C}), requires_note=True, returns_to_requester=True),
        Transition("resubmit", ("awaiting_information",), "under_review", frozenset({R}),
                   requires_note=True, is_resubmission=True),
        Transition("uphold", ("submitted", "under_review"), "decided", frozenset({CH}),
                   requires_note=True, effects=("record_decision_upheld",)),
        Transition("reject", ("submitted", "under_review"), "decided", frozenset({CH}),
                   requires_note=True, effects=("record_decision_rejected",)),
        Transition("appeal_to_court", ("decided",), "in_court", frozenset({R, C})),
        Transition("close_unappealed", ("decided",), "closed", frozenset({S, C})),
        Transition("record_court_ruling", ("in_court",), "closed", frozenset({C}),
                   requires_note=True),
        Transition("withdraw", ("submitted", "under_review", "awaiting_information"),
                   "withdrawn", frozenset({R})),
    ),
))


# --- Commission queries to CVK -------------------------------------------------------------
COMMISSION_QUERY = register(Workflow(
    case_type=CaseType.COMMISSION_QUERY,
    initial="submitted",
    states=(
        State("submitted", V, deadline=DeadlineRule(Period(5), SERVICE_LEVEL)),
        State("awaiting_information", R),
        State("answered", R, deadline=DeadlineRule(Period(10), SERVICE_LEVEL),
              on_deadline="close", escalates=False),
        State("closed", V, is_final=True),
    ),
    transitions=(
        Transition("request_information", ("submitted",), "awaiting_information",
                   frozenset({V}), requires_note=True, returns_to_requester=True),
        Transition("resubmit", ("awaiting_information",), "submitted", frozenset({R, C}),
                   requires_note=True, is_resubmission=True),
        Transition("answer", ("submitted",), "answered", frozenset({V}), requires_note=True),
        Transition("follow_up", ("answered",), "submitted", frozenset({R, C}),
                   requires_note=True, is_resubmission=True),
        Transition("close", ("answered",), "closed", frozenset({R, C, S})),
    ),
))


def diagram_layout(workflow: Workflow) -> dict[str, tuple[int, int]]:
    """Column/row of each state for drawing: column = shortest distance from the initial state."""
    depth = {workflow.initial: 0}
    frontier = [workflow.initial]
    while frontier:
        following = []
        for name in frontier:
            for t in workflow.outgoing(name):
                if t.target not in depth:
                    depth[t.target] = depth[name] + 1
                    following.append(t.target)
        frontier = following
    max_depth = max(depth.values(), default=0)
    for s in workflow.states:  # unreachable states (should not exist) go last
        depth.setdefault(s.name, max_depth + 1)
    rows: dict[int, int] = {}
    layout = {}
    for s in workflow.states:
        col = depth[s.name]
        layout[s.name] = (col, rows.get(col, 0))
        rows[col] = rows.get(col, 0) + 1
    return layout
