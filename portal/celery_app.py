"""The Celery app, knowing no area: each area's ``tasks`` module registers its tasks
(``@celery.task``) and its beat entries (``celery.add_periodic_task``) when imported, and the
app factory imports those modules, as it registers the blueprints.

With ``REDIS_URL`` tasks go to Redis and a worker (plus beat) runs them; the entry point that
builds the app for them is ``portal.worker`` (``referendum-portal worker`` / ``beat``). Without
it, ``.delay()`` runs the task eagerly in-process. Every task runs inside the bound app's
context and one transaction (``in_transaction``); tasks take ids, are idempotent and retry with
back-off.
"""
from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.signals import setup_logging, worker_process_init
from flask import Flask

from portal.database import in_transaction

__all__ = ["celery", "in_transaction", "init_celery", "prepare_worker"]

_bound: dict[str, Flask] = {}


class AppTask(Task):  # type: ignore[misc]
    """Runs the task body inside the context of the app bound by ``init_celery``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        app = _bound.get("app")
        if app is None:
            raise RuntimeError("no portal app is bound to Celery: start workers through "
                               "portal.worker (referendum-portal worker)")
        with app.app_context():
            return super().__call__(*args, **kwargs)


celery = Celery("portal", task_cls=AppTask)
celery.conf.update(
    task_always_eager=True, task_eager_propagates=True, task_ignore_result=True,
    broker_url="memory://", task_acks_late=True, worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True, timezone="UTC",
)


def init_celery(app: Flask) -> Celery:
    """Bind the Celery app to ``app``: Redis broker when ``REDIS_URL`` is set, else eager."""
    _bound["app"] = app
    redis_url = app.config.get("REDIS_URL")
    celery.conf.update(
        broker_url=redis_url or "memory://",
        task_always_eager=not redis_url,
        task_default_queue=app.config.get("CELERY_QUEUE", "portal"),
    )
    app.extensions["celery"] = celery
    return celery


def prepare_worker(app: Flask) -> Celery:
    """Make this process a worker or beat of ``app``: keep the portal's logging and give each
    forked pool process database connections of its own."""

    @setup_logging.connect(weak=False)
    def _keep_portal_logging(**_kw: Any) -> None:
        """The portal's JSON logging is already in place; keep Celery from replacing it."""

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_kw: Any) -> None:
        # A forked pool process must not share the parent's database connections.
        app.extensions["portal_db"].engine.dispose(close=False)

    return init_celery(app)
