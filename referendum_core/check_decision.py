"""The election commission's decision after the signature check (Art. 13), as issued: the PDF
(signed with PAdES by the commission) and the portal's detached OpenPGP signature of it.
Issued once, when the check finishes; kept for as long as the initiative."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from referendum_core.clock import Clock
from referendum_core.db import Base


class CheckDecision(Base):
    """The issued decision document of one initiative's signature check."""

    __tablename__ = "initiative_check_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pgp_signature: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]


def decision_of(session: Session, initiative_id: int) -> CheckDecision | None:
    return session.scalar(select(CheckDecision).where(
        CheckDecision.initiative_id == initiative_id))


def store_decision(session: Session, clock: Clock, initiative_id: int, pdf: bytes,
                   pgp_signature: str) -> CheckDecision:
    """Keep the issued decision; a decision already issued stays as it was (idempotent)."""
    existing = decision_of(session, initiative_id)
    if existing is not None:
        return existing
    decision = CheckDecision(initiative_id=initiative_id, pdf=pdf,
                             pgp_signature=pgp_signature, issued_at=clock.now())
    session.add(decision)
    session.flush()
    return decision


@dataclass(frozen=True)
class CheckFigures:
    """What the decision states: signatures checked and dropped by reason (Art. 13)."""

    checked: int
    valid: int
    not_eligible: int
    duplicate: int
    withdrawn: int


def check_figures(session: Session, initiative_id: int) -> CheckFigures:
    """The figures from the signatures' check status and the board's withdrawals."""
    from referendum_core.signature_board import BoardEntry
    from referendum_core.signatures import CheckStatus, Signature

    counts = dict(session.execute(select(Signature.check_status, func.count()).where(
        Signature.initiative_id == initiative_id).group_by(Signature.check_status)).all())
    withdrawn = session.scalar(select(func.count()).where(
        BoardEntry.initiative_id == initiative_id, BoardEntry.kind == "exclusion",
        BoardEntry.reason == "withdrawn")) or 0
    return CheckFigures(checked=sum(counts.values()), valid=counts.get(CheckStatus.VALID, 0),
                        not_eligible=counts.get(CheckStatus.INELIGIBLE, 0),
                        duplicate=counts.get(CheckStatus.DUPLICATE, 0), withdrawn=withdrawn)
