"""Results (Art. 20(9)-(10), 21, 22): the commission approves the combined result of the online
tally and the confirmed station protocols; live turnout for observers; the full election record
(spec section 8) that ``referendum-verify`` checks."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.checkpoints import board_checkpoints
from referendum_core.clock import Clock
from referendum_core.crypto.group import canonical
from referendum_core.crypto.record import iter_record
from referendum_core.etvr import Channel, EtvrMark
from referendum_core.organisation import Municipality, PollingStation
from referendum_core.register import voter_list_for
from referendum_core.voting.counting import excluded_aliases, iter_board, shares_of
from referendum_core.voting.exceptions import ResultsNotReady, WrongStage
from referendum_core.voting.models import (
    NO,
    YES,
    AuditedBallot,
    PollingStationProtocol,
    Referendum,
    RegistrationEnvelope,
    Result,
    Stage,
)
from referendum_core.voting.preparation import move_case
from referendum_core.voting.rules import assess_validity, base_figure_for, rfc3339
from referendum_core.voting.steps import add_results_steps


def stations_of(session: Session, referendum: Referendum) -> list[PollingStation]:
    """The municipality's polling stations, by number."""
    return list(session.scalars(select(PollingStation).where(
        PollingStation.municipality_id == referendum.municipality_id)
        .order_by(PollingStation.number)))


def protocols_of(session: Session, referendum: Referendum) -> list[PollingStationProtocol]:
    """The entered station protocols, by station number."""
    return list(session.scalars(select(PollingStationProtocol).join(PollingStation).where(
        PollingStationProtocol.referendum_id == referendum.id).order_by(PollingStation.number)))


def protocols_document(session: Session, referendum: Referendum) -> bytes:
    """The confirmed station protocols as canonical JSON (published; ``protocol_sha256`` is
    SHA-256 of exactly these bytes)."""
    rows = [{"station": p.polling_station.number, "name": p.polling_station.name,
             "ballots_issued": p.ballots_issued, "counts": {YES: p.votes_for, NO: p.votes_against},
             "invalid": p.invalid, "entered_at": rfc3339(p.entered_at),
             "confirmed_at": rfc3339(p.confirmed_at) if p.confirmed_at else None}
            for p in protocols_of(session, referendum) if p.is_confirmed]
    return canonical({"election_id": referendum.election_id, "protocols": rows})


@dataclass(frozen=True)
class ApprovalReadiness:
    """What approving the results still waits for, from the records as they stand: the
    stations whose protocol is missing or unconfirmed, the registration envelopes not yet
    checked against the voter register, and the base figure Art. 22 judges by."""

    stations: int
    confirmed: int
    unconfirmed: tuple[int, ...]  # numbers of the stations still without a confirmed protocol
    pending_envelopes: int
    base_field: str
    base_figure_missing: bool

    @property
    def is_ready(self) -> bool:
        return not (self.unconfirmed or self.pending_envelopes or self.base_figure_missing)


def pending_envelopes(session: Session, referendum: Referendum) -> int:
    """Registration envelopes of this referendum not yet checked against the voter register."""
    return session.scalar(select(func.count()).select_from(RegistrationEnvelope).where(
        RegistrationEnvelope.referendum_id == referendum.id,
        RegistrationEnvelope.reconciled_at.is_(None))) or 0


def approval_readiness(session: Session, referendum: Referendum) -> ApprovalReadiness:
    """The state ``approve_results`` checks, for the pages to say what is still missing."""
    municipality = session.get(Municipality, referendum.municipality_id)
    assert municipality is not None
    base_field = base_figure_for(referendum.subject)
    protocols = {p.polling_station_id: p for p in protocols_of(session, referendum)}
    stations = stations_of(session, referendum)
    unconfirmed = tuple(s.number for s in stations
                        if s.id not in protocols or not protocols[s.id].is_confirmed)
    # 0 is no figure: no council election had nobody on its lists (a quorum of 0 would pass
    # anything).
    return ApprovalReadiness(
        stations=len(stations), confirmed=len(stations) - len(unconfirmed),
        unconfirmed=unconfirmed, pending_envelopes=pending_envelopes(session, referendum),
        base_field=base_field, base_figure_missing=not getattr(municipality, base_field))


def approve_results(session: Session, clock: Clock, calendar: WorkingDayCalendar | None,
                    actor: Actor, referendum: Referendum,
                    context: AuditContext | None = None) -> Result:
    """The municipal commission approves the result from the internet commission's tally and
    every station's confirmed protocol, with validity per Art. 22, and announces it.

    Raises:
        WrongStage: not yet tallied, or already approved; ResultsNotReady: a station's protocol
        is missing or unconfirmed, registration envelopes are not yet reconciled, or the base
        figure from the last council elections that Art. 22 judges by is not recorded (the
        result is then not approved at all, never recorded as "not valid").
    """
    if referendum.stage != Stage.TALLIED:
        raise WrongStage("the online tally is not finished", stage=referendum.stage)
    municipality = session.get(Municipality, referendum.municipality_id)
    assert municipality is not None
    ready = approval_readiness(session, referendum)
    if ready.base_figure_missing:
        raise ResultsNotReady("base_figure_missing", field=ready.base_field,
                              article="Art. 22(3)" if ready.base_field ==
                              "participants_at_last_election" else "Art. 22(1)")
    if ready.unconfirmed:
        raise ResultsNotReady("protocols_missing", stations=list(ready.unconfirmed))
    if ready.pending_envelopes:
        raise ResultsNotReady("envelopes_pending", pending=ready.pending_envelopes)
    protocols = {p.polling_station_id: p for p in protocols_of(session, referendum)}
    online = referendum.online_result_dict or {YES: 0, NO: 0}
    in_for = sum(p.votes_for for p in protocols.values())
    in_against = sum(p.votes_against for p in protocols.values())
    in_invalid = sum(p.invalid for p in protocols.values())
    issued = sum(p.ballots_issued for p in protocols.values())
    counted = referendum.counted or 0
    participants = counted + issued
    votes_for, votes_against = online[YES] + in_for, online[NO] + in_against
    validity = assess_validity(referendum.subject, participants=participants,
                               votes_for=votes_for, votes_against=votes_against,
                               voters_base=municipality.voters_at_last_election,
                               participants_base=municipality.participants_at_last_election)
    result = Result(
        referendum_id=referendum.id, online_for=online[YES], online_against=online[NO],
        online_counted=counted, in_person_for=in_for, in_person_against=in_against,
        in_person_invalid=in_invalid, ballots_issued=issued, participants=participants,
        votes_for=votes_for, votes_against=votes_against,
        voters_base=municipality.voters_at_last_election,
        participants_base=municipality.participants_at_last_election,
        is_valid=validity.is_valid, is_passed=validity.is_passed,
        protocol_sha256=hashlib.sha256(protocols_document(session, referendum)).hexdigest(),
        approved_by_id=actor.id, approved_at=clock.now())
    session.add(result)
    referendum.stage = Stage.APPROVED
    session.flush()
    move_case(session, clock, calendar, actor, referendum, "approve_results", context)
    add_results_steps(clock, calendar, actor, referendum, is_valid=validity.is_valid,
                      is_passed=validity.is_passed)
    session.flush()
    audit.record(session, clock, actor, "voting.results_approved", obj=referendum,
                 context=context, participants=participants, votes_for=votes_for,
                 votes_against=votes_against, valid=validity.is_valid, passed=validity.is_passed,
                 on_time=clock.now() <= referendum.results_due_at)
    return result


def result_of(session: Session, referendum: Referendum) -> Result | None:
    """The approved result, if any."""
    return session.scalars(select(Result).where(Result.referendum_id == referendum.id)).first()


# Live turnout --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Turnout:
    """What observers see while voting goes on: how many took part, never how."""

    eligible: int
    online_voters: int  # distinct voters with an online ballot that still counts
    in_person: int  # ETVR marks at stations plus unreconciled envelopes
    board_seq: int
    board_head: str

    @property
    def participants(self) -> int:
        return self.online_voters + self.in_person


def live_turnout(session: Session, referendum: Referendum) -> Turnout:
    """Turnout so far (online voters whose ballot still counts plus in-person voters)."""
    voter_list = voter_list_for(session, referendum.case_id)
    # Distinct aliases on the board, counted as ballots are cast (``Referendum.online_voters``).
    online = referendum.online_voters - len(excluded_aliases(session, referendum))
    marks = session.scalar(select(func.count()).select_from(EtvrMark).where(
        EtvrMark.case_id == referendum.case_id,
        EtvrMark.channel == Channel.POLLING_STATION)) or 0
    envelopes = session.scalar(select(func.count()).select_from(RegistrationEnvelope).where(
        RegistrationEnvelope.referendum_id == referendum.id,
        RegistrationEnvelope.reconciled_at.is_(None))) or 0
    return Turnout(eligible=voter_list.voter_count if voter_list else 0, online_voters=online,
                   in_person=marks + envelopes, board_seq=referendum.board_seq,
                   board_head=referendum.board_head)


# The election record -------------------------------------------------------------------------

def _board(session: Session, referendum: Referendum,
           up_to: int) -> Iterator[dict[str, Any]]:
    for e in iter_board(session, referendum, up_to=up_to):
        yield {"seq": e.seq, "alias": e.alias, "tracker": e.tracker,
               "ballot": json.loads(e.ballot), "cast_at": rfc3339(e.cast_at)}


def _audited(session: Session, referendum: Referendum) -> list[dict[str, Any]]:
    rows = session.scalars(select(AuditedBallot).where(
        AuditedBallot.referendum_id == referendum.id).order_by(AuditedBallot.id))
    return [{"alias": a.alias, "tracker": a.tracker, "ballot": json.loads(a.ballot)}
            for a in rows]


def tally_section(session: Session, referendum: Referendum) -> dict[str, Any] | None:
    """The ``tally`` section once the online result is known."""
    if referendum.stage not in (Stage.TALLIED, Stage.APPROVED) or referendum.manifest is None:
        return None
    online = referendum.online_result_dict or {}
    counted = referendum.counted or 0
    shares = shares_of(session, referendum) if counted else []
    # t-of-n trustees are named by their number in the key generation (position + 1).
    first = 1 if referendum.threshold is not None else 0
    return {"counted": counted, "aggregate": json.loads(referendum.aggregate or "[]"),
            "decryptions": [{"trustee": s.trustee_position + first,
                             "shares": json.loads(s.shares)} for s in shares],
            "result": [online.get(YES, 0), online.get(NO, 0)]}


def in_person_section(session: Session, referendum: Referendum) -> dict[str, Any] | None:
    """The ``in_person`` section from the approved result."""
    result = result_of(session, referendum)
    if result is None:
        return None
    return {"ballots_issued": result.ballots_issued,
            "counts": {YES: result.in_person_for, NO: result.in_person_against},
            "invalid": result.in_person_invalid, "protocol_sha256": result.protocol_sha256}


def iter_election_record(session: Session, referendum: Referendum) -> Iterator[str]:
    """The election record (spec section 8) as text pieces, for streaming: everything but the
    board is read now (a consistent snapshot: the board head and the number of entries it
    covers), the board entries one per line as the pieces are consumed, through
    ``crypto.record.iter_record`` (the one serialiser). Before the polls close the board is
    still growing; before the tally there is no ``tally`` section (what the trustees pass to
    ``referendum-trustee decrypt``).

    Raises:
        WrongStage: the referendum has no online vote (no manifest).
    """
    if referendum.manifest is None:
        raise WrongStage("this referendum has no online vote", stage=referendum.stage)
    record: dict[str, Any] = {
        "manifest": referendum.manifest_dict,
        "election_hash": referendum.election_hash,
        "board": _board(session, referendum, up_to=referendum.board_seq),
        "board_head": referendum.board_head,
        "audited": _audited(session, referendum),
        "excluded_aliases": referendum.excluded_list,
    }
    if referendum.threshold is not None and referendum.dkg_transcript is not None:
        record["dkg"] = json.loads(referendum.dkg_transcript)
    # Only checkpoints the board read here has reached (one signed after this snapshot would
    # name a longer board than the record holds).
    checkpoints = [cp.to_json() for cp in board_checkpoints(session, referendum)
                   if cp.seq <= referendum.board_seq]
    if checkpoints:
        record["checkpoints"] = checkpoints
    tally = tally_section(session, referendum)
    if tally is not None:
        record["tally"] = tally
    in_person = in_person_section(session, referendum)
    if in_person is not None:
        record["in_person"] = in_person
    return iter_record(record)


def write_election_record(session: Session, referendum: Referendum, fp: IO[str]) -> None:
    """Write the election record (spec section 8), one board entry per line.

    Raises:
        WrongStage: the referendum has no online vote (no manifest).
    """
    for piece in iter_election_record(session, referendum):
        fp.write(piece)
