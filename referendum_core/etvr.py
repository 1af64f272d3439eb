"""ETVR marks: who has already voted in a referendum, where and when (VRL 19; Art. 17(2)-(3)).

One mark per voter per referendum, enforced by a UNIQUE constraint: when two polling stations
mark the same voter at the same moment, the database lets exactly one insert through and the
other station is told where and when the voter was already marked.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from referendum_core import audit
from referendum_core.audit import Actor, AuditContext
from referendum_core.clock import Clock
from referendum_core.db import Base
from referendum_core.organisation import PollingStation
from referendum_core.personal_code import PersonalCodeProtector
from referendum_core.refusals import Refused
from referendum_core.register import (
    Eligibility,
    IneligibilityReason,
    eligibility,
    on_voter_list,
    person_names,
    voter_list_for,
)

ONLINE = "online"


class Channel(StrEnum):
    POLLING_STATION = "polling_station"
    ONLINE = "online"


class EtvrMark(Base):
    """A voter has voted in a referendum (case of type ``referendum``)."""

    __tablename__ = "etvr_marks"
    __table_args__ = (UniqueConstraint("case_id", "person_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    person_ref: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    polling_station_id: Mapped[int | None] = mapped_column(ForeignKey("polling_stations.id"))
    marked_at: Mapped[datetime]
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def where(self) -> str:
        """``online`` or the polling station id as text (for logs and audit)."""
        return ONLINE if self.channel == Channel.ONLINE else str(self.polling_station_id)


class EtvrError(Refused):
    """Base class of ETVR refusals."""

    area = "etvr"


class EtvrUnavailable(EtvrError):
    """The ETVR cannot be reached; the station falls back to registration envelopes
    (Art. 4(6), 29-30), checked against the ETVR afterwards."""

    code = "unavailable"


class AlreadyVoted(EtvrError):
    """The voter already has a mark in this referendum; ``mark`` says where and when."""

    code = "already_voted"

    def __init__(self, mark: EtvrMark) -> None:
        super().__init__(f"already marked at {mark.where} on {mark.marked_at.isoformat()}")
        self.mark = mark


class NotOnVoterList(EtvrError):
    """The person is not an eligible voter of this referendum (Art. 7)."""

    code = "not_on_voter_list"

    def __init__(self, status: Eligibility) -> None:
        super().__init__("not an eligible voter of this referendum")
        self.eligibility = status


def find_mark(session: Session, case_id: int, person_ref: str) -> EtvrMark | None:
    """The voter's mark in the referendum, if any."""
    return session.scalars(select(EtvrMark).where(
        EtvrMark.case_id == case_id, EtvrMark.person_ref == person_ref)).first()


def mark_voted(session: Session, clock: Clock, actor: Actor | None, case_id: int,
               person_ref: str, *, polling_station: PollingStation | None,
               context: AuditContext | None = None) -> EtvrMark:
    """Mark the voter as having voted at ``polling_station`` (``None``: online), atomically.

    The insert runs in a savepoint; if another station's mark won the race (or was there
    before), the savepoint is undone and the refusal carries that existing mark.

    Raises:
        AlreadyVoted: the voter is already marked in this referendum.
    """
    existing = find_mark(session, case_id, person_ref)
    if existing is None:
        mark = EtvrMark(case_id=case_id, person_ref=person_ref,
                        channel=Channel.ONLINE if polling_station is None
                        else Channel.POLLING_STATION,
                        polling_station_id=polling_station.id if polling_station else None,
                        marked_at=clock.now(), marked_by_id=getattr(actor, "id", None))
        try:
            with session.begin_nested():
                session.add(mark)
        except IntegrityError:
            existing = find_mark(session, case_id, person_ref)
            if existing is None:  # a different constraint failed: not ours to hide
                raise
        else:
            audit.record(session, clock, actor, "etvr.marked", obj=mark, context=context,
                         case_id=case_id, where=mark.where)
            return mark
    audit.record(session, clock, actor, "etvr.mark_refused", obj=existing, context=context,
                 case_id=case_id, where=existing.where,
                 station=polling_station.id if polling_station else ONLINE)
    raise AlreadyVoted(existing)


@dataclass(frozen=True)
class VoterStatus:
    """What a commission member sees after looking a voter up at a polling station."""

    person_ref: str
    eligibility: Eligibility
    mark: EtvrMark | None
    # True when the frozen voter list of the referendum was used (Art. 7(2)).
    from_frozen_list: bool
    # The voter's name from the register, for the commission to compare with the identity
    # document (Art. 17(2)); only for a voter of the referendum, never for anyone else.
    name: str | None = None

    @property
    def has_voted(self) -> bool:
        return self.mark is not None


def lookup_voter(session: Session, protector: PersonalCodeProtector, personal_code: str, *,
                 case_id: int, municipality_id: int, on_day: date) -> VoterStatus:
    """Eligibility and ETVR status of a person in one referendum, by personal code.

    The referendum's frozen voter list decides eligibility when it exists; otherwise the
    register as it stands, with age counted on ``on_day``.

    Raises:
        InvalidPersonalCode: the code is not valid.
    """
    ref = protector.lookup_hash(personal_code)
    frozen = voter_list_for(session, case_id)
    if frozen is not None:
        status = (Eligibility() if on_voter_list(session, frozen, ref)
                  else Eligibility(reasons=(IneligibilityReason.NOT_ON_LIST,)))
        live = eligibility(session, ref, municipality_id, frozen.decision_day)
        if not status.reasons:
            status = Eligibility(basis=live.basis)
        elif live.reasons:
            status = Eligibility(reasons=live.reasons)
    else:
        status = eligibility(session, ref, municipality_id, on_day)
    return VoterStatus(person_ref=ref, eligibility=status, mark=find_mark(session, case_id, ref),
                       from_frozen_list=frozen is not None,
                       name=person_names(session, [ref]).get(ref) if status.is_eligible
                       else None)
