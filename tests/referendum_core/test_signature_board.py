"""The signature board in the domain: every signature adds a pending entry with a receipt, the
batch publisher chains them shuffled and checkpoints the head, the commission's check (Art. 13)
publishes exclusions and the board's count is the commission's."""
from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select

from referendum_core.checkpoints import checkpoints_of
from referendum_core.crypto.checkpoint import CheckpointSigner
from referendum_core.crypto.signature_board import board_log_name, verify_board
from referendum_core.register import PersonRecord
from referendum_core.signature_board import (
    BoardEntry,
    board_count,
    board_document,
    initiatives_with_pending,
    publish_pending,
    receipt_of,
    receipt_status,
)
from referendum_core.signatures import (
    CertifierType,
    Signature,
    apply_for_check,
    check_signatures,
    close_due_collections,
    register_in_person,
    sign_online,
)
from tests.referendum_core import test_signatures as base
from tests.referendum_core.test_signatures import AFTER, CAL, TAG_KEY, initiative_applicant

# The collecting initiative of the signature tests, with its voters.
adazi, voters, initiative = base.adazi, base.voters, base.initiative

MASTER = bytes(range(32))


def _signer(initiative_id: int) -> CheckpointSigner:
    return CheckpointSigner.derive(MASTER, board_log_name(initiative_id))


def _document(db_session, initiative):
    return board_document(db_session, initiative.id, initiative.signatures_needed,
                          _signer(initiative.id).public_key)


def test_every_signature_adds_a_pending_entry_with_a_fresh_receipt(db_session, clock, people,
                                                                   initiative, voters):
    online = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    paper = register_in_person(db_session, clock, people.member(), initiative, voters[1],
                               tag_key=TAG_KEY, certifier_type=CertifierType.NOTARY,
                               certifier_name="Notāre", signed_on=date(2026, 3, 5))
    entries = list(db_session.scalars(select(BoardEntry).where(
        BoardEntry.initiative_id == initiative.id).order_by(BoardEntry.id)))
    assert [(e.kind, e.method, e.day, e.seq) for e in entries] == [
        ("signature", "online", "2026-03-05", None), ("signature", "in_person", "2026-03-05", None)]
    assert receipt_of(db_session, online.id) == entries[0].receipt
    assert receipt_of(db_session, paper.id) == entries[1].receipt
    assert entries[0].receipt != entries[1].receipt
    assert receipt_status(db_session, initiative.id, entries[0].receipt) == ("pending", None)
    assert board_count(db_session, initiative.id).pending == 2
    # Pending entries are not public yet.
    assert _document(db_session, initiative)["entries"] == []


def test_two_signatures_of_one_person_get_unrelated_receipts(db_session, clock, people,
                                                             initiative, voters):
    """The nonce: even the same person's online and in-person signatures (Art. 13) share
    nothing on the board."""
    a = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    b = register_in_person(db_session, clock, people.member(), initiative, voters[0],
                           tag_key=TAG_KEY, certifier_type=CertifierType.NOTARY,
                           certifier_name="Notāre", signed_on=date(2026, 3, 5))
    assert receipt_of(db_session, a.id) != receipt_of(db_session, b.id)


def test_publication_shuffles_the_batch_with_the_system_csprng(db_session, clock, initiative,
                                                               voters, monkeypatch):
    """Watching the board must not link who just signed to a receipt: the batch's order comes
    from ``secrets.SystemRandom``, not from the order of signing."""
    for ref in voters[:4]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    shuffled: list[list[str]] = []

    class Reversing(secrets.SystemRandom):
        def shuffle(self, x):  # type: ignore[override]
            x.reverse()
            shuffled.append([e.receipt for e in x])

    monkeypatch.setattr(secrets, "SystemRandom", Reversing)
    signed_order = [e.receipt for e in db_session.scalars(select(BoardEntry).where(
        BoardEntry.initiative_id == initiative.id).order_by(BoardEntry.id))]
    assert initiatives_with_pending(db_session) == [initiative.id]
    assert publish_pending(db_session, clock, initiative.id, _signer(initiative.id), min_batch=1) == 4
    published = [e["receipt"] for e in _document(db_session, initiative)["entries"]]
    assert published == list(reversed(signed_order)) == shuffled[0]
    assert initiatives_with_pending(db_session) == []
    assert publish_pending(db_session, clock, initiative.id, min_batch=1) == 0


def test_publication_chains_and_checkpoints_the_head(db_session, clock, initiative, voters):
    for ref in voters[:2]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    publish_pending(db_session, clock, initiative.id, _signer(initiative.id), min_batch=1)
    sign_online(db_session, clock, None, initiative, voters[2], tag_key=TAG_KEY)
    publish_pending(db_session, clock, initiative.id, _signer(initiative.id), min_batch=1)
    document = _document(db_session, initiative)
    summary = verify_board(document)
    assert (summary.seq, summary.count, summary.checkpoints) == (3, 3, 2)
    cps = checkpoints_of(db_session, board_log_name(initiative.id))
    assert [cp.seq for cp in cps] == [2, 3] and cps[-1].head == document["head"]


def test_art13_check_publishes_exclusions_and_the_board_count_is_the_commissions(
        db_session, clock, keys, people, initiative, voters):
    """Art. 13: the online signature of someone who also signed in person is excluded as a
    duplicate (the in-person one stays); a non-resident's is excluded as not eligible; the
    board's count equals the commission's count of valid signatures."""
    online = [sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
              for ref in voters[:4]]
    paper = register_in_person(db_session, clock, people.member(), initiative, voters[0],
                               tag_key=TAG_KEY, certifier_type=CertifierType.NOTARY,
                               certifier_name="Notāre", signed_on=date(2026, 3, 5))
    publish_pending(db_session, clock, initiative.id, _signer(initiative.id), min_batch=1)
    db_session.scalars(select(PersonRecord).where(PersonRecord.person_ref == voters[3])
                       ).one().residence_municipality_id = None
    clock.set(AFTER)
    close_due_collections(db_session, clock, CAL)
    apply_for_check(db_session, clock, CAL, initiative_applicant(db_session, initiative),
                    initiative)
    progress = check_signatures(db_session, clock, CAL, None, initiative,
                                board_signer=_signer(initiative.id))
    assert progress.finished and progress.valid == 3
    document = _document(db_session, initiative)
    summary = verify_board(document)
    assert summary.count == initiative.valid_signatures == 3
    assert summary.exclusions == 2 and board_count(db_session, initiative.id).pending == 0
    assert receipt_status(db_session, initiative.id, receipt_of(db_session, online[0].id)) == (
        "excluded", "duplicate")
    assert receipt_status(db_session, initiative.id, receipt_of(db_session, paper.id)) == (
        "on_board", None)
    assert receipt_status(db_session, initiative.id, receipt_of(db_session, online[3].id)) == (
        "excluded", "not_eligible")
    assert [e["kind"] for e in document["entries"]][-2:] == ["exclusion", "exclusion"]
    # The last checkpoint is of the final board, signed before the decision was recorded.
    assert checkpoints_of(db_session, board_log_name(initiative.id))[-1].seq == document["seq"]


def test_the_board_outlives_the_signatures(db_session, clock, initiative, voters):
    """Retention deletes signatures after their period; the board (no personal data) stays."""
    signature = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    publish_pending(db_session, clock, initiative.id, min_batch=1)
    db_session.delete(db_session.get(Signature, signature.id))
    db_session.flush()
    db_session.expire_all()
    assert verify_board(_document(db_session, initiative)).count == 1
