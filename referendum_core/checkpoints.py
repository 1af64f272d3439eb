"""Signed checkpoints of the audit log and of each referendum's bulletin board: made here,
kept in the database for the pages, and copied out by the caller (``docs/spec/checkpoints.md``).

The database copy is a convenience: someone able to rewrite the database can delete rows here,
but not forge a signature, and the copies outside it (ops log, append-only file, time-stamping
service, observers' downloads) still hold the checkpoints the rewritten log must pass through.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from referendum_core import audit
from referendum_core.clock import Clock
from referendum_core.crypto.checkpoint import (
    AUDIT_LOG,
    Checkpoint,
    CheckpointSigner,
    Contradiction,
    InvalidCheckpoint,
    board_log,
    contradictions,
    expected_heads,
    parse_checkpoint,
    verify_checkpoint,
)
from referendum_core.db import UPSERT_INSERTS, Base

if TYPE_CHECKING:  # the voting package reads checkpoints for its record
    from referendum_core.voting.models import Referendum


class SignedCheckpoint(Base):
    """A checkpoint the portal signed (the same text as every copy of it)."""

    __tablename__ = "signed_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    log: Mapped[str] = mapped_column(String(120), index=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    head: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(64))
    # Ed25519 signatures are deterministic: the same checkpoint signed twice is one row.
    signature: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime]

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.log, self.seq, self.head, self.at, self.key, self.signature)


def store(session: Session, clock: Clock, checkpoint: Checkpoint) -> Checkpoint:
    """Keep ``checkpoint`` in the database once: the same checkpoint signed twice in one second
    (beat and a stage change together) has the same signature, and the second insert is a
    no-op rather than a failed transaction."""
    values = {**checkpoint.to_json(), "created_at": clock.now()}
    dialect = session.get_bind().dialect.name
    if dialect in UPSERT_INSERTS:
        session.execute(UPSERT_INSERTS[dialect](SignedCheckpoint).values(**values)
                        .on_conflict_do_nothing(index_elements=["signature"]))
    elif session.scalar(select(SignedCheckpoint.id).where(
            SignedCheckpoint.signature == checkpoint.signature)) is None:
        session.add(SignedCheckpoint(**values))
        session.flush()
    return checkpoint


def checkpoints_of(session: Session, log: str) -> list[Checkpoint]:
    """Every stored checkpoint of ``log``, oldest first."""
    rows = session.scalars(select(SignedCheckpoint).where(SignedCheckpoint.log == log)
                           .order_by(SignedCheckpoint.seq, SignedCheckpoint.at,
                                     SignedCheckpoint.id))
    return [row.checkpoint() for row in rows]


def sign_audit_checkpoint(session: Session, clock: Clock, signer: CheckpointSigner
                          ) -> Checkpoint:
    """Sign the audit log's committed head now and keep the checkpoint; the caller commits
    and then copies it out."""
    assert signer.log == AUDIT_LOG
    seq, head = audit.current_head(session)
    return store(session, clock, signer.sign(seq, head, clock.now()))


def board_checkpoints(session: Session, referendum: Referendum) -> list[Checkpoint]:
    """The board checkpoints that belong in the referendum's election record: those signed
    by the manifest's ``checkpoint_key`` (none for a manifest without one)."""
    key = (referendum.manifest_dict or {}).get("checkpoint_key")
    if key is None:
        return []
    return [cp for cp in checkpoints_of(session, board_log(referendum.election_id))
            if cp.key == key]


def sign_board_checkpoint(session: Session, clock: Clock, signer: CheckpointSigner,
                          referendum: Referendum) -> Checkpoint:
    """Sign the referendum's board head now and keep the checkpoint."""
    assert signer.log == board_log(referendum.election_id)
    return store(session, clock, signer.sign(referendum.board_seq, referendum.board_head,
                                             clock.now()))


def referendums_taking_ballots(session: Session) -> list[Referendum]:
    """Referendums whose board may still grow (voting, with online voting)."""
    from referendum_core.voting.models import Referendum, Stage

    return [r for r in session.scalars(select(Referendum).where(
        Referendum.stage == Stage.VOTING, Referendum.manifest.is_not(None)))]


@dataclass(frozen=True)
class CheckpointReport:
    """What checking a log against checkpoints found."""

    checked: int
    problem: audit.ChainProblem | None
    checkpoints: int
    rejected: list[tuple[int, str]]  # (position in the input, why)
    contradictions: list[Contradiction]

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.rejected and not self.contradictions


def valid_checkpoints(raw: Iterable[object], log: str, public_key: str
                      ) -> tuple[list[Checkpoint], list[tuple[int, str]]]:
    """Parse and check checkpoints of ``log`` signed by ``public_key``; the others are
    returned as ``(position, reason)`` (other logs are skipped silently)."""
    good: list[Checkpoint] = []
    rejected: list[tuple[int, str]] = []
    for n, item in enumerate(raw):
        try:
            cp = parse_checkpoint(item)
            if cp.log != log:
                continue
            verify_checkpoint(cp, public_key)
        except InvalidCheckpoint as exc:
            rejected.append((n, str(exc)))
            continue
        good.append(cp)
    return good, rejected


def verify_audit_log(session: Session, raw_checkpoints: Iterable[object], public_key: str,
                     expected_head: tuple[int, str] | None = None) -> CheckpointReport:
    """Walk the audit chain and check it passes through every signed checkpoint (a
    truncated or re-chained log fails at the first checkpoint it no longer matches) and
    ``expected_head`` (an unsigned head copied by hand), if given."""
    good, rejected = valid_checkpoints(raw_checkpoints, AUDIT_LOG, public_key)
    found = contradictions(good)
    checked, problem = audit.verify_chain(session, expected_head=expected_head,
                                          expected_heads=expected_heads(good))
    return CheckpointReport(checked, problem, len(good), rejected, found)
