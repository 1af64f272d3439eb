"""Online voting (Art. 15, 20(5); spec sections 5-6): casting a ballot onto the bulletin board
and publishing a Benaloh-audited ballot. Who may vote is decided in ``eligibility``, the board
is written in ``board``; here a ballot is read, its proofs checked and the refusals audited.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock
from referendum_core.crypto import CryptoError, verify_audited, verify_ballot
from referendum_core.crypto.ballot import ballot_alphas
from referendum_core.crypto.jsonstream import loads as strict_loads
from referendum_core.crypto.manifest import ElectionContext, context_from_manifest
from referendum_core.voting.board import append_to_board, claim_alphas
from referendum_core.voting.eligibility import VoterStanding, alias_for, check_may_vote_online
from referendum_core.voting.exceptions import BallotRefused
from referendum_core.voting.models import AuditedBallot, BoardEntry, Referendum
from referendum_core.voting.rules import rfc3339

MAX_BALLOT_BYTES = 64 * 1024


@dataclass(frozen=True)
class CastReceipt:
    """What the voter is shown after casting."""

    seq: int
    tracker: str
    cast_at: str
    board_head: str


def receipt_of(entry: BoardEntry) -> CastReceipt:
    """The receipt of an accepted ballot, as its cast answered it (the head after it)."""
    return CastReceipt(seq=entry.seq, tracker=entry.tracker, cast_at=rfc3339(entry.cast_at),
                       board_head=entry.head)


#: Where a ballot sits in the election record (record > board > entry > ballot): its JSON is
#: held to the record's nesting limit from there.
BALLOT_DEPTH = 4


def parse_ballot(ballot_json: str | bytes | dict[str, Any]) -> Any:
    """The ballot's JSON, parsed with the record's strict rules (spec section 9: no duplicate
    keys, floats, lone surrogates or needless nesting), so the board only ever holds ballots a
    verifier reads as the server did.

    Raises:
        BallotRefused: too large, not JSON, or not strict JSON.
    """
    if isinstance(ballot_json, dict):
        return ballot_json
    if len(ballot_json) > MAX_BALLOT_BYTES:
        raise BallotRefused("too_large", "", "the ballot is too large")
    try:
        return strict_loads(ballot_json, depth=BALLOT_DEPTH)
    except CryptoError as exc:
        raise BallotRefused("not_json", exc.location, exc.message) from None
    except (ValueError, RecursionError):
        raise BallotRefused("not_json", "", "the ballot is not JSON") from None


def _reason(exc: CryptoError) -> str:
    if exc.location == "election_hash":
        return "other_election"
    if "reused randomness" in exc.message:
        return "reused_randomness"
    if "replay" in exc.message:
        return "replay"
    if exc.location == "alias":
        return "alias"
    return "proof" if "proof" in exc.location or type(exc).__name__ == "InvalidProof" \
        else "malformed"


def _refuse(session: Session, clock: Clock, actor: Actor | None, referendum: Referendum,
            error: BallotRefused, context: AuditContext | None, action: str) -> NoReturn:
    audit_refused_ballot(session, clock, actor, referendum, error, context, action)
    raise error


def audit_refused_ballot(session: Session, clock: Clock, actor: Actor | None,
                         referendum: Referendum, error: BallotRefused,
                         context: AuditContext | None = None,
                         action: str = "voting.ballot_refused") -> None:
    """Record a refused ballot (its reason and where, never its content); for a refusal
    before ``cast_ballot`` could read the ballot (a body too large to read)."""
    audit.record(session, clock, actor, action, obj=referendum, context=context,
                 reason=error.reason, location=error.location)


_contexts: dict[tuple[int, str], ElectionContext] = {}


def election_context(referendum: Referendum) -> ElectionContext:
    """The referendum's validated election context, parsed once per process: the manifest is
    frozen with its hash when voting opens, so (id, election hash) names it for good."""
    assert referendum.manifest is not None and referendum.election_hash is not None
    key = (referendum.id, referendum.election_hash)
    context = _contexts.get(key)
    if context is None:
        context = context_from_manifest(json.loads(referendum.manifest))
        if len(_contexts) > 64:
            _contexts.clear()
        _contexts[key] = context
    return context


def stored_ballot(ballot: Any) -> str:
    """A ballot as the board stores it: compact JSON."""
    return json.dumps(ballot, separators=(",", ":"))


def cached_election_context(referendum_id: int, election_hash: str | None
                            ) -> ElectionContext | None:
    """The election context ``election_context`` parsed earlier in this process, if any."""
    return _contexts.get((referendum_id, election_hash or ""))


def cast_ballot(session: Session, clock: Clock, voter: Actor, referendum: Referendum,
                ballot_json: str | bytes | dict[str, Any],
                context: AuditContext | None = None,
                standing: VoterStanding | None = None) -> CastReceipt:
    """Accept an encrypted ballot onto the bulletin board (spec sections 5-6). A later ballot
    of the same voter supersedes the earlier one (Art. 20(5)); the server never sees the choice.

    Raises:
        OnlineVotingNotAvailable, WrongStage, OutsideVotingWindow, NotOnVoterList,
        VotedInPerson: see ``check_may_vote_online``.
        BallotRefused: not JSON, for another election, wrong alias, a failed proof, a replay.
    """
    # The time of arrival, taken before the voting window is checked, so that ``cast_at`` is
    # always inside it. Casts waiting for the board may be appended a moment out of arrival
    # order: ``seq`` is the board's order, ``cast_at`` when the ballot came (to the second).
    now = clock.now().replace(microsecond=0)
    person_ref = getattr(voter, "person_ref", None)
    alias = check_may_vote_online(session, clock, referendum, person_ref, standing)
    assert person_ref is not None and referendum.manifest is not None
    try:
        ballot = parse_ballot(ballot_json)
    except BallotRefused as refusal:
        _refuse(session, clock, voter, referendum, refusal, context, "voting.ballot_refused")
    if alias is None:
        alias = alias_for(session, clock, referendum, person_ref)
    try:
        tracker = verify_ballot(election_context(referendum), alias, ballot)
    except CryptoError as exc:
        _refuse(session, clock, voter, referendum,
                BallotRefused(_reason(exc), exc.location, exc.message), context,
                "voting.ballot_refused")
    entry = {"referendum_id": referendum.id, "alias": alias, "tracker": tracker,
             "ballot": stored_ballot(ballot), "cast_at": now}
    # The alphas are claimed under the lock (or, on PostgreSQL, in the statement that takes
    # it): claimed before it, every waiting cast would hold a key-share lock on the referendum
    # row, and PostgreSQL updates a row share-locked by many transactions through multixacts
    # (costly on the hottest row of the election).
    # The alphas as the ballot gives them: ``verify_ballot`` accepted them as canonical hex.
    placed = append_to_board(session, referendum, [ch["alpha"] for ch in ballot["choices"]],
                             entry)
    if placed is None:
        _refuse_replay(session, clock, voter, referendum, ballot, context)
    seq, head = placed
    # An accepted ballot is recorded by the board itself (a public hash chain) and not in the
    # audit log: an audit entry naming the voter, timed to the second like the board entry,
    # would link a person to their alias and encrypted ballot, which only the alias table may.
    # Refusals, which leave nothing on the board, are audited (``_refuse``).
    return CastReceipt(seq=seq, tracker=tracker, cast_at=rfc3339(now), board_head=head)


def _refuse_replay(session: Session, clock: Clock, voter: Actor, referendum: Referendum,
                   ballot: dict[str, Any], context: AuditContext | None) -> NoReturn:
    """Refuse (audited) a ballot whose alphas were taken: by a ballot opened in a Benaloh audit
    (its randomness is public, so it must never count: spec section 9) or by one already on
    the board. Only the voter's own alias can have audited a ballot, so only its audits are
    compared.

    Raises:
        BallotRefused: always, reason ``audited`` or ``replay``.
    """
    alphas = {ch["alpha"] for ch in ballot["choices"]}
    audited = session.scalars(select(AuditedBallot.ballot).where(
        AuditedBallot.referendum_id == referendum.id, AuditedBallot.alias == ballot["alias"]))
    refusal = BallotRefused("replay", "choices", "alpha already on the board (replay)")
    for opened in audited:
        if alphas & {ch["alpha"] for ch in json.loads(opened)["choices"]}:
            refusal = BallotRefused("audited", "choices",
                                    "an alpha of an audited (opened) ballot: never cast")
            break
    _refuse(session, clock, voter, referendum, refusal, context, "voting.ballot_refused")


def record_audited_ballot(session: Session, clock: Clock, voter: Actor, referendum: Referendum,
                          revealed_json: str | bytes | dict[str, Any],
                          context: AuditContext | None = None) -> AuditedBallot:
    """Publish a Benaloh-revealed ballot (spec section 5): checked, listed as audited, never
    counted; its alphas are reserved so it can never be cast afterwards.

    Raises:
        the refusals of ``check_may_vote_online``; BallotRefused: the opening does not match,
        the alias is not the voter's, or the ballot was already cast/audited.
    """
    person_ref = getattr(voter, "person_ref", None)
    check_may_vote_online(session, clock, referendum, person_ref)
    assert person_ref is not None
    try:
        revealed = parse_ballot(revealed_json)
    except BallotRefused as refusal:
        _refuse(session, clock, voter, referendum, refusal, context, "voting.audit_refused")
    alias = alias_for(session, clock, referendum, person_ref)
    if not isinstance(revealed, dict) or revealed.get("alias") != alias:
        raise BallotRefused("alias", "alias", "the ballot is not for this voter")
    try:
        tracker, _plaintext = verify_audited(referendum.manifest_dict or {}, revealed)
    except CryptoError as exc:
        _refuse(session, clock, voter, referendum,
                BallotRefused(_reason(exc), exc.location, exc.message), context,
                "voting.audit_refused")
    if not claim_alphas(session, referendum, ballot_alphas(revealed)):
        raise BallotRefused("replay", "choices", "this ballot was already cast or audited")
    row = AuditedBallot(referendum_id=referendum.id, alias=alias, tracker=tracker,
                        ballot=json.dumps(revealed, separators=(",", ":")),
                        audited_at=clock.now().replace(microsecond=0))
    session.add(row)
    session.flush()
    audit.record(session, clock, voter, "voting.ballot_audited", obj=referendum,
                 context=context)
    return row
