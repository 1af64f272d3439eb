"""Case tables: the case itself, its timeline, type-specific details, photos and saved filters.

A case row carries an integer ``version`` used by SQLAlchemy's optimistic concurrency
(``version_id_col``): every UPDATE says ``WHERE version = <what I read>``, so when two officials
move the same case at once, the second write matches no row and is refused (``StaleCase``).
"""
from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referendum_core.db import Base
from referendum_core.sealing import SealedBytes, SealedText


class CaseType(StrEnum):
    """Every kind of case. Workflows for the last four are declared by their own modules."""

    OBSERVER_REPORT = "observer_report"
    COMPLAINT = "complaint"
    COMMISSION_QUERY = "commission_query"
    INITIATIVE = "initiative"
    REFERENDUM = "referendum"
    HOME_VOTING = "home_voting"
    OBSERVER_ACCREDITATION = "observer_accreditation"


class EventKind(StrEnum):
    """What a timeline row records."""

    OPENED = "opened"
    DRAFT_STARTED = "draft_started"  # when the requester opened the form (time to submit)
    TRANSITION = "transition"
    COMMENT = "comment"
    ASSIGNMENT = "assignment"
    ATTACHMENT = "attachment"
    MESSAGE = "message"
    DEADLINE_CHANGED = "deadline_changed"
    ESCALATION = "escalation"
    # The case went back to the requester for more information, and came back: the
    # service-level "completed without re-submitting" share counts cases without these.
    RETURNED_TO_REQUESTER = "returned_to_requester"
    RESUBMITTED = "resubmitted"
    CLOSED = "closed"
    # A step the law requires by a deadline (``data.step``, ``data.basis``; ``deadline_at``).
    STEP = "step"


class Case(Base):
    """One piece of work with a type, a state in that type's workflow, an owner and a deadline."""

    __tablename__ = "cases"
    __table_args__ = (
        # Work queues filter by these and sort by opening time (newest first) or deadline.
        Index("ix_cases_type_state_opened", "type", "state", "opened_at"),
        Index("ix_cases_municipality_state_opened", "municipality_id", "state", "opened_at"),
        Index("ix_cases_assignee_state", "assignee_id", "state"),
        Index("ix_cases_open_deadline", "is_open", "deadline_at"),
        Index("ix_cases_opened_id", "opened_at", "id"),
        # "Recently changed" queues: the page comes in index order, not by sorting every case.
        Index("ix_cases_updated_id", "updated_at", "id"),
        # A type's open cases by deadline, no deadline last: the expression is the queue's
        # first sort key, so the page comes in index order (see ``queries.SORTS``).
        Index("ix_cases_type_open_deadline", "type", "is_open", text("(deadline_at IS NULL)"),
              "deadline_at", "id"),
        # Any queue, and open or overdue queues, by deadline (no deadline last), in index order.
        Index("ix_cases_deadline_order", text("(deadline_at IS NULL)"), "deadline_at", "id"),
        Index("ix_cases_open_deadline_order", "is_open", text("(deadline_at IS NULL)"),
              "deadline_at", "id"),
        # Open / overdue queues newest or oldest first; the overdue test reads deadline_at here.
        Index("ix_cases_open_opened", "is_open", "opened_at", "id", "deadline_at"),
        # Open cases waiting for a party (the navigation's counts, ``cases.work``).
        Index("ix_cases_owner_open_municipality", "owner_party", "is_open", "municipality_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(40))
    is_open: Mapped[bool] = mapped_column(default=True)
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"))
    polling_station_id: Mapped[int | None] = mapped_column(ForeignKey("polling_stations.id"))
    # Texts people type (a title repeats the first line of a report or what a complaint
    # contests) are sealed at rest; what queues filter and sort by above and below stays plain.
    title: Mapped[str] = mapped_column(SealedText("cases", "title"))
    summary: Mapped[str] = mapped_column(SealedText("cases", "summary"), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Which party must act next ("commission", "cvk", "requester"); set by the workflow.
    owner_party: Mapped[str] = mapped_column(String(20), default="commission")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    # The rule the deadline comes from, e.g. "Art. 20(7)" or "service level".
    deadline_basis: Mapped[str | None] = mapped_column(String(80))
    # 0 none, 1 owner reminded, 2 commission chair told, 3 CVK told.
    escalation_level: Mapped[int] = mapped_column(default=0)
    # The referendum / initiative this case belongs to, when there is one.
    parent_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan")
    observer_report: Mapped[ObserverReport | None] = relationship(
        back_populates="case", cascade="all, delete-orphan", uselist=False)
    complaint: Mapped[ComplaintDetails | None] = relationship(
        back_populates="case", cascade="all, delete-orphan", uselist=False)
    photos: Mapped[list[CasePhoto]] = relationship(
        back_populates="case", order_by="CasePhoto.id", cascade="all, delete-orphan")

    @property
    def reference(self) -> str:
        """A stable human reference, e.g. ``L-000123``."""
        return self.reference_of(self.id)

    @staticmethod
    def reference_of(case_id: int) -> str:
        """The human reference of the case with id ``case_id``."""
        return f"L-{case_id:06d}"

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.type} {self.state} v{self.version}>"


class CaseEvent(Base):
    """One row of a case's timeline; append-only."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case_id_id", "case_id", "id"),
        # Service-level figures read opened/closed events' times without touching the rows.
        Index("ix_case_events_kind_case_at", "kind", "case_id", "at", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(200), default="system")
    transition: Mapped[str | None] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(SealedText("case_events", "note"), default="")
    # The case's deadline when the event happened (so "closed late" is a query on events).
    deadline_at: Mapped[datetime | None]
    data: Mapped[str] = mapped_column(Text, default="{}")

    case: Mapped[Case] = relationship(back_populates="events")

    @property
    def data_dict(self) -> dict[str, Any]:
        return json.loads(self.data or "{}")


class ObserverReport(Base):
    """What an observer saw at a polling station."""

    __tablename__ = "case_observer_reports"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(SealedText("case_observer_reports", "description"))
    observed_at: Mapped[datetime | None]
    # The referendum the report belongs to: its station pages, table and counts show it, no
    # other referendum's (None: filed when no single referendum was under way there).
    referendum_id: Mapped[int | None] = mapped_column(ForeignKey("voting_referendums.id"),
                                                      index=True)

    case: Mapped[Case] = relationship(back_populates="observer_report")


class ComplaintDetails(Base):
    """A complaint or appeal: what it contests, on which grounds, and the court window."""

    __tablename__ = "case_complaints"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    grounds: Mapped[str] = mapped_column(String(40))
    applicant_kind: Mapped[str] = mapped_column(String(20))
    contested: Mapped[str] = mapped_column(SealedText("case_complaints", "contested"))
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[datetime | None]
    court_deadline_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="complaint")


class CasePhoto(Base):
    """An image attached to a case (bytes stored in the database; type sniffed, not trusted)."""

    __tablename__ = "case_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(SealedBytes("case_photos", "data"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]

    case: Mapped[Case] = relationship(back_populates="photos")


class SavedFilter(Base):
    """A work-queue filter a person saved under a name (the query string of the list)."""

    __tablename__ = "case_saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime]
