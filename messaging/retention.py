"""Retention of messaging's own personal data: the notification outbox.

An outbox row says who was told about which thread, when, and (on failure) the mail server's
last error. Once it is settled — sent, cancelled (read before it was due) or failed after the
last retry — it is kept ``policy.notifications`` and then deleted. A pending row (never tried,
or waiting for its next retry) is what the outbox still owes and is never deleted, however old.
Messages themselves are case and commission records and are not deleted here.
"""
from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.orm import Session

from messaging.models import Notification, NotificationStatus
from referendum_core.clock import Clock
from referendum_core.retention import RetentionPolicy, delete_in_batches, finish

SETTLED = (NotificationStatus.SENT, NotificationStatus.CANCELLED, NotificationStatus.FAILED)


def purge_notifications(session: Session, clock: Clock, policy: RetentionPolicy, *,
                        dry_run: bool = False) -> dict[str, int]:
    """Delete settled outbox rows whose last moment (sent, else the last scheduled attempt)
    is older than ``policy.notifications``; writes one audit entry with the count."""
    cutoff = clock.now() - policy.notifications
    last_moment = func.coalesce(Notification.sent_at, Notification.next_attempt_at)
    count = delete_in_batches(session, Notification.id, Notification.status.in_(SETTLED),
                              last_moment < cutoff, batch_size=policy.batch_size,
                              dry_run=dry_run)
    return finish(session, clock, "notifications", {"notifications": count}, cutoff,
                  dry_run=dry_run)
