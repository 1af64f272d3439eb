"""After the polls close (Art. 20(1), (4)-(6)): online voting ends, the board is frozen and its
head kept, the aliases of voters who voted in person are excluded, the aggregate of the counted
ballots is computed; trustees upload partial decryptions (proofs checked) and the online result
is recovered (spec section 7)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.clock import Clock
from referendum_core.crypto import (
    CryptoError,
    context_from_manifest,
    recover_result,
    verify_partial_decryption,
)
from referendum_core.crypto.jsonstream import loads as strict_loads
from referendum_core.crypto.manifest import ElectionContext
from referendum_core.crypto.tally import (
    Aggregate,
    aggregate,
    aggregate_from_json,
    aggregate_to_json,
)
from referendum_core.crypto.threshold import check_decryptions, threshold_result
from referendum_core.etvr import Channel, EtvrMark
from referendum_core.voting.board import lock_referendum
from referendum_core.voting.exceptions import ShareRefused, VotingError, WrongStage
from referendum_core.voting.models import (
    BoardEntry,
    Referendum,
    RegistrationEnvelope,
    Stage,
    TrusteeShare,
    VoterAlias,
)
from referendum_core.voting.preparation import move_case, trustee_of
from referendum_core.voting.workflow import ANNOUNCEMENT_BASIS


class PollsStillOpen(VotingError):
    """Online votes are counted only after the polls close at 20:00 (Art. 20(1))."""

    code = "polls_still_open"
    article = "Art. 20(1)"


def excluded_aliases(session: Session, referendum: Referendum) -> list[str]:
    """Aliases on the board whose voter voted in person (ETVR mark at a station, or a
    registration envelope): their online ballots are not counted (Art. 20(5))."""
    in_person = select(EtvrMark.person_ref).where(
        EtvrMark.case_id == referendum.case_id, EtvrMark.channel == Channel.POLLING_STATION)
    envelopes = select(RegistrationEnvelope.person_ref).where(
        RegistrationEnvelope.referendum_id == referendum.id)
    on_board = select(BoardEntry.alias).where(BoardEntry.referendum_id == referendum.id)
    query = select(VoterAlias.alias).where(
        VoterAlias.referendum_id == referendum.id,
        VoterAlias.person_ref.in_(in_person.union(envelopes)),
        VoterAlias.alias.in_(on_board)).order_by(VoterAlias.alias)
    return list(session.scalars(query))


def iter_board(session: Session, referendum: Referendum, batch: int = 1000,
               up_to: int | None = None) -> Iterator[BoardEntry]:
    """Board entries in ``seq`` order, fetched in batches; only ``seq <= up_to`` when given
    (a snapshot that matches a head read earlier while the board still grows)."""
    last = 0
    while True:
        query = select(BoardEntry).where(BoardEntry.referendum_id == referendum.id,
                                         BoardEntry.seq > last)
        if up_to is not None:
            query = query.where(BoardEntry.seq <= up_to)
        rows = list(session.scalars(query.order_by(BoardEntry.seq).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def counted_seqs(session: Session, referendum: Referendum, excluded: list[str]) -> list[int]:
    """``seq`` of the counted ballots: the last of each alias, none of an excluded alias."""
    last: dict[str, int] = {}
    for alias, seq in session.execute(select(BoardEntry.alias, BoardEntry.seq).where(
            BoardEntry.referendum_id == referendum.id).order_by(BoardEntry.seq)):
        last[alias] = seq
    skip = set(excluded)
    return sorted(seq for alias, seq in last.items() if alias not in skip)


def _ciphertexts(session: Session, referendum: Referendum,
                 seqs: set[int]) -> Iterator[tuple[list[bytes], list[bytes]]]:
    for entry in iter_board(session, referendum):
        if entry.seq in seqs:
            choices = json.loads(entry.ballot)["choices"]
            yield ([bytes.fromhex(c["alpha"]) for c in choices],
                   [bytes.fromhex(c["beta"]) for c in choices])


def close_polls(session: Session, clock: Clock, calendar: WorkingDayCalendar | None,
                actor: Actor | None, referendum: Referendum,
                context: AuditContext | None = None) -> Referendum:
    """Close the vote after 20:00 Riga time on referendum day: the board is frozen (its head
    kept), excluded aliases and the counted aggregate are computed. With nothing to decrypt
    (no counted ballot, or a dismissal referendum) the online result is zero straight away.

    Raises:
        WrongStage: voting is not open; PollsStillOpen: before 20:00 (Art. 20(1)).
    """
    if clock.now() < referendum.polls_close_at:
        raise PollsStillOpen()
    referendum = lock_referendum(session, referendum)
    if referendum.stage != Stage.VOTING:
        raise WrongStage("voting is not open", stage=referendum.stage)
    now = clock.now()
    referendum.closed_at = now
    excluded = excluded_aliases(session, referendum) if referendum.has_online_voting else []
    seqs = counted_seqs(session, referendum, excluded) if referendum.has_online_voting else []
    agg = aggregate(_ciphertexts(session, referendum, set(seqs))) if seqs else []
    referendum.excluded_aliases = json.dumps(excluded)
    referendum.counted = len(seqs)
    referendum.aggregate = json.dumps(aggregate_to_json(agg))
    referendum.stage = Stage.COUNTING
    if not seqs:
        referendum.online_result = json.dumps({"yes": 0, "no": 0})
        referendum.tallied_at = now
        referendum.stage = Stage.TALLIED
    session.flush()
    move_case(session, clock, calendar, actor, referendum, "close_polls", context)
    # The announcement deadline runs from referendum day, not from this moment.
    referendum.case.deadline_at = referendum.results_due_at
    referendum.case.deadline_basis = ANNOUNCEMENT_BASIS
    session.flush()
    audit.record(session, clock, actor, "voting.polls_closed", obj=referendum, context=context,
                 board_head=referendum.board_head, ballots=referendum.board_seq,
                 excluded=len(excluded), counted=len(seqs))
    return referendum


def _share_payload(partial: Any) -> Any:
    if isinstance(partial, str | bytes):
        try:
            # Strict like the record (spec section 9); it sits at tally.decryptions[j] there.
            partial = strict_loads(partial, depth=4)
        except CryptoError:
            raise ShareRefused("not JSON", reason="not_json") from None
    if isinstance(partial, dict) and "shares" in partial:
        return partial
    raise ShareRefused("not a partial decryption from referendum-trustee", reason="not_a_partial")


def accept_trustee_share(session: Session, clock: Clock, actor: Actor, referendum: Referendum,
                         partial_json: str | bytes | dict[str, Any],
                         context: AuditContext | None = None) -> TrusteeShare:
    """A trustee uploads the output of ``referendum-trustee decrypt``; it must be for this
    election and aggregate and its equal-logarithm proofs must verify (spec section 7). When
    every trustee's share is in (for t-of-n trustees: t of them), the result is recovered.

    Raises:
        NotATrustee; WrongStage (not counting); ShareRefused (another election or aggregate,
        another trustee's key, a failed proof, already uploaded).
    """
    trustee = trustee_of(session, referendum, actor)
    if referendum.stage != Stage.COUNTING:
        raise WrongStage("no tally is waiting for decryption", stage=referendum.stage)
    partial = _share_payload(partial_json)
    problem = None
    if referendum.threshold is not None and not trustee.public_key:
        problem = ShareRefused("this trustee was disqualified in the key generation",
                               reason="not_qualified")
    elif partial.get("election_hash") != referendum.election_hash:
        problem = ShareRefused("for another election", "election_hash", "other_election")
    elif "public_key" in partial and partial["public_key"] != trustee.public_key:
        problem = ShareRefused("made with another trustee's key", "public_key", "wrong_key")
    elif "aggregate" in partial and partial["aggregate"] != json.loads(referendum.aggregate
                                                                       or "[]"):
        problem = ShareRefused("for another tally", "aggregate", "other_tally")
    ctx = context_from_manifest(referendum.manifest_dict)
    agg = aggregate_from_json(json.loads(referendum.aggregate or "[]"), ctx.n_choices)
    if problem is None:
        try:
            verify_partial_decryption(ctx.election_hash, bytes.fromhex(trustee.public_key or ""),
                                      agg, partial["shares"])
        except CryptoError as exc:
            problem = ShareRefused(exc.message, exc.at("shares").location)
    if problem is not None:
        audit.record(session, clock, actor, "voting.share_refused", obj=referendum,
                     context=context, position=trustee.position, location=problem.location)
        raise problem
    if session.scalar(select(TrusteeShare.id).where(
            TrusteeShare.referendum_id == referendum.id,
            TrusteeShare.trustee_position == trustee.position)) is not None:
        raise ShareRefused("this trustee's share is already in", reason="already_in")
    share = TrusteeShare(referendum_id=referendum.id, trustee_position=trustee.position,
                         shares=json.dumps(partial["shares"], separators=(",", ":")),
                         uploaded_by_id=actor.id, uploaded_at=clock.now())
    session.add(share)
    session.flush()
    audit.record(session, clock, actor, "voting.share_accepted", obj=referendum,
                 context=context, position=trustee.position)
    needed = referendum.threshold or len(referendum.trustees)
    if len(shares_of(session, referendum)) >= needed:
        compute_result(session, clock, actor, referendum, context=context)
    return share


def shares_of(session: Session, referendum: Referendum) -> list[TrusteeShare]:
    """The accepted shares, by trustee position."""
    return list(session.scalars(select(TrusteeShare).where(
        TrusteeShare.referendum_id == referendum.id).order_by(TrusteeShare.trustee_position)))


def _threshold_result(ctx: ElectionContext, agg: Aggregate, shares: list[TrusteeShare],
                      counted: int) -> list[int]:
    """``T_k`` from any t (or more) qualified trustees' shares, by Lagrange combination; the
    trustee's number in the key generation is its position + 1.

    Raises:
        CryptoError: fewer than t valid shares, or no result in range.
    """
    assert ctx.threshold is not None
    valid, _skipped = check_decryptions(
        ctx.election_hash, ctx.threshold, agg,
        [{"trustee": s.trustee_position + 1, "shares": json.loads(s.shares)} for s in shares])
    return threshold_result(ctx.threshold, agg, valid, counted)


def compute_result(session: Session, clock: Clock, actor: Actor | None, referendum: Referendum,
                   context: AuditContext | None = None) -> dict[str, int]:
    """Recover the online result ``T_k`` (baby-step giant-step) from every trustee's verified
    shares (each re-checked here) and store it.

    Raises:
        WrongStage: not counting, or a trustee's share is missing; ShareRefused: a stored
        share no longer verifies or the result is out of range.
    """
    if referendum.stage != Stage.COUNTING:
        raise WrongStage("no tally is waiting for decryption", stage=referendum.stage)
    ctx = context_from_manifest(referendum.manifest_dict)
    agg = aggregate_from_json(json.loads(referendum.aggregate or "[]"), ctx.n_choices)
    shares = shares_of(session, referendum)
    try:
        if ctx.threshold is not None:
            result = _threshold_result(ctx, agg, shares, referendum.counted or 0)
        else:
            if [s.trustee_position for s in shares] != list(range(len(ctx.trustee_keys))):
                raise WrongStage("a trustee's share is missing", stage=referendum.stage)
            ds = [verify_partial_decryption(ctx.election_hash,
                                            ctx.trustee_keys[s.trustee_position],
                                            agg, json.loads(s.shares)) for s in shares]
            result = recover_result(agg, ds, referendum.counted or 0)
    except CryptoError as exc:
        raise ShareRefused(exc.message, exc.location) from None
    online = dict(zip(ctx.choice_ids, result, strict=True))
    referendum.online_result = json.dumps(online)
    referendum.tallied_at = clock.now()
    referendum.stage = Stage.TALLIED
    session.flush()
    audit.record(session, clock, actor, "voting.tallied", obj=referendum, context=context,
                 counted=referendum.counted, result=online)
    return online
