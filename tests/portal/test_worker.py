"""``portal.worker``: the worker and beat entry point builds the app, and the areas' tasks and
beat entries are there because each area registered its own (``portal.celery_app`` knows none)."""
from __future__ import annotations

import pytest

from portal import celery_app

AREA_BEAT_ENTRIES = {
    "cases-escalate-due": "portal.cases.tasks.escalate_cases",
    "checkpoints-audit": "portal.checkpoints.sign_audit",
    "checkpoints-boards": "portal.checkpoints.sign_boards",
    "initiatives-run-deadlines": "portal.initiatives.tasks.run_initiative_deadlines",
    "initiatives-publish-signature-boards": "portal.initiatives.tasks.publish_signature_boards",
    "messaging-send-due-notifications": "portal.messages.tasks.send_due_notifications",
    "ops-heartbeat": "portal.ops.tasks.heartbeat",
    "retention-run-daily": "portal.retention.run_retention",
}


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'worker.sqlite3'}")
    monkeypatch.setenv("PORTAL_GNUPGHOME", str(tmp_path / "gnupg"))
    monkeypatch.setenv("LOG_FORMAT", "")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    bound = dict(celery_app._bound)
    yield tmp_path
    celery_app._bound.clear()
    celery_app._bound.update(bound)


def test_the_worker_entry_point_builds_the_app_and_every_area_registered_itself(env):
    import portal.worker

    celery = portal.worker.celery  # what ``celery -A portal.worker:celery`` loads
    try:
        assert celery is celery_app.celery
        assert celery_app._bound["app"].extensions["celery"] is celery
        schedule = celery.conf.beat_schedule
        for entry, task in AREA_BEAT_ENTRIES.items():
            assert schedule[entry]["task"] == task
            assert task in celery.tasks
        for task in ("portal.accounts.tasks.send_invitation",
                     "portal.initiatives.tasks.check_initiative_signatures",
                     "portal.checkpoints.sign_after_stage_change"):
            assert task in celery.tasks
    finally:
        del portal.worker.celery  # the next access builds a fresh app
    with pytest.raises(AttributeError):
        portal.worker.no_such_name  # noqa: B018


def test_a_task_run_without_a_bound_app_says_how_to_start_workers(env):
    from portal.ops.tasks import heartbeat

    celery_app._bound.clear()
    with pytest.raises(RuntimeError, match="portal.worker"):
        heartbeat()
