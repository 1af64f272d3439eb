"""Notification delivery as pure functions over the outbox (the portal wraps them in Celery tasks).

A row is delivered at most once: it is locked while handled and only a ``pending`` row is sent.
A failing mail server leaves the row pending with ``next_attempt_at`` moved back (exponential
back-off) — the outbox, not the broker, remembers what is owed, so nothing is lost when Redis or
a worker restarts. After ``max_attempts`` the row is marked ``failed`` and audited.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging import directory, runtime, services
from messaging.exceptions import MessagingError, PGPError
from messaging.keyring import ThreadKeys
from messaging.models import (
    Message,
    Notification,
    NotificationKind,
    NotificationStatus,
    ReadState,
    Thread,
)
from messaging.notifications import UnreadMessage, encrypted_notice, plain_notice
from referendum_core import audit
from referendum_core.clock import Clock

log = logging.getLogger(__name__)
Mailer = Callable[[EmailMessage], None]
MAX_MESSAGES_PER_MAIL = 20


class MailNotConfigured(MessagingError):
    """No mail server is configured; notifications cannot be sent."""

    code = "mail_not_configured"


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt: 1, 2, 4 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def due_notification_ids(session: Session, clock: Clock, limit: int = 200) -> list[int]:
    """Ids of pending notifications whose time has come, oldest first."""
    return list(session.scalars(
        select(Notification.id).where(Notification.status == NotificationStatus.PENDING,
                                      Notification.next_attempt_at <= clock.now())
        .order_by(Notification.next_attempt_at, Notification.id).limit(limit)))


def thread_link(base_url: str, thread_id: int) -> str:
    """The address of a thread's page."""
    return f"{base_url.rstrip('/')}/messages/{thread_id}"


def deliver_notification(session: Session, clock: Clock, notification_id: int, mailer: Mailer,
                         *, sender: str, keys: ThreadKeys | None = None) -> str:
    """Send one outbox row if it is still owed. Returns the outcome: ``sent``, ``cancelled``
    (read meanwhile, or the person cannot be mailed), ``retry``, ``failed`` or ``skipped``
    (not pending / not due: another run handled it)."""
    settings = runtime.settings()
    keys = keys or runtime.thread_keys()
    row = session.scalars(select(Notification).where(Notification.id == notification_id)
                          .with_for_update()).first()
    now = clock.now()
    if row is None or row.status != NotificationStatus.PENDING or row.next_attempt_at > now:
        return "skipped"
    person = directory.person(session, row.user_id)
    thread = session.get(Thread, row.thread_id)
    last_read = session.scalars(select(ReadState.last_read_message_id).where(
        ReadState.thread_id == row.thread_id, ReadState.user_id == row.user_id)).first() or 0
    unread = list(session.scalars(select(Message).where(
        Message.thread_id == row.thread_id, Message.id > last_read,
        (Message.author_id.is_(None)) | (Message.author_id != row.user_id))
        .order_by(Message.id).limit(MAX_MESSAGES_PER_MAIL)))
    still_member = thread is not None and row.user_id in services.thread_user_ids(session, thread)
    if (person is None or not person.email or not person.is_active or not still_member
            or (row.kind == NotificationKind.UNREAD and not unread)
            or (row.kind == NotificationKind.MENTION and row.message_id <= last_read)):
        row.status = NotificationStatus.CANCELLED
        return "cancelled"
    assert thread is not None  # noqa: S101 - narrowed by still_member above
    link = thread_link(settings.base_url, thread.id)
    mail: EmailMessage
    encrypted = False
    fingerprint = keys.add_person_key(session, clock, thread, person.pgp_public_key,
                                      person.pgp_fingerprint) if person.pgp_public_key else None
    if fingerprint:
        authors = directory.people(session, {m.author_id for m in unread if m.author_id})
        texts = [UnreadMessage(authors[m.author_id].display_name if m.author_id in authors
                               else None, m.created_at, services.text_of(session, m, keys=keys))
                 for m in unread]
        try:
            mail = encrypted_notice(person, keys.pgp, fingerprint, sender=sender,
                                    subject=services.subject_of(session, thread, keys=keys),
                                    link=link, messages=texts,
                                    mentioned=row.kind == NotificationKind.MENTION, now=now)
            encrypted = True
        except PGPError:
            mail = plain_notice(person, sender=sender, link=link, now=now,
                            mentioned=row.kind == NotificationKind.MENTION)
    else:
        mail = plain_notice(person, sender=sender, link=link, now=now,
                            mentioned=row.kind == NotificationKind.MENTION)
    row.attempts += 1
    try:
        mailer(mail)
    except Exception as exc:  # any transport failure: keep the row and try again later
        row.last_error = f"{type(exc).__name__}: {exc}"[:300]
        if row.attempts >= settings.notify_max_attempts:
            row.status = NotificationStatus.FAILED
            audit.record(session, clock, None, "messaging.notification_failed",
                         object_type="Notification", object_id=row.id,
                         user_id=row.user_id, attempts=row.attempts)
            return "failed"
        row.next_attempt_at = now + backoff(row.attempts)
        log.warning("notification %s not sent (attempt %s): %s", row.id, row.attempts,
                    type(exc).__name__)
        return "retry"
    row.status = NotificationStatus.SENT
    row.sent_at = now
    row.was_encrypted = encrypted
    row.last_error = None
    # The e-mail covered every unread message of the thread: settle the person's other pending
    # rows of the same kind for this thread.
    for other in session.scalars(select(Notification).where(
            Notification.user_id == row.user_id, Notification.thread_id == row.thread_id,
            Notification.kind == row.kind, Notification.status == NotificationStatus.PENDING,
            Notification.id != row.id)):
        other.status = NotificationStatus.SENT
        other.sent_at = now
    return "sent"
