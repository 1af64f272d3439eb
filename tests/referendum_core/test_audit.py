"""The hash-chained audit log detects edited, deleted and truncated entries."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update

from referendum_core import audit
from referendum_core.audit import AuditEntry, AuditHead, verify_chain


def _write(db_session, clock, n=5, actor=None):
    entries = []
    for i in range(n):
        clock.advance(timedelta(seconds=1))
        entries.append(audit.record(db_session, clock, actor, "test.event", object_type="Thing",
                                    object_id=i, n=i))
    db_session.flush()
    return entries


def test_chain_verifies(db_session, clock):
    _write(db_session, clock)
    checked, problem = verify_chain(db_session)
    assert problem is None and checked >= 5


def test_entries_link_to_their_predecessor(db_session, clock):
    entries = _write(db_session, clock, 3)
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    assert entries[1].seq == entries[0].seq + 1


def test_edited_entry_is_detected(db_session, clock):
    entries = _write(db_session, clock)
    db_session.execute(update(AuditEntry).where(AuditEntry.seq == entries[2].seq)
                       .values(detail='{"n":99}'))
    db_session.expire_all()
    _, problem = verify_chain(db_session)
    assert problem is not None and problem.seq == entries[2].seq
    assert "changed" in problem.reason


def test_edited_actor_or_time_is_detected(db_session, clock):
    entries = _write(db_session, clock)
    db_session.execute(update(AuditEntry).where(AuditEntry.seq == entries[1].seq)
                       .values(actor_label="someone else"))
    db_session.expire_all()
    assert verify_chain(db_session)[1].seq == entries[1].seq


def test_rehashed_edit_breaks_the_next_link(db_session, clock):
    entries = _write(db_session, clock)
    victim = db_session.get(AuditEntry, entries[1].seq)
    victim.detail = '{"n":42}'
    victim.entry_hash = audit.compute_hash(victim)
    db_session.flush()
    db_session.expire_all()
    problem = verify_chain(db_session)[1]
    assert problem.seq == entries[2].seq and "link" in problem.reason


def test_deleted_entry_is_detected(db_session, clock):
    entries = _write(db_session, clock)
    db_session.execute(delete(AuditEntry).where(AuditEntry.seq == entries[3].seq))
    db_session.expire_all()
    problem = verify_chain(db_session)[1]
    assert problem.seq == entries[3].seq and "missing" in problem.reason


def test_truncated_end_is_detected(db_session, clock):
    entries = _write(db_session, clock)
    db_session.execute(delete(AuditEntry).where(AuditEntry.seq == entries[-1].seq))
    db_session.expire_all()
    problem = verify_chain(db_session)[1]
    assert problem is not None and "missing" in problem.reason


def test_head_tracks_last_entry(db_session, clock):
    entries = _write(db_session, clock, 2)
    head = db_session.get(AuditHead, 1)
    assert head.last_seq == entries[-1].seq and head.last_hash == entries[-1].entry_hash


def test_records_actor_object_and_context(db_session, clock, people):
    user = people.cvk_officer()
    entry = audit.record(db_session, clock, user, "case.viewed", obj=user,
                         context=audit.AuditContext(ip="192.0.2.7"), note="x")
    assert entry.actor_id == user.id and entry.object_type == "User"
    assert entry.object_id == str(user.id) and entry.ip == "192.0.2.7"
    assert entry.detail_dict == {"note": "x"}
    assert entry.at == clock.now()


def test_rewritten_history_is_caught_by_an_earlier_head_copy(db_session, clock):
    _write(db_session, clock, 3)
    head = audit.current_head(db_session)
    # An attacker rewrites the whole log consistently (new hashes all the way to the head).
    rows = list(db_session.query(AuditEntry).order_by(AuditEntry.seq))
    prev = audit.GENESIS
    for row in rows:
        if row.seq == 1:
            row.detail = '{"forged":true}'
        row.prev_hash = prev
        row.entry_hash = audit.compute_hash(row)
        prev = row.entry_hash
    head_row = db_session.get(AuditHead, 1)
    head_row.last_hash = prev
    db_session.flush()
    assert verify_chain(db_session)[1] is None  # consistent on its own ...
    problem = verify_chain(db_session, expected_head=head)[1]
    assert problem is not None and problem.seq == head[0]  # ... but not with the copy


def test_truncation_before_an_earlier_head_copy_is_caught(db_session, clock):
    _write(db_session, clock, 3)
    head = audit.current_head(db_session)
    db_session.execute(delete(AuditEntry).where(AuditEntry.seq == head[0]))
    head_row = db_session.get(AuditHead, 1)
    head_row.last_seq = head[0] - 1
    head_row.last_hash = db_session.get(AuditEntry, head[0] - 1).entry_hash
    db_session.flush()
    assert verify_chain(db_session)[1] is None
    assert verify_chain(db_session, expected_head=head)[1] is not None


def test_concurrent_writers_extend_one_chain(engine, clock):
    """Many transactions appending at once (each commits): one unbroken chain, no seq twice
    (the head row's lock serialises them)."""
    import threading

    import pytest
    from sqlalchemy.orm import Session

    if engine.dialect.name != "postgresql":
        pytest.skip("row locks between connections: PostgreSQL only (SQLite locks the file)")
    writers, each = 4, 10
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with Session(engine) as session:
                    audit.record(session, clock, None, "test.concurrent", writer=n, i=i)
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    with Session(engine) as session:
        checked, problem = verify_chain(session)
        assert problem is None and checked == writers * each
        assert audit.current_head(session)[0] == writers * each


def test_a_hand_copied_head_is_checked_beside_a_checkpoint_at_the_same_seq(db_session, clock):
    """A signed checkpoint at the head's seq must not stand in for a different head that
    someone copied out by hand: both are checked."""
    _write(db_session, clock, 2)
    seq, digest = audit.current_head(db_session)
    assert verify_chain(db_session, expected_head=(seq, digest),
                        expected_heads={seq: digest})[1] is None
    problem = verify_chain(db_session, expected_head=(seq, "0" * 64),
                           expected_heads={seq: digest})[1]
    assert problem is not None and problem.seq == seq
