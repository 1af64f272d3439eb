"""Celery tasks of voting: reminders before each key-generation round's deadline.

Beat runs :func:`remind_key_generation_rounds` every ten minutes (the entry is registered
below, as every area registers its own); the rule (who still owes which
round, each reminder once per trustee, round and lead time) is
``referendum_core.voting.key_generation.due_reminders``. The rows are committed first, then one
e-mail task per reminder goes out; a trustee without an e-mail address is skipped.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app

from portal.accounts.models import User
from portal.celery_app import celery, in_transaction
from portal.database import on_commit
from portal.mail import send_from_task
from portal.voting.mail import key_generation_reminder_mail
from referendum_core.voting.key_generation import due_reminders
from referendum_core.voting.models import KeyGenerationReminder, Referendum, Trustee

log = logging.getLogger(__name__)

REMIND_EVERY = 600.0  # seconds


def queue_reminders(session: Any) -> int:
    """Record the reminders due now and queue their e-mails after commit; returns how many."""
    app = current_app
    leads = [timedelta(hours=h) for h in app.config.get("DKG_REMINDER_HOURS", (24.0, 2.0))]
    rows = due_reminders(session, app.extensions["clock"], leads)
    for row in rows:
        on_commit(lambda rid=row.id: send_key_generation_reminder.delay(rid))
    return len(rows)


@celery.task(name="portal.voting.tasks.remind_key_generation_rounds")
def remind_key_generation_rounds() -> int:
    """Beat task: remind trustees who still owe the current key-generation round."""
    return in_transaction(queue_reminders)


@celery.task(name="portal.voting.tasks.send_key_generation_reminder", bind=True,
             max_retries=5)
def send_key_generation_reminder(self, reminder_id: int) -> str:  # type: ignore[no-untyped-def]
    """E-mail one recorded reminder to its trustee."""
    app = current_app

    def compose(session):  # type: ignore[no-untyped-def]
        reminder = session.get(KeyGenerationReminder, reminder_id)
        if reminder is None:
            return None
        referendum = session.get(Referendum, reminder.referendum_id)
        trustee = next((t for t in referendum.trustees if t.position == reminder.position),
                       None) if referendum is not None else None
        user = session.get(User, trustee.user_id) if isinstance(trustee, Trustee) else None
        if user is None or not user.email:
            return None
        link = f"{app.config['BASE_URL'].rstrip('/')}/voting/{referendum.id}/trustee"
        return key_generation_reminder_mail(
            to=user.email, name=user.display_name, locale=user.locale,
            question=referendum.question(user.locale), index=reminder.position + 1,
            kind=reminder.round, deadline=reminder.deadline, link=link,
            sender=app.config["MAIL_FROM"], now=app.extensions["clock"].now())

    mail = in_transaction(compose)
    if mail is None:
        return "skipped"
    return send_from_task(self, mail, "key-generation reminder")


celery.add_periodic_task(REMIND_EVERY, remind_key_generation_rounds,
                         name="voting-key-generation-reminders")
