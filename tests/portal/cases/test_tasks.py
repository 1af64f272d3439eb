"""The beat task: escalations become notices in the case thread; it is scheduled with beat."""
from __future__ import annotations

from datetime import datetime

from messaging import services as messaging
from portal.cases import services as portal_services
from portal.celery_app import celery
from referendum_core.clock import RIGA
from tests.case_factories import report


def test_escalation_task_is_on_the_beat_schedule(app):
    schedule = celery.conf.beat_schedule
    assert schedule["cases-escalate-due"]["task"] == "portal.cases.tasks.escalate_cases"
    assert "portal.cases.tasks.escalate_cases" in celery.tasks


def test_escalation_posts_a_notice_in_the_case_thread(app, db_session, clock, people):
    observer = people.observer()
    case = report(db_session, clock, observer)
    thread = portal_services.open_thread(db_session, clock, observer, case)
    clock.set(datetime(2026, 3, 4, 9, tzinfo=RIGA))  # triage deadline (3 March) has passed
    with app.app_context():
        counts = portal_services.escalate_cases(db_session, clock, app.extensions["calendar"])
    assert counts.get("chair", 0) >= 1
    texts = [messaging.text_of(db_session, m) for m in messaging.messages_of(db_session, thread)]
    assert any("04.03.2026" in t or "03.03.2026" in t for t in texts)
