"""Two casts by the same voter at the same moment, on two real database connections: both land
on the board one after the other (one entry per cast, heads chained) and the later counts
(Art. 20(5)); a replay racing the original is stored once. Re-run on PostgreSQL in CI."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.accounts.models import User
from referendum_core.cases.models import Case, CaseEvent
from referendum_core.crypto import encrypt_ballot
from referendum_core.crypto.board import EMPTY_HEAD, chain_heads
from referendum_core.etvr import EtvrMark
from referendum_core.initiatives import Initiative
from referendum_core.organisation import Commission, PollingStation
from referendum_core.register import PersonRecord, VoterList, VoterListEntry
from referendum_core.voting import alias_for, cast_ballot
from referendum_core.voting.counting import counted_seqs
from referendum_core.voting.exceptions import BallotRefused
from referendum_core.voting.models import (
    AuditedBallot,
    BallotAlpha,
    BoardEntry,
    PollingStationProtocol,
    Referendum,
    RegistrationEnvelope,
    Result,
    Trustee,
    TrusteeShare,
    VoterAlias,
)
from tests.voting_support import NO_VOTE, ONLINE_MONDAY, YES_VOTE, build_scenario

ATVK = "0055000"  # Varakļānu novads: no other test uses it


@pytest.fixture()
def committed(engine, keys, clock):
    with Session(engine) as session:
        s = build_scenario(session, clock, keys, atvk=ATVK, prefix="conc-", station_number=877)
        session.commit()
        ids = {"referendum": s.referendum.id, "case": s.referendum.case_id,
               "voter": s.voters[0].id, "users": [u.id for u in
                                                    (s.chair, *s.members, *s.trustees, *s.voters)],
               "refs": [v.person_ref for v in s.voters], "station": s.station.id,
               "manifest": s.referendum.manifest_dict}
    yield ids
    with Session(engine) as session:
        rid = ids["referendum"]
        for model in (BoardEntry, BallotAlpha, AuditedBallot, VoterAlias, RegistrationEnvelope,
                      PollingStationProtocol, TrusteeShare, Result, Trustee):
            session.execute(delete(model).where(model.referendum_id == rid))
        session.execute(delete(Referendum).where(Referendum.id == rid))
        session.execute(delete(EtvrMark).where(EtvrMark.case_id == ids["case"]))
        lists = select(VoterList.id).where(VoterList.case_id == ids["case"])
        session.execute(delete(VoterListEntry).where(VoterListEntry.voter_list_id.in_(lists)))
        session.execute(delete(VoterList).where(VoterList.case_id == ids["case"]))
        # The referendum case and the initiative case it came from (its parent).
        initiative_case = select(Case.parent_case_id).where(Case.id == ids["case"]) \
            .scalar_subquery()
        cases = [ids["case"], session.scalar(select(initiative_case))]
        session.execute(delete(Initiative).where(Initiative.referendum_case_id == ids["case"]))
        session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(cases)))
        session.execute(delete(Case).where(Case.id.in_(cases)))
        session.execute(delete(PersonRecord).where(PersonRecord.person_ref.in_(ids["refs"])))
        session.execute(delete(Commission).where(Commission.polling_station_id == ids["station"]))
        session.execute(delete(PollingStation).where(PollingStation.id == ids["station"]))
        for user in session.scalars(select(User).where(User.id.in_(ids["users"]))):
            session.delete(user)
        session.commit()


def _in_transaction(engine: Any, work: Callable[[Session], Any], attempts: int = 20) -> Any:
    """Run ``work`` in its own writing transaction, as the web layer does (on SQLite it begins
    ``IMMEDIATE`` and waits for the write lock up to the busy timeout: a deferred one that read
    first is refused at once when another commits in between, which 20 quick retries did not
    always outlast on a loaded machine); PostgreSQL waits on the row lock instead."""
    from portal.database import writing

    for attempt in range(attempts):
        with writing(), Session(engine) as session:
            try:
                result = work(session)
                session.commit()
                return result
            except OperationalError:
                session.rollback()
                if attempt == attempts - 1:
                    raise
    return None


def _race(engine, clock, committed, ballots):
    barrier = threading.Barrier(len(ballots))
    outcomes: list[Any] = []

    def cast(ballot: dict[str, Any]) -> None:
        def work(session: Session) -> Any:
            voter = session.get(User, committed["voter"])
            referendum = session.get(Referendum, committed["referendum"])
            return cast_ballot(session, clock, voter, referendum, json.dumps(ballot))

        barrier.wait()
        try:
            outcomes.append(_in_transaction(engine, work))
        except BallotRefused as err:
            outcomes.append(err)

    threads = [threading.Thread(target=cast, args=(b,)) for b in ballots]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def _alias(engine, clock, committed) -> str:
    def work(session: Session) -> str:
        return alias_for(session, clock, session.get(Referendum, committed["referendum"]),
                         session.get(User, committed["voter"]).person_ref)

    return _in_transaction(engine, work)


def test_art20_5_two_concurrent_casts_by_one_voter_both_land_and_the_last_counts(
        engine, clock, committed):
    clock.set(ONLINE_MONDAY)
    alias = _alias(engine, clock, committed)
    ballots = [encrypt_ballot(committed["manifest"], alias, v).ballot for v in (YES_VOTE, NO_VOTE)]
    outcomes = _race(engine, clock, committed, ballots)
    assert sorted(r.seq for r in outcomes) == [1, 2]
    with Session(engine) as session:
        referendum = session.get(Referendum, committed["referendum"])
        entries = list(session.scalars(select(BoardEntry).where(
            BoardEntry.referendum_id == referendum.id).order_by(BoardEntry.seq)))
        assert [e.seq for e in entries] == [1, 2] and {e.alias for e in entries} == {alias}
        head = chain_heads([bytes.fromhex(e.tracker) for e in entries], EMPTY_HEAD).hex()
        assert referendum.board_head == head == entries[-1].head
        assert referendum.board_seq == 2
        assert counted_seqs(session, referendum, []) == [2]
        # one voter however many ballots: the alias's count is advanced in the cast's statement
        assert referendum.online_voters == 1
        assert session.scalar(select(VoterAlias.ballots).where(VoterAlias.alias == alias)) == 2


def test_many_voters_casting_at_once_chain_one_board_and_count_each_voter_once(
        engine, clock, committed):
    """Every voter of the scenario casts twice, all at the same moment: one unbroken chain of
    heads (computed in SQL on PostgreSQL), and online voters = distinct aliases."""
    clock.set(ONLINE_MONDAY)

    def aliases(session: Session) -> list[tuple[int, str]]:
        referendum = session.get(Referendum, committed["referendum"])
        voters = session.scalars(select(User).where(User.person_ref.in_(committed["refs"])))
        return [(v.id, alias_for(session, clock, referendum, v.person_ref)) for v in voters]

    made = _in_transaction(engine, aliases)
    assert len(made) >= 2
    work_items = [(uid, encrypt_ballot(committed["manifest"], alias, vote).ballot)
                  for uid, alias in made for vote in (YES_VOTE, NO_VOTE)]
    barrier = threading.Barrier(len(work_items))
    outcomes: list[Any] = []

    def cast(uid: int, ballot: dict[str, Any]) -> None:
        def work(session: Session) -> Any:
            return cast_ballot(session, clock, session.get(User, uid),
                               session.get(Referendum, committed["referendum"]),
                               json.dumps(ballot))

        barrier.wait()
        outcomes.append(_in_transaction(engine, work))

    threads = [threading.Thread(target=cast, args=item) for item in work_items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(r.seq for r in outcomes) == list(range(1, len(work_items) + 1))
    with Session(engine) as session:
        referendum = session.get(Referendum, committed["referendum"])
        entries = list(session.scalars(select(BoardEntry).where(
            BoardEntry.referendum_id == referendum.id).order_by(BoardEntry.seq)))
        heads = [e.head for e in entries]
        for n in range(1, len(entries) + 1):
            assert heads[n - 1] == chain_heads(
                [bytes.fromhex(e.tracker) for e in entries[:n]], EMPTY_HEAD).hex()
        assert referendum.board_head == heads[-1]
        assert {r.board_head for r in outcomes} == set(heads)
        assert referendum.online_voters == len(made)
        assert set(session.scalars(select(VoterAlias.ballots).where(
            VoterAlias.referendum_id == referendum.id))) == {2}


def test_a_replay_racing_the_original_is_stored_once(engine, clock, committed):
    clock.set(ONLINE_MONDAY)
    alias = _alias(engine, clock, committed)
    ballot = encrypt_ballot(committed["manifest"], alias, YES_VOTE).ballot
    outcomes = _race(engine, clock, committed, [ballot, ballot])
    refused = [o for o in outcomes if isinstance(o, BallotRefused)]
    assert len(refused) == 1 and refused[0].reason == "replay"
    with Session(engine) as session:
        entries = list(session.scalars(select(BoardEntry).where(
            BoardEntry.referendum_id == committed["referendum"])))
        assert len(entries) == 1


def test_claimed_alphas_do_not_deadlock_the_board_lock(engine, committed):
    """Casts claim their alphas before the board lock. A claim's foreign key takes a key-share
    lock on the referendum row, so the board lock must be ``FOR NO KEY UPDATE``: with ``FOR
    UPDATE`` two casts holding one claim each would wait for each other (a deadlock)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row-lock modes: PostgreSQL only (SQLite locks the whole database)")
    from sqlalchemy import text

    from referendum_core.voting.board import claim_alphas, lock_referendum

    first, second = Session(engine), Session(engine)
    try:
        mine = first.get(Referendum, committed["referendum"])
        theirs = second.get(Referendum, committed["referendum"])
        assert claim_alphas(first, mine, [b"\x01" * 32])
        assert claim_alphas(second, theirs, [b"\x02" * 32])
        first.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert lock_referendum(first, mine).id == mine.id  # not blocked by the other claim
    finally:
        first.rollback()
        second.rollback()
        first.close()
        second.close()


def test_a_partly_replayed_ballot_leaves_none_of_its_alphas_claimed(engine, committed):
    """One alpha already on the board: the claim fails and gives back the ones it took."""
    from referendum_core.voting.board import claim_alphas

    with Session(engine) as session:
        referendum = session.get(Referendum, committed["referendum"])
        taken, fresh = b"\x03" * 32, b"\x04" * 32
        assert claim_alphas(session, referendum, [taken])
        assert not claim_alphas(session, referendum, [fresh, taken])
        left = set(session.scalars(select(BallotAlpha.alpha).where(
            BallotAlpha.referendum_id == referendum.id)))
        assert left == {taken.hex()}
        session.rollback()


def _board(session: Session, referendum: Referendum) -> tuple[object, int, str]:
    """The referendum's (stage, last seq, head) as the database has them."""
    row = session.execute(select(Referendum.stage, Referendum.board_seq, Referendum.board_head)
                          .where(Referendum.id == referendum.id)).one()
    return row.stage, row.board_seq, row.board_head


def test_a_partly_replayed_ballot_writes_nothing_to_the_board(engine, clock, committed):
    """The cast's one write (claim, board entry, head — one statement on PostgreSQL): with one
    alpha already taken, no entry, no new head and none of its own alphas stay claimed."""
    from referendum_core.crypto import board_head
    from referendum_core.voting.board import append_to_board, claim_alphas

    with Session(engine) as session:
        referendum = session.get(Referendum, committed["referendum"])
        alias = alias_for(session, clock, referendum, committed["refs"][0])
        taken, fresh = ("05" * 32), ("06" * 32)
        assert claim_alphas(session, referendum, [bytes.fromhex(taken)])
        stage, seq, head = _board(session, referendum)
        entry = {"referendum_id": referendum.id, "alias": alias, "tracker": "07" * 32,
                 "ballot": "{}", "cast_at": datetime(2026, 3, 9, tzinfo=UTC)}
        assert append_to_board(session, referendum, [fresh, taken], entry) is None
        assert _board(session, referendum) == (stage, seq, head)
        assert session.scalar(select(func.count()).select_from(BoardEntry).where(
            BoardEntry.referendum_id == referendum.id)) == seq
        left = set(session.scalars(select(BallotAlpha.alpha).where(
            BallotAlpha.referendum_id == referendum.id)))
        assert fresh not in left and taken in left
        assert session.scalar(select(VoterAlias.ballots).where(VoterAlias.alias == alias)) == 0
        # and with both free, all the writes land together, the head chained as spec §6 says
        expected = board_head(bytes.fromhex(head), bytes.fromhex("07" * 32)).hex()
        assert append_to_board(session, referendum, [fresh, "09" * 32], entry) == (
            seq + 1, expected)
        assert _board(session, referendum) == (stage, seq + 1, expected)
        assert referendum.board_seq == seq + 1 and referendum.online_voters == 1
        assert session.scalar(select(BoardEntry.head).where(
            BoardEntry.referendum_id == referendum.id, BoardEntry.seq == seq + 1)) == expected
        session.rollback()


def test_a_ballot_checked_as_the_polls_close_is_not_appended(engine, clock, committed):
    """Stage changed between the ballot's check and its write: WrongStage, nothing written."""
    from referendum_core.voting.board import append_to_board
    from referendum_core.voting.exceptions import WrongStage

    with Session(engine) as session:
        referendum = session.get(Referendum, committed["referendum"])
        alias = alias_for(session, clock, referendum, committed["refs"][0])
        session.execute(update(Referendum).where(Referendum.id == referendum.id)
                        .values(stage="counting"))
        entry = {"referendum_id": referendum.id, "alias": alias, "tracker": "0a" * 32,
                 "ballot": "{}", "cast_at": datetime(2026, 3, 9, tzinfo=UTC)}
        with pytest.raises(WrongStage):
            append_to_board(session, referendum, ["0b" * 32], entry)
        session.rollback()
