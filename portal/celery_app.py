"""The Celery app. With ``REDIS_URL`` tasks go to Redis and a worker (plus beat) runs them:

    celery -A portal.celery_app:celery worker -B

Without it, ``.delay()`` runs the task eagerly in-process. Every task runs inside an app context
and one transaction (``in_transaction``); tasks take ids, are idempotent and retry with back-off.
"""
from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask

from portal.database import in_transaction

__all__ = ["celery", "in_transaction", "init_celery"]

log = logging.getLogger(__name__)
_bound: dict[str, Flask] = {}


def _flask_app() -> Flask:
    app = _bound.get("app")
    if app is None:  # a worker process: build the app from the environment
        from portal.app import create_app

        app = create_app()
    return app


class AppTask(Task):  # type: ignore[misc]
    """Runs the task body inside the portal app's context."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with _flask_app().app_context():
            return super().__call__(*args, **kwargs)


celery = Celery("portal", task_cls=AppTask)
celery.conf.update(
    task_always_eager=True, task_eager_propagates=True, task_ignore_result=True,
    broker_url="memory://", task_acks_late=True, worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)


def init_celery(app: Flask) -> Celery:
    """Bind the Celery app to ``app``: Redis broker when ``REDIS_URL`` is set, else eager."""
    from portal.cases.tasks import BEAT_SCHEDULE as CASE_BEAT_SCHEDULE
    from portal.checkpoints import BEAT_SCHEDULE as CHECKPOINT_BEAT_SCHEDULE
    from portal.initiatives.tasks import BEAT_SCHEDULE as INITIATIVE_BEAT_SCHEDULE
    from portal.retention import BEAT_SCHEDULE as RETENTION_BEAT_SCHEDULE

    _bound["app"] = app
    redis_url = app.config.get("REDIS_URL")
    celery.conf.update(
        broker_url=redis_url or "memory://",
        task_always_eager=not redis_url,
        task_default_queue=app.config.get("CELERY_QUEUE", "portal"),
        timezone="UTC",
        beat_schedule={
            "messaging-send-due-notifications": {
                "task": "portal.messages.tasks.send_due_notifications",
                "schedule": 60.0,
            },
            **CASE_BEAT_SCHEDULE,
            **INITIATIVE_BEAT_SCHEDULE,
            **RETENTION_BEAT_SCHEDULE,
            **CHECKPOINT_BEAT_SCHEDULE,
        },
    )
    app.extensions["celery"] = celery
    import portal.accounts.tasks  # noqa: F401 - registers the account e-mail tasks
    import portal.cases.tasks  # noqa: F401 - registers the case escalation task
    import portal.messages.tasks  # noqa: F401 - registers the messaging tasks
    import portal.observation.tasks  # noqa: F401 - registers the report thread task

    return celery
