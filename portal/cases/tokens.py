"""Issuing, revoking and checking service tokens for the case API."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.models import SCOPES, ServiceToken
from referendum_core import audit
from referendum_core.audit import AuditContext
from referendum_core.clock import Clock
from referendum_core.refusals import Refused

PREFIX = "rpt_"


class InvalidScopes(ValueError):
    """Unknown or no scopes asked for."""


class TokenRefused(Refused):
    """A token cannot act as this owner: ``unknown_owner`` (no active account) or
    ``owner_without_cases`` (the account works with no cases)."""

    area, code = "service_token", "refused"
    REASONS = ("unknown_owner", "owner_without_cases")

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_service_token(session: Session, clock: Clock, actor: Any, owner: Any, name: str,
                        scopes: list[str], context: AuditContext | None = None
                        ) -> tuple[ServiceToken, str]:
    """Create a token acting as ``owner`` with ``scopes``; returns the row and the plaintext
    (shown once, never stored).

    Raises:
        InvalidScopes: no scopes or unknown ones.
    """
    if not scopes or not set(scopes) <= set(SCOPES):
        raise InvalidScopes(scopes)
    plaintext = PREFIX + secrets.token_urlsafe(32)
    row = ServiceToken(owner_id=owner.id, name=name.strip()[:100] or "token",
                       prefix=plaintext[:12], token_hash=_hash(plaintext),
                       scopes=" ".join(sorted(set(scopes))), created_at=clock.now())
    session.add(row)
    session.flush()
    audit.record(session, clock, actor, "service_token.issued", obj=row, context=context,
                 owner_id=owner.id, scopes=row.scopes, prefix=row.prefix)
    return row, plaintext


def revoke_service_token(session: Session, clock: Clock, actor: Any, token: ServiceToken,
                         context: AuditContext | None = None) -> None:
    """Stop a token from working (audited)."""
    token.revoked_at = clock.now()
    session.flush()
    audit.record(session, clock, actor, "service_token.revoked", obj=token, context=context,
                 prefix=token.prefix)


def authenticate_token(session: Session, clock: Clock, plaintext: str) -> ServiceToken | None:
    """The active token with this plaintext whose owner is active, or None."""
    if not plaintext.startswith(PREFIX) or len(plaintext) > 100:
        return None
    token = session.scalars(select(ServiceToken).where(
        ServiceToken.token_hash == _hash(plaintext))).first()
    if token is None or not token.is_active or not token.owner.is_active:
        return None
    token.last_used_at = clock.now()
    return token
