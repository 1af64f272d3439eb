"""Online voting (Art. 15, 20(5); spec sections 5-6): the voter's alias, casting a ballot onto
the bulletin board and publishing a Benaloh-audited ballot.

Casting checks everything that can be checked without a lock first (window, voter list, no
in-person vote, the ballot's proofs), then takes a row lock on the referendum, stores the
ballot's alphas (UNIQUE: a replay is refused atomically) and appends the board entry with the
next ``seq`` and head. Two casts by the same voter at the same moment therefore give two board
entries one after the other, and the later one counts (Art. 20(5)).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock
from referendum_core.crypto import CryptoError, board_head, verify_audited, verify_ballot
from referendum_core.crypto.ballot import ballot_alphas
from referendum_core.crypto.group import frame
from referendum_core.crypto.jsonstream import loads as strict_loads
from referendum_core.crypto.manifest import ElectionContext, context_from_manifest
from referendum_core.db import UPSERT_INSERTS
from referendum_core.etvr import Channel, EtvrMark
from referendum_core.register import VoterList, VoterListEntry, on_voter_list, voter_list_for
from referendum_core.voting.exceptions import (
    BallotRefused,
    NotOnVoterList,
    OnlineVotingNotAvailable,
    OutsideVotingWindow,
    VotedInPerson,
    WrongStage,
)
from referendum_core.voting.models import (
    AuditedBallot,
    BallotAlpha,
    BoardEntry,
    Referendum,
    RegistrationEnvelope,
    Stage,
    VoterAlias,
)
from referendum_core.voting.rules import rfc3339

MAX_BALLOT_BYTES = 64 * 1024


@dataclass(frozen=True)
class CastReceipt:
    """What the voter is shown after casting."""

    seq: int
    tracker: str
    cast_at: str
    board_head: str


def find_on_board(session: Session, referendum_id: int, tracker: str) -> BoardEntry | None:
    """The board entry with this tracker, if the ballot was accepted (the board is public)."""
    return session.scalars(select(BoardEntry).where(
        BoardEntry.referendum_id == referendum_id, BoardEntry.tracker == tracker)).first()


def receipt_of(entry: BoardEntry) -> CastReceipt:
    """The receipt of an accepted ballot, as its cast answered it (the head after it)."""
    return CastReceipt(seq=entry.seq, tracker=entry.tracker, cast_at=rfc3339(entry.cast_at),
                       board_head=entry.head)


def is_on_list(session: Session, referendum: Referendum, person_ref: str | None) -> bool:
    """Is the person on the referendum's frozen voter list (Art. 7(2))?"""
    if not person_ref:
        return False
    voter_list = voter_list_for(session, referendum.case_id)
    return voter_list is not None and on_voter_list(session, voter_list, person_ref)


def in_person_vote(session: Session, referendum: Referendum,
                   person_ref: str) -> tuple[str, Any] | None:
    """Where and when the person voted in person (ETVR mark or registration envelope)."""
    mark = session.scalars(select(EtvrMark).where(
        EtvrMark.case_id == referendum.case_id, EtvrMark.person_ref == person_ref,
        EtvrMark.channel == Channel.POLLING_STATION)).first()
    if mark is not None:
        return mark.where, mark.marked_at
    envelope = session.scalars(select(RegistrationEnvelope).where(
        RegistrationEnvelope.referendum_id == referendum.id,
        RegistrationEnvelope.person_ref == person_ref)).first()
    if envelope is not None:
        return str(envelope.polling_station_id), envelope.recorded_at
    return None


def find_alias(session: Session, referendum: Referendum, person_ref: str) -> str | None:
    """The voter's alias, if one was made."""
    return session.scalar(select(VoterAlias.alias).where(
        VoterAlias.referendum_id == referendum.id, VoterAlias.person_ref == person_ref))


def alias_for(session: Session, clock: Clock, referendum: Referendum, person_ref: str) -> str:
    """The voter's alias in this referendum, made on first use (random, 128 bits)."""
    alias = find_alias(session, referendum, person_ref)
    if alias is not None:
        return alias
    row = VoterAlias(referendum_id=referendum.id, person_ref=person_ref,
                     alias="v-" + secrets.token_hex(16), created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # made at the same moment by another request of the same voter
        alias = find_alias(session, referendum, person_ref)
        if alias is None:
            raise
        return alias
    return row.alias


def check_may_vote_online(session: Session, clock: Clock, referendum: Referendum,
                          person_ref: str | None) -> None:
    """Everything about the voter and the time that online voting requires.

    Raises:
        OnlineVotingNotAvailable (Art. 15(2)), WrongStage, OutsideVotingWindow (Art. 15(1)),
        NotOnVoterList (Art. 7), VotedInPerson (Art. 20(5)).
    """
    _check_online_voter(session, clock, referendum, person_ref)


@dataclass(frozen=True)
class VoterStanding:
    """What the database says of one person in one referendum: on its voter list, voted in
    person (ETVR mark at a station or a registration envelope), their alias if made."""

    listed: bool
    voted_in_person: bool
    alias: str | None


def standing_columns(case_id: Any, referendum_id: Any, person_ref: Any) -> tuple[Any, ...]:
    """The three ``VoterStanding`` facts as column expressions (one statement): whether
    ``person_ref`` is on the case's referendum voter list, whether they voted in person, their
    alias or NULL."""
    listed = exists().where(VoterListEntry.voter_list_id == VoterList.id,
                            VoterList.case_id == case_id,
                            VoterList.purpose == "referendum",
                            VoterListEntry.person_ref == person_ref)
    marked = exists().where(EtvrMark.case_id == case_id,
                            EtvrMark.person_ref == person_ref,
                            EtvrMark.channel == Channel.POLLING_STATION)
    enveloped = exists().where(RegistrationEnvelope.referendum_id == referendum_id,
                               RegistrationEnvelope.person_ref == person_ref)
    alias = (select(VoterAlias.alias).where(VoterAlias.referendum_id == referendum_id,
                                            VoterAlias.person_ref == person_ref)
             .scalar_subquery())
    return listed, or_(marked, enveloped), alias


# The hot path's statements are built once (constructing SQLAlchemy statements per request
# costs more CPU than running them).
_VOTER_CHECK = select(*standing_columns(bindparam("case_id"), bindparam("referendum_id"),
                                         bindparam("person_ref")))
_FOR_CASTING = (select(Referendum, *standing_columns(Referendum.case_id, Referendum.id,
                                                      bindparam("person_ref")))
                .where(Referendum.id == bindparam("referendum_id")))


def load_for_casting(session: Session, referendum_id: int, person_ref: str | None
                     ) -> tuple[Referendum, VoterStanding] | None:
    """The referendum and the person's standing in it, in one round trip (the cast's first
    statement after the sign-in); ``None`` when there is no such referendum."""
    row = session.execute(_FOR_CASTING, {"referendum_id": referendum_id,
                                         "person_ref": person_ref}).first()
    if row is None:
        return None
    return row[0], VoterStanding(bool(row[1]), bool(row[2]), row[3])


def _check_online_voter(session: Session, clock: Clock, referendum: Referendum,
                        person_ref: str | None, standing: VoterStanding | None = None
                        ) -> str | None:
    """``check_may_vote_online`` in one round trip to the database (the list, both kinds of
    in-person vote and the voter's alias are asked together), or none when ``standing`` was
    read with the referendum (``load_for_casting``); returns the alias, if made."""
    now = clock.now()
    check_window(now, referendum)
    if person_ref and standing is None:
        row = session.connection().execute(_VOTER_CHECK, {
            "case_id": referendum.case_id, "referendum_id": referendum.id,
            "person_ref": person_ref}).one()
        standing = VoterStanding(bool(row[0]), bool(row[1]), row[2])
    try:
        return _check_voter(now, person_ref, standing)
    except VotedInPerson:
        assert person_ref is not None
        voted = in_person_vote(session, referendum, person_ref)
        assert voted is not None
        raise VotedInPerson(*voted) from None


def check_window(now: datetime, referendum: Any) -> None:
    """Is the referendum taking online ballots at ``now``?

    Raises:
        OnlineVotingNotAvailable (Art. 15(2)), WrongStage, OutsideVotingWindow (Art. 15(1)).
    """
    if not referendum.has_online_voting:
        raise OnlineVotingNotAvailable()
    if referendum.stage != Stage.VOTING:
        raise WrongStage("voting is not open", stage=referendum.stage)
    assert referendum.online_opens_at is not None and referendum.online_closes_at is not None
    if not referendum.online_opens_at <= now < referendum.online_closes_at:
        raise OutsideVotingWindow(opens_at=referendum.online_opens_at,
                                  closes_at=referendum.online_closes_at)


def check_standing(now: datetime, referendum: Any, person_ref: str | None,
                   standing: VoterStanding | None) -> str | None:
    """May ``person_ref``, whose ``standing`` was read from the database, cast a ballot in
    ``referendum`` at ``now``? Returns their alias (``None`` if not made yet); no database work.
    ``referendum`` is a ``Referendum`` or any object with its stage and window columns and
    ``has_online_voting`` (the lean cast path reads only those).

    Raises:
        the refusals of ``check_window``; NotOnVoterList (Art. 7), VotedInPerson (Art. 20(5);
        ``where`` and ``when`` unknown here, ``check_may_vote_online`` looks them up).
    """
    check_window(now, referendum)
    return _check_voter(now, person_ref, standing)


def _check_voter(now: datetime, person_ref: str | None, standing: VoterStanding | None
                 ) -> str | None:
    """The voter's part of ``check_standing`` (Art. 7, Art. 20(5)); returns the alias."""
    if not person_ref or standing is None or not standing.listed:
        raise NotOnVoterList()
    if standing.voted_in_person:
        raise VotedInPerson("", now)
    return standing.alias


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


def lock_referendum(session: Session, referendum: Referendum) -> Referendum:
    """Re-read the referendum row with ``SELECT … FOR NO KEY UPDATE`` (serialises the board).

    ``NO KEY``: rows referencing the referendum (claimed alphas, voters' aliases made on the
    voting page) take a key-share lock on it for their foreign key; a plain ``FOR UPDATE``
    would wait for every such insert to commit (and deadlock with one holding its key-share
    lock while waiting for the board)."""
    locked = session.scalars(select(Referendum).where(Referendum.id == referendum.id)
                             .with_for_update(key_share=True)
                             .execution_options(populate_existing=True)).one()
    return locked


_claims: dict[tuple[str, int], Any] = {}


def _claim_statement(dialect: str, count: int) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING alpha`` for ``count`` alphas (built once
    per dialect and count)."""
    statement = _claims.get((dialect, count))
    if statement is None:
        rid = bindparam("referendum_id")
        statement = (UPSERT_INSERTS[dialect](BallotAlpha)
                     .values([{"referendum_id": rid, "alpha": bindparam(f"alpha_{i}")}
                              for i in range(count)])
                     .on_conflict_do_nothing(index_elements=["referendum_id", "alpha"])
                     .returning(BallotAlpha.alpha))
        _claims[(dialect, count)] = statement
    return statement


def _claim_alphas(session: Session, referendum: Referendum, alphas: list[bytes]) -> bool:
    """Reserve the ballot's alphas (UNIQUE per referendum) in one statement; ``False`` — with
    nothing left reserved — when any was already taken (a replay), however close the race."""
    return _claim(session.connection(), referendum.id, [a.hex() for a in alphas])


def _claim(connection: Connection, referendum_id: int, wanted: list[str]) -> bool:
    """``_claim_alphas`` on a connection, the alphas in hex."""
    dialect = connection.dialect.name
    if dialect in UPSERT_INSERTS:
        params: dict[str, Any] = {f"alpha_{i}": a for i, a in enumerate(wanted)}
        params["referendum_id"] = referendum_id
        claimed = connection.scalars(_claim_statement(dialect, len(wanted)), params).all()
        if len(claimed) == len(wanted):
            return True
        _give_back(connection, referendum_id, list(claimed))  # refused: give back what it took
        return False
    try:
        with connection.begin_nested():
            connection.execute(insert(BallotAlpha), [
                {"referendum_id": referendum_id, "alpha": a} for a in wanted])
    except IntegrityError:
        return False
    return True


_LOCK_BOARD = (select(Referendum.stage, Referendum.board_seq, Referendum.board_head)
               .where(Referendum.id == bindparam("referendum_id"))
               .with_for_update(key_share=True))
_APPEND = insert(BoardEntry).values(
    {name: bindparam(name) for name in ("referendum_id", "seq", "alias", "tracker", "ballot",
                                        "cast_at", "head")})
# (Parameters named unlike the columns: SQLAlchemy reserves those names in an UPDATE.)
_COUNT_BALLOT = (update(VoterAlias)
                 .where(VoterAlias.referendum_id == bindparam("of_referendum"),
                        VoterAlias.alias == bindparam("of_alias"))
                 .values(ballots=VoterAlias.ballots + 1)
                 .returning(VoterAlias.ballots))
_ADVANCE = (update(Referendum).where(Referendum.id == bindparam("referendum_id"))
            .values(board_seq=bindparam("seq"), board_head=bindparam("head"),
                    online_voters=Referendum.online_voters + bindparam("new_voter"))
            .returning(Referendum.online_voters))


def _record_on_board(session: Session, referendum: Referendum, alphas: list[str],
                     entry: dict[str, Any]) -> tuple[int, str] | None:
    """``record_on_board`` in the session's transaction; the loaded referendum then shows the
    new seq, head and online voters (live pushes read them) without being dirtied."""
    placed = record_on_board(session.connection(), alphas, entry)
    if placed is None:
        return None
    seq, head, online_voters = placed
    set_committed_value(referendum, "board_seq", seq)
    set_committed_value(referendum, "board_head", head)
    set_committed_value(referendum, "online_voters", online_voters)
    return seq, head


def record_on_board(connection: Connection, alphas: list[str], entry: dict[str, Any]
                    ) -> tuple[int, str, int] | None:
    """Claim the ballot's alphas, lock the board, append the entry (``entry["referendum_id"]``)
    as the next ``seq`` with the next head, and count the alias's ballot (its first adds an
    online voter); answers ``(seq, head, online voters)``, or ``None`` — nothing written —
    when an alpha was already taken (a replay). The caller's transaction commits it; on
    PostgreSQL the connection may also be in autocommit (the lean cast path): the write is one
    statement, and a refused one gives back the alphas it claimed.

    On PostgreSQL all of it is one statement, which takes the board's lock itself and computes
    the head in SQL (``_record_statement``): one round trip, and the lock is held only from
    that statement to the commit. Elsewhere the board is locked first and the head computed
    here.

    Raises:
        WrongStage: the polls closed while the ballot was being checked.
    """
    # Core execution: given parameters, the ORM would run these as its bulk insert/update by
    # primary key instead.
    referendum_id = entry["referendum_id"]
    if connection.dialect.name == "postgresql":
        claimed, seq, head, online_voters = connection.execute(
            _record_statement(len(alphas)),
            {**entry, **{f"alpha_{i}": a for i, a in enumerate(alphas)},
             "wanted": len(alphas), "voting": Stage.VOTING.value}).one()
        if len(claimed) != len(alphas):
            _give_back(connection, referendum_id, claimed)
            return None
        if seq is None:  # the referendum's stage is no longer voting
            _give_back(connection, referendum_id, claimed)  # (in autocommit they stayed)
            stage = connection.scalar(select(Referendum.stage)
                                      .where(Referendum.id == referendum_id))
            raise WrongStage("voting is not open", stage=stage)
        return seq, head, online_voters
    row = connection.execute(_LOCK_BOARD, {"referendum_id": referendum_id}).one()
    if row.stage != Stage.VOTING:
        raise WrongStage("voting is not open", stage=row.stage)
    if not _claim(connection, referendum_id, alphas):
        return None
    seq = row.board_seq + 1
    head = board_head(bytes.fromhex(row.board_head), bytes.fromhex(entry["tracker"])).hex()
    ballots = connection.execute(_COUNT_BALLOT, {
        "of_referendum": referendum_id, "of_alias": entry["alias"]}).scalar_one()
    online_voters = connection.execute(_ADVANCE, {
        **entry, "seq": seq, "head": head, "new_voter": int(ballots == 1)}).scalar_one()
    connection.execute(_APPEND, {**entry, "seq": seq, "head": head})
    return seq, head, online_voters


def _give_back(connection: Connection, referendum_id: int, claimed: list[str]) -> None:
    """Release alphas a refused ballot's statement reserved (the others belong to the ballot
    it replays)."""
    if claimed:
        connection.execute(delete(BallotAlpha).where(and_(
            BallotAlpha.referendum_id == referendum_id, BallotAlpha.alpha.in_(claimed))))


_records: dict[int, Any] = {}

#: ``frame("board-v1")`` and the frame prefix of a 32-byte hash (spec section 6), in hex.
_BOARD_TAG = frame(b"board-v1").hex()
_FRAME_32 = (32).to_bytes(4, "big").hex()


def _record_statement(count: int) -> Any:
    """PostgreSQL: the whole of ``_record_on_board`` as data-modifying CTEs of one statement
    (built once per number of alphas):

    1. claim the alphas (``ON CONFLICT DO NOTHING``);
    2. only if all were free, count the alias's ballot (``UPDATE … RETURNING``);
    3. and (still only then) advance the referendum, if it is still voting: ``seq + 1``, the head
       ``SHA-256(frame("board-v1") ‖ frame(head) ‖ frame(tracker))`` and, for the alias's first
       ballot, the online voters. This ``UPDATE`` is the board's lock: a cast that waits for it
       re-evaluates ``board_seq`` and ``board_head`` on the newest row (PostgreSQL's
       EvalPlanQual), so the chain never forks. The alias count in step 2 is an ``UPDATE`` for
       the same reason: an ``EXISTS`` over the board would be read in the statement's
       snapshot, blind to a ballot of the same alias committed while this one waited;
    4. insert the board entry with the seq and head that step 3 returned.

    Answers the alphas it claimed, then the new seq, head and online voters (NULL when nothing
    was appended).
    """
    statement = _records.get(count)
    if statement is None:
        values = ", ".join(f"(:referendum_id, :alpha_{i})" for i in range(count))
        statement = text(f"""
            WITH claimed AS (
                INSERT INTO {BallotAlpha.__tablename__} (referendum_id, alpha) VALUES {values}
                ON CONFLICT (referendum_id, alpha) DO NOTHING RETURNING alpha),
            counted AS (
                UPDATE {VoterAlias.__tablename__} SET ballots = ballots + 1
                WHERE referendum_id = :referendum_id AND alias = :alias
                  AND (SELECT count(*) FROM claimed) = :wanted
                RETURNING ballots),
            advanced AS (
                UPDATE {Referendum.__tablename__} SET
                    board_seq = board_seq + 1,
                    board_head = encode(sha256(
                        decode('{_BOARD_TAG}{_FRAME_32}', 'hex') || decode(board_head, 'hex')
                        || decode('{_FRAME_32}', 'hex') || decode(:tracker, 'hex')), 'hex'),
                    online_voters = online_voters
                        + CASE WHEN (SELECT ballots FROM counted) = 1 THEN 1 ELSE 0 END
                WHERE id = :referendum_id AND stage = :voting
                  AND (SELECT count(*) FROM claimed) = :wanted
                RETURNING board_seq, board_head, online_voters),
            entry AS (
                INSERT INTO {BoardEntry.__tablename__}
                    (referendum_id, seq, alias, tracker, ballot, cast_at, head)
                SELECT :referendum_id, board_seq, :alias, :tracker, :ballot, :cast_at,
                       board_head
                FROM advanced
                RETURNING seq)
            SELECT ARRAY(SELECT alpha FROM claimed), (SELECT seq FROM entry),
                   (SELECT board_head FROM advanced),
                   (SELECT online_voters FROM advanced)""").bindparams(  # noqa: S608 - names only
            bindparam("cast_at", type_=BoardEntry.__table__.c.cast_at.type))
        _records[count] = statement
    return statement


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
    alias = _check_online_voter(session, clock, referendum, person_ref, standing)
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
    placed = _record_on_board(session, referendum, [ch["alpha"] for ch in ballot["choices"]],
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
    if not _claim_alphas(session, referendum, ballot_alphas(revealed)):
        raise BallotRefused("replay", "choices", "this ballot was already cast or audited")
    row = AuditedBallot(referendum_id=referendum.id, alias=alias, tracker=tracker,
                        ballot=json.dumps(revealed, separators=(",", ":")),
                        audited_at=clock.now().replace(microsecond=0))
    session.add(row)
    session.flush()
    audit.record(session, clock, voter, "voting.ballot_audited", obj=referendum,
                 context=context)
    return row
