"""Celery task: open the message thread of a report received from the observer app.

Opening a case's thread makes its data key (an OpenPGP operation); on referendum day reports
arrive together, so the thread is opened after the report is committed and the commission has
been told, not while the observer's phone waits for its receipt. Idempotent: opening a thread
that exists returns it.
"""
from __future__ import annotations

from flask import current_app

from portal.accounts.models import User
from portal.cases import services as portal_services
from portal.celery_app import celery, in_transaction
from referendum_core.cases.models import Case


@celery.task(name="portal.observation.tasks.open_report_thread")
def open_report_thread(case_id: int, user_id: int) -> bool:
    """Open the thread of case ``case_id`` (filed by ``user_id``); False if the case is gone."""
    clock = current_app.extensions["clock"]

    def work(session):  # type: ignore[no-untyped-def]
        case = session.get(Case, case_id)
        if case is None:
            return False
        portal_services.open_thread(session, clock, session.get(User, user_id), case)
        return True

    return bool(in_transaction(work))
