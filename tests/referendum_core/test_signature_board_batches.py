"""The signature board's smallest batch (docs/spec/signature-board.md §6): while signatures
may still be added, neither a signature nor a withdrawal is published in a batch smaller than
the minimum, since a batch of one tells whoever watched a person sign (or withdraw) which
receipt is theirs; once no signature can be added, and at the end of the commission's check
(Art. 13), everything waiting is published so the board's count is complete."""
from __future__ import annotations

from sqlalchemy import select

from referendum_core.checkpoints import checkpoints_of
from referendum_core.crypto.signature_board import board_log_name, verify_board
from referendum_core.signature_board import (
    MIN_BATCH,
    BoardEntry,
    board_count,
    board_document,
    publish_pending,
    receipt_of,
    receipt_status,
)
from referendum_core.signature_withdrawal import withdraw_signature
from referendum_core.signatures import (
    apply_for_check,
    check_signatures,
    close_due_collections,
    sign_online,
)
from tests.referendum_core import test_signatures as base
from tests.referendum_core.test_signature_board import _signer
from tests.referendum_core.test_signatures import AFTER, CAL, TAG_KEY, initiative_applicant

adazi, voters, initiative = base.adazi, base.voters, base.initiative


def _published(db_session, initiative) -> list[tuple[str, str]]:
    return [(e.kind, e.receipt) for e in db_session.scalars(select(BoardEntry).where(
        BoardEntry.initiative_id == initiative.id, BoardEntry.seq.is_not(None))
        .order_by(BoardEntry.seq))]


def _verified(db_session, initiative):
    return verify_board(board_document(db_session, initiative.id, 3, "00" * 32)
                        | {"checkpoints": [], "checkpoint_key": "00" * 32})


def test_the_default_smallest_batch_is_ten():
    assert MIN_BATCH == 10


def test_signatures_wait_until_their_batch_has_the_minimum(db_session, clock, initiative,
                                                           voters):
    """A lone signature is never published while signing is open: the watcher who saw the
    person sign would see exactly their receipt appear."""
    first = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    assert publish_pending(db_session, clock, initiative.id, _signer(initiative.id)) == 0
    assert publish_pending(db_session, clock, initiative.id, _signer(initiative.id),
                           min_batch=3) == 0
    sign_online(db_session, clock, None, initiative, voters[1], tag_key=TAG_KEY)
    assert publish_pending(db_session, clock, initiative.id, min_batch=3) == 0
    # nothing published, so no checkpoint either
    assert checkpoints_of(db_session, board_log_name(initiative.id)) == []
    assert receipt_status(db_session, initiative.id,
                          receipt_of(db_session, first.id)) == ("pending", None)
    sign_online(db_session, clock, None, initiative, voters[2], tag_key=TAG_KEY)
    assert publish_pending(db_session, clock, initiative.id, _signer(initiative.id),
                           min_batch=3) == 3
    assert board_count(db_session, initiative.id).count == 3
    assert checkpoints_of(db_session, board_log_name(initiative.id))[-1].seq == 3


def test_a_lone_withdrawal_waits_for_others(db_session, clock, initiative, voters):
    """A withdrawal published alone would tell a watcher which receipt was the person's."""
    signed = [sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
              for ref in voters[:4]]
    receipts = [receipt_of(db_session, s.id) for s in signed]
    assert publish_pending(db_session, clock, initiative.id, min_batch=2) == 4
    withdraw_signature(db_session, clock, None, initiative, voters[0])
    assert publish_pending(db_session, clock, initiative.id, min_batch=2) == 0
    withdraw_signature(db_session, clock, None, initiative, voters[1])
    assert publish_pending(db_session, clock, initiative.id, min_batch=2) == 2
    published = _published(db_session, initiative)
    assert [kind for kind, _ in published] == ["signature"] * 4 + ["exclusion"] * 2
    assert {receipt for kind, receipt in published if kind == "exclusion"} == set(receipts[:2])
    assert _verified(db_session, initiative).count == 2


def test_a_withdrawal_of_a_waiting_signature_waits_with_it(db_session, clock, initiative,
                                                           voters):
    """An exclusion names a receipt already on the board, so it never goes before it."""
    sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    withdraw_signature(db_session, clock, None, initiative, voters[0])
    sign_online(db_session, clock, None, initiative, voters[1], tag_key=TAG_KEY)
    assert publish_pending(db_session, clock, initiative.id, min_batch=1) == 3
    sign_online(db_session, clock, None, initiative, voters[2], tag_key=TAG_KEY)
    withdraw_signature(db_session, clock, None, initiative, voters[2])
    # one signature waiting, its exclusion waits with it though a batch of one would do
    assert publish_pending(db_session, clock, initiative.id, min_batch=2) == 0
    sign_online(db_session, clock, None, initiative, voters[3], tag_key=TAG_KEY)
    assert publish_pending(db_session, clock, initiative.id, min_batch=2) == 2  # signatures
    assert board_count(db_session, initiative.id).pending == 1  # the lone exclusion
    assert _verified(db_session, initiative).count == 3


def test_art13_once_no_signature_can_be_added_everything_is_published(
        db_session, clock, initiative, voters):
    """After the 30 days paper signatures may still be registered until the check begins,
    so batches keep their minimum; the check (Art. 13) then publishes everything, however
    few, and the board's count is the commission's."""
    for ref in voters[:3]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    assert publish_pending(db_session, clock, initiative.id) == 0
    clock.set(AFTER)
    close_due_collections(db_session, clock, CAL)
    assert initiative.case.state == "collected"
    assert publish_pending(db_session, clock, initiative.id) == 0
    apply_for_check(db_session, clock, CAL, initiative_applicant(db_session, initiative),
                    initiative)
    assert publish_pending(db_session, clock, initiative.id) == 0
    progress = check_signatures(db_session, clock, CAL, None, initiative,
                                board_signer=_signer(initiative.id))
    assert progress.finished and progress.valid == 3
    assert board_count(db_session, initiative.id).pending == 0
    assert _verified(db_session, initiative).count == initiative.valid_signatures == 3


def test_an_initiative_that_takes_no_more_signatures_publishes_what_waits(
        db_session, clock, initiative, voters):
    sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    initiative.case.state = "lapsed"
    db_session.flush()
    assert publish_pending(db_session, clock, initiative.id) == 1
    assert publish_pending(db_session, clock, initiative.id) == 0


def test_everything_publishes_a_batch_of_any_size(db_session, clock, initiative, voters):
    sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    assert publish_pending(db_session, clock, initiative.id, everything=True) == 1
