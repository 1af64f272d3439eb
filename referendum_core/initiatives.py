"""Referendum initiatives (Art. 5-10, 25(2), 26): application, the municipality's decision,
publication and the collection period. Every initiative is a case of type ``initiative``
whose workflow is declared and registered here; signatures live in ``signatures``.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case, CaseType
from referendum_core.cases.services import open_case, transition_case
from referendum_core.cases.workflows import (
    DeadlineRule,
    Party,
    Period,
    State,
    Transition,
    Workflow,
    register,
)
from referendum_core.clock import RIGA, Clock, to_riga
from referendum_core.db import Base
from referendum_core.organisation import Municipality
from referendum_core.register import eligibility
from referendum_core.sealing import SealedText


class Subject(StrEnum):
    """Art. 5: the closed list of what a local referendum may be about."""

    STRATEGY = "strategy"
    CONSTRUCTION = "construction"
    DISMISSAL = "dismissal"


class Initiator(StrEnum):
    """Art. 7(3), 8(2), 9: residents, or the council by a two-thirds majority."""

    RESIDENTS = "residents"
    COUNCIL = "council"


# Rules as data ------------------------------------------------------------------------------
STRATEGY_WINDOW_MONTHS = 2  # Art. 6: within 2 months of the strategy's approval
CONSTRUCTION_WINDOW_MONTHS = 1  # Art. 6: within 1 month of the decision's publication
COUNCIL_TERM_YEARS = 4  # Art. 6: no dismissal in the council's first or last year
DECISION_DAYS = 15  # Art. 10(4): decision within 15 days after the Art. 6 window ends
NOTICE_WORKING_DAYS = 3  # Art. 10(6): applicants told within 3 working days
PUBLICATION_WORKING_DAY = 3  # Art. 25(2): published on the 3rd working day after the notices
COLLECTION_DAYS = 30  # Art. 10(8)
ORGANISER_TOLD_WORKING_DAYS = 3  # Art. 26
CHECK_WORKING_DAYS = 20  # Art. 13
REFERENDUM_WITHIN_MONTHS = 4  # Art. 13(4)
# Art. 8(1): share of the voters at the last council elections, in per cent.
THRESHOLD_PERCENT = {"riga": 10, "other": 15, Subject.DISMISSAL: 30}
ANSWERS = ("par", "pret")  # Art. 10(5)
MAX_QUESTION = 500
MAX_REASONS = 10_000


class InitiativeError(Exception):
    """Base class of refused initiative actions; ``code`` names the rule for the portal."""

    code = "refused"
    article = ""

    def __init__(self, **params: object) -> None:
        super().__init__(f"{self.code} ({self.article})")
        self.params = params


class InvalidSubject(InitiativeError):
    code, article = "invalid_subject", "Art. 5"


class OutsideStartWindow(InitiativeError):
    code, article = "outside_start_window", "Art. 6"


class DismissalOutsideTerm(InitiativeError):
    code, article = "dismissal_outside_term", "Art. 6"


class ApplicantNotEligible(InitiativeError):
    code, article = "applicant_not_eligible", "Art. 7(3)"


class CouncilMajorityMissing(InitiativeError):
    code, article = "council_majority_missing", "Art. 8(2)"


class CouncilOwnDismissal(InitiativeError):
    code, article = "council_own_dismissal", "Art. 9"


class MissingText(InitiativeError):
    code, article = "missing_text", "Art. 7(3)"


class MissingBaseFigure(InitiativeError):
    code, article = "missing_base_figure", "Art. 8(1)"


class WrongState(InitiativeError):
    code, article = "wrong_state", "Art. 10"


# The workflow -------------------------------------------------------------------------------
C, CH, R, S = Party.COMMISSION, Party.CHAIR, Party.REQUESTER, Party.SYSTEM

INITIATIVE_WORKFLOW = register(Workflow(
    case_type=CaseType.INITIATIVE,
    initial="submitted",
    states=(
        # Deadline set per initiative: 15 days after the Art. 6 window ends (Art. 10(4)).
        State("submitted", CH),
        # Waiting for publication on the 3rd working day after the notices (Art. 25(2)).
        State("approved", S, escalates=False),
        # Closed by ``close_due_collections`` at the end of the 30 days (Art. 10(8)).
        State("collecting", S, escalates=False),
        State("collected", C, deadline=DeadlineRule(Period(CHECK_WORKING_DAYS), "Art. 13")),
        State("checking", C, deadline_continues=True),
        State("reached", C, is_final=True),
        State("not_reached", C, is_final=True),
        State("refused", CH, is_final=True),
        State("withdrawn", R, is_final=True),
    ),
    transitions=(
        Transition("approve", ("submitted",), "approved", frozenset({CH})),
        Transition("refuse", ("submitted",), "refused", frozenset({CH}), requires_note=True),
        Transition("withdraw", ("submitted",), "withdrawn", frozenset({R})),
        Transition("publish", ("approved",), "collecting", frozenset({S})),
        Transition("close_collection", ("collecting",), "collected", frozenset({S})),
        Transition("start_check", ("collected",), "checking", frozenset({S, C})),
        Transition("threshold_reached", ("checking",), "reached", frozenset({S})),
        Transition("threshold_not_reached", ("checking",), "not_reached", frozenset({S})),
    ),
))


class Initiative(Base):
    """The details of an initiative case (1:1 with its case)."""

    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    subject: Mapped[str] = mapped_column(String(20))
    initiator: Mapped[str] = mapped_column(String(20))
    # Public once the commission publishes the initiative, not before: sealed at rest.
    question: Mapped[str] = mapped_column(SealedText("initiatives", "question"))
    reasons: Mapped[str] = mapped_column(SealedText("initiatives", "reasons"))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Strategy: its approval; construction: the decision's publication (Art. 6).
    basis_date: Mapped[date | None] = mapped_column(Date)
    council_votes_for: Mapped[int | None]
    council_size: Mapped[int | None]
    submitted_at: Mapped[datetime]
    decision_due_on: Mapped[date] = mapped_column(Date)
    decided_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(10))  # can | cannot
    signatures_needed: Mapped[int | None]
    threshold_base: Mapped[int | None]
    notices_due_on: Mapped[date | None] = mapped_column(Date)
    published_on: Mapped[date | None] = mapped_column(Date)
    collection_starts_at: Mapped[datetime | None]
    collection_ends_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    signatures_at_close: Mapped[int | None]
    organiser_told_by: Mapped[date | None] = mapped_column(Date)
    check_due_on: Mapped[date | None] = mapped_column(Date)
    check_total: Mapped[int] = mapped_column(default=0)
    checked: Mapped[int] = mapped_column(default=0)
    valid_signatures: Mapped[int | None]
    check_finished_at: Mapped[datetime | None]
    referendum_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    referendum_due_on: Mapped[date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    municipality: Mapped[Municipality] = relationship()

    @property
    def state(self) -> str:
        return self.case.state

    def is_collecting(self, now: datetime) -> bool:
        """Open for signatures right now (Art. 10(8))."""
        return (self.case.state == "collecting" and self.collection_starts_at is not None
                and self.collection_ends_at is not None
                and self.collection_starts_at <= now < self.collection_ends_at)

    def days_left(self, now: datetime) -> int:
        """Whole or part days left in the collection (0 when closed)."""
        if self.collection_ends_at is None or now >= self.collection_ends_at:
            return 0
        return (to_riga(self.collection_ends_at).date() - to_riga(now).date()).days + 1


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of a shorter month)."""
    import calendar as stdlib_calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, stdlib_calendar.monthrange(year, month)[1]))


def start_window(subject: Subject, municipality: Municipality, basis_date: date | None
                 ) -> tuple[date, date]:
    """Art. 6: the first and last day an initiative on ``subject`` may be started.

    Raises:
        OutsideStartWindow: strategy/construction without the date the window counts from.
        MissingBaseFigure: dismissal without the council's election date.
    """
    if subject == Subject.DISMISSAL:
        elected = municipality.council_elected_on
        if elected is None:
            raise MissingBaseFigure(field="council_elected_on")
        # Not in the first or the last year of the 4-year term.
        return (add_months(elected, 12),
                add_months(elected, 12 * (COUNCIL_TERM_YEARS - 1)) - timedelta(days=1))
    if basis_date is None:
        raise OutsideStartWindow(reason="basis_date_missing")
    months = STRATEGY_WINDOW_MONTHS if subject == Subject.STRATEGY else CONSTRUCTION_WINDOW_MONTHS
    return basis_date, add_months(basis_date, months)


def signatures_needed(subject: Subject, municipality: Municipality) -> tuple[int, int]:
    """Art. 8(1): (signatures needed, base) — a share of the voters at the last council
    elections, rounded up: Rīga 10 %, other municipalities 15 %, a dismissal 30 %.

    Raises:
        MissingBaseFigure: the municipality's base figure is not recorded.
    """
    base = municipality.voters_at_last_election
    if not base:
        raise MissingBaseFigure(field="voters_at_last_election")
    if subject == Subject.DISMISSAL:
        percent = THRESHOLD_PERCENT[Subject.DISMISSAL]
    else:
        percent = THRESHOLD_PERCENT["riga" if municipality.is_riga else "other"]
    return -(-base * percent // 100), base


def _clean(text: str | None, limit: int, name: str) -> str:
    value = " ".join((text or "").split()) if name == "question" else (text or "").strip()
    if not value or len(value) > limit:
        raise MissingText(field=name, limit=limit)
    return value


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=RIGA).astimezone(UTC)


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=RIGA).astimezone(UTC)


def submit_initiative(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                      actor: Actor, *, municipality: Municipality, subject: Subject | str,
                      question: str, reasons: str, person_ref: str | None = None,
                      basis_date: date | None = None, initiator: Initiator = Initiator.RESIDENTS,
                      council_votes_for: int | None = None, council_size: int | None = None,
                      context: AuditContext | None = None) -> Initiative:
    """Open an initiative case: by a resident (Art. 7(3), 10(1)) or by the council (Art. 8(2)).

    Raises:
        InvalidSubject: not one of the Art. 5 subjects.
        OutsideStartWindow, DismissalOutsideTerm: Art. 6 windows.
        ApplicantNotEligible: a resident applicant who may not vote there (Art. 7).
        CouncilMajorityMissing: fewer than 2/3 of all councillors (Art. 8(2)).
        CouncilOwnDismissal: the council cannot initiate its own dismissal (Art. 9).
        MissingText: empty or too long question or reasons.
        MissingBaseFigure: dismissal without the council's election date.
    """
    try:
        subject = Subject(subject)
    except ValueError:
        raise InvalidSubject(subject=str(subject)) from None
    question = _clean(question, MAX_QUESTION, "question")
    reasons = _clean(reasons, MAX_REASONS, "reasons")
    today = to_riga(clock.now()).date()
    first, last = start_window(subject, municipality, basis_date)
    if not first <= today <= last:
        error = (DismissalOutsideTerm if subject == Subject.DISMISSAL else OutsideStartWindow)(
            first=first, last=last)
        audit.record(session, clock, actor, "initiative.refused", context=context,
                     municipality_id=municipality.id, reason=error.code, subject=str(subject))
        raise error
    if initiator == Initiator.COUNCIL:
        if subject == Subject.DISMISSAL:
            raise CouncilOwnDismissal()
        if not council_size or council_votes_for is None or council_votes_for < 0 \
                or council_votes_for > council_size \
                or 3 * council_votes_for < 2 * council_size:
            raise CouncilMajorityMissing(votes=council_votes_for, size=council_size)
    else:
        status = eligibility(session, person_ref or "", municipality.id, today)
        if not status.is_eligible:
            audit.record(session, clock, actor, "initiative.refused", context=context,
                         municipality_id=municipality.id, reason="applicant_not_eligible",
                         why=[str(r) for r in status.reasons])
            raise ApplicantNotEligible(reasons=status.reasons)
    # Dismissal windows have no end date to count from: the decision is due 15 days after
    # the application (open rule, same length as Art. 10(4)).
    window_end = today if subject == Subject.DISMISSAL else last
    case = open_case(session, clock, actor, case_type=CaseType.INITIATIVE, title=question[:200],
                     summary=reasons[:2000], municipality_id=municipality.id, calendar=calendar,
                     context=context)
    due = window_end + timedelta(days=DECISION_DAYS)
    case.deadline_at, case.deadline_basis = _end_of_day(due), "Art. 10(4)"
    initiative = Initiative(
        case=case, municipality_id=municipality.id, subject=str(subject),
        initiator=str(initiator), question=question, reasons=reasons,
        applicant_id=getattr(actor, "id", None), basis_date=basis_date,
        council_votes_for=council_votes_for, council_size=council_size,
        submitted_at=clock.now(), decision_due_on=due)
    session.add(initiative)
    session.flush()
    audit.record(session, clock, actor, "initiative.submitted", obj=initiative,
                 context=context, case_id=case.id, subject=str(subject),
                 initiator=str(initiator))
    return initiative


def decide_initiative(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                      actor: Actor, initiative: Initiative, *, can: bool,
                      question: str | None = None, note: str = "",
                      expected_version: int | None = None,
                      context: AuditContext | None = None) -> Initiative:
    """Art. 10(4)-(6): the municipality decides "can" or "cannot". A "can" fixes the question
    (answered only "par" / "pret") and the signatures needed (Art. 8(1)), and schedules the
    publication (3rd working day after the notices, Art. 25(2)) and the 30-day collection
    (Art. 10(8)).

    Raises:
        WrongState: already decided. MissingText: empty question or (refusal) reasons.
        MissingBaseFigure: no base figure for the threshold.
    """
    if initiative.case.state != "submitted":
        raise WrongState(state=initiative.case.state)
    now = clock.now()
    today = to_riga(now).date()
    if can:
        final_question = _clean(question or initiative.question, MAX_QUESTION, "question")
        needed, base = signatures_needed(Subject(initiative.subject), initiative.municipality)
        transition_case(session, clock, actor, initiative.case, "approve", expected_version,
                        note, parties={Party.CHAIR}, calendar=calendar, context=context)
        initiative.question = final_question
        initiative.signatures_needed, initiative.threshold_base = needed, base
        # Notices go out at once through messaging; the law allows 3 working days (Art. 10(6)).
        notices = calendar.add_working_days(today, 0)
        initiative.notices_due_on = calendar.add_working_days(today, NOTICE_WORKING_DAYS)
        published = calendar.add_working_days(notices, PUBLICATION_WORKING_DAY)
        initiative.published_on = published
        initiative.collection_starts_at = _start_of_day(published)
        initiative.collection_ends_at = _end_of_day(published + timedelta(days=COLLECTION_DAYS))
        initiative.case.deadline_at = initiative.collection_ends_at
        initiative.case.deadline_basis = "Art. 10(8)"
    else:
        if not (note or "").strip():
            raise MissingText(field="note", limit=MAX_REASONS)
        transition_case(session, clock, actor, initiative.case, "refuse", expected_version,
                        note, parties={Party.CHAIR}, calendar=calendar, context=context)
    initiative.decision = "can" if can else "cannot"
    initiative.decided_at = now
    session.flush()
    audit.record(session, clock, actor, "initiative.decided", obj=initiative, context=context,
                 decision=initiative.decision, signatures_needed=initiative.signatures_needed,
                 late=today > initiative.decision_due_on)
    return initiative


def publish_due_initiatives(session: Session, clock: Clock, calendar: WorkingDayCalendar
                            ) -> list[Initiative]:
    """Open the collection of every approved initiative whose publication day has come."""
    now = clock.now()
    due = session.scalars(select(Initiative).join(Initiative.case).where(
        Case.state == "approved", Initiative.collection_starts_at <= now)).all()
    for initiative in due:
        transition_case(session, clock, None, initiative.case, "publish", None,
                        parties={Party.SYSTEM}, calendar=calendar)
        initiative.case.deadline_at = initiative.collection_ends_at
        initiative.case.deadline_basis = "Art. 10(8)"
        audit.record(session, clock, None, "initiative.published", obj=initiative,
                     ends_at=initiative.collection_ends_at.isoformat()
                     if initiative.collection_ends_at else None)
    return list(due)


def get_initiative(session: Session, initiative_id: int) -> Initiative | None:
    """An initiative by id."""
    return session.get(Initiative, initiative_id)


def initiative_for_case(session: Session, case_id: int) -> Initiative | None:
    """The initiative details of a case."""
    return session.scalars(select(Initiative).where(Initiative.case_id == case_id)).first()


def public_initiatives(session: Session, municipality_id: int | None = None
                       ) -> list[Initiative]:
    """Initiatives the public may see: decided "can" (published or later)."""
    query = select(Initiative).where(Initiative.decision == "can").order_by(
        Initiative.id.desc())
    if municipality_id is not None:
        query = query.where(Initiative.municipality_id == municipality_id)
    return list(session.scalars(query))
