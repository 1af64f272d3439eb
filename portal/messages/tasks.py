"""Celery tasks of messaging: thin wrappers running ``messaging.tasks`` in an app context, one
transaction per notification."""
from __future__ import annotations

import logging

from flask import current_app

from messaging import tasks as domain
from portal import metrics
from portal.celery_app import celery, in_transaction
from portal.mail import SMTPMailer

log = logging.getLogger(__name__)
DUE_EVERY = 60.0  # seconds


def _deliver(notification_id: int) -> str:
    app = current_app
    mailer = SMTPMailer(app.config.get("MAIL_URL"))
    outcome = in_transaction(lambda session: domain.deliver_notification(
        session, app.extensions["clock"], notification_id, mailer,
        sender=app.config["MAIL_FROM"]))
    if outcome == "sent":  # in_transaction returned: the row saying so is committed
        metrics.message_delivered("mail")
    return outcome


@celery.task(name="portal.messages.tasks.send_due_notifications")
def send_due_notifications() -> dict[str, int]:
    """Send every notification that is due (run by beat each minute, or the CLI)."""
    app = current_app
    ids = in_transaction(lambda session: domain.due_notification_ids(session, app.extensions["clock"]))
    outcomes: dict[str, int] = {}
    for notification_id in ids:
        try:
            outcome = _deliver(notification_id)
        except Exception:
            log.exception("notification %s could not be handled", notification_id)
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


celery.add_periodic_task(DUE_EVERY, send_due_notifications,
                         name="messaging-send-due-notifications")
