"""gunicorn settings and hooks for ``referendum-portal serve`` (``-c python:portal.gunicorn_conf``).

Binding, worker class and counts come from the command line; this module adds the parts that
need code: JSON logs for gunicorn's own messages, and Prometheus multiprocess housekeeping
(empty the metrics directory at start, drop a dead worker's live gauges, remove a directory
``serve`` created itself at exit).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

OWNED_METRICS_DIR_ENV = "PORTAL_METRICS_DIR_OWNED"


class PortalLogger(Logger):
    """gunicorn's logger without its access log. The portal logs every request itself, so the
    access log is off; but with a ``logconfig_dict`` (JSON logs) gunicorn still gathered each
    request's access-log fields and then dropped the line, about 2 % of a ballot pool
    worker's CPU (py-spy, ``bench.cast``)."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Nothing: the portal's own request line (``portal.request``) is the access log."""

# Requests are logged by the portal itself (one JSON line with the request id); gunicorn's access
# log would only repeat them without the id.
accesslog = None
logger_class = "portal.gunicorn_conf.PortalLogger"
errorlog = "-"
# gunicorn 24+ opens a control socket at one fixed path per user: several portal processes on one
# machine would fight over it, and the portal does not use it (systemd sends the signals).
control_socket_disable = True
# Let the proxy's X-Forwarded-* through to the app (ProxyFix decides what to trust); gunicorn
# itself only listens on loopback or a private address behind nginx.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

if os.environ.get("LOG_FORMAT", "json" if os.environ.get("PORTAL_ENV") == "production"
                  else "text").lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "portal.logging.JsonFormatter"}},
        "filters": {
            "request_id": {"()": "portal.logging.RequestIdFilter"},
            "personal_codes": {"()": "portal.logging.PersonalCodeFilter"},
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json",
                     "filters": ["request_id", "personal_codes"], "stream": "ext://sys.stderr"},
        },
        # gunicorn merges this dict shallowly over its defaults, so the root logger is named
        # here; the portal app adds its own JSON handler to it when a worker loads the app.
        "root": {"handlers": [], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["json"], "level": "INFO", "propagate": False},
            # The portal logs each request itself, with its request id.
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }


def on_starting(server: Any) -> None:
    """Start with an empty Prometheus multiprocess directory (old files would add up)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its live gauges (socket connections) must stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from portal.metrics import mark_process_dead

        mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the metrics directory when ``serve`` created it for this run."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.environ.get(OWNED_METRICS_DIR_ENV) == "1":
        shutil.rmtree(directory, ignore_errors=True)


#: CPython's defaults are (700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 100)


def post_worker_init(worker: Any) -> None:
    """Keep the garbage collector off the objects every worker loads once and keeps, and run
    it less often.

    A worker holds the app, its modules, SQLAlchemy's metadata and compiled statements, the
    translations, and in a gevent worker the state of every connected socket: hundreds of
    thousands of long-lived objects that every full collection walks again, and a gevent worker
    answers nobody while a collection runs, so under load the pauses become the delivery
    latency's tail. ``gc.freeze()`` after loading moves the loaded objects out of the
    collector's sight; the thresholds make collections rarer, which costs little because the
    garbage only the collector frees is small in steady use (a few dozen objects a cast or a
    message post). The figures are in ``bench/results.md`` ("garbage collection")."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
