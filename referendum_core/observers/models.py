"""Observer accreditations: who observes a referendum at which polling station, named by whom,
and from when to when (Art. 18(3), 20(3)).

One row per observer and polling station of a referendum. The rows of one request belong to
its case (type ``observer_accreditation``). An observer authorised by the initiators holds a
*slot* (1 or 2) at the station for that initiator while the request is open or approved; the
unique constraint on (referendum, station, initiative, slot) makes the law's "at most two per
polling station" hold in the database, also when two requests arrive at once. Other observers
the law admits (CVK and commission members, the media) hold no slot (NULL is never equal).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referendum_core.db import Base
from referendum_core.organisation import PollingStation

# Art. 18(3): up to two observers per polling station, authorised by the initiators.
MAX_OBSERVERS_PER_STATION_PER_INITIATOR = 2


class ObserverKind(StrEnum):
    """Who an observer is, and on what ground they observe (Art. 18(3), 20(3))."""

    INITIATOR = "initiator"  # authorised by the initiators: at most two per station
    CVK_MEMBER = "cvk_member"
    COMMISSION_MEMBER = "commission_member"
    MEDIA = "media"


class AccreditationStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"  # approved, then revoked by the commission or CVK


# Statuses that hold a place at the station (a rejected or withdrawn request gives it back).
HOLDING = (AccreditationStatus.REQUESTED, AccreditationStatus.APPROVED)


class ObserverAccreditation(Base):
    """One observer at one polling station of one referendum."""

    __tablename__ = "observer_accreditations"
    __table_args__ = (
        UniqueConstraint("referendum_id", "polling_station_id", "initiative_id", "slot",
                         name="uq_observer_accreditations_station_slot"),
        Index("ix_observer_accreditations_referendum_station_status", "referendum_id",
              "polling_station_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    # The initiator who authorised the observer (their initiative), for ``INITIATOR`` only.
    initiative_id: Mapped[int | None] = mapped_column(ForeignKey("initiatives.id"))
    # 1 or 2 while an initiator's observer holds a place at the station; else NULL.
    slot: Mapped[int | None]
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    # The outlet of a journalist, the commission of a member; free text, may be empty.
    organisation: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default=AccreditationStatus.REQUESTED)
    # The observer's account, linked when the accreditation is approved.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The observer's rights run from the first to the last day of the referendum (set on
    # approval, see ``accreditation.rights_window``).
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    polling_station: Mapped[PollingStation] = relationship()

    def is_active_at(self, moment: datetime) -> bool:
        """Approved, and ``moment`` within the referendum's days."""
        return (self.status == AccreditationStatus.APPROVED and self.starts_at is not None
                and self.ends_at is not None and self.starts_at <= moment < self.ends_at)
