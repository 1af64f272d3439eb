"""The entry point of Celery workers and beat: it builds the portal app (whose areas register
their tasks and beat entries) from the environment and binds Celery to it::

    celery -A portal.worker:celery worker -B

``referendum-portal worker`` and ``beat`` (``portal.ops.cli``) do the same with the portal's
queue and options. The app is built on first access to ``celery``, not on import.
"""
from __future__ import annotations

from typing import Any

from celery import Celery

from portal.app import create_app
from portal.celery_app import prepare_worker

__all__ = ["worker_celery"]  # and ``celery``, built on first access


def worker_celery() -> Celery:
    """A portal app built from the environment, and the Celery app bound to it for a worker."""
    return prepare_worker(create_app())


def __getattr__(name: str) -> Any:
    if name == "celery":
        app = worker_celery()
        globals()["celery"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
