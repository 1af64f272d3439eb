"""The public signature board of an initiative (``docs/spec/signature-board.md``).

Every signature, online or registered in person, adds a *pending* entry with a fresh receipt.
A batch publisher (Celery beat, every 5 minutes) puts the pending entries of each initiative
on its hash chain in a random order, so that watching the board does not tell which receipt
belongs to the person who just signed; while signatures may still be added it holds them until
a batch has at least ``MIN_BATCH`` of them (a batch of one would name its signer). The
commission's check (Art. 13) adds an exclusion entry for each signature it drops and publishes
everything still pending with the decision. Each publication is followed by a signed
checkpoint of the head.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from referendum_core import checkpoints
from referendum_core.clock import Clock, to_riga
from referendum_core.crypto.checkpoint import Checkpoint, CheckpointSigner
from referendum_core.crypto.signature_board import (
    EMPTY_HEAD,
    SPEC,
    board_log_name,
    exclusion_entry,
    make_receipt,
    person_tag,
    signature_entry,
)
from referendum_core.db import Base

#: the HKDF purpose of the key of the person tags (derived from the portal's data key)
TAG_KEY_PURPOSE = b"referendum-signature-tag-key/1"
#: how often the batch publisher runs (a batch smaller than ``MIN_BATCH`` waits for the next)
PUBLISH_EVERY_SECONDS = 300.0
#: the fewest signature entries, and the fewest exclusions, a batch publishes while signatures
#: may still be added (spec §6); the portal's ``SIGNATURE_BOARD_MIN_BATCH``
MIN_BATCH = 10
#: the initiative's states in which a signature may still be added: signing is open, or paper
#: signatures given within the 30 days may still be registered
#: (``referendum_core.signatures.register_in_person``)
TAKING_SIGNATURES = ("collecting", "collected", "applied")


class BoardEntry(Base):
    """One entry of an initiative's board; ``seq`` is ``None`` while it waits for its batch."""

    __tablename__ = "signature_board_entries"
    __table_args__ = (UniqueConstraint("initiative_id", "seq"),
                      UniqueConstraint("initiative_id", "kind", "receipt"))

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    # The signature it stands for; kept when retention deletes the signature (the board stays).
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiative_signatures.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # signature | exclusion
    receipt: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str | None] = mapped_column(String(12))
    day: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(20))
    seq: Mapped[int | None] = mapped_column(Integer)
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]

    def to_json(self) -> dict[str, Any]:
        if self.kind == "signature":
            return {"seq": self.seq, "kind": "signature", "receipt": self.receipt,
                    "method": self.method, "day": self.day, "hash": self.entry_hash}
        return {"seq": self.seq, "kind": "exclusion", "receipt": self.receipt,
                "reason": self.reason, "hash": self.entry_hash}


_INSERT_ENTRY = insert(BoardEntry.__table__)


def add_signature_entry(session: Session, clock: Clock, tag_key: bytes, *, initiative_id: int,
                        signature_id: int, person_ref: str, method: str,
                        signed_at: datetime) -> str:
    """The pending entry of a new signature, with its fresh receipt (the signer's copy),
    which is returned. Written with one plain INSERT: nothing reads the entry back in the
    signing request, so the ORM's unit of work would only add cost."""
    receipt = make_receipt(initiative_id, person_tag(tag_key, initiative_id, person_ref),
                           secrets.token_bytes(32))
    session.execute(_INSERT_ENTRY, {
        "initiative_id": initiative_id, "signature_id": signature_id, "kind": "signature",
        "receipt": receipt, "method": method, "day": to_riga(signed_at).date().isoformat(),
        "created_at": clock.now()})
    return receipt


def add_exclusion(session: Session, clock: Clock, signature_id: int, reason: str
                  ) -> BoardEntry | None:
    """A pending exclusion of the signature's receipt (Art. 13: dropped by the check);
    ``None`` when the signature has no board entry or is already excluded."""
    entry = session.scalar(select(BoardEntry).where(
        BoardEntry.signature_id == signature_id, BoardEntry.kind == "signature"))
    if entry is None or session.scalar(select(BoardEntry.id).where(
            BoardEntry.initiative_id == entry.initiative_id,
            BoardEntry.kind == "exclusion", BoardEntry.receipt == entry.receipt)):
        return None
    exclusion = BoardEntry(initiative_id=entry.initiative_id, signature_id=signature_id,
                           kind="exclusion", receipt=entry.receipt, reason=reason,
                           created_at=clock.now())
    session.add(exclusion)
    session.flush()
    return exclusion


def receipt_of(session: Session, signature_id: int) -> str | None:
    return session.scalar(select(BoardEntry.receipt).where(
        BoardEntry.signature_id == signature_id, BoardEntry.kind == "signature"))


def head_of(session: Session, initiative_id: int) -> tuple[int, str]:
    """``(seq, head)`` of the published chain."""
    last = session.scalar(select(BoardEntry).where(
        BoardEntry.initiative_id == initiative_id, BoardEntry.seq.is_not(None))
        .order_by(BoardEntry.seq.desc()).limit(1))
    return (0, EMPTY_HEAD) if last is None else (last.seq or 0, last.entry_hash or EMPTY_HEAD)


def publish_pending(session: Session, clock: Clock, initiative_id: int,
                    signer: CheckpointSigner | None = None, *, min_batch: int = MIN_BATCH,
                    everything: bool = False) -> int:
    """Put the initiative's pending entries on its chain: signatures first, then exclusions
    (an exclusion names a receipt already on the board), each group shuffled with the
    system's CSPRNG; then, when anything was published, sign a checkpoint of the new head.
    Returns entries published.

    While the initiative may still take signatures (``TAKING_SIGNATURES``) each group waits
    until it has at least ``min_batch`` entries, so that no batch is small enough to tell a
    watcher which receipt, or which withdrawal, is the person's they saw sign or withdraw; an
    exclusion whose signature entry still waits, waits with it. Once no signature can be
    added, or with ``everything`` (the end of the commission's check), all that waits is
    published: the board's count is then complete.

    The initiative's row is locked so two publishers never chain from the same head."""
    from referendum_core.cases.models import Case
    from referendum_core.initiatives import Initiative

    state = session.scalar(select(Case.state).join(Initiative, Initiative.case_id == Case.id)
                           .where(Initiative.id == initiative_id)
                           .with_for_update(of=Initiative))
    pending = list(session.scalars(select(BoardEntry).where(
        BoardEntry.initiative_id == initiative_id, BoardEntry.seq.is_(None))
        .order_by(BoardEntry.id)))
    signatures = [e for e in pending if e.kind == "signature"]
    exclusions = [e for e in pending if e.kind == "exclusion"]
    if not (everything or state not in TAKING_SIGNATURES):
        if len(signatures) < min_batch:
            signatures = []
        waiting = {e.receipt for e in pending if e.kind == "signature"} - {
            e.receipt for e in signatures}
        exclusions = [e for e in exclusions if e.receipt not in waiting]
        if len(exclusions) < min_batch:
            exclusions = []
    if not signatures and not exclusions:
        return 0
    rng = secrets.SystemRandom()
    rng.shuffle(signatures)
    rng.shuffle(exclusions)
    seq, head = head_of(session, initiative_id)
    now = clock.now()
    for entry in signatures + exclusions:
        seq += 1
        made = (signature_entry(seq, head, entry.receipt, entry.method or "", entry.day or "")
                if entry.kind == "signature"
                else exclusion_entry(seq, head, entry.receipt, entry.reason or ""))
        entry.seq, entry.entry_hash, entry.published_at = seq, made["hash"], now
        head = made["hash"]
    session.flush()
    if signer is not None:
        sign_board_checkpoint(session, clock, signer, initiative_id)
    return len(signatures) + len(exclusions)


def sign_board_checkpoint(session: Session, clock: Clock, signer: CheckpointSigner,
                          initiative_id: int) -> Checkpoint:
    """Sign the board's published head now and keep the checkpoint."""
    assert signer.log == board_log_name(initiative_id)
    seq, head = head_of(session, initiative_id)
    return checkpoints.store(session, clock, signer.sign(seq, head, clock.now()))


def initiatives_with_pending(session: Session) -> list[int]:
    return list(session.scalars(select(BoardEntry.initiative_id).where(
        BoardEntry.seq.is_(None)).distinct().order_by(BoardEntry.initiative_id)))


@dataclass(frozen=True)
class BoardCount:
    """The board's figures: published signatures, exclusions, the count and what waits."""

    signatures: int
    exclusions: int
    pending: int

    @property
    def count(self) -> int:
        return self.signatures - self.exclusions


def board_count(session: Session, initiative_id: int) -> BoardCount:
    rows = dict(session.execute(select(BoardEntry.kind, func.count()).where(
        BoardEntry.initiative_id == initiative_id, BoardEntry.seq.is_not(None))
        .group_by(BoardEntry.kind)).all())
    pending = session.scalar(select(func.count()).where(
        BoardEntry.initiative_id == initiative_id, BoardEntry.seq.is_(None))) or 0
    return BoardCount(rows.get("signature", 0), rows.get("exclusion", 0), pending)


def receipt_status(session: Session, initiative_id: int, receipt: str
                   ) -> tuple[str, str | None] | None:
    """``("pending", None)``, ``("on_board", None)``, ``("excluded", reason)`` or ``None``
    (unknown receipt). An exclusion still waiting for its batch shows as on the board."""
    rows = list(session.scalars(select(BoardEntry).where(
        BoardEntry.initiative_id == initiative_id, BoardEntry.receipt == receipt)))
    sig = next((r for r in rows if r.kind == "signature"), None)
    if sig is None:
        return None
    if sig.seq is None:
        return ("pending", None)
    exc = next((r for r in rows if r.kind == "exclusion" and r.seq is not None), None)
    return ("excluded", exc.reason) if exc else ("on_board", None)


def latest_entries(session: Session, initiative_id: int, limit: int = 50
                   ) -> list[dict[str, Any]]:
    """The last ``limit`` published entries, newest first (the page; the download has all)."""
    return [e.to_json() for e in session.scalars(select(BoardEntry).where(
        BoardEntry.initiative_id == initiative_id, BoardEntry.seq.is_not(None))
        .order_by(BoardEntry.seq.desc()).limit(limit))]


def board_document(session: Session, initiative_id: int, threshold: int | None,
                   checkpoint_key: str) -> dict[str, Any]:
    """The public board as the spec's JSON document (published entries only)."""
    log = board_log_name(initiative_id)
    entries = [e.to_json() for e in session.scalars(select(BoardEntry).where(
        BoardEntry.initiative_id == initiative_id, BoardEntry.seq.is_not(None))
        .order_by(BoardEntry.seq))]
    seq, head = (entries[-1]["seq"], entries[-1]["hash"]) if entries else (0, EMPTY_HEAD)
    signatures = sum(1 for e in entries if e["kind"] == "signature")
    cps = [cp.to_json() for cp in checkpoints.checkpoints_of(session, log)
           if cp.key == checkpoint_key and cp.seq <= seq]
    return {"spec": SPEC, "initiative": initiative_id, "log": log, "threshold": threshold,
            "seq": seq, "head": head, "count": 2 * signatures - len(entries),
            "checkpoint_key": checkpoint_key, "checkpoints": cps, "entries": entries}
