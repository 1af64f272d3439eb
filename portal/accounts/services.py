"""Account writes: creating and inviting people, granting roles, passwords, TOTP, recovery
codes, failed sign-ins.

Every function takes the session and the acting person, checks, writes, audits and raises a
domain exception when refused; the view decides what the user sees. Single-use secrets
(recovery codes, TOTP time-steps, voter one-time codes, invitations) are consumed by one
conditional ``UPDATE``: of parallel requests presenting the same secret exactly one wins, and
every failed attempt is counted by an ``UPDATE … SET n = n + 1`` of its own.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import (
    COMMISSION_ROLES,
    CVK_ROLES,
    INTERNET_COMMISSION_ROLES,
    EndedSession,
    Invitation,
    Membership,
    OneTimeCode,
    RecoveryCode,
    Role,
    User,
)
from portal.database import on_commit
from portal.realtime import close_sockets_after_commit
from referendum_core import audit, sealing
from referendum_core.audit import AuditContext
from referendum_core.clock import Clock, wall_time
from referendum_core.organisation import Commission, CommissionKind
from referendum_core.personal_code import PersonalCodeProtector
from referendum_core.refusals import Kept, Refused

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
MIN_PASSWORD_LENGTH = 12
RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Referendumu portāls"


class AccountError(Refused):
    """Base class of refused account actions; the sentence people read is the text registry's
    (``portal.refusal_texts``, keys ``account.<code>[.<reason>]``)."""

    area = "account"
    code = "refused"

    def __init__(self, reason: str | None = None, **params: object) -> None:
        super().__init__(f"{self.code}: {reason or self.code}")
        self.reason = reason
        self.params = params


class InvalidCredentials(AccountError):
    """Wrong e-mail address or password (``current_password``: the person changing their
    password gave a wrong current one). A known account's failure is counted, and its owner
    told at the ``notify_after``-th, in writes the refusal keeps."""

    code = "invalid_credentials"
    REASONS = ("current_password",)


class InvalidInvitation(AccountError):
    code = "invalid_invitation"


class InvalidTwoFactorCode(AccountError):
    """A wrong, expired or replayed code; ``enrolment`` when it confirmed a new authenticator
    (nothing is counted then). A sign-in's failure is kept as for ``InvalidCredentials``."""

    code = "invalid_two_factor_code"
    REASONS = ("enrolment",)


class WeakPassword(AccountError):
    code = "weak_password"


class InvalidMembership(AccountError):
    code = "invalid_membership"


@dataclass(frozen=True)
class Keys:
    """Keys for data at rest, derived from the configured data key."""

    data_key: str

    def _derive(self, purpose: bytes) -> bytes:
        return sealing.derive_key(self.data_key, purpose)

    def derived_key(self, purpose: bytes) -> bytes:
        """A 32-byte key for ``purpose``, derived from the data key (HKDF-SHA256)."""
        return self._derive(purpose)

    def seal(self, purpose: bytes, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self._derive(purpose)).encrypt(nonce, plaintext, purpose)

    def open(self, purpose: bytes, blob: bytes) -> bytes:
        return AESGCM(self._derive(purpose)).decrypt(blob[:12], blob[12:], purpose)

    def mac(self, purpose: bytes, value: str) -> str:
        return hmac.new(self._derive(purpose), value.encode(), hashlib.sha256).hexdigest()

    @property
    def personal_codes(self) -> PersonalCodeProtector:
        return PersonalCodeProtector(self.data_key.encode())


# Passwords --------------------------------------------------------------------------------

def set_password_hasher(hasher: PasswordHasher) -> None:
    """Hash and check passwords with ``hasher`` from now on. The test suite uses argon2's
    cheapest parameters; a deployment keeps the library's defaults set above."""
    global _hasher, _DUMMY_HASH  # one hasher per process, as at import
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise WeakPassword(min=MIN_PASSWORD_LENGTH)
    return _hasher.hash(password)


def _check_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == (email or "").strip().lower())
                           ).first()


def authenticate(session: Session, clock: Clock, email: str, password: str,
                 context: AuditContext | None = None, *, notify_after: int = 5) -> User:
    """Check e-mail and password.

    An unknown e-mail, an inactive account and one not activated yet cost the same Argon2
    verification and get the same refusal as a wrong password, so the answer never tells
    whether an address has an account. Nothing here locks the account: throttling is the
    caller's (per account and address); a known account's failure is counted for its owner.

    Raises:
        InvalidCredentials: any of the above (the failure kept: ``_failed_sign_in``).
    """
    user = find_user_by_email(session, email)
    stored = user.password_hash if user is not None and user.is_active else None
    if not _check_password(stored, password):
        if user is None:
            raise _failed(session, InvalidCredentials(), _failed_sign_in(
                clock, None, "login.failed_unknown", context, notify_after))
        raise _failed(session, InvalidCredentials(), _failed_sign_in(
            clock, user.id, "login.failed", context, notify_after))
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    return user


def _failed(session: Session, refusal: AccountError, write: Kept) -> AccountError:
    """``refusal``, after doing ``write`` in the caller's transaction and keeping it through
    the rollback of the refused request (``Refused.keeping``)."""
    write(session)
    return refusal.keeping(write)


def _failed_sign_in(clock: Clock, user_id: int | None, action: str,
                    context: AuditContext | None, notify_after: int, **detail: object) -> Kept:
    """The write of a failed sign-in attempt: its audit entry and, for a known account, its
    count and, at the ``notify_after``-th failure since the last sign-in, the e-mail telling
    the owner (sent once the count commits). Repeatable: the count is ``n = n + 1``."""

    def write(session: Session) -> None:
        user = session.get(User, user_id) if user_id is not None else None
        if user is None:
            audit.record(session, clock, None, action, context=context, **detail)
            return
        failures = count_failed_sign_in(session, clock, user)
        audit.record(session, clock, user, action, obj=user, context=context, **detail)
        if failures == notify_after:
            _tell_owner(user.id)

    return write


def _tell_owner(user_id: int) -> None:
    """Once the transaction commits, e-mail the owner of an account whose sign-in attempts
    keep failing."""
    from portal.accounts.tasks import send_failed_sign_in_notice

    on_commit(lambda: send_failed_sign_in_notice.delay(user_id))


def spend_password_work(password: str) -> None:
    """The Argon2 work of one verification, for answers given without checking a password
    (a throttled attempt), so that they take as long as the others."""
    _check_password(None, password)


def count_failed_sign_in(session: Session, clock: Clock, user: User) -> int:
    """Count one failed attempt (password or second factor) in one statement, so parallel
    failures are all counted; returns the count since the last successful sign-in."""
    now = clock.now()
    count = session.execute(
        update(User).where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1, last_failed_login_at=now)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)).scalar_one()
    set_committed_value(user, "failed_logins", count)
    set_committed_value(user, "last_failed_login_at", now)
    return count


@dataclass(frozen=True)
class FailedSignIns:
    """Failed attempts on an account since its previous successful sign-in."""

    count: int
    last_at: datetime | None


def complete_login(session: Session, clock: Clock, user: User, method: str,
                   context: AuditContext | None = None, **detail: str | None
                   ) -> FailedSignIns | None:
    """Record a finished sign-in (after the second factor, where one is needed); returns the
    failed attempts since the previous one, which the person is shown. ``detail`` (e.g. the
    identity provider and its method) goes into the audit entry."""
    missed = (FailedSignIns(user.failed_logins, user.last_failed_login_at)
              if user.failed_logins else None)
    user.last_login_at = clock.now()
    user.failed_logins = 0
    user.last_failed_login_at = None
    audit.record(session, clock, user, "login.success", obj=user, context=context, method=method,
                 failed_before=missed.count if missed else 0, **detail)
    return missed


def _end_all_sessions(user: User) -> None:
    """Every session of ``user`` ends (cookies carry the epoch), and with them their sockets."""
    user.session_epoch += 1
    close_sockets_after_commit(user_id=user.id)


def end_session(session: Session, clock: Clock, user: User, sid_hash: str | None,
                context: AuditContext | None = None) -> None:
    """Sign ``user`` out of one session: it is recorded as ended, so a copy of its cookie no
    longer signs anyone in (other sessions of the person go on)."""
    if sid_hash is not None:
        session.merge(EndedSession(sid_hash=sid_hash, ended_at=clock.now()))
        close_sockets_after_commit(sid_hash=sid_hash)
    audit.record(session, clock, user, "logout", obj=user, context=context)


def sign_out_everywhere(session: Session, clock: Clock, user: User,
                        context: AuditContext | None = None) -> None:
    """Invalidate every session of ``user`` (cookies carry the epoch)."""
    _end_all_sessions(user)
    audit.record(session, clock, user, "logout.everywhere", obj=user, context=context)


def change_own_password(session: Session, clock: Clock, user: User, current: str, new: str,
                        context: AuditContext | None = None) -> None:
    """A person changes their password, proving the current one; other sessions end.

    Raises:
        InvalidCredentials: the current password is wrong (audited).
        WeakPassword: the new password is too short.
    """
    if not _check_password(user.password_hash, current):
        audit.record(session, clock, user, "password.change_refused", obj=user, context=context)
        raise InvalidCredentials("current_password")
    set_password(session, clock, user, user, new, context)


def set_password(session: Session, clock: Clock, actor: User, user: User, password: str,
                 context: AuditContext | None = None) -> None:
    user.password_hash = hash_password(password)
    _end_all_sessions(user)
    audit.record(session, clock, actor, "password.changed", obj=user, context=context)


# TOTP -------------------------------------------------------------------------------------

TOTP_PURPOSE = b"totp-secret-v1"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email or str(user.id), issuer_name=TOTP_ISSUER)


def _matching_step(secret: str, code: str, at_ts: float) -> int | None:
    """The time-step whose code equals ``code`` within ±1 step, compared in constant time."""
    totp = pyotp.TOTP(secret)
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != totp.digits:
        return None
    step_now = int(at_ts // totp.interval)
    found = None
    for step in (step_now - 1, step_now, step_now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def enable_totp(session: Session, clock: Clock, keys: Keys, user: User, secret: str, code: str,
                context: AuditContext | None = None) -> list[str]:
    """Turn on TOTP once the user proved the authenticator works; returns fresh recovery codes.

    Raises:
        InvalidTwoFactorCode: the confirmation code does not match.
    """
    # The code comes from a phone on the wall clock, even when a demo shifts the portal's time.
    step = _matching_step(secret, code, wall_time(clock).timestamp())
    if step is None:
        raise InvalidTwoFactorCode("enrolment")
    user.totp_secret_enc = keys.seal(TOTP_PURPOSE, secret.encode())
    user.totp_enabled_at = clock.now()
    user.totp_last_step = step
    codes = _new_recovery_codes(session, keys, user)
    audit.record(session, clock, user, "2fa.enabled", obj=user, context=context)
    return codes


def verify_second_factor(session: Session, clock: Clock, keys: Keys, user: User, code: str,
                         context: AuditContext | None = None, *, notify_after: int = 5) -> str:
    """Accept a TOTP code (each time-step once) or an unused recovery code; returns the method.

    Both are consumed by one conditional ``UPDATE``, so of parallel requests with the same code
    exactly one is accepted. Wrong codes count as failed sign-ins like wrong passwords.

    Raises:
        InvalidTwoFactorCode: wrong, expired or replayed code (the failure kept, as for
            ``authenticate``).
    """
    if user.totp_secret_enc is None:
        raise InvalidTwoFactorCode()
    secret = keys.open(TOTP_PURPOSE, user.totp_secret_enc).decode()
    # The code comes from a phone on the wall clock, even when a demo shifts the portal's time.
    step = _matching_step(secret, code, wall_time(clock).timestamp())
    if step is not None and _take_totp_step(session, user, step):
        return "totp"
    normalised = (code or "").strip().replace("-", "").replace(" ", "").lower()
    if len(normalised) == 10 and _use_recovery_code(session, clock, keys, user, normalised):
        audit.record(session, clock, user, "2fa.recovery_code_used", obj=user, context=context)
        return "recovery_code"
    raise _failed(session, InvalidTwoFactorCode(), _failed_sign_in(
        clock, user.id, "2fa.failed", context, notify_after, replay=step is not None))


def _take_totp_step(session: Session, user: User, step: int) -> bool:
    """Record ``step`` as used unless it or a later one was: one statement, one winner."""
    taken = session.execute(
        update(User).where(User.id == user.id, User.totp_last_step < step)
        .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
    if taken:
        set_committed_value(user, "totp_last_step", step)
    return bool(taken)


def _use_recovery_code(session: Session, clock: Clock, keys: Keys, user: User,
                       normalised: str) -> bool:
    """Find the matching unused recovery code (compared in constant time) and mark it used by
    a conditional ``UPDATE``: of parallel requests with the same code, one wins."""
    wanted = keys.mac(b"recovery-code-v1", normalised)
    unused = session.execute(select(RecoveryCode.id, RecoveryCode.code_hash).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all()
    match = None
    for row in unused:
        if hmac.compare_digest(row.code_hash, wanted):
            match = row.id
    if match is None:
        return False
    used = session.execute(
        update(RecoveryCode).where(RecoveryCode.id == match, RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now()).returning(RecoveryCode.id)
        .execution_options(synchronize_session=False)).first()
    session.expire(user, ["recovery_codes"])
    return used is not None


def _new_recovery_codes(session: Session, keys: Keys, user: User) -> list[str]:
    for rc in list(user.recovery_codes):
        session.delete(rc)
    user.recovery_codes.clear()
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        user.recovery_codes.append(RecoveryCode(code_hash=keys.mac(b"recovery-code-v1", code)))
    session.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def regenerate_recovery_codes(session: Session, clock: Clock, keys: Keys, user: User,
                              context: AuditContext | None = None) -> list[str]:
    codes = _new_recovery_codes(session, keys, user)
    audit.record(session, clock, user, "2fa.recovery_codes_regenerated", obj=user, context=context)
    return codes


# People and roles -------------------------------------------------------------------------

def create_user(session: Session, clock: Clock, actor: User | None, *, email: str,
                display_name: str, password: str | None = None, locale: str = "lv",
                context: AuditContext | None = None) -> User:
    """Create an account (officials and observers; voters arrive through an identity provider).

    People get no password from whoever creates them: ``invite`` gives them a link with which
    they set their own and enrol TOTP. ``password`` is for the demo seed and tests only.
    """
    user = User(email=email.strip().lower(), display_name=display_name.strip(),
                password_hash=hash_password(password) if password else None, locale=locale,
                created_at=clock.now())
    session.add(user)
    session.flush()
    audit.record(session, clock, actor, "user.created", obj=user, context=context)
    return user


INVITATION_PURPOSE = b"invitation-v1"


def invite(session: Session, clock: Clock, keys: Keys, actor: User | None, user: User, *,
           lifetime: timedelta, context: AuditContext | None = None) -> tuple[Invitation, str]:
    """A new activation link for ``user`` and its token; any unused earlier link stops working.

    Only a keyed hash of the token is stored; the caller delivers the token (by e-mail) once
    the transaction commits.
    """
    now = clock.now()
    session.execute(update(Invitation).where(Invitation.user_id == user.id,
                                             Invitation.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    invitation = Invitation(user_id=user.id, token_hash=keys.mac(INVITATION_PURPOSE, token),
                            created_by_id=actor.id if actor else None, created_at=now,
                            expires_at=now + lifetime)
    session.add(invitation)
    session.flush()
    audit.record(session, clock, actor, "invitation.created", obj=user, context=context,
                 expires_at=invitation.expires_at.isoformat())
    return invitation, token


def withdraw_invitations(session: Session, clock: Clock, actor: User | None, user: User, *,
                         context: AuditContext | None = None) -> int:
    """Make ``user``'s unused invitation links stop working (the reason to use them is gone);
    returns how many were withdrawn."""
    withdrawn = session.execute(
        update(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(used_at=clock.now()).execution_options(synchronize_session=False)).rowcount
    if withdrawn:
        audit.record(session, clock, actor, "invitation.withdrawn", obj=user, context=context,
                     count=withdrawn)
    return int(withdrawn or 0)


def pending_invitation(session: Session, clock: Clock, keys: Keys, token: str) -> Invitation | None:
    """The unused, unexpired invitation of ``token`` for an active account, else ``None``."""
    # Found by the keyed hash of a 256-bit random token, as service tokens are: timing reveals
    # at most a prefix of a hash nobody can compute without the data key.
    lookup_hash = keys.mac(INVITATION_PURPOSE, token or "")
    invitation = session.scalars(select(Invitation).where(
        Invitation.token_hash == lookup_hash)).first()
    if (invitation is None or invitation.used_at is not None
            or invitation.expires_at <= clock.now() or not invitation.user.is_active):
        return None
    return invitation


def accept_invitation(session: Session, clock: Clock, keys: Keys, token: str, password: str,
                      totp_secret: str, code: str,
                      context: AuditContext | None = None) -> tuple[User, list[str]]:
    """Activate an account from its invitation: the invitee's own password and TOTP, proven
    by a code. The link is consumed by one conditional ``UPDATE``, so of two requests with it
    only one activates; returns the account and its fresh recovery codes.

    Raises:
        InvalidInvitation: unknown, used, replaced or expired link, or an inactive account.
        WeakPassword: the password is too short (the link stays usable).
        InvalidTwoFactorCode: the code does not match the secret (the link stays usable).
    """
    invitation = pending_invitation(session, clock, keys, token)
    if invitation is None:
        audit.record(session, clock, None, "invitation.refused", context=context)
        raise InvalidInvitation()
    password_hash = hash_password(password)
    now = clock.now()
    step = _matching_step(totp_secret, code, wall_time(clock).timestamp())
    if step is None:
        raise InvalidTwoFactorCode("enrolment")
    consumed = session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None),
                                 Invitation.expires_at > now)
        .values(used_at=now).returning(Invitation.id)
        .execution_options(synchronize_session=False)).first()
    if consumed is None:
        audit.record(session, clock, None, "invitation.refused", context=context)
        raise InvalidInvitation()
    user = invitation.user
    user.password_hash = password_hash
    user.totp_secret_enc = keys.seal(TOTP_PURPOSE, totp_secret.encode())
    user.totp_enabled_at = now
    user.totp_last_step = step
    _end_all_sessions(user)  # whatever signed in before (a reset account) is signed out
    codes = _new_recovery_codes(session, keys, user)
    audit.record(session, clock, user, "invitation.accepted", obj=user, context=context)
    return user, codes


def grant_membership(session: Session, clock: Clock, actor: User | None, user: User, role: Role, *,
                     commission: Commission | None = None, municipality_id: int | None = None,
                     case_id: int | None = None, starts_at: datetime | None = None,
                     ends_at: datetime | None = None,
                     context: AuditContext | None = None) -> Membership:
    """Give ``user`` a role. The scope must fit the role; ``starts_at``/``ends_at`` limit it in
    time (an accredited observer's rights run through the referendum's days).

    Raises:
        InvalidMembership: e.g. a commission role without a commission, CVK role with a
            non-CVK commission, a municipal commission role in the internet commission (it has
            roles of its own), an observer without a municipality or case.
    """
    if role in CVK_ROLES:
        if commission is None or commission.kind != CommissionKind.CVK:
            raise InvalidMembership()
    elif role in COMMISSION_ROLES:
        if commission is None or commission.kind not in (CommissionKind.MUNICIPAL,
                                                         CommissionKind.POLLING_STATION):
            raise InvalidMembership()
    elif role in INTERNET_COMMISSION_ROLES:
        if commission is None or commission.kind != CommissionKind.INTERNET:
            raise InvalidMembership()
    elif role == Role.OBSERVER:
        if commission is not None or (municipality_id is None and case_id is None):
            raise InvalidMembership()
    else:
        raise InvalidMembership()
    existing = next((m for m in user.memberships if m.role == role
                     and m.commission_id == (commission.id if commission else None)
                     and m.municipality_id == municipality_id and m.case_id == case_id
                     and m.starts_at == starts_at and m.ends_at == ends_at), None)
    if existing is not None:
        return existing
    membership = Membership(role=role, commission=commission, municipality_id=municipality_id,
                            case_id=case_id, granted_by_id=actor.id if actor else None,
                            created_at=clock.now(), starts_at=starts_at, ends_at=ends_at)
    user.memberships.append(membership)
    session.flush()
    audit.record(session, clock, actor, "membership.granted", obj=user, context=context,
                 role=str(role), commission_id=commission.id if commission else None,
                 municipality_id=municipality_id or (commission.municipality_id if commission else None),
                 case_id=case_id, starts_at=starts_at.isoformat() if starts_at else None,
                 ends_at=ends_at.isoformat() if ends_at else None)
    return membership


def revoke_membership(session: Session, clock: Clock, actor: User, membership: Membership,
                      context: AuditContext | None = None) -> None:
    user = membership.user
    audit.record(session, clock, actor, "membership.revoked", obj=user, context=context,
                 role=str(membership.role), commission_id=membership.commission_id,
                 municipality_id=membership.scope_municipality_id, case_id=membership.case_id)
    user.memberships.remove(membership)
    _end_all_sessions(user)
    session.flush()


# Voters (identity providers) --------------------------------------------------------------

class InvalidOneTimeCode(AccountError):
    code = "invalid_one_time_code"


OTP_LIFETIME = timedelta(minutes=10)
OTP_MAX_ATTEMPTS = 5


def find_or_create_voter(session: Session, clock: Clock, keys: Keys, personal_code: str,
                         display_name: str | None = None) -> User:
    """The voter account for a verified personal code (created on first sign-in)."""
    protector = keys.personal_codes
    ref = protector.lookup_hash(personal_code)
    user = session.scalars(select(User).where(User.person_ref == ref)).first()
    if user is None:
        from referendum_core.personal_code import masked, normalise

        user = User(person_ref=ref, personal_code_enc=protector.encrypt(personal_code),
                    display_name=display_name or masked(normalise(personal_code)),
                    created_at=clock.now())
        session.add(user)
        session.flush()
        audit.record(session, clock, None, "voter.account_created", obj=user)
    elif display_name and user.display_name != display_name:
        user.display_name = display_name
    return user


def issue_one_time_code(session: Session, clock: Clock, keys: Keys, personal_code: str) -> str:
    """Create a 6-digit sign-in code for the person; the caller delivers it (SMS, e-mail, demo)."""
    ref = keys.personal_codes.lookup_hash(personal_code)
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.now()
    for old in session.scalars(select(OneTimeCode).where(OneTimeCode.person_ref == ref,
                                                         OneTimeCode.used_at.is_(None))):
        old.used_at = now
    session.add(OneTimeCode(person_ref=ref, code_hash=keys.mac(b"otp-v1", ref + code),
                            created_at=now, expires_at=now + OTP_LIFETIME))
    session.flush()
    return code


def redeem_one_time_code(session: Session, clock: Clock, keys: Keys, personal_code: str,
                         code: str) -> User:
    """Sign a voter in with the code sent to them.

    Each try first takes one of the code's ``OTP_MAX_ATTEMPTS`` in one statement, so parallel
    guesses are all counted and no more than that many are ever compared; the right code is
    then consumed by a conditional ``UPDATE`` that only one request wins. A refused try keeps
    the attempt it took (``Refused.keeping``).

    Raises:
        InvalidOneTimeCode: no pending code, expired, used, wrong, or too many attempts.
    """
    ref = keys.personal_codes.lookup_hash(personal_code)
    now = clock.now()
    pending_id = session.scalars(
        select(OneTimeCode.id).where(OneTimeCode.person_ref == ref, OneTimeCode.used_at.is_(None))
        .order_by(OneTimeCode.id.desc()).limit(1)).first()
    if pending_id is None:
        raise InvalidOneTimeCode()
    take_attempt = _one_time_code_attempt(pending_id, now)
    claimed = take_attempt(session)
    if claimed is None:
        raise InvalidOneTimeCode()
    wanted = keys.mac(b"otp-v1", ref + (code or "").strip())
    if not hmac.compare_digest(claimed, wanted):
        raise InvalidOneTimeCode().keeping(take_attempt)
    used = session.execute(
        update(OneTimeCode).where(OneTimeCode.id == pending_id, OneTimeCode.used_at.is_(None))
        .values(used_at=now).returning(OneTimeCode.id)
        .execution_options(synchronize_session=False)).first()
    if used is None:
        raise InvalidOneTimeCode().keeping(take_attempt)
    return find_or_create_voter(session, clock, keys, personal_code)


def _one_time_code_attempt(code_id: int, now: datetime) -> Callable[[Session], str | None]:
    """The write taking one attempt of a pending, unexpired code that has attempts left, in one
    statement; it returns the code's hash (``None``: no attempt left to take)."""

    def take(session: Session) -> str | None:
        return session.execute(
            update(OneTimeCode).where(OneTimeCode.id == code_id, OneTimeCode.used_at.is_(None),
                                      OneTimeCode.expires_at > now,
                                      OneTimeCode.attempts < OTP_MAX_ATTEMPTS)
            .values(attempts=OneTimeCode.attempts + 1).returning(OneTimeCode.code_hash)
            .execution_options(synchronize_session=False)).scalar()

    return take
