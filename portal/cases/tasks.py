"""Celery beat task: escalate cases nearing or past their deadline (every 15 minutes).

The rule lives in ``referendum_core.cases.deadlines.escalate_due_cases``; this task runs it in
one transaction and posts each reminder as a system message in the case's thread, whose
participants are the municipal commission (including its chair), CVK and the requester —
messaging's own notifications then reach people who have not read it.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext

from portal.cases import services as portal_services
from portal.cases.labels import NOTIFY, TRANSITIONS, label
from portal.celery_app import celery, in_transaction
from referendum_core.cases.deadlines import escalate_due_cases
from referendum_core.cases.models import Case
from referendum_core.clock import to_riga

ESCALATE_EVERY = 900.0  # seconds


def _notice(escalation: Any) -> str:
    when = to_riga(escalation.deadline_at).strftime("%d.%m.%Y %H:%M")
    if escalation.auto_transition:
        return gettext("The deadline (%(when)s) has passed: %(action)s.", when=when,
                       action=label(TRANSITIONS, escalation.auto_transition))
    return gettext("Deadline %(when)s: %(step)s.", when=when,
                   step=label(NOTIFY, escalation.notify))


def run_escalation(session: Any) -> dict[str, int]:
    """Escalate due cases in ``session`` and post a notice in each case's thread."""
    app = current_app
    done = escalate_due_cases(session, app.extensions["clock"], app.extensions["calendar"])
    counts: dict[str, int] = {}
    with force_locale(app.config.get("BABEL_DEFAULT_LOCALE", "lv")):
        for escalation in done:
            case = session.get(Case, escalation.case_id)
            portal_services.notify_in_thread(session, app.extensions["clock"], case,
                                             _notice(escalation))
            key = escalation.notify or "automatic"
            counts[key] = counts.get(key, 0) + 1
    return counts


@celery.task(name="portal.cases.tasks.escalate_cases")
def escalate_cases() -> dict[str, int]:
    """Beat task: remind owners, then chairs, then CVK; close lapsed court windows."""
    return in_transaction(run_escalation)


celery.add_periodic_task(ESCALATE_EVERY, escalate_cases, name="cases-escalate-due")
