"""Observer accreditation (Art. 18(3), 20(3)) as a case type declared here, like home voting.

The initiators name their observers for polling stations of a referendum: the resident who
applied for the initiative, or, for a council's referendum, the municipal commission entering
the council's authorisation. Each request is a case of type ``observer_accreditation``:
``requested`` → ``accredited`` (by the commission, through ``approve_accreditation``, which
also fixes the observer's rights window) / ``refused`` (with a reason) / ``withdrawn`` by the
requester. At most two observers per polling station per initiator (Art. 18(3)): a request
that would make a third is refused, and the database's unique slot holds the limit when two
requests come at once.

CVK members, commission members and the media may also observe (Art. 18(3)); the commission
(for its own members and the media) or CVK (for its members) records them, approved at once.

An observer's rights run from the first day of the referendum (the first online voting day,
or referendum day without online voting) until 24:00 Riga time on the day after referendum day,
so the count at the station that runs into the night is covered (Art. 20(3)). The law names no
end: *open* rule, ``OBSERVATION_ENDS_DAYS_AFTER`` (default 1).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.lifecycle import register_effect
from referendum_core.cases.models import Case, CaseType
from referendum_core.cases.services import Parties, open_case, transition_case
from referendum_core.cases.workflows import (
    SERVICE_LEVEL,
    DeadlineRule,
    Party,
    Period,
    State,
    Transition,
    Workflow,
    register,
)
from referendum_core.clock import RIGA, Clock
from referendum_core.initiatives import Initiative, Initiator, initiative_of_referendum
from referendum_core.observers.exceptions import AccreditationRefused
from referendum_core.observers.models import (
    HOLDING,
    MAX_OBSERVERS_PER_STATION_PER_INITIATOR,
    AccreditationStatus,
    ObserverAccreditation,
    ObserverKind,
)
from referendum_core.organisation import PollingStation
from referendum_core.text import printable
from referendum_core.voting.models import Referendum, Stage

ARTICLE = "Art. 18(3)"
OBSERVATION_ENDS_DAYS_AFTER = 1
MAX_NAME, MAX_EMAIL, MAX_ORGANISATION = 200, 254, 200
C, R, S, V = Party.COMMISSION, Party.REQUESTER, Party.SYSTEM, Party.CVK

OBSERVER_ACCREDITATION_WORKFLOW = register(Workflow(
    case_type=CaseType.OBSERVER_ACCREDITATION,
    initial="requested",
    states=(
        # No article sets it: the operator's service level, well before the referendum's days.
        State("requested", C, deadline=DeadlineRule(Period(3), SERVICE_LEVEL)),
        State("accredited", C, is_final=True),
        State("refused", C, is_final=True),
        State("withdrawn", R, is_final=True),
    ),
    transitions=(
        # Only through ``approve_accreditation``, which sets the rights window.
        Transition("accredit", ("requested",), "accredited", frozenset({S})),
        Transition("refuse", ("requested",), "refused", frozenset({C}), requires_note=True,
                   effects=("reject_observers",)),
        Transition("withdraw", ("requested",), "withdrawn", frozenset({R}),
                   effects=("withdraw_observers",)),
    ),
))


@dataclass(frozen=True)
class Nomination:
    """One observer named for one polling station."""

    station_id: int
    full_name: str
    email: str
    organisation: str = ""


def rights_window(referendum: Referendum,
                  days_after: int = OBSERVATION_ENDS_DAYS_AFTER) -> tuple[datetime, datetime]:
    """When an observer's rights start and end: the first day of the referendum (00:00 Riga,
    the online window's start when there is one) until 24:00 Riga ``days_after`` days after
    referendum day; both in UTC."""
    first = datetime.combine(referendum.referendum_day, time(0), tzinfo=RIGA)
    if referendum.online_opens_at is not None:
        first = min(first, referendum.online_opens_at.astimezone(RIGA))
    last_day = referendum.referendum_day + timedelta(days=days_after + 1)
    end = datetime.combine(last_day, time(0), tzinfo=RIGA)
    utc = referendum.polls_open_at.tzinfo
    return first.astimezone(utc), end.astimezone(utc)


def rows_of(session: Session, case: Case) -> list[ObserverAccreditation]:
    """The observers named in an accreditation case (empty for another case type)."""
    if case.type != CaseType.OBSERVER_ACCREDITATION:
        return []
    return list(session.scalars(select(ObserverAccreditation).where(
        ObserverAccreditation.case_id == case.id).order_by(ObserverAccreditation.id)))


def requests_of(session: Session, referendum: Referendum) -> list[ObserverAccreditation]:
    """Every named observer of a referendum, newest request first (for the commission)."""
    return list(session.scalars(select(ObserverAccreditation).where(
        ObserverAccreditation.referendum_id == referendum.id)
        .order_by(ObserverAccreditation.case_id.desc(), ObserverAccreditation.id)))


def requests_by(session: Session, referendum: Referendum,
                user_id: int) -> list[ObserverAccreditation]:
    """The observers ``user_id`` named (or the commission entered) for a referendum."""
    return list(session.scalars(select(ObserverAccreditation).join(
        Case, Case.id == ObserverAccreditation.case_id).where(
        ObserverAccreditation.referendum_id == referendum.id, Case.created_by_id == user_id)
        .order_by(ObserverAccreditation.case_id.desc(), ObserverAccreditation.id)))


def _check_in_time(clock: Clock, referendum: Referendum) -> None:
    _start, end = rights_window(referendum)
    if referendum.stage == Stage.APPROVED or clock.now() >= end:
        raise AccreditationRefused("too_late", article=ARTICLE, ends_at=end)


def _clean(session: Session, referendum: Referendum,
           nominations: Sequence[Nomination]) -> list[tuple[Nomination, PollingStation]]:
    if not nominations:
        raise AccreditationRefused("no_observers")
    cleaned = []
    for n in nominations:
        station = session.get(PollingStation, n.station_id)
        if station is None or station.municipality_id != referendum.municipality_id:
            raise AccreditationRefused("wrong_station")
        name = unicodedata.normalize("NFC", " ".join((n.full_name or "").split()))
        email = unicodedata.normalize("NFC", (n.email or "").strip().lower())
        organisation = unicodedata.normalize("NFC", " ".join((n.organisation or "").split()))
        if not all(printable(text) for text in (name, email, organisation)):
            raise AccreditationRefused("bad_characters")
        if not name:
            raise AccreditationRefused("name_required")
        if len(name) > MAX_NAME or len(email) > MAX_EMAIL or len(organisation) > MAX_ORGANISATION:
            raise AccreditationRefused("too_long")
        try:
            # The library's syntax check (no DNS look-up): an address the invitation can be
            # sent to, not anything with an "@" (HTML, quotes, a domain with "_").
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise AccreditationRefused("email_invalid") from None
        cleaned.append((Nomination(station.id, name, email, organisation), station))
    return cleaned


def _check_duplicates(session: Session, referendum: Referendum,
                      cleaned: list[tuple[Nomination, PollingStation]]) -> None:
    seen: set[tuple[int, str]] = set()
    for n, station in cleaned:
        key = (station.id, n.email)
        held = session.scalars(select(ObserverAccreditation.id).where(
            ObserverAccreditation.referendum_id == referendum.id,
            ObserverAccreditation.polling_station_id == station.id,
            ObserverAccreditation.email == n.email,
            ObserverAccreditation.status.in_(HOLDING))).first()
        if key in seen or held is not None:
            raise AccreditationRefused("duplicate", email=n.email, station=station.number)
        seen.add(key)


def _slots(session: Session, referendum: Referendum, initiative: Initiative,
           cleaned: list[tuple[Nomination, PollingStation]]) -> list[int]:
    """A free place (1 or 2) at each station for the initiator (Art. 18(3))."""
    taken: dict[int, set[int]] = {}
    slots = []
    for _n, station in cleaned:
        if station.id not in taken:
            taken[station.id] = set(session.scalars(select(ObserverAccreditation.slot).where(
                ObserverAccreditation.referendum_id == referendum.id,
                ObserverAccreditation.polling_station_id == station.id,
                ObserverAccreditation.initiative_id == initiative.id,
                ObserverAccreditation.slot.is_not(None))))
        free = [s for s in range(1, MAX_OBSERVERS_PER_STATION_PER_INITIATOR + 1)
                if s not in taken[station.id]]
        if not free:
            raise AccreditationRefused("station_limit", article=ARTICLE, station=station.number,
                                       limit=MAX_OBSERVERS_PER_STATION_PER_INITIATOR)
        taken[station.id].add(free[0])
        slots.append(free[0])
    return slots


def _title(cleaned: list[tuple[Nomination, PollingStation]]) -> str:
    numbers = ", ".join(str(n) for n in sorted({s.number for _n, s in cleaned}))
    return f"Novērotāju akreditācija: iecirkņi {numbers}"[:200]


def _open(session: Session, clock: Clock, actor: Actor, referendum: Referendum, kind: str,
          cleaned: list[tuple[Nomination, PollingStation]], initiative: Initiative | None,
          slots: list[int | None], calendar: WorkingDayCalendar | None,
          context: AuditContext | None) -> tuple[Case, list[ObserverAccreditation]]:
    stations = {s.id for _n, s in cleaned}
    # A savepoint: if another request took the last place meanwhile, the unique slot refuses
    # this one and nothing of it stays (the case neither).
    try:
        with session.begin_nested():
            case = open_case(session, clock, actor, case_type=CaseType.OBSERVER_ACCREDITATION,
                             title=_title(cleaned), municipality_id=referendum.municipality_id,
                             polling_station_id=next(iter(stations)) if len(stations) == 1
                             else None,
                             parent_case_id=referendum.case_id, calendar=calendar,
                             context=context)
            rows = [ObserverAccreditation(
                case_id=case.id, referendum_id=referendum.id, polling_station_id=station.id,
                kind=kind, initiative_id=initiative.id if initiative else None, slot=slot,
                full_name=n.full_name, email=n.email, organisation=n.organisation,
                status=AccreditationStatus.REQUESTED, requested_at=clock.now())
                for (n, station), slot in zip(cleaned, slots, strict=True)]
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        raise AccreditationRefused(
            "station_limit", article=ARTICLE, station=cleaned[0][1].number,
            limit=MAX_OBSERVERS_PER_STATION_PER_INITIATOR) from None
    # Names and addresses stay in the case, behind its access check, not in the audit log.
    audit.record(session, clock, actor, "observers.accreditation_requested", obj=case,
                 context=context, referendum_id=referendum.id, kind=kind,
                 stations=sorted(s.number for _n, s in cleaned), count=len(rows))
    return case, rows


def request_accreditation(session: Session, clock: Clock, actor: Actor, referendum: Referendum,
                          nominations: Sequence[Nomination], *,
                          on_behalf_of_council: bool = False,
                          calendar: WorkingDayCalendar | None = None,
                          context: AuditContext | None = None) -> Case:
    """The initiators name their observers for polling stations (Art. 18(3)): the resident who
    applied for the initiative, or the commission entering a council's authorisation.

    Raises:
        AccreditationRefused: ``no_initiative``, ``not_initiator``, ``not_council_initiative``,
            ``too_late``, ``wrong_station``, ``bad_characters``, ``name_required``,
            ``email_invalid``, ``too_long``,
            ``no_observers``, ``duplicate``, ``station_limit`` (Art. 18(3): at most two
            observers per polling station per initiator).
    """
    initiative = initiative_of_referendum(session, referendum.case_id)
    if initiative is None:
        raise AccreditationRefused("no_initiative")
    if on_behalf_of_council:
        if initiative.initiator != Initiator.COUNCIL:
            raise AccreditationRefused("not_council_initiative", article=ARTICLE)
    elif initiative.initiator != Initiator.RESIDENTS or initiative.applicant_id != actor.id:
        raise AccreditationRefused("not_initiator", article=ARTICLE)
    _check_in_time(clock, referendum)
    cleaned = _clean(session, referendum, nominations)
    _check_duplicates(session, referendum, cleaned)
    try:
        slots: list[int | None] = list(_slots(session, referendum, initiative, cleaned))
        case, _rows = _open(session, clock, actor, referendum, ObserverKind.INITIATOR, cleaned,
                            initiative, slots, calendar, context)
    except AccreditationRefused as err:
        audit.record(session, clock, actor, "observers.accreditation_refused", obj=referendum,
                     context=context, reason=err.reason, station=err.params.get("station"))
        raise
    return case


# Who may record observers the law admits besides the initiators' (Art. 18(3)).
RECORDED_BY: dict[ObserverKind, frozenset[Party]] = {
    ObserverKind.CVK_MEMBER: frozenset({V}),
    ObserverKind.COMMISSION_MEMBER: frozenset({C, V}),
    ObserverKind.MEDIA: frozenset({C, V}),
}


def record_observers(session: Session, clock: Clock, actor: Actor, referendum: Referendum,
                     kind: ObserverKind | str, nominations: Sequence[Nomination], *,
                     parties: Parties, calendar: WorkingDayCalendar | None = None,
                     context: AuditContext | None = None) -> tuple[Case, list[ObserverAccreditation]]:
    """Record CVK members (by CVK), commission members or journalists (by the commission or
    CVK) as observers (Art. 18(3)); approved at once, with no per-station limit.

    Raises:
        AccreditationRefused: ``kind_not_allowed`` (an initiators' observer, or a party that
            may not record that kind), and the input refusals of ``request_accreditation``.
    """
    try:
        kind = ObserverKind(kind)
    except ValueError:
        raise AccreditationRefused("kind_not_allowed", article=ARTICLE) from None
    if not RECORDED_BY.get(kind, frozenset()) & frozenset(parties):
        raise AccreditationRefused("kind_not_allowed", article=ARTICLE, kind=str(kind))
    _check_in_time(clock, referendum)
    cleaned = _clean(session, referendum, nominations)
    _check_duplicates(session, referendum, cleaned)
    case, _rows = _open(session, clock, actor, referendum, kind, cleaned, None,
                        [None] * len(cleaned), calendar, context)
    rows = approve_accreditation(session, clock, actor, case, calendar=calendar,
                                 context=context)
    return case, rows


def approve_accreditation(session: Session, clock: Clock, actor: Actor, case: Case, *,
                          expected_version: int | None = None,
                          calendar: WorkingDayCalendar | None = None,
                          context: AuditContext | None = None) -> list[ObserverAccreditation]:
    """The commission approves the observers of a request: their rights run through the
    referendum's days (``rights_window``). The caller checks the approver's permission, links
    each observer's account (``link_account``) and sends the invitations after commit.

    Raises:
        AccreditationRefused: ``not_accreditation``, ``too_late``; the case services'
            refusals (InvalidTransition, StaleCase).
    """
    rows = rows_of(session, case)
    if not rows:
        raise AccreditationRefused("not_accreditation")
    referendum = session.get(Referendum, rows[0].referendum_id)
    assert referendum is not None
    _check_in_time(clock, referendum)
    transition_case(session, clock, actor, case, "accredit", expected_version, parties={S},
                    calendar=calendar, context=context)
    starts_at, ends_at = rights_window(referendum)
    for row in rows:
        row.status = AccreditationStatus.APPROVED
        row.starts_at, row.ends_at, row.decided_at = starts_at, ends_at, clock.now()
    session.flush()
    audit.record(session, clock, actor, "observers.accreditation_approved", obj=case,
                 context=context, referendum_id=referendum.id, count=len(rows),
                 starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())
    return rows


def reject_accreditation(session: Session, clock: Clock, actor: Actor, case: Case, note: str, *,
                         parties: Parties, expected_version: int | None = None,
                         calendar: WorkingDayCalendar | None = None,
                         context: AuditContext | None = None) -> None:
    """The commission rejects a request, with its reason; the places at the stations are free
    again.

    Raises:
        AccreditationRefused: ``not_accreditation``; the case services' refusals (NotAllowed,
            NoteRequired, InvalidTransition, StaleCase).
    """
    if not rows_of(session, case):
        raise AccreditationRefused("not_accreditation")
    transition_case(session, clock, actor, case, "refuse", expected_version, note,
                    parties=parties, calendar=calendar, context=context)


def revoke_accreditation(session: Session, clock: Clock, actor: Actor,
                         accreditation: ObserverAccreditation, *,
                         context: AuditContext | None = None) -> ObserverAccreditation:
    """The commission (or CVK) revokes an approved observer's accreditation at once: the
    observer no longer observes the station for the referendum and the place at the station is
    free again. The caller checks the permission, ends the observer's time-limited rights and
    tells them.

    Raises:
        AccreditationRefused: ``not_approved`` (requested, refused, withdrawn or revoked
            already).
    """
    if accreditation.status != AccreditationStatus.APPROVED:
        raise AccreditationRefused("not_approved")
    now = clock.now()
    accreditation.status = AccreditationStatus.REVOKED
    accreditation.slot, accreditation.revoked_at = None, now
    session.flush()
    station = session.get(PollingStation, accreditation.polling_station_id)
    audit.record(session, clock, actor, "observers.accreditation_revoked",
                 object_type="Case", object_id=accreditation.case_id, context=context,
                 accreditation_id=accreditation.id, referendum_id=accreditation.referendum_id,
                 station=station.number if station is not None else None,
                 kind=accreditation.kind)
    return accreditation


def link_account(accreditation: ObserverAccreditation, user_id: int) -> None:
    """The approved observer's account (found by e-mail or created for the invitation)."""
    accreditation.user_id = user_id


def _release(status: AccreditationStatus):  # type: ignore[no-untyped-def]
    def effect(session: Session, clock: Clock, calendar: WorkingDayCalendar, case: Case) -> None:
        for row in rows_of(session, case):
            row.status, row.slot, row.decided_at = status, None, clock.now()
    return effect


register_effect("reject_observers")(_release(AccreditationStatus.REJECTED))
register_effect("withdraw_observers")(_release(AccreditationStatus.WITHDRAWN))
