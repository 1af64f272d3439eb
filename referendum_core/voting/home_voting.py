"""Home voting (Art. 19; polling day Art. 16(1)): a voter who cannot come to the polling station
asks in writing for the commission to bring the ballot to them. Each request is a case of type
``home_voting``, declared and registered here like the referendum workflow:

``requested`` (by the voter signed in, or entered by a commission member on the voter's behalf
with the address and the reason) → ``accepted`` / ``refused`` by the polling-station or municipal
commission → ``visited`` (ballot taken to the voter; the voter is marked in the ETVR for that
station, so they cannot vote again anywhere and any online ballot of theirs is not counted).

Requests are accepted until a cut-off on referendum day. The law names none: *open* rule,
default 12:00 Riga time (``rules.HOME_VOTING_CUTOFF``; the portal's ``HOME_VOTING_CUTOFF``).
The visit itself is possible only during polling hours, and the case's deadline is the close of
the polls.
"""
from __future__ import annotations

from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case, CaseType
from referendum_core.cases.services import Parties, open_case, transition_case
from referendum_core.cases.workflows import Party, State, Transition, Workflow, register
from referendum_core.clock import Clock
from referendum_core.etvr import mark_voted
from referendum_core.organisation import PollingStation
from referendum_core.voting import rules
from referendum_core.voting.eligibility import in_person_vote, is_on_list
from referendum_core.voting.exceptions import (
    HomeVotingRefused,
    NotOnVoterList,
    VotedInPerson,
    WrongStage,
)
from referendum_core.voting.models import HomeVotingRequest, Referendum, Stage
from referendum_core.voting.stations import (
    EtvrMarker,
    InPersonOutcome,
    check_polling_hours,
    mark_person,
)

C, CH, R, S = Party.COMMISSION, Party.CHAIR, Party.REQUESTER, Party.SYSTEM
BASIS = "Art. 16(1), 19"
OPEN_STATES = ("requested", "accepted")
MAX_ADDRESS, MAX_REASON = 300, 2000

HOME_VOTING_WORKFLOW = register(Workflow(
    case_type=CaseType.HOME_VOTING,
    initial="requested",
    states=(
        # The deadline (close of the polls, Art. 16(1)) is set when the request is made.
        State("requested", C),
        State("accepted", C, deadline_continues=True),
        State("refused", C, is_final=True),
        State("visited", C, is_final=True),
        State("withdrawn", R, is_final=True),
    ),
    transitions=(
        Transition("accept", ("requested",), "accepted", frozenset({C, CH}),
                   made_by="decide_home_voting"),
        # From ``accepted`` too: the visit may show the voter already voted, or cannot happen.
        Transition("refuse", OPEN_STATES, "refused", frozenset({C, CH}), requires_note=True,
                   made_by="decide_home_voting"),
        # Only through ``record_home_vote``, which sets the ETVR mark first.
        Transition("visit", ("accepted",), "visited", frozenset({S}), made_by="record_home_vote"),
        Transition("withdraw", OPEN_STATES, "withdrawn", frozenset({R})),
    ),
))


def request_of(session: Session, case: Case) -> HomeVotingRequest | None:
    """The details of a home-voting case (None for another case type)."""
    if case.type != CaseType.HOME_VOTING:
        return None
    return session.get(HomeVotingRequest, case.id)


def requests_of(session: Session, referendum: Referendum) -> list[tuple[Case, HomeVotingRequest]]:
    """Every home-voting request of a referendum, oldest first (for the commission)."""
    rows = session.execute(select(Case, HomeVotingRequest).join(
        HomeVotingRequest, HomeVotingRequest.case_id == Case.id).where(
        HomeVotingRequest.referendum_id == referendum.id).order_by(Case.id))
    return [(case, details) for case, details in rows]


def request_for_person(session: Session, referendum: Referendum,
                       person_ref: str) -> Case | None:
    """The person's latest home-voting case in this referendum, if any."""
    return session.scalars(select(Case).join(
        HomeVotingRequest, HomeVotingRequest.case_id == Case.id).where(
        HomeVotingRequest.referendum_id == referendum.id,
        HomeVotingRequest.person_ref == person_ref).order_by(Case.id.desc())).first()


def _text(value: str | None, name: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise HomeVotingRefused(f"{name}_required")
    if len(text) > limit:
        raise HomeVotingRefused("too_long", field=name, limit=limit)
    return text


def request_home_voting(session: Session, clock: Clock, actor: Actor, referendum: Referendum,
                        station: PollingStation, *, person_ref: str, address: str, reason: str,
                        entered_by_commission: bool = False,
                        cutoff: time = rules.HOME_VOTING_CUTOFF,
                        calendar: WorkingDayCalendar | None = None,
                        context: AuditContext | None = None) -> Case:
    """Open a home-voting case (Art. 19): the voter's written request (or one a commission
    member enters on the voter's behalf) naming the polling station, the address and the reason.

    Raises:
        WrongStage: the vote is over (or the station is not the referendum's);
        HomeVotingRefused: ``after_cutoff`` (open rule, default 12:00 on referendum day),
            ``already_requested``, ``address_required``, ``reason_required``, ``too_long``;
        NotOnVoterList (Art. 7); VotedInPerson (the voter already voted at a station).
    """
    if station.municipality_id != referendum.municipality_id:
        raise HomeVotingRefused("wrong_station")
    if referendum.stage not in (Stage.SETUP, Stage.VOTING):
        raise WrongStage("home voting is requested before the polls close",
                         stage=referendum.stage)
    last = rules.home_voting_cutoff(referendum.referendum_day, cutoff)
    if clock.now() >= last:
        audit.record(session, clock, actor, "voting.home_voting_refused", obj=referendum,
                     context=context, reason="after_cutoff")
        raise HomeVotingRefused("after_cutoff", cutoff_at=last)
    address = _text(address, "address", MAX_ADDRESS)
    reason = _text(reason, "reason", MAX_REASON)
    if not is_on_list(session, referendum, person_ref):
        audit.record(session, clock, actor, "voting.home_voting_refused", obj=referendum,
                     context=context, reason="not_on_voter_list")
        raise NotOnVoterList()
    voted = in_person_vote(session, referendum, person_ref)
    if voted is not None:
        raise VotedInPerson(*voted)
    earlier = request_for_person(session, referendum, person_ref)
    if earlier is not None and earlier.state in (*OPEN_STATES, "visited"):
        raise HomeVotingRefused("already_requested", case_id=earlier.id)
    case = open_case(session, clock, actor, case_type=CaseType.HOME_VOTING,
                     title=f"{station.number}. {station.name}: balsošana dzīvesvietā",
                     municipality_id=referendum.municipality_id, polling_station_id=station.id,
                     parent_case_id=referendum.case_id, calendar=calendar, context=context)
    # The visit must happen while the polls are open (Art. 16(1)).
    case.deadline_at, case.deadline_basis = referendum.polls_close_at, BASIS
    session.add(HomeVotingRequest(case_id=case.id, referendum_id=referendum.id,
                                  person_ref=person_ref, address=address, reason=reason,
                                  entered_by_commission=entered_by_commission,
                                  requested_at=clock.now()))
    session.flush()
    # No address or reason in the audit log: they are in the case, behind its access check.
    audit.record(session, clock, actor, "voting.home_voting_requested", obj=case,
                 context=context, referendum_id=referendum.id, station=station.id,
                 entered_by_commission=entered_by_commission)
    return case


def decide_home_voting(session: Session, clock: Clock, actor: Actor, case: Case, *,
                       accept: bool, note: str = "", parties: Parties,
                       expected_version: int | None = None,
                       calendar: WorkingDayCalendar | None = None,
                       context: AuditContext | None = None) -> None:
    """The commission accepts or refuses (with a reason) a home-voting request.

    Raises:
        HomeVotingRefused: ``not_home_voting``; the case services' refusals (NotAllowed,
        InvalidTransition, NoteRequired, StaleCase).
    """
    if request_of(session, case) is None:
        raise HomeVotingRefused("not_home_voting")
    transition_case(session, clock, actor, case, "accept" if accept else "refuse",
                    expected_version, note, parties=parties, calendar=calendar, context=context)


def record_home_vote(session: Session, clock: Clock, actor: Actor, case: Case, *,
                     envelope_mode: bool = False, etvr_mark: EtvrMarker = mark_voted,
                     calendar: WorkingDayCalendar | None = None,
                     context: AuditContext | None = None) -> InPersonOutcome:
    """The commission took the ballot to the voter (Art. 19): the voter is marked in the ETVR
    for the case's polling station (a registration envelope if the ETVR is unreachable), so
    they cannot vote again and an online ballot of theirs is not counted (Art. 20(5)); the case
    moves to ``visited``.

    Raises:
        HomeVotingRefused: ``not_home_voting``, ``not_accepted``; WrongStage /
        OutsidePollingHours (Art. 16(1)); AlreadyVoted (where and when); VotedInPerson.
    """
    details = request_of(session, case)
    if details is None:
        raise HomeVotingRefused("not_home_voting")
    referendum = session.get(Referendum, details.referendum_id)
    station = session.get(PollingStation, case.polling_station_id)
    assert referendum is not None and station is not None
    check_polling_hours(clock, referendum)
    if case.state != "accepted":
        raise HomeVotingRefused("not_accepted", state=case.state)
    outcome = mark_person(session, clock, actor, referendum, station, details.person_ref,
                          envelope_mode=envelope_mode, etvr_mark=etvr_mark, context=context)
    details.visited_at = clock.now()
    transition_case(session, clock, actor, case, "visit", None, parties={S},
                    calendar=calendar, context=context)
    audit.record(session, clock, actor, "voting.home_vote_recorded", obj=referendum,
                 context=context, station=station.id, case_id=case.id,
                 by_envelope=outcome.by_envelope)
    return outcome
