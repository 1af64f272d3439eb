"""Celery beat task: escalate cases nearing or past their deadline (every 15 minutes).

The rule lives in ``referendum_core.cases.deadlines.escalate_due_cases``; the portal service
``portal.cases.services.escalate_cases`` runs it and posts each reminder in the case's thread.
This task runs that service in one transaction.
"""
from __future__ import annotations

from flask import current_app

from portal.cases import services
from portal.celery_app import celery, in_transaction

ESCALATE_EVERY = 900.0  # seconds


@celery.task(name="portal.cases.tasks.escalate_cases")
def escalate_cases() -> dict[str, int]:
    """Beat task: remind owners, then chairs, then CVK; close lapsed court windows."""
    app = current_app
    return in_transaction(lambda session: services.escalate_cases(
        session, app.extensions["clock"], app.extensions["calendar"]))


celery.add_periodic_task(ESCALATE_EVERY, escalate_cases, name="cases-escalate-due")
