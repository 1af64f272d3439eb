"""Signed audit checkpoints: someone with database access who cuts the log short and moves the
head back, or changes an entry and re-hashes everything after it, passes the plain chain check
but not the check against a checkpoint signed before (docs/spec/checkpoints.md)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from referendum_core import audit
from referendum_core.audit import AuditEntry, AuditHead, verify_chain
from referendum_core.checkpoints import (
    SignedCheckpoint,
    checkpoints_of,
    sign_audit_checkpoint,
    verify_audit_log,
)
from referendum_core.crypto.checkpoint import AUDIT_LOG, CheckpointSigner

SIGNER = CheckpointSigner.derive(bytes(range(32)), AUDIT_LOG)


def _write(session, clock, n):
    for i in range(n):
        clock.advance(timedelta(seconds=1))
        audit.record(session, clock, None, "test.event", object_type="Thing", object_id=i, n=i)
    session.flush()


def _checkpoint(session, clock):
    return sign_audit_checkpoint(session, clock, SIGNER).to_json()


def _truncate(session, keep):
    session.execute(delete(AuditEntry).where(AuditEntry.seq > keep))
    head = session.get(AuditHead, 1)
    head.last_seq = keep
    head.last_hash = session.get(AuditEntry, keep).entry_hash
    session.flush()
    session.expire_all()


def _rechain(session, from_seq):
    """Change entry ``from_seq`` and re-hash it and everything after it, head included."""
    rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    prev = audit.GENESIS
    for row in rows:
        if row.seq == from_seq:
            row.detail = '{"n":"forged"}'
        row.prev_hash = prev
        row.entry_hash = audit.compute_hash(row)
        prev = row.entry_hash
    session.get(AuditHead, 1).last_hash = prev
    session.flush()
    session.expire_all()


def test_checkpoint_signs_the_current_head_and_is_kept_once(db_session, clock):
    _write(db_session, clock, 3)
    seq, head = audit.current_head(db_session)
    cp = _checkpoint(db_session, clock)
    assert (cp["log"], cp["seq"], cp["head"], cp["key"]) == ("audit", seq, head, SIGNER.public_key)
    sign_audit_checkpoint(db_session, clock, SIGNER)  # same moment: the same signature, one row
    assert db_session.query(SignedCheckpoint).filter_by(log="audit").count() == 1
    assert [c.to_json() for c in checkpoints_of(db_session, AUDIT_LOG)] == [cp]
    report = verify_audit_log(db_session, [cp], SIGNER.public_key)
    assert report.ok and report.checkpoints == 1


def test_truncation_is_detected_only_with_the_checkpoint(db_session, clock):
    _write(db_session, clock, 6)
    cp = _checkpoint(db_session, clock)
    _truncate(db_session, cp["seq"] - 3)
    assert verify_chain(db_session)[1] is None  # the attack: consistent on its own
    report = verify_audit_log(db_session, [cp], SIGNER.public_key)
    assert not report.ok and "missing" in report.problem.reason
    assert report.problem.seq == cp["seq"] - 2


def test_rechaining_is_detected_only_with_the_checkpoint(db_session, clock):
    _write(db_session, clock, 6)
    early = _checkpoint(db_session, clock)
    _write(db_session, clock, 2)
    late = _checkpoint(db_session, clock)
    _rechain(db_session, early["seq"] - 1)
    assert verify_chain(db_session)[1] is None
    report = verify_audit_log(db_session, [late, early], SIGNER.public_key)
    assert report.problem.seq == early["seq"]
    assert "copied out earlier" in report.problem.reason


def test_rewrite_after_the_last_checkpoint_is_beyond_it(db_session, clock):
    """What a checkpoint covers: the log up to it (the interval bounds the rest)."""
    _write(db_session, clock, 4)
    cp = _checkpoint(db_session, clock)
    _write(db_session, clock, 3)
    _rechain(db_session, cp["seq"] + 2)
    assert verify_audit_log(db_session, [cp], SIGNER.public_key).ok


def test_forged_or_foreign_checkpoints_are_reported_not_trusted(db_session, clock):
    _write(db_session, clock, 3)
    cp = _checkpoint(db_session, clock)
    forged = {**cp, "seq": cp["seq"] + 5}
    other = CheckpointSigner.derive(bytes(32), AUDIT_LOG).sign(
        cp["seq"], "00" * 32, cp["at"]).to_json()
    report = verify_audit_log(db_session, [cp, forged, other, {"seq": 1}], SIGNER.public_key)
    assert report.problem is None and report.checkpoints == 1
    assert [p for p, _ in report.rejected] == [1, 2, 3]
    assert not report.ok


def test_contradicting_signed_checkpoints_are_a_proof(db_session, clock):
    _write(db_session, clock, 3)
    cp = _checkpoint(db_session, clock)
    other = SIGNER.sign(cp["seq"], "ee" * 32, "2030-01-01T00:00:00Z").to_json()
    report = verify_audit_log(db_session, [cp, other], SIGNER.public_key)
    assert len(report.contradictions) == 1 and not report.ok
    assert "PROOF OF MISBEHAVIOUR" in report.contradictions[0].render()
