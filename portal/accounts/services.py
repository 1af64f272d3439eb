"""Account writes: creating people, granting roles, passwords, TOTP, recovery codes, lockout.

Every function takes the session and the acting person, checks, writes, audits and raises a
domain exception when refused; the view decides what the user sees.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import (
    COMMISSION_ROLES,
    CVK_ROLES,
    Membership,
    OneTimeCode,
    RecoveryCode,
    Role,
    User,
)
from referendum_core import audit
from referendum_core.audit import AuditContext
from referendum_core.clock import Clock
from referendum_core.organisation import Commission, CommissionKind
from referendum_core.personal_code import PersonalCodeProtector

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
MIN_PASSWORD_LENGTH = 12
RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Referendumu portāls"


class AccountError(Exception):
    """Base class of refused account actions; ``message`` is a translatable English text."""

    message = "The action was refused."

    def __init__(self, message: str | None = None, **params: object) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        self.params = params


class InvalidCredentials(AccountError):
    message = "Wrong e-mail address or password."


class AccountLocked(AccountError):
    message = "Too many failed attempts. The account is locked until %(until)s."


class InvalidTwoFactorCode(AccountError):
    message = "The code is wrong, expired or already used."


class WeakPassword(AccountError):
    message = "The password must have at least %(min)s characters."


class InvalidMembership(AccountError):
    message = "This role cannot be given for that commission or municipality."


@dataclass(frozen=True)
class Keys:
    """Keys for data at rest, derived from the configured data key."""

    data_key: str

    def _derive(self, purpose: bytes) -> bytes:
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(
            self.data_key.encode())

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
                 context: AuditContext | None = None, *, max_failures: int = 5,
                 lockout: timedelta = timedelta(minutes=15)) -> User:
    """Check e-mail and password, counting failures and locking the account after too many.

    Raises:
        AccountLocked: the account is locked (also after this failure pushed it over the limit).
        InvalidCredentials: unknown e-mail, wrong password or inactive account.
    """
    user = find_user_by_email(session, email)
    now = clock.now()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        _check_password(None, password)
        audit.record(session, clock, user, "login.refused_locked", obj=user, context=context)
        raise AccountLocked(until=user.locked_until)
    if user is None or not user.is_active or not _check_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + lockout
                user.failed_logins = 0
                audit.record(session, clock, user, "login.locked", obj=user, context=context)
                raise AccountLocked(until=user.locked_until)
            audit.record(session, clock, user, "login.failed", obj=user, context=context)
        else:
            audit.record(session, clock, None, "login.failed_unknown", context=context)
        raise InvalidCredentials()
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    if not user.has_two_factor:  # otherwise the count goes on until the second factor passes
        user.failed_logins = 0
        user.locked_until = None
    return user


def complete_login(session: Session, clock: Clock, user: User, method: str,
                   context: AuditContext | None = None) -> None:
    """Record a finished sign-in (after the second factor, where one is needed)."""
    user.last_login_at = clock.now()
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, clock, user, "login.success", obj=user, context=context, method=method)


def sign_out_everywhere(session: Session, clock: Clock, user: User,
                        context: AuditContext | None = None) -> None:
    """Invalidate every session of ``user`` (cookies carry the epoch)."""
    user.session_epoch += 1
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
        raise InvalidCredentials()
    set_password(session, clock, user, user, new, context)


def set_password(session: Session, clock: Clock, actor: User, user: User, password: str,
                 context: AuditContext | None = None) -> None:
    user.password_hash = hash_password(password)
    user.session_epoch += 1
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
    step = _matching_step(secret, code, clock.now().timestamp())
    if step is None:
        raise InvalidTwoFactorCode()
    user.totp_secret_enc = keys.seal(TOTP_PURPOSE, secret.encode())
    user.totp_enabled_at = clock.now()
    user.totp_last_step = step
    codes = _new_recovery_codes(session, keys, user)
    audit.record(session, clock, user, "2fa.enabled", obj=user, context=context)
    return codes


def verify_second_factor(session: Session, clock: Clock, keys: Keys, user: User, code: str,
                         context: AuditContext | None = None, *, max_failures: int = 5,
                         lockout: timedelta = timedelta(minutes=15)) -> str:
    """Accept a TOTP code (each time-step once) or an unused recovery code; returns the method.

    Wrong codes count towards the same lockout as wrong passwords, so someone who has the
    password cannot try the million six-digit codes from many addresses.

    Raises:
        InvalidTwoFactorCode: wrong, expired or replayed code, or the account is locked.
    """
    now = clock.now()
    if user.totp_secret_enc is None:
        raise InvalidTwoFactorCode()
    if user.locked_until is not None and user.locked_until > now:
        audit.record(session, clock, user, "2fa.refused_locked", obj=user, context=context)
        raise InvalidTwoFactorCode()
    secret = keys.open(TOTP_PURPOSE, user.totp_secret_enc).decode()
    step = _matching_step(secret, code, clock.now().timestamp())
    if step is not None and step > user.totp_last_step:
        user.totp_last_step = step
        return "totp"
    normalised = (code or "").strip().replace("-", "").replace(" ", "").lower()
    if len(normalised) == 10:
        wanted = keys.mac(b"recovery-code-v1", normalised)
        for rc in user.recovery_codes:
            if rc.used_at is None and hmac.compare_digest(rc.code_hash, wanted):
                rc.used_at = clock.now()
                audit.record(session, clock, user, "2fa.recovery_code_used", obj=user,
                             context=context)
                return "recovery_code"
    audit.record(session, clock, user, "2fa.failed", obj=user, context=context,
                 replay=step is not None)
    user.failed_logins += 1
    if user.failed_logins >= max_failures:
        user.locked_until = now + lockout
        user.failed_logins = 0
        audit.record(session, clock, user, "login.locked", obj=user, context=context)
    raise InvalidTwoFactorCode()


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
    """Create an account (officials and observers; voters arrive through an identity provider)."""
    user = User(email=email.strip().lower(), display_name=display_name.strip(),
                password_hash=hash_password(password) if password else None, locale=locale,
                created_at=clock.now())
    session.add(user)
    session.flush()
    audit.record(session, clock, actor, "user.created", obj=user, context=context)
    return user


def grant_membership(session: Session, clock: Clock, actor: User | None, user: User, role: Role, *,
                     commission: Commission | None = None, municipality_id: int | None = None,
                     case_id: int | None = None, context: AuditContext | None = None) -> Membership:
    """Give ``user`` a role. The scope must fit the role.

    Raises:
        InvalidMembership: e.g. a commission role without a commission, CVK role with a
            non-CVK commission, an observer without a municipality or case.
    """
    if role in CVK_ROLES:
        if commission is None or commission.kind != CommissionKind.CVK:
            raise InvalidMembership()
    elif role in COMMISSION_ROLES:
        if commission is None or commission.kind == CommissionKind.CVK:
            raise InvalidMembership()
    elif role == Role.OBSERVER:
        if commission is not None or (municipality_id is None and case_id is None):
            raise InvalidMembership()
    else:
        raise InvalidMembership()
    existing = next((m for m in user.memberships if m.role == role
                     and m.commission_id == (commission.id if commission else None)
                     and m.municipality_id == municipality_id and m.case_id == case_id), None)
    if existing is not None:
        return existing
    membership = Membership(role=role, commission=commission, municipality_id=municipality_id,
                            case_id=case_id, granted_by_id=actor.id if actor else None,
                            created_at=clock.now())
    user.memberships.append(membership)
    session.flush()
    audit.record(session, clock, actor, "membership.granted", obj=user, context=context,
                 role=str(role), commission_id=commission.id if commission else None,
                 municipality_id=municipality_id or (commission.municipality_id if commission else None),
                 case_id=case_id)
    return membership


def revoke_membership(session: Session, clock: Clock, actor: User, membership: Membership,
                      context: AuditContext | None = None) -> None:
    user = membership.user
    audit.record(session, clock, actor, "membership.revoked", obj=user, context=context,
                 role=str(membership.role), commission_id=membership.commission_id,
                 municipality_id=membership.scope_municipality_id, case_id=membership.case_id)
    user.memberships.remove(membership)
    user.session_epoch += 1
    session.flush()


# Voters (identity providers) --------------------------------------------------------------

class InvalidOneTimeCode(AccountError):
    message = "The code is wrong or has expired. Ask for a new one."


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

    Raises:
        InvalidOneTimeCode: no pending code, expired, used, wrong, or too many attempts.
    """
    ref = keys.personal_codes.lookup_hash(personal_code)
    now = clock.now()
    pending = session.scalars(
        select(OneTimeCode).where(OneTimeCode.person_ref == ref, OneTimeCode.used_at.is_(None))
        .order_by(OneTimeCode.id.desc())).first()
    if pending is None or pending.expires_at <= now or pending.attempts >= OTP_MAX_ATTEMPTS:
        raise InvalidOneTimeCode()
    wanted = keys.mac(b"otp-v1", ref + (code or "").strip())
    if not hmac.compare_digest(pending.code_hash, wanted):
        pending.attempts += 1
        raise InvalidOneTimeCode()
    pending.used_at = now
    return find_or_create_voter(session, clock, keys, personal_code)
