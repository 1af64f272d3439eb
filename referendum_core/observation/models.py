"""What observers send, kept append-only.

* ``ObserverSubmission`` — one thing an observer's phone sent (a report or a page of checklist
  answers) under the idempotency key the phone chose: the same key sent twice (a retry after a
  lost answer, a second tab coming online) is the same submission, held once by a unique
  constraint.
* ``ChecklistAnswer`` — one answer to one item; a correction is a new answer pointing to the
  one it corrects (``corrects_id``, unique: corrections form a chain, never a fork).
* ``ChecklistPhoto`` — an image attached to an answer (sealed at rest).
* ``ChecklistPin`` — the checklist version a referendum uses.

Rows of the append-only tables (``APPEND_ONLY_TABLES``, the observer reports' own table
included) are never updated: the ORM refuses it before flushing (``refuse_updates``) and the
database refuses it with a trigger (the migration), so not even a hand-written ``UPDATE``
rewrites what an observer sent.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from referendum_core.cases.models import ObserverReport
from referendum_core.db import Base
from referendum_core.observation.exceptions import AppendOnly
from referendum_core.sealing import SealedBytes


class SubmissionKind(StrEnum):
    REPORT = "report"
    CHECKLIST = "checklist"


class ObserverSubmission(Base):
    """One submission from an observer's phone, once per idempotency key."""

    __tablename__ = "observer_submissions"
    __table_args__ = (UniqueConstraint("observer_id", "client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    client_key: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))
    # A digest of what was sent under the key (``services.fingerprint``): the same key sent
    # again with anything else is refused, not answered with this submission's receipt.
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"), index=True)
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"),
                                                    index=True)
    # A report: its case, and the earlier report's case it corrects (if it is a correction).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), unique=True)
    corrects_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), unique=True)
    # When the observer filled it in (the phone's clock) and when the portal received it.
    filled_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(index=True)

    answers: Mapped[list[ChecklistAnswer]] = relationship(back_populates="submission",
                                                          order_by="ChecklistAnswer.id")


class ChecklistPhoto(Base):
    """An image attached to a checklist answer (bytes sealed in the database)."""

    __tablename__ = "checklist_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(SealedBytes("checklist_photos", "data"))
    uploaded_at: Mapped[datetime]


class ChecklistAnswer(Base):
    """One observer's answer to one checklist item at one station (append-only)."""

    __tablename__ = "checklist_answers"
    # The station's answers, which every conflict and progress query reads.
    __table_args__ = (Index("ix_checklist_answers_station", "referendum_id",
                            "polling_station_id", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("observer_submissions.id"),
                                               index=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"))
    observer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int]
    item_key: Mapped[str] = mapped_column(String(40))
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    value_number: Mapped[int | None]
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_photos.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_answers.id"),
                                                    unique=True)
    received_at: Mapped[datetime]

    submission: Mapped[ObserverSubmission] = relationship(back_populates="answers")
    photo: Mapped[ChecklistPhoto | None] = relationship()

    @property
    def value(self) -> bool | int:
        return self.value_bool if self.value_bool is not None else int(self.value_number or 0)


class ChecklistPin(Base):
    """The checklist version a referendum uses (fixed by its first answer)."""

    __tablename__ = "checklist_pins"

    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"),
                                               primary_key=True)
    version: Mapped[int]
    pinned_at: Mapped[datetime]


APPEND_ONLY_MODELS: tuple[type[Any], ...] = (ObserverSubmission, ChecklistAnswer,
                                             ChecklistPhoto, ObserverReport)
APPEND_ONLY_TABLES: tuple[str, ...] = tuple(m.__tablename__ for m in APPEND_ONLY_MODELS)


@event.listens_for(Session, "before_flush")
def refuse_updates(session: Session, _context: Any, _instances: Any) -> None:
    """Refuse to flush a change to a row of an append-only table (this guards changes only;
    the database's foreign keys decide what may be deleted).

    Raises:
        AppendOnly: a sent row was changed before the flush.
    """
    for obj in session.dirty:
        if isinstance(obj, APPEND_ONLY_MODELS) and session.is_modified(
                obj, include_collections=False):
            raise AppendOnly(f"{type(obj).__tablename__} rows are never changed once sent")
