"""Retention of the accounts' own personal data: voter sign-in codes, signed-out sessions.

A one-time code row ties a person (``person_ref``) to a moment of signing in. Once used or
expired it cannot sign anyone in; it is kept ``policy.one_time_codes`` (to look into a
complaint about a sign-in the same day) and then deleted. A code still valid is never deleted.
Sessions are signed cookies with idle and absolute limits; a signed-out session's id is kept
(as a hash) only until the session would have expired anyway.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.accounts.models import EndedSession, OneTimeCode
from referendum_core.clock import Clock
from referendum_core.retention import RetentionPolicy, delete_in_batches, finish


def purge_one_time_codes(session: Session, clock: Clock, policy: RetentionPolicy, *,
                         dry_run: bool = False) -> dict[str, int]:
    """Delete sign-in codes used or expired more than ``policy.one_time_codes`` ago; writes
    one audit entry with the count."""
    cutoff = clock.now() - policy.one_time_codes
    spent = ((OneTimeCode.used_at.is_not(None) & (OneTimeCode.used_at < cutoff))
             | (OneTimeCode.expires_at < cutoff))
    count = delete_in_batches(session, OneTimeCode.id, spent, batch_size=policy.batch_size,
                              dry_run=dry_run)
    return finish(session, clock, "one_time_codes", {"one_time_codes": count}, cutoff,
                  dry_run=dry_run)


def purge_ended_sessions(session: Session, clock: Clock, policy: RetentionPolicy, *,
                         dry_run: bool = False) -> dict[str, int]:
    """Forget sessions signed out more than ``policy.ended_sessions`` (the absolute session
    lifetime) ago: their cookies are expired by then whatever the server remembers."""
    cutoff = clock.now() - policy.ended_sessions
    count = delete_in_batches(session, EndedSession.sid_hash, EndedSession.ended_at < cutoff,
                              batch_size=policy.batch_size, dry_run=dry_run)
    return finish(session, clock, "ended_sessions", {"ended_sessions": count}, cutoff,
                  dry_run=dry_run)
