"""Referendum initiatives (Art. 5-10, 25(2), 26): application, the municipality's decision,
publication and the collection period. Every initiative is a case of type ``initiative``
whose workflow is declared and registered here; signatures live in ``signatures``.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import Date, ForeignKey, Select, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.lifecycle import add_event
from referendum_core.cases.models import Case, CaseType, EventKind
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
from referendum_core.refusals import Refused
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
# Art. 6: no dismissal in the council's first or last year. The last year runs up to the next
# regular council elections: the first Saturday of June every four years from 2025, whether the
# council was elected at regular or at extraordinary elections.
REGULAR_ELECTIONS_FROM = 2025
REGULAR_ELECTIONS_EVERY_YEARS = 4
DECISION_DAYS = 15  # Art. 10(4): decision within 15 days after the Art. 6 window ends
NOTICE_WORKING_DAYS = 3  # Art. 10(6): applicants told within 3 working days
PUBLICATION_WORKING_DAY = 3  # Art. 25(2): published on the 3rd working day after the notices
# Art. 10(8): signatures are collected for exactly 30 days, the publication day being the first;
# the law names no hour, so the collection closes at the end (24:00 Riga time) of the 30th day.
COLLECTION_DAYS = 30
# Art. 26: the organiser is told the count within 3 working days counted from the day after the
# last day of the collection.
ORGANISER_TOLD_WORKING_DAYS = 3
# Art. 11(2): when the threshold is met, the organiser applies to the election commission within
# 3 working days after being told the count; the commission's 20 working days (Art. 13) run from
# that application. Without an application in time the initiative ends.
APPLY_WORKING_DAYS = 3
CHECK_WORKING_DAYS = 20  # Art. 13
REFERENDUM_WITHIN_MONTHS = 4  # Art. 13(4)
# Art. 13(5): an application received at least 20 working days before a scheduled referendum
# day is held on that day when the 4-month limit allows.
SAME_DAY_WORKING_DAYS_BEFORE = 20
# Art. 23: a dismissal that did not pass blocks a new one in the municipality for a year after
# its results.
REPEAT_DISMISSAL_AFTER_MONTHS = 12
# Art. 14: the council and the applicants told within 5 working days of the decision to hold
# the referendum; the public announcement within 10.
TELL_WORKING_DAYS = 5
ANNOUNCE_WORKING_DAYS = 10
# Art. 8(1): share of the voters at the last council elections, in per cent.
THRESHOLD_PERCENT = {"riga": 10, "other": 15, Subject.DISMISSAL: 30}
ANSWERS = ("par", "pret")  # Art. 10(5)
MAX_QUESTION = 500
MAX_REASONS = 10_000


class InitiativeError(Refused):
    """Base class of refused initiative actions; ``code`` names the rule for the portal."""

    area = "initiative"
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


class InitiativeNotFound(InitiativeError):
    """No initiative with that id, or none the person may see (a page that follows it)."""

    code = "not_found"


class WrongState(InitiativeError):
    code, article = "wrong_state", "Art. 10"


class ApplicationLate(InitiativeError):
    """The organiser's application to the election commission came after the 3 working days."""

    code, article = "application_late", "Art. 11(2)"


class NotTheOrganiser(InitiativeError):
    """Only the organiser (the applicant) applies; the commission may record a paper one."""

    code, article = "not_the_organiser", "Art. 11(2)"


class DismissalRepeatTooSoon(InitiativeError):
    """A dismissal failed in the municipality less than a year ago (Art. 23)."""

    code, article = "dismissal_repeat_too_soon", "Art. 23"


class CouncilDecisionMissing(InitiativeError):
    """A council initiative without the date, number or vote count of the council's decision."""

    code, article = "council_decision_missing", "Art. 8(2)"


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
        # Threshold met by the count: the organiser applies within 3 working days (Art. 11(2));
        # ``lapse_unapplied_initiatives`` ends it otherwise.
        State("collected", R, deadline=DeadlineRule(Period(APPLY_WORKING_DAYS), "Art. 11(2)")),
        State("applied", C, deadline=DeadlineRule(Period(CHECK_WORKING_DAYS), "Art. 13")),
        State("checking", C, deadline_continues=True),
        State("lapsed", R, is_final=True),
        State("reached", C, is_final=True),
        # Art. 8(2): the council decided the referendum itself; no signatures are collected.
        State("called", CH, is_final=True),
        State("not_reached", C, is_final=True),
        State("refused", CH, is_final=True),
        State("withdrawn", R, is_final=True),
    ),
    transitions=(
        Transition("approve", ("submitted",), "approved", frozenset({CH}),
                   made_by="decide_initiative"),
        Transition("refuse", ("submitted",), "refused", frozenset({CH}), requires_note=True,
                   made_by="decide_initiative"),
        Transition("withdraw", ("submitted",), "withdrawn", frozenset({R})),
        Transition("council_call", ("submitted",), "called", frozenset({S})),
        Transition("publish", ("approved",), "collecting", frozenset({S})),
        Transition("close_collection", ("collecting",), "collected", frozenset({S})),
        Transition("close_short", ("collecting",), "not_reached", frozenset({S})),
        Transition("apply", ("collected",), "applied", frozenset({R, C}),
                   made_by="apply_for_check"),
        Transition("lapse", ("collected",), "lapsed", frozenset({S})),
        Transition("start_check", ("applied",), "checking", frozenset({S, C}),
                   made_by="check_signatures"),
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
    # Art. 8(2): the council's decision (date and number) when the council initiated it.
    council_decided_on: Mapped[date | None] = mapped_column(Date)
    council_decision_number: Mapped[str | None] = mapped_column(String(40))
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
    # Art. 11(2): the organiser's application to the election commission and its last day.
    apply_due_on: Mapped[date | None] = mapped_column(Date)
    applied_at: Mapped[datetime | None]
    check_due_on: Mapped[date | None] = mapped_column(Date)
    check_total: Mapped[int] = mapped_column(default=0)
    checked: Mapped[int] = mapped_column(default=0)
    valid_signatures: Mapped[int | None]
    check_finished_at: Mapped[datetime | None]
    referendum_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # The day the referendum was decided (voters fixed on it, Art. 7(2)) and the latest
    # referendum day, 4 months later (Art. 13(4)).
    referendum_decided_on: Mapped[date | None] = mapped_column(Date)
    referendum_due_on: Mapped[date | None] = mapped_column(Date)
    # Art. 13(5): held on the day of a referendum already scheduled in the municipality.
    referendum_same_day: Mapped[date | None] = mapped_column(Date)

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

    @property
    def is_council_decision_suspended(self) -> bool:
        """Art. 12: a construction referendum is pending (called, results not yet announced),
        so the council decision it concerns is suspended."""
        if self.subject != Subject.CONSTRUCTION or self.referendum_case_id is None:
            return False
        from referendum_core.cases.models import Case as CaseRow

        referendum = object_session_get(self, CaseRow, self.referendum_case_id)
        return referendum is not None and referendum.is_open

    @property
    def collection_first_day(self) -> date | None:
        """The first day of the collection (Riga date), once decided."""
        return to_riga(self.collection_starts_at).date() if self.collection_starts_at else None

    @property
    def collection_last_day(self) -> date | None:
        """The 30th and last day of the collection (Riga date), once decided."""
        return to_riga(self.collection_ends_at).date() if self.collection_ends_at else None

    def days_left(self, now: datetime) -> int:
        """Whole or part days left in the collection (0 when closed)."""
        if self.collection_ends_at is None or now >= self.collection_ends_at:
            return 0
        return (to_riga(self.collection_ends_at).date() - to_riga(now).date()).days + 1


def object_session_get(row: object, model: type, key: int) -> object | None:
    """``model`` row ``key`` from the session ``row`` belongs to (None when detached)."""
    from sqlalchemy.orm import object_session

    session = object_session(row)
    return session.get(model, key) if session is not None else None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of a shorter month)."""
    import calendar as stdlib_calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, stdlib_calendar.monthrange(year, month)[1]))


def regular_elections_day(year: int) -> date:
    """The first Saturday of June of ``year`` (the day of regular council elections)."""
    first = date(year, 6, 1)
    return first + timedelta(days=(5 - first.weekday()) % 7)


def next_regular_elections(after: date) -> date:
    """Art. 6: the first regular council elections after ``after`` (the first Saturday of June
    every four years from 2025). A council chosen at extraordinary elections serves until then.
    """
    year = max(REGULAR_ELECTIONS_FROM, after.year)
    year += (REGULAR_ELECTIONS_FROM - year) % REGULAR_ELECTIONS_EVERY_YEARS
    while regular_elections_day(year) <= after:
        year += REGULAR_ELECTIONS_EVERY_YEARS
    return regular_elections_day(year)


def start_window(subject: Subject, municipality: Municipality, basis_date: date | None
                 ) -> tuple[date, date]:
    """Art. 6: the first and last day an initiative on ``subject`` may be started.

    A dismissal: not in the council's first year (from its election) nor in its last year (the
    year before the next regular council elections). The window is empty (first > last) for a
    council elected at extraordinary elections less than two years before regular ones.

    Raises:
        OutsideStartWindow: strategy/construction without the date the window counts from.
        MissingBaseFigure: dismissal without the council's election date.
    """
    if subject == Subject.DISMISSAL:
        elected = municipality.council_elected_on
        if elected is None:
            raise MissingBaseFigure(field="council_elected_on")
        next_elections = next_regular_elections(elected)
        return add_months(elected, 12), add_months(next_elections, -12) - timedelta(days=1)
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


def _check_council_decision(subject: Subject, votes_for: int | None, size: int | None,
                            decided_on: date | None, number: str | None, today: date) -> str:
    """Art. 8(2), 9: the council's decision to initiate; the cleaned decision number.

    Raises:
        CouncilOwnDismissal, CouncilMajorityMissing, CouncilDecisionMissing.
    """
    if subject == Subject.DISMISSAL:
        raise CouncilOwnDismissal()
    if not size or size < 1 or votes_for is None or votes_for < 0 or votes_for > size \
            or 3 * votes_for < 2 * size:
        raise CouncilMajorityMissing(votes=votes_for, size=size)
    number = " ".join((number or "").split())
    if decided_on is None or decided_on > today or not number or len(number) > 40:
        raise CouncilDecisionMissing()
    return number


def submit_initiative(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                      actor: Actor, *, municipality: Municipality, subject: Subject | str,
                      question: str, reasons: str, person_ref: str | None = None,
                      basis_date: date | None = None, initiator: Initiator = Initiator.RESIDENTS,
                      council_votes_for: int | None = None, council_size: int | None = None,
                      council_decided_on: date | None = None,
                      council_decision_number: str | None = None,
                      context: AuditContext | None = None) -> Initiative:
    """Open an initiative case: by a resident (Art. 7(3), 10(1)) or by the council (Art. 8(2)).

    A council initiative is the council's own decision to hold the referendum, taken by at
    least 2/3 of all councillors within the Art. 6 window: no municipality decision and no
    signatures follow; the referendum case opens at once, to be held within 4 months of the
    council's decision (Art. 13(4)). The referendum set-up opens council referendums through
    this same function.

    Raises:
        InvalidSubject: not one of the Art. 5 subjects.
        OutsideStartWindow, DismissalOutsideTerm: Art. 6 windows (for the council, on the day of
            its decision).
        ApplicantNotEligible: a resident applicant who may not vote there (Art. 7).
        CouncilOwnDismissal: the council cannot initiate its own dismissal (Art. 9).
        CouncilMajorityMissing: fewer than 2/3 of all councillors (Art. 8(2)).
        CouncilDecisionMissing: no date (or a future one) or number of the council's decision.
        MissingText: empty or too long question or reasons.
        MissingBaseFigure: dismissal without the council's election date.
    """
    try:
        subject = Subject(subject)
    except ValueError:
        raise InvalidSubject(subject=str(subject)) from None
    initiator = Initiator(initiator)
    question = _clean(question, MAX_QUESTION, "question")
    reasons = _clean(reasons, MAX_REASONS, "reasons")
    today = to_riga(clock.now()).date()

    def refuse(error: InitiativeError) -> InitiativeError:
        audit.record(session, clock, actor, "initiative.refused", context=context,
                     municipality_id=municipality.id, reason=error.code, subject=str(subject),
                     initiator=str(initiator))
        return error

    number = None
    if initiator == Initiator.COUNCIL:
        try:
            number = _check_council_decision(subject, council_votes_for, council_size,
                                             council_decided_on, council_decision_number, today)
        except InitiativeError as error:
            raise refuse(error) from None
    started_on = council_decided_on if initiator == Initiator.COUNCIL else today
    assert started_on is not None  # noqa: S101 - checked above for the council
    if subject == Subject.DISMISSAL:
        until = failed_dismissal_blocks_until(session, municipality.id)
        if until is not None and today < until:
            raise refuse(DismissalRepeatTooSoon(until=until))
    first, last = start_window(subject, municipality, basis_date)
    if not first <= started_on <= last:
        raise refuse((DismissalOutsideTerm if subject == Subject.DISMISSAL
                      else OutsideStartWindow)(first=first, last=last))
    if initiator == Initiator.RESIDENTS:
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
        council_votes_for=council_votes_for if number else None,
        council_size=council_size if number else None,
        council_decided_on=council_decided_on if number else None,
        council_decision_number=number, submitted_at=clock.now(), decision_due_on=due)
    session.add(initiative)
    session.flush()
    audit.record(session, clock, actor, "initiative.submitted", obj=initiative,
                 context=context, case_id=case.id, subject=str(subject),
                 initiator=str(initiator), council_decision=number)
    if number is not None:
        assert council_decided_on is not None  # noqa: S101 - checked above
        transition_case(session, clock, actor, case, "council_call", None,
                        parties={Party.SYSTEM}, calendar=calendar, context=context)
        initiative.decision, initiative.decided_at = "can", clock.now()
        open_referendum(session, clock, calendar, actor, initiative,
                        decided_on=council_decided_on, context=context)
    return initiative


def publication_day_if_decided(calendar: WorkingDayCalendar, now: datetime) -> date:
    """The day an initiative decided "can" at ``now`` is published and its 30 days of
    collection start (Art. 25(2), 10(8)): the decision page names it before the chair decides."""
    return calendar.add_working_days(to_riga(now).date(), PUBLICATION_WORKING_DAY)


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
        # Notices go out at once through messaging, also on a rest day; the law allows 3
        # working days (Art. 10(6)). Publication counts from the day they were sent.
        initiative.notices_due_on = calendar.add_working_days(today, NOTICE_WORKING_DAYS)
        published = publication_day_if_decided(calendar, now)
        initiative.published_on = published
        initiative.collection_starts_at = _start_of_day(published)
        # The publication day is the first of the 30 days (Art. 10(8)).
        initiative.collection_ends_at = _end_of_day(
            published + timedelta(days=COLLECTION_DAYS - 1))
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
    """An initiative by id, with its case (its state decides nearly everything done with
    it) in the same statement."""
    return session.scalars(_initiative_by_id(), {"initiative_id": initiative_id}).first()


@lru_cache(maxsize=1)
def _initiative_by_id() -> Select[tuple[Initiative]]:
    """Built once: a statement executed with a parameter skips building it and its cache key
    on every call."""
    return select(Initiative).where(Initiative.id == bindparam("initiative_id")).options(
        joinedload(Initiative.case))


def public_initiatives(session: Session, municipality_id: int | None = None
                       ) -> list[Initiative]:
    """Initiatives the public may see: decided "can" (published or later)."""
    query = select(Initiative).where(Initiative.decision == "can").order_by(
        Initiative.id.desc())
    if municipality_id is not None:
        query = query.where(Initiative.municipality_id == municipality_id)
    return list(session.scalars(query))


def open_referendum(session: Session, clock: Clock, calendar: WorkingDayCalendar,
                    actor: Actor | None, initiative: Initiative, *,
                    decided_on: date | None = None, context: AuditContext | None = None
                    ) -> Case:
    """Open the referendum case of an initiative: after the commission found the threshold
    reached (Art. 13), or at once for a council initiative (Art. 8(2)). It is held no later
    than 4 months after the decision (Art. 13(4)); the voter list is frozen on the decision
    day (Art. 7(2)). Idempotent."""
    if initiative.referendum_case_id is not None:
        return session.get(Case, initiative.referendum_case_id)  # type: ignore[return-value]
    from referendum_core.register import freeze_voter_list
    from referendum_core.voting.workflow import ensure_registered

    ensure_registered()
    decided_on = decided_on or to_riga(clock.now()).date()
    case = open_case(session, clock, actor, case_type=CaseType.REFERENDUM,
                     title=initiative.question[:200], summary=initiative.reasons[:2000],
                     municipality_id=initiative.municipality_id,
                     parent_case_id=initiative.case_id, calendar=calendar, context=context)
    latest = add_months(decided_on, REFERENDUM_WITHIN_MONTHS)
    case.deadline_at, case.deadline_basis = _end_of_day(latest), "Art. 13(4)"
    initiative.referendum_case_id = case.id
    initiative.referendum_decided_on = decided_on
    initiative.referendum_due_on = latest
    applied_on = to_riga(initiative.applied_at).date() if initiative.applied_at else decided_on
    initiative.referendum_same_day = same_day_referendum(
        session, calendar, initiative.municipality_id, applied_on, latest, now=clock.now())
    for name, days in (("tell_council_and_applicants", TELL_WORKING_DAYS),
                       ("public_announcement", ANNOUNCE_WORKING_DAYS)):
        event = add_event(case, clock, actor, EventKind.STEP, step=name, basis="Art. 14")
        event.deadline_at = calendar.deadline_at(decided_on, days)
    if initiative.subject == Subject.CONSTRUCTION:
        # Art. 12: the council decision is suspended while the referendum is pending.
        for on in (case, initiative.case):
            add_event(on, clock, actor, EventKind.STEP, step="council_decision_suspended",
                      basis="Art. 12").deadline_at = None
    session.flush()
    freeze_voter_list(session, clock, actor, initiative.municipality, decided_on,
                      case_id=case.id, context=context)
    audit.record(session, clock, actor, "initiative.referendum_opened", obj=initiative,
                 context=context, referendum_case_id=case.id, latest_day=latest.isoformat(),
                 same_day=initiative.referendum_same_day.isoformat()
                 if initiative.referendum_same_day else None)
    return case


def failed_dismissal_blocks_until(session: Session, municipality_id: int) -> date | None:
    """Art. 23: the first day a new dismissal may be started after the latest dismissal
    referendum in the municipality that did not pass (one year after its results), if any."""
    from referendum_core.voting.models import Referendum, Result

    approved = session.scalar(select(Result.approved_at).join(
        Referendum, Referendum.id == Result.referendum_id).where(
        Referendum.municipality_id == municipality_id, Referendum.subject == Subject.DISMISSAL,
        Result.is_passed.is_(False)).order_by(Result.approved_at.desc()).limit(1))
    if approved is None:
        return None
    return add_months(to_riga(approved).date(), REPEAT_DISMISSAL_AFTER_MONTHS)


def same_day_referendum(session: Session, calendar: WorkingDayCalendar, municipality_id: int,
                        applied_on: date, latest: date, *, now: datetime | None = None
                        ) -> date | None:
    """Art. 13(5): the earliest referendum day already scheduled in the municipality that is at
    least 20 working days after ``applied_on`` and not after ``latest``, if any.

    With ``now``, only a day that can still be prepared counts: the Voter Register Law's first
    deadline for it (12:00 of the 19th working day before) has not passed. A day that can no
    longer be met cannot bind the referendum to it, or no day at all could be set up.
    """
    from referendum_core.voting.models import Referendum, Stage
    from referendum_core.voting.rules import register_deadline_passed

    days = session.scalars(select(Referendum.referendum_day).where(
        Referendum.municipality_id == municipality_id,
        Referendum.stage.in_((Stage.SETUP, Stage.VOTING)),
        Referendum.referendum_day <= latest).order_by(Referendum.referendum_day))
    for day in days:
        if now is not None and register_deadline_passed(calendar, day, now) is not None:
            continue
        if applied_on <= calendar.subtract_working_days(day, SAME_DAY_WORKING_DAYS_BEFORE):
            return day
    return None


def initiative_of_referendum(session: Session, case_id: int) -> Initiative | None:
    """The initiative whose referendum case is ``case_id``."""
    return session.scalars(select(Initiative).where(
        Initiative.referendum_case_id == case_id)).first()
