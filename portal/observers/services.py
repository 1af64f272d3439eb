"""Approving observers, with the accounts side the domain does not know: each approved
observer gets an account (found by e-mail or created), an observer membership that holds only
through the referendum's days, and, if the account was never activated, a single-use
invitation link (the one mechanism every account uses; nobody is given a password)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from referendum_core.audit import AuditContext
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases.models import Case
from referendum_core.cases.services import Parties
from referendum_core.clock import Clock
from referendum_core.observers import (
    AccreditationStatus,
    Nomination,
    ObserverAccreditation,
    ObserverKind,
    approve_accreditation,
    link_account,
    record_observers,
    revoke_accreditation,
)
from referendum_core.voting.models import Referendum


@dataclass(frozen=True)
class Invitation:
    """A link to deliver once the transaction commits (the token exists only here)."""

    invitation_id: int
    token: str
    email: str


def _is_activated(user: User) -> bool:
    return user.password_hash is not None and user.totp_enabled_at is not None


def _give_rights(session: Session, clock: Clock, keys: accounts.Keys, actor: User,
                 referendum: Referendum, rows: Sequence[ObserverAccreditation], *,
                 lifetime: timedelta, context: AuditContext | None) -> list[Invitation]:
    invitations = []
    for row in rows:
        user = accounts.find_user_by_email(session, row.email)
        if user is None:
            user = accounts.create_user(session, clock, actor, email=row.email,
                                        display_name=row.full_name, context=context)
        link_account(row, user.id)
        accounts.grant_membership(session, clock, actor, user, Role.OBSERVER,
                                  municipality_id=referendum.municipality_id,
                                  starts_at=row.starts_at, ends_at=row.ends_at, context=context)
        if not _is_activated(user) and all(i.email != user.email for i in invitations):
            invitation, token = accounts.invite(session, clock, keys, actor, user,
                                                lifetime=lifetime, context=context)
            invitations.append(Invitation(invitation.id, token, user.email or row.email))
    session.flush()
    return invitations


def accredit(session: Session, clock: Clock, keys: accounts.Keys, actor: User, case: Case, *,
             lifetime: timedelta, expected_version: int | None = None,
             calendar: WorkingDayCalendar | None = None,
             context: AuditContext | None = None) -> list[Invitation]:
    """The commission approves a request: accounts, time-limited memberships, invitations.

    Raises:
        AccreditationRefused, and the case services' refusals (see ``approve_accreditation``).
    """
    rows = approve_accreditation(session, clock, actor, case, expected_version=expected_version,
                                 calendar=calendar, context=context)
    referendum = session.get(Referendum, rows[0].referendum_id)
    assert referendum is not None
    return _give_rights(session, clock, keys, actor, referendum, rows, lifetime=lifetime,
                        context=context)


def record(session: Session, clock: Clock, keys: accounts.Keys, actor: User,
           referendum: Referendum, kind: ObserverKind | str, nominations: Sequence[Nomination],
           *, parties: Parties, lifetime: timedelta,
           calendar: WorkingDayCalendar | None = None,
           context: AuditContext | None = None) -> tuple[Case, list[Invitation]]:
    """CVK or the commission records observers the law admits (Art. 18(3)), accredited at once.

    Raises:
        AccreditationRefused (see ``record_observers``).
    """
    case, rows = record_observers(session, clock, actor, referendum, kind, nominations,
                                  parties=parties, calendar=calendar, context=context)
    return case, _give_rights(session, clock, keys, actor, referendum, rows, lifetime=lifetime,
                              context=context)



def revoke(session: Session, clock: Clock, actor: User, accreditation: ObserverAccreditation, *,
           context: AuditContext | None = None) -> None:
    """The commission or CVK revokes an approved observer's accreditation: from this moment
    the observer does not observe the station. Their time-limited observer role in the
    municipality ends at once (unless another of their accreditations there still needs it),
    and, when nothing is left for them to do, an invitation they have not used stops working.
    The caller tells the observer once the transaction commits (``tasks.send_revocation``).

    Every session of the person ends when the observer role is removed, even one they use as
    a standing observer: a session carries the person, not a role (permissions are read from
    the memberships at each request), and a socket keeps the rooms it joined for as long as it
    is open (``portal.realtime``), so the sockets that follow the revoked station can be closed
    only with their sessions. The person signs in again and keeps what their other roles give.

    Raises:
        AccreditationRefused: ``not_approved`` (see ``revoke_accreditation``).
    """
    revoke_accreditation(session, clock, actor, accreditation, context=context)
    user = session.get(User, accreditation.user_id) if accreditation.user_id else None
    if user is None:
        return
    referendum = session.get(Referendum, accreditation.referendum_id)
    assert referendum is not None
    remaining = list(session.scalars(select(ObserverAccreditation).join(
        Referendum, Referendum.id == ObserverAccreditation.referendum_id).where(
        ObserverAccreditation.user_id == user.id,
        ObserverAccreditation.status == AccreditationStatus.APPROVED,
        Referendum.municipality_id == referendum.municipality_id)))
    for membership in list(user.memberships):
        if (membership.role == Role.OBSERVER and membership.is_time_limited
                and membership.municipality_id == referendum.municipality_id
                and not any(r.starts_at == membership.starts_at
                            and r.ends_at == membership.ends_at for r in remaining)):
            accounts.revoke_membership(session, clock, actor, membership, context=context)
    if not user.memberships:
        accounts.withdraw_invitations(session, clock, actor, user, context=context)
    session.flush()
