"""People and what they may do: users, memberships (role + commission/municipality/case)."""
from __future__ import annotations

import functools
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    LargeBinary,
    Select,
    String,
    UniqueConstraint,
    bindparam,
    exists,
    select,
)
from sqlalchemy.orm import Mapped, lazyload, mapped_column, relationship

from referendum_core.audit import LABEL_LENGTH
from referendum_core.db import Base
from referendum_core.organisation import Commission, Municipality


class Role(StrEnum):
    CVK_ADMIN = "cvk_admin"
    CVK_OFFICER = "cvk_officer"
    COMMISSION_CHAIR = "commission_chair"
    COMMISSION_MEMBER = "commission_member"
    # The internet polling-station commission appointed by CVK (Art. 20(4)-(6)): it counts the
    # online votes through its members chosen as trustees, and nothing else. It belongs to no
    # municipality, so it has roles of its own rather than a municipal commission's.
    INTERNET_COMMISSION_CHAIR = "internet_commission_chair"
    INTERNET_COMMISSION_MEMBER = "internet_commission_member"
    OBSERVER = "observer"
    VOTER = "voter"


CVK_ROLES = frozenset({Role.CVK_ADMIN, Role.CVK_OFFICER})
# Roles in a municipal or polling-station commission (scoped to its municipality).
COMMISSION_ROLES = frozenset({Role.COMMISSION_CHAIR, Role.COMMISSION_MEMBER})
INTERNET_COMMISSION_ROLES = frozenset({Role.INTERNET_COMMISSION_CHAIR,
                                       Role.INTERNET_COMMISSION_MEMBER})
# Officials must use two-factor sign-in.
OFFICIAL_ROLES = CVK_ROLES | COMMISSION_ROLES | INTERNET_COMMISSION_ROLES


class User(Base):
    """A person with an account. Officials and observers sign in with a password and TOTP;
    voters through an identity provider and are identified by a keyed hash of their personal code.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Keyed hash of the personal code (lookup) and its ciphertext (display to the allowed).
    person_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    personal_code_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    locale: Mapped[str] = mapped_column(String(5), default="lv")
    is_active: Mapped[bool] = mapped_column(default=True)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None]
    # Last accepted TOTP time-step: a code is never accepted twice.
    totp_last_step: Mapped[int] = mapped_column(default=0)
    # Failed sign-in attempts (password or second factor) since the last successful sign-in:
    # the person is told of them by e-mail once they mount up, and at their next sign-in. They
    # lock nothing, so that a stranger cannot lock an official out by failing on purpose
    # (throttling is per account and address, ``portal/accounts/throttle.py``).
    failed_logins: Mapped[int] = mapped_column(default=0)
    last_failed_login_at: Mapped[datetime | None]
    # Bumped by "sign out everywhere": every older session stops working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    pgp_public_key: Mapped[str | None]
    pgp_fingerprint: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id", lazy="selectin",
        cascade="all, delete-orphan",
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan")

    # Flask-Login protocol -------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    # Roles -----------------------------------------------------------------------------
    @property
    def roles(self) -> frozenset[Role]:
        roles = {m.role for m in self.memberships}
        if self.person_ref:
            roles.add(Role.VOTER)
        return frozenset(roles)

    @property
    def is_official(self) -> bool:
        return bool(self.roles & OFFICIAL_ROLES)

    @property
    def signs_in_with_password(self) -> bool:
        """Officials and observers (an e-mail address); voters use an identity provider."""
        return self.email is not None

    @property
    def requires_two_factor(self) -> bool:
        """Everyone who signs in with a password confirms with TOTP: officials and observers."""
        return self.signs_in_with_password or bool(self.roles - {Role.VOTER})

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def audit_label(self) -> str:
        """Name and account for the audit log, within its column: a long name is cut, the
        account it names never (a name may be as long as its own column)."""
        account = f" <{self.email or 'user#' + str(self.id)}>"
        return self.display_name[:max(0, LABEL_LENGTH - len(account))] + account

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Membership(Base):
    """A role held by a user, scoped to a commission, a municipality and/or a case."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "role", "commission_id", "municipality_id",
                                       "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(String(32))
    # Commission roles: the commission (its municipality follows from it).
    commission_id: Mapped[int | None] = mapped_column(ForeignKey("commissions.id"), index=True)
    # Observers: the municipality they are accredited to ...
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    # ... or a single referendum (its case).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # A membership that holds only for a time (an accredited observer: the referendum's
    # days, Art. 18(3)); None at either end means no limit on that side.
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    commission: Mapped[Commission | None] = relationship(lazy="joined")
    municipality: Mapped[Municipality | None] = relationship(lazy="joined")

    @property
    def is_time_limited(self) -> bool:
        return self.starts_at is not None or self.ends_at is not None

    def holds_at(self, moment: datetime | None) -> bool:
        """Does the membership hold at ``moment``? A time-limited one never holds when the
        moment is unknown (no clock: no right)."""
        if not self.is_time_limited:
            return True
        if moment is None:
            return False
        return ((self.starts_at is None or self.starts_at <= moment)
                and (self.ends_at is None or moment < self.ends_at))

    @property
    def scope_municipality_id(self) -> int | None:
        """The municipality this membership is about (None = the whole country)."""
        if self.commission is not None:
            return self.commission.municipality_id
        return self.municipality_id


class EndedSession(Base):
    """A signed-in session ended by signing out. A session cookie is signed, not stored: a
    copy of it stays valid until it expires unless the server remembers that its session
    (the random ``sid`` it carries, kept here only as a hash) has ended. A row is needed only
    as long as the session could still be current (``SESSION_LIFETIME``)."""

    __tablename__ = "ended_sessions"

    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(index=True)


def session_ended_column() -> ColumnElement[bool]:
    """``True`` in a row when the session whose hash is bound as ``sid_hash`` has ended: loaded
    with the user in one statement, by the full app and the lean cast path alike."""
    return exists().where(EndedSession.sid_hash == bindparam("sid_hash")).label("session_ended")


@functools.cache
def signed_in_user() -> Select[tuple[User, bool]]:
    """The signed-in person's row, by id (bound as ``user_id``), and whether the session has
    been signed out (``session_ended_column``, bound as ``sid_hash``): the app's user loader
    and the lean signing path load it so. Memberships load on first use: a voter's requests
    never need them (their rights are personal), an official's first permission check loads
    them in one query. The statement is built once and executed with parameters, because
    ``Session.get`` with options builds its statement and cache key again on every call (the
    figure is in ``bench/results.md``), and every signed-in request loads its user."""
    return select(User, session_ended_column()).where(User.id == bindparam("user_id")).options(
        lazyload(User.memberships))


def session_signs_in(is_active: bool, user_epoch: int, session_ended: bool, epoch: int) -> bool:
    """Does a session of ``epoch`` still sign its user in: the account active, not signed out
    everywhere since (the same epoch), and that session not signed out (``session_ended_column``)?
    The app's user loader and the lean cast path both ask this."""
    return bool(is_active) and not session_ended and user_epoch == epoch


class RecoveryCode(Base):
    """A single-use code that replaces a TOTP code when the phone is lost."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class OneTimeCode(Base):
    """A pending voter sign-in by one-time code (built-in identity provider)."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_ref: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class Invitation(Base):
    """A single-use link that activates an account: the invitee sets a password and enrols TOTP.

    Only a keyed hash of the token is stored; the link is consumed by one conditional
    ``UPDATE`` (unused and unexpired), so two requests with the same link cannot both win.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Set when the invitee used it, or when a newer invitation replaced it.
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
