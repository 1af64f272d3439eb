"""Withdrawing an online signature while signing is open: the signature goes (the person may
sign again, one signature at any time, Art. 11(1)), the board lists its receipt as
``withdrawn``, the check never sees it (Art. 13), and after the close nothing is withdrawn
(Art. 26)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from referendum_core.audit import AuditEntry
from referendum_core.check_decision import check_figures
from referendum_core.crypto.signature_board import verify_board
from referendum_core.signature_board import (
    BoardEntry,
    board_count,
    board_document,
    publish_pending,
    receipt_of,
)
from referendum_core.signature_withdrawal import NothingToWithdraw, withdraw_signature
from referendum_core.signatures import (
    CertifierType,
    CollectionClosed,
    apply_for_check,
    check_signatures,
    close_due_collections,
    count_signatures,
    register_in_person,
    sign_online,
)
from tests.referendum_core import test_signatures as base
from tests.referendum_core.test_signatures import AFTER, CAL, TAG_KEY, initiative_applicant

# The collecting initiative and its voters, as in the signature tests.
adazi, voters, initiative = base.adazi, base.voters, base.initiative


def test_art11_1_withdrawn_signature_no_longer_counts_and_may_be_given_again(
        db_session, clock, initiative, voters):
    signature = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    first = receipt_of(db_session, signature.id)
    publish_pending(db_session, clock, initiative.id, min_batch=1)
    assert withdraw_signature(db_session, clock, None, initiative, voters[0]) == first
    assert count_signatures(db_session, initiative) == 0
    exclusion = db_session.scalars(select(BoardEntry).where(
        BoardEntry.kind == "exclusion")).one()
    assert (exclusion.receipt, exclusion.reason, exclusion.seq) == (first, "withdrawn", None)
    assert board_count(db_session, initiative.id).pending == 1
    again = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY)
    assert receipt_of(db_session, again.id) not in (None, first)
    publish_pending(db_session, clock, initiative.id, min_batch=1)
    summary = verify_board(board_document(db_session, initiative.id, 3, "00" * 32)
                           | {"checkpoints": [], "checkpoint_key": "00" * 32})
    assert summary.count == 1 and summary.receipt_status(first) == ("excluded", "withdrawn")
    actions = db_session.scalars(select(AuditEntry.action).where(
        AuditEntry.action == "signature.withdrawn")).all()
    assert actions == ["signature.withdrawn"]


def test_art11_1_only_an_online_signature_of_ones_own_is_withdrawn(
        db_session, clock, people, initiative, voters):
    with pytest.raises(NothingToWithdraw):
        withdraw_signature(db_session, clock, None, initiative, voters[1])
    register_in_person(db_session, clock, people.member(), initiative, voters[1],
                       tag_key=TAG_KEY, certifier_type=CertifierType.NOTARY,
                       certifier_name="Notāre", signed_on=date(2026, 3, 5))
    with pytest.raises(NothingToWithdraw):  # the paper one is withdrawn with the official
        withdraw_signature(db_session, clock, None, initiative, voters[1])
    assert count_signatures(db_session, initiative) == 1


def test_art26_art13_after_the_close_nothing_is_withdrawn_and_the_check_counts_by_reason(
        db_session, clock, initiative, voters):
    for ref in voters[:4]:
        sign_online(db_session, clock, None, initiative, ref, tag_key=TAG_KEY)
    withdraw_signature(db_session, clock, None, initiative, voters[3])
    clock.set(AFTER)
    with pytest.raises(CollectionClosed):
        withdraw_signature(db_session, clock, None, initiative, voters[0])
    close_due_collections(db_session, clock, CAL)
    apply_for_check(db_session, clock, CAL, initiative_applicant(db_session, initiative),
                    initiative)
    progress = check_signatures(db_session, clock, CAL, None, initiative)
    assert progress.finished and progress.valid == 3 and progress.reached
    figures = check_figures(db_session, initiative.id)
    assert (figures.checked, figures.valid, figures.withdrawn) == (3, 3, 1)
    assert board_count(db_session, initiative.id).count == 3  # the board is the decision's


def test_a_signature_after_a_withdrawal_never_gets_the_withdrawn_ones_id(
        db_session, clock, initiative, voters):
    """The audit log names signatures by id: the withdrawn signature's row goes, its id does
    not come back (SQLite gave the next row the largest id + 1 before AUTOINCREMENT)."""
    first = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY).id
    withdraw_signature(db_session, clock, None, initiative, voters[0])
    again = sign_online(db_session, clock, None, initiative, voters[0], tag_key=TAG_KEY).id
    other = sign_online(db_session, clock, None, initiative, voters[1], tag_key=TAG_KEY).id
    assert first < again < other
    ids = [entry.detail_dict["signature_id"] for entry in db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "signature.signed_online")
        .order_by(AuditEntry.seq))]
    assert ids == [first, again, other]
