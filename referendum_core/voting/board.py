"""The bulletin board (spec section 6): appending an accepted ballot with the next ``seq`` and
head, reserving ballots' alphas so that none is stored twice, and the board's lock.

Casting checks everything that can be checked without a lock first, then the board write
stores the ballot's alphas (UNIQUE: a replay is refused atomically) and appends the entry with
the next ``seq`` and head. Two casts by the same voter at the same moment therefore give two
board entries one after the other, and the later one counts (Art. 20(5)).

The head has one definition, ``referendum_core.crypto.board_head``; on PostgreSQL the board
write computes it in SQL (``board_head_sql``), and ``tests/referendum_core/voting/test_board.py``
holds the two to the same result.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, text, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from referendum_core.crypto import board_head
from referendum_core.crypto.board import BOARD_TAG
from referendum_core.crypto.group import frame
from referendum_core.db import UPSERT_INSERTS, DriverStatement
from referendum_core.voting.exceptions import WrongStage
from referendum_core.voting.models import BallotAlpha, BoardEntry, Referendum, Stage, VoterAlias


def find_on_board(session: Session, referendum_id: int, tracker: str) -> BoardEntry | None:
    """The board entry with this tracker, if the ballot was accepted (the board is public)."""
    return session.scalars(select(BoardEntry).where(
        BoardEntry.referendum_id == referendum_id, BoardEntry.tracker == tracker)).first()


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


def claim_alphas(session: Session, referendum: Referendum, alphas: list[bytes]) -> bool:
    """Reserve the ballot's alphas (UNIQUE per referendum) in one statement; ``False`` — with
    nothing left reserved — when any was already taken (a replay), however close the race."""
    return _claim(session.connection(), referendum.id, [a.hex() for a in alphas])


def _claim(connection: Connection, referendum_id: int, wanted: list[str]) -> bool:
    """``claim_alphas`` on a connection, the alphas in hex."""
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


def append_to_board(session: Session, referendum: Referendum, alphas: list[str],
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


def record_on_board(connection: Connection, alphas: list[str], entry: dict[str, Any], *,
                    on_driver: bool = False) -> tuple[int, str, int] | None:
    """Claim the ballot's alphas, lock the board, append the entry (``entry["referendum_id"]``)
    as the next ``seq`` with the next head, and count the alias's ballot (its first adds an
    online voter); answers ``(seq, head, online voters)``, or ``None`` — nothing written —
    when an alpha was already taken (a replay). The caller's transaction commits it; on
    PostgreSQL the connection may also be in autocommit (the lean cast path): the write is one
    statement, and a refused one gives back the alphas it claimed.

    On PostgreSQL all of it is one statement, which takes the board's lock itself and computes
    the head in SQL (``_record_statement``): one round trip, and the lock is held only from
    that statement to the commit; ``on_driver`` runs it on the driver's cursor
    (``referendum_core.db.DriverStatement``: the lean cast path). Elsewhere the board is
    locked first and the head computed here.

    Raises:
        WrongStage: the polls closed while the ballot was being checked.
    """
    # Core execution: given parameters, the ORM would run these as its bulk insert/update by
    # primary key instead.
    referendum_id = entry["referendum_id"]
    if connection.dialect.name == "postgresql":
        params = {**entry, **{f"alpha_{i}": a for i, a in enumerate(alphas)},
                  "wanted": len(alphas), "voting": Stage.VOTING.value}
        if on_driver:
            claimed, seq, head, online_voters = _driver_record(
                len(alphas), connection.dialect).first(connection, params)
        else:
            claimed, seq, head, online_voters = connection.execute(
                _record_statement(len(alphas)), params).one()
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
_driver_records: dict[tuple[int, str], DriverStatement] = {}


def _driver_record(count: int, dialect: Dialect) -> DriverStatement:
    """``_record_statement(count)`` compiled for the driver (once per count and dialect)."""
    key = (count, dialect.name)
    statement = _driver_records.get(key)
    if statement is None:
        statement = _driver_records[key] = DriverStatement(_record_statement(count), dialect)
    return statement

#: ``frame("board-v1")`` and the frame prefix of a 32-byte hash (spec section 6), in hex.
_BOARD_TAG = frame(BOARD_TAG).hex()
_FRAME_32 = frame(bytes(32))[:4].hex()


def board_head_sql(previous: str, tracker: str) -> str:
    """``board_head`` in PostgreSQL's SQL, over two SQL expressions giving the previous head
    and the tracker as 64 hex digits; the next head, in hex. Only names and bind parameters
    may be passed (it is pasted into the statement)."""
    return (f"encode(sha256(decode('{_BOARD_TAG}{_FRAME_32}', 'hex') || decode({previous}, 'hex')"
            f" || decode('{_FRAME_32}', 'hex') || decode({tracker}, 'hex')), 'hex')")


def _record_statement(count: int) -> Any:
    """PostgreSQL: the whole of ``record_on_board`` as data-modifying CTEs of one statement
    (built once per number of alphas):

    1. claim the alphas (``ON CONFLICT DO NOTHING``);
    2. only if all were free, count the alias's ballot (``UPDATE … RETURNING``);
    3. and (still only then) advance the referendum, if it is still voting: ``seq + 1``, the head
       (``board_head_sql``: ``board_head`` in SQL) and, for the alias's first
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
                    board_head = {board_head_sql("board_head", ":tracker")},
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

