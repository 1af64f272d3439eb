"""A signer withdraws their online signature while the collection is open.

The referendum law does not regulate withdrawal: it requires one signature per person, given
one way (Art. 4(1), 11(1)), and fixes the count when the collection closes (Art. 26), after
which the organiser applies on it (Art. 11(2)) and the commission checks it (Art. 13). The
portal therefore lets the signer take back their own online signature only while signing is
open, and never after the close. The signature is deleted, so the person may sign again (one
signature at any time); on the public board its receipt gets a ``withdrawn`` exclusion in the
next batch (``docs/spec/signature-board.md`` §3), so the board's count stays the count of
signatures that stand. An in-person signature is withdrawn, if at all, with the official who
registered it, outside the portal.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from referendum_core import audit, signature_board
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock
from referendum_core.initiatives import Initiative
from referendum_core.signature_board import BoardEntry
from referendum_core.signatures import CollectionClosed, Method, Signature, SignatureError


class NothingToWithdraw(SignatureError):
    """The person has no online signature for the initiative."""

    code, article = "nothing_to_withdraw", "Art. 11(1)"


def withdraw_signature(session: Session, clock: Clock, actor: Actor, initiative: Initiative,
                       person_ref: str, *, context: AuditContext | None = None) -> str:
    """Withdraw the person's online signature; returns its receipt, which the board will list
    as excluded (``withdrawn``).

    Raises:
        CollectionClosed: signing is not open (Art. 10(8)); the count is fixed (Art. 26).
        NothingToWithdraw: no online signature of the person.
    """
    if not initiative.is_collecting(clock.now()):
        raise CollectionClosed(ends_at=initiative.collection_ends_at)
    # Locked, so two withdrawals of the same signature cannot both pass.
    signature = session.scalar(select(Signature).where(
        Signature.initiative_id == initiative.id, Signature.person_ref == person_ref,
        Signature.method == Method.ONLINE).with_for_update())
    if signature is None:
        raise NothingToWithdraw()
    exclusion = signature_board.add_exclusion(session, clock, signature.id, "withdrawn")
    receipt = exclusion.receipt if exclusion else signature_board.receipt_of(session,
                                                                            signature.id)
    # The board keeps the receipt and its exclusion; only the link to the row goes.
    session.execute(update(BoardEntry).where(BoardEntry.signature_id == signature.id)
                    .values(signature_id=None))
    session.delete(signature)
    session.flush()
    audit.record(session, clock, actor, "signature.withdrawn", obj=initiative,
                 context=context, method=str(Method.ONLINE))
    return receipt or ""
