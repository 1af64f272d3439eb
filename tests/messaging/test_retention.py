"""Retention of the notification outbox: settled rows (sent, cancelled, failed) go after the
period; pending rows — never tried or waiting for a retry — are never deleted."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from messaging import services
from messaging.models import Notification, NotificationKind, NotificationStatus
from messaging.retention import purge_notifications
from messaging.rules import Target, TargetKind
from referendum_core.audit import AuditEntry
from referendum_core.retention import AUDIT_ACTION, RetentionPolicy

DAY = timedelta(days=1)
POLICY = RetentionPolicy(notifications=30 * DAY, batch_size=2)


def _outbox(session, clock, people):
    member, officer = people.member(), people.cvk_officer()
    thread = services.create_thread(session, clock, member, subject="Iecirkņa telpas",
                                    text="Vai drīkstam pārcelt iecirkni?",
                                    targets=[Target(TargetKind.CVK)])
    message = services.messages_of(session, thread)[0]
    session.query(Notification).delete()  # only the rows made below
    now = clock.now()

    def row(name, status, *, last, sent=False, attempts=0):
        item = Notification(user_id=officer.id, thread_id=thread.id, message_id=message.id,
                            kind=NotificationKind.MENTION, status=status,
                            created_at=now - last - DAY, next_attempt_at=now - last,
                            sent_at=now - last if sent else None, attempts=attempts,
                            last_error="SMTPServerDisconnected: mail@cvk.lv" if attempts else None)
        session.add(item)
        return name, item

    rows = dict([
        row("old_sent", NotificationStatus.SENT, last=31 * DAY, sent=True),
        row("old_cancelled", NotificationStatus.CANCELLED, last=40 * DAY),
        row("old_failed", NotificationStatus.FAILED, last=31 * DAY, attempts=8),
        row("new_sent", NotificationStatus.SENT, last=29 * DAY, sent=True),
        row("old_pending", NotificationStatus.PENDING, last=400 * DAY),
        row("retrying", NotificationStatus.PENDING, last=60 * DAY, attempts=3),
    ])
    session.flush()
    return {name: item.id for name, item in rows.items()}


def _left(session, rows):
    ids = set(session.scalars(select(Notification.id)))
    return {name for name, row_id in rows.items() if row_id in ids}


def test_settled_rows_go_after_the_period_pending_ones_never(db_session, clock, people):
    rows = _outbox(db_session, clock, people)
    assert purge_notifications(db_session, clock, POLICY) == {"notifications": 3}
    assert _left(db_session, rows) == {"new_sent", "old_pending", "retrying"}
    (entry,) = db_session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION))
    assert entry.detail_dict["kind"] == "notifications"
    assert entry.detail_dict["notifications"] == 3
    assert "mail@cvk.lv" not in entry.detail
    assert purge_notifications(db_session, clock, POLICY) == {"notifications": 0}


def test_dry_run_deletes_nothing_and_writes_no_audit(db_session, clock, people):
    rows = _outbox(db_session, clock, people)
    assert purge_notifications(db_session, clock, POLICY, dry_run=True) == {"notifications": 3}
    assert _left(db_session, rows) == set(rows)
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION)
                              ).all() == []
