"""Referendum day at the polling stations: marking a voter in the ETVR (Art. 17(2)-(3)) which
cancels any online ballot of theirs (Art. 20(5)); registration envelopes while the ETVR is
unreachable and their later reconciliation (Art. 4(6), 29-30); the stations' count protocols,
entered by one commission member and confirmed by a second."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock, to_riga
from referendum_core.etvr import (
    AlreadyVoted,
    Channel,
    EtvrMark,
    EtvrUnavailable,
    find_mark,
    lookup_voter,
    mark_voted,
)
from referendum_core.organisation import PollingStation
from referendum_core.personal_code import PersonalCodeProtector
from referendum_core.voting.eligibility import find_alias
from referendum_core.voting.exceptions import (
    EnvelopeExists,
    NotOnVoterList,
    OutsidePollingHours,
    ProtocolRefused,
    WrongStage,
)
from referendum_core.voting.models import (
    BoardEntry,
    PollingStationProtocol,
    Referendum,
    RegistrationEnvelope,
    Stage,
)

EtvrMarker = Callable[..., EtvrMark]
MAX_COUNT = 10_000_000


@dataclass(frozen=True)
class InPersonOutcome:
    """What the station commission sees after marking a voter."""

    by_envelope: bool  # True: recorded on a registration envelope (ETVR unreachable)
    online_ballot_cancelled: bool  # the voter had voted online; that ballot will not count
    at: Any


def _check_station(referendum: Referendum, station: PollingStation) -> None:
    if station.municipality_id != referendum.municipality_id:
        raise WrongStage("the polling station is not in this municipality", stage=referendum.stage)


def check_polling_hours(clock: Clock, referendum: Referendum) -> None:
    """Raises:
        WrongStage: the vote is not open; OutsidePollingHours: not 07:00-20:00 on the day.
    """
    if referendum.stage != Stage.VOTING:
        raise WrongStage("voting is not open", stage=referendum.stage)
    if not referendum.polls_open_at <= clock.now() < referendum.polls_close_at:
        raise OutsidePollingHours(opens_at=referendum.polls_open_at,
                                  closes_at=referendum.polls_close_at)


def _envelope_of(session: Session, referendum: Referendum,
                 person_ref: str) -> RegistrationEnvelope | None:
    return session.scalars(select(RegistrationEnvelope).where(
        RegistrationEnvelope.referendum_id == referendum.id,
        RegistrationEnvelope.person_ref == person_ref)).first()


def has_online_ballot(session: Session, referendum: Referendum, person_ref: str) -> bool:
    """Did the person cast an online ballot (which an in-person vote cancels)?"""
    alias = find_alias(session, referendum, person_ref)
    return alias is not None and (session.scalar(select(exists().where(
        BoardEntry.referendum_id == referendum.id, BoardEntry.alias == alias))) or False)


def mark_in_person(session: Session, clock: Clock, actor: Actor, referendum: Referendum,
                   station: PollingStation, personal_code: str,
                   protector: PersonalCodeProtector, *, envelope_mode: bool = False,
                   etvr_mark: EtvrMarker = mark_voted,
                   context: AuditContext | None = None) -> InPersonOutcome:
    """A commission member marks a voter who votes at ``station``: the ETVR mark is set
    atomically (Art. 17(2)-(3)) and any online ballot of the voter is excluded from the count
    (Art. 20(5)). When the ETVR is unreachable (or ``envelope_mode``), the vote is recorded on a
    registration envelope for reconciliation afterwards.

    Raises:
        InvalidPersonalCode; WrongStage / OutsidePollingHours (Art. 16(1)); NotOnVoterList
        (Art. 7); AlreadyVoted (the ETVR mark says where and when); EnvelopeExists (a
        registration envelope says where and when).
    """
    _check_station(referendum, station)
    check_polling_hours(clock, referendum)
    status = lookup_voter(session, protector, personal_code, case_id=referendum.case_id,
                          municipality_id=referendum.municipality_id,
                          on_day=to_riga(clock.now()).date())
    if not status.eligibility.is_eligible:
        audit.record(session, clock, actor, "voting.in_person_refused", obj=referendum,
                     context=context, station=station.id, reason="not_on_voter_list")
        raise NotOnVoterList()
    return mark_person(session, clock, actor, referendum, station, status.person_ref,
                       envelope_mode=envelope_mode, etvr_mark=etvr_mark, context=context)


def mark_person(session: Session, clock: Clock, actor: Actor, referendum: Referendum,
                station: PollingStation, ref: str, *, envelope_mode: bool = False,
                etvr_mark: EtvrMarker = mark_voted,
                context: AuditContext | None = None) -> InPersonOutcome:
    """Mark an eligible voter (known by ``person_ref``) as having voted at ``station``: the
    ETVR mark (or a registration envelope when it is unreachable) that ``mark_in_person`` and
    home voting (Art. 19) share. The caller checked eligibility and polling hours.

    Raises:
        AlreadyVoted: the ETVR mark says where and when; EnvelopeExists: an envelope.
    """
    if not envelope_mode:
        # The ETVR first, where it answers: its mark is the voter's vote of record, and it
        # names the first station (an envelope may have been recorded at another meanwhile).
        existing = find_mark(session, referendum.case_id, ref)
        if existing is not None:
            audit.record(session, clock, actor, "etvr.mark_refused", obj=existing,
                         context=context, case_id=referendum.case_id, where=existing.where,
                         station=station.id)
            raise AlreadyVoted(existing)
    envelope = _envelope_of(session, referendum, ref)
    if envelope is not None:
        audit.record(session, clock, actor, "voting.in_person_refused", obj=referendum,
                     context=context, station=station.id, reason="envelope_exists",
                     where=envelope.polling_station_id)
        raise EnvelopeExists(envelope.polling_station_id, envelope.recorded_at)
    online = has_online_ballot(session, referendum, ref)
    if not envelope_mode:
        try:
            mark = etvr_mark(session, clock, actor, referendum.case_id, ref,
                             polling_station=station, context=context)
        except EtvrUnavailable:
            envelope_mode = True
        else:
            return InPersonOutcome(False, online, mark.marked_at)
    row = RegistrationEnvelope(referendum_id=referendum.id, polling_station_id=station.id,
                               person_ref=ref, recorded_at=clock.now(),
                               recorded_by_id=getattr(actor, "id", None))
    session.add(row)
    session.flush()
    audit.record(session, clock, actor, "voting.envelope_recorded", obj=referendum,
                 context=context, station=station.id)
    return InPersonOutcome(True, online, row.recorded_at)


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of checking registration envelopes against the ETVR."""

    reconciled: int
    conflicts: int
    pending: int


def reconcile_envelopes(session: Session, clock: Clock, actor: Actor | None,
                        referendum: Referendum, *, etvr_mark: EtvrMarker = mark_voted,
                        context: AuditContext | None = None) -> Reconciliation:
    """Set the ETVR mark of every envelope vote; a voter the ETVR already shows as having voted
    elsewhere is a conflict kept for the commission (where and when). Stops when the ETVR is
    still unreachable; safe to run again."""
    reconciled = conflicts = 0
    pending = list(session.scalars(select(RegistrationEnvelope).where(
        RegistrationEnvelope.referendum_id == referendum.id,
        RegistrationEnvelope.reconciled_at.is_(None)).order_by(RegistrationEnvelope.id)))
    for n, envelope in enumerate(pending):
        try:
            etvr_mark(session, clock, actor, referendum.case_id, envelope.person_ref,
                      polling_station=envelope.polling_station, context=context)
        except AlreadyVoted as err:
            mark = err.mark
            if not (mark.channel == Channel.POLLING_STATION
                    and mark.polling_station_id == envelope.polling_station_id):
                envelope.conflict = f"{mark.where} {mark.marked_at.isoformat()}"[:200]
                conflicts += 1
        except EtvrUnavailable:
            return Reconciliation(reconciled, conflicts, len(pending) - n)
        envelope.reconciled_at = clock.now()
        reconciled += 1
    session.flush()
    audit.record(session, clock, actor, "voting.envelopes_reconciled", obj=referendum,
                 context=context, reconciled=reconciled, conflicts=conflicts)
    return Reconciliation(reconciled, conflicts, 0)


def voters_at_station(session: Session, referendum: Referendum, station_id: int) -> int:
    """Voters registered as voting at the station: ETVR marks plus unreconciled envelopes."""
    marks = session.scalar(select(func.count()).select_from(EtvrMark).where(
        EtvrMark.case_id == referendum.case_id, EtvrMark.polling_station_id == station_id)) or 0
    envelopes = session.scalar(select(func.count()).select_from(RegistrationEnvelope).where(
        RegistrationEnvelope.referendum_id == referendum.id,
        RegistrationEnvelope.polling_station_id == station_id,
        RegistrationEnvelope.reconciled_at.is_(None))) or 0
    return marks + envelopes


def _count(value: Any, name: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_COUNT:
        raise ProtocolRefused("not_a_count", field=name)
    return value


def enter_protocol(session: Session, clock: Clock, actor: Actor, referendum: Referendum,
                   station: PollingStation, *, ballots_issued: int, votes_for: int,
                   votes_against: int, invalid: int,
                   context: AuditContext | None = None) -> PollingStationProtocol:
    """A station commission member enters the count after polls close. The figures must add up
    (par + pret + invalid = ballots found = ballots issued) and cannot exceed the voters
    registered at the station. An unconfirmed protocol may be corrected; a confirmed one not.

    Raises:
        WrongStage: polls are not closed yet, or the result is already approved;
        ProtocolRefused: ``not_a_count``, ``does_not_add_up``, ``more_than_voters``,
            ``already_confirmed``.
    """
    _check_station(referendum, station)
    if referendum.stage not in (Stage.COUNTING, Stage.TALLIED):
        raise WrongStage("protocols are entered after the polls close", stage=referendum.stage)
    figures = {"ballots_issued": _count(ballots_issued, "ballots_issued"),
               "votes_for": _count(votes_for, "votes_for"),
               "votes_against": _count(votes_against, "votes_against"),
               "invalid": _count(invalid, "invalid")}
    if votes_for + votes_against + invalid != ballots_issued:
        audit.record(session, clock, actor, "voting.protocol_refused", obj=referendum,
                     context=context, station=station.id, reason="does_not_add_up", **figures)
        raise ProtocolRefused("does_not_add_up", **figures)
    registered = voters_at_station(session, referendum, station.id)
    if ballots_issued > registered:
        audit.record(session, clock, actor, "voting.protocol_refused", obj=referendum,
                     context=context, station=station.id, reason="more_than_voters",
                     registered=registered, **figures)
        raise ProtocolRefused("more_than_voters", registered=registered, **figures)
    protocol = session.scalars(select(PollingStationProtocol).where(
        PollingStationProtocol.referendum_id == referendum.id,
        PollingStationProtocol.polling_station_id == station.id)).first()
    if protocol is not None and protocol.is_confirmed:
        raise ProtocolRefused("already_confirmed")
    if protocol is None:
        protocol = PollingStationProtocol(referendum_id=referendum.id,
                                          polling_station_id=station.id, **figures,
                                          entered_by_id=actor.id, entered_at=clock.now())
        session.add(protocol)
    else:
        for key, value in figures.items():
            setattr(protocol, key, value)
        protocol.entered_by_id, protocol.entered_at = actor.id, clock.now()
    session.flush()
    audit.record(session, clock, actor, "voting.protocol_entered", obj=referendum,
                 context=context, station=station.id, **figures)
    return protocol


def confirm_protocol(session: Session, clock: Clock, actor: Actor,
                     protocol: PollingStationProtocol,
                     context: AuditContext | None = None) -> PollingStationProtocol:
    """A second commission member confirms a protocol.

    Raises:
        ProtocolRefused: ``same_member`` (the member who entered it), ``already_confirmed``.
    """
    if protocol.is_confirmed:
        raise ProtocolRefused("already_confirmed")
    if protocol.entered_by_id == actor.id:
        audit.record(session, clock, actor, "voting.protocol_refused",
                     object_type="PollingStationProtocol", object_id=protocol.id,
                     context=context, reason="same_member")
        raise ProtocolRefused("same_member")
    protocol.confirmed_by_id, protocol.confirmed_at = actor.id, clock.now()
    session.flush()
    audit.record(session, clock, actor, "voting.protocol_confirmed",
                 object_type="PollingStationProtocol", object_id=protocol.id, context=context,
                 station=protocol.polling_station_id)
    return protocol
