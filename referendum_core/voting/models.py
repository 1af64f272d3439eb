"""Tables of a referendum's vote: the set-up and frozen manifest, trustees, voter aliases, the
bulletin board (with one row per ballot alpha so replays are refused by the database), audited
ballots, registration envelopes, polling-station protocols, trustee shares and the result.

Secrecy: ``VoterAlias`` is the only link between a person and the published alias; it never
leaves the server. Ballots are stored as the browser encrypted them.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referendum_core.cases.models import Case
from referendum_core.crypto.board import EMPTY_HEAD
from referendum_core.db import Base
from referendum_core.organisation import Municipality, PollingStation
from referendum_core.sealing import SealedText

ZERO_HEAD = EMPTY_HEAD.hex()
YES, NO = "yes", "no"


class Stage(StrEnum):
    """Where a referendum's vote stands."""

    SETUP = "setup"  # trustees chosen, keys being uploaded
    VOTING = "voting"  # manifest frozen; online window / polling day
    COUNTING = "counting"  # polls closed, board frozen, aggregate computed; shares awaited
    TALLIED = "tallied"  # online result recovered (or none needed); protocols awaited
    APPROVED = "approved"  # the municipal commission approved and announced the result


class Referendum(Base):
    """The vote of one referendum case (1:1)."""

    __tablename__ = "voting_referendums"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    subject: Mapped[str] = mapped_column(String(20))
    question_lv: Mapped[str] = mapped_column(Text)
    question_en: Mapped[str] = mapped_column(Text)
    decision_day: Mapped[date] = mapped_column(Date)
    referendum_day: Mapped[date] = mapped_column(Date)
    # Art. 15(1): Monday 00:00 - Thursday 00:00 Riga before referendum day; none for dismissal.
    online_opens_at: Mapped[datetime | None]
    online_closes_at: Mapped[datetime | None]
    # Art. 16(1): 07:00-20:00 Riga on referendum day.
    polls_open_at: Mapped[datetime]
    polls_close_at: Mapped[datetime]
    election_id: Mapped[str] = mapped_column(String(36), unique=True)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.SETUP)
    # The frozen manifest (canonical JSON) and SHA-256 of it, set when voting opens.
    manifest: Mapped[str | None] = mapped_column(Text)
    # t of the t-of-n trustees and the key generation's transcript
    # (``docs/spec/threshold-trustees.md``); both None when every trustee must decrypt.
    threshold: Mapped[int | None]
    dkg_transcript: Mapped[str | None] = mapped_column(Text)
    # The key generation's deadline of each round (no message of a round after its deadline);
    # ``dkg_ends_at`` is the last, the answers', after which voting may open even if a check or
    # an answer never came (the trustee is then disqualified).
    dkg_commit_by: Mapped[datetime | None]
    dkg_reveal_by: Mapped[datetime | None]
    dkg_shares_by: Mapped[datetime | None]
    dkg_check_by: Mapped[datetime | None]
    dkg_ends_at: Mapped[datetime | None]
    election_hash: Mapped[str | None] = mapped_column(String(64))
    frozen_at: Mapped[datetime | None]
    # The board's chain, advanced under a row lock on this row.
    board_seq: Mapped[int] = mapped_column(default=0)
    board_head: Mapped[str] = mapped_column(String(64), default=ZERO_HEAD)
    # Distinct aliases on the board (voters with an online ballot), advanced with the head:
    # live turnout reads it instead of counting the board on every push and page fetch.
    online_voters: Mapped[int] = mapped_column(default=0, server_default="0")
    # Filled when polls close (Art. 20(1), (4)-(6)).
    closed_at: Mapped[datetime | None]
    excluded_aliases: Mapped[str] = mapped_column(Text, default="[]")
    aggregate: Mapped[str | None] = mapped_column(Text)
    counted: Mapped[int | None]
    online_result: Mapped[str | None] = mapped_column(Text)
    tallied_at: Mapped[datetime | None]
    # Art. 20(9)-(10), 21: results announced within 3 working days of referendum day.
    results_due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship()
    municipality: Mapped[Municipality] = relationship()
    trustees: Mapped[list[Trustee]] = relationship(
        back_populates="referendum", order_by="Trustee.position")

    @property
    def has_online_voting(self) -> bool:
        """Art. 15(2): a dismissal referendum has no online voting."""
        return self.online_opens_at is not None

    @property
    def dkg_deadlines(self) -> dict[str, datetime | None]:
        """Each key-generation round's deadline, in round order."""
        return {"commit": self.dkg_commit_by, "reveal": self.dkg_reveal_by,
                "shares": self.dkg_shares_by, "complaints": self.dkg_check_by,
                "answers": self.dkg_ends_at}

    @dkg_deadlines.setter
    def dkg_deadlines(self, deadlines: dict[str, datetime | None]) -> None:
        (self.dkg_commit_by, self.dkg_reveal_by, self.dkg_shares_by, self.dkg_check_by,
         self.dkg_ends_at) = (deadlines["commit"], deadlines["reveal"], deadlines["shares"],
                              deadlines["complaints"], deadlines["answers"])

    @property
    def manifest_dict(self) -> dict[str, Any] | None:
        return json.loads(self.manifest) if self.manifest else None

    @property
    def excluded_list(self) -> list[str]:
        return json.loads(self.excluded_aliases or "[]")

    @property
    def online_result_dict(self) -> dict[str, int] | None:
        return json.loads(self.online_result) if self.online_result else None

    def question(self, locale: str = "lv") -> str:
        return self.question_en if locale == "en" else self.question_lv


class Trustee(Base):
    """A member of the internet polling-station commission holding a share of the election key."""

    __tablename__ = "voting_trustees"
    __table_args__ = (UniqueConstraint("referendum_id", "user_id"),
                      UniqueConstraint("referendum_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # 0-based index in manifest.trustees (``decryptions[].trustee``).
    position: Mapped[int]
    # The published part {"name", "public_key", "pok"} as uploaded (checked).
    public_json: Mapped[str | None] = mapped_column(Text)
    public_key: Mapped[str | None] = mapped_column(String(64))
    key_uploaded_at: Mapped[datetime | None]

    referendum: Mapped[Referendum] = relationship(back_populates="trustees")


class VoterAlias(Base):
    """A voter's random alias in one referendum; only the server knows who it is."""

    __tablename__ = "voting_aliases"
    __table_args__ = (UniqueConstraint("referendum_id", "person_ref"),
                      UniqueConstraint("referendum_id", "alias"))

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    person_ref: Mapped[str] = mapped_column(String(64))
    alias: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    #: Ballots of this alias on the board, advanced in the cast's own statement: the first one
    #: adds an online voter (``Referendum.online_voters``).
    ballots: Mapped[int] = mapped_column(default=0, server_default="0")


class BoardEntry(Base):
    """One accepted ballot on the bulletin board, in acceptance order (``seq`` from 1)."""

    __tablename__ = "voting_board"
    __table_args__ = (UniqueConstraint("referendum_id", "seq"),
                      Index("ix_voting_board_ref_tracker", "referendum_id", "tracker"),
                      Index("ix_voting_board_ref_alias", "referendum_id", "alias"))

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    seq: Mapped[int]
    alias: Mapped[str] = mapped_column(String(40))
    tracker: Mapped[str] = mapped_column(String(64))
    ballot: Mapped[str] = mapped_column(Text)
    cast_at: Mapped[datetime]
    # head_seq = SHA-256(frame("board-v1") ‖ frame(head_{seq-1}) ‖ frame(tracker)).
    head: Mapped[str] = mapped_column(String(64))


class BallotAlpha(Base):
    """Every alpha of every cast or audited ballot: the UNIQUE constraint refuses a replay
    atomically, whatever the timing (spec section 5)."""

    __tablename__ = "voting_ballot_alphas"
    __table_args__ = (UniqueConstraint("referendum_id", "alpha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    alpha: Mapped[str] = mapped_column(String(64))


class AuditedBallot(Base):
    """A Benaloh-revealed ballot: published, never counted, never castable afterwards."""

    __tablename__ = "voting_audited"

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"), index=True)
    alias: Mapped[str] = mapped_column(String(40))
    tracker: Mapped[str] = mapped_column(String(64))
    ballot: Mapped[str] = mapped_column(Text)
    audited_at: Mapped[datetime]


class RegistrationEnvelope(Base):
    """An in-person vote recorded while the ETVR was unreachable (Art. 4(6), 29-30), to be
    checked against the ETVR afterwards."""

    __tablename__ = "voting_envelopes"
    __table_args__ = (UniqueConstraint("referendum_id", "person_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"))
    person_ref: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reconciled_at: Mapped[datetime | None]
    # Set when the ETVR already had a mark elsewhere: where/when, for the commission.
    conflict: Mapped[str | None] = mapped_column(String(200))

    polling_station: Mapped[PollingStation] = relationship()


class PollingStationProtocol(Base):
    """A station's count (ballots issued, par, pret, invalid), entered by one commission member
    and confirmed by a second."""

    __tablename__ = "voting_protocols"
    __table_args__ = (UniqueConstraint("referendum_id", "polling_station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"))
    ballots_issued: Mapped[int]
    votes_for: Mapped[int]
    votes_against: Mapped[int]
    invalid: Mapped[int]
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]

    polling_station: Mapped[PollingStation] = relationship()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class KeyGenerationReminder(Base):
    """A reminder sent to a trustee before a key-generation round's deadline: one row per
    trustee, round and lead time, so a reminder goes out once however often beat runs."""

    __tablename__ = "voting_dkg_reminders"
    __table_args__ = (UniqueConstraint("referendum_id", "round", "lead", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    round: Mapped[str] = mapped_column(String(12))
    # Minutes before the deadline (one of the configured lead times).
    lead: Mapped[int]
    # The trustee's 0-based position, as ``Trustee.position``.
    position: Mapped[int]
    deadline: Mapped[datetime]
    sent_at: Mapped[datetime]


class TrusteeShare(Base):
    """One trustee's verified partial decryption of the aggregate."""

    __tablename__ = "voting_trustee_shares"
    __table_args__ = (UniqueConstraint("referendum_id", "trustee_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    trustee_position: Mapped[int]
    shares: Mapped[str] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]


class Result(Base):
    """The approved combined result (Art. 20(9)-(10), 21, 22)."""

    __tablename__ = "voting_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"), unique=True)
    online_for: Mapped[int]
    online_against: Mapped[int]
    online_counted: Mapped[int]
    in_person_for: Mapped[int]
    in_person_against: Mapped[int]
    in_person_invalid: Mapped[int]
    ballots_issued: Mapped[int]
    participants: Mapped[int]
    votes_for: Mapped[int]
    votes_against: Mapped[int]
    # Art. 22 bases from the last council elections (copied when approved).
    voters_base: Mapped[int | None]
    participants_base: Mapped[int | None]
    is_valid: Mapped[bool]
    is_passed: Mapped[bool]
    protocol_sha256: Mapped[str] = mapped_column(String(64))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime]
    # The results protocol (PDF) and its detached OpenPGP signature, made by the portal.
    protocol_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    protocol_signature: Mapped[str | None] = mapped_column(Text)


class HomeVotingRequest(Base):
    """The details of a home-voting case (Art. 19): whose request, to which station, where the
    commission goes and why. The voter is known by ``person_ref`` only (no personal code)."""

    __tablename__ = "voting_home_requests"
    __table_args__ = (Index("ix_voting_home_requests_ref_person", "referendum_id", "person_ref"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    referendum_id: Mapped[int] = mapped_column(ForeignKey("voting_referendums.id"))
    person_ref: Mapped[str] = mapped_column(String(64))
    # Where the voter is and why (often health information): sealed at rest.
    address: Mapped[str] = mapped_column(SealedText("voting_home_requests", "address"))
    reason: Mapped[str] = mapped_column(SealedText("voting_home_requests", "reason"))
    # True when a commission member entered the written request on the voter's behalf.
    entered_by_commission: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[datetime]
    visited_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
