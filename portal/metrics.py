"""Prometheus metrics of the portal: the counters other areas increment, and the exposition.

Import the helpers where the event happens, after the transaction that makes it true::

    from portal import metrics
    on_commit(metrics.ballot_accepted)
    metrics.ballot_refused("proof")          # a short, fixed reason word, never input
    metrics.message_delivered("socketio")    # or "mail", "pgp-mail"
    metrics.socket_connected() / metrics.socket_disconnected()

Labels take fixed words only (endpoint names, reasons): never ids, paths or personal data, which
would also make the series unbounded.

Several gunicorn workers share the figures through ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client
"multiprocess mode"). The variable must be set before this module is first imported, which
``referendum-portal serve`` does before it starts gunicorn; each portal process (each systemd
instance) needs its own, emptied directory.
"""
from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Latency buckets around the targets (p99 < 250 ms for casting, p95 < 50 ms for case pages).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

http_requests = Counter(
    "portal_http_requests", "HTTP requests answered, by Flask endpoint, method and status.",
    ["endpoint", "method", "status"])
http_latency = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request reaching the app to its response (including the commit).",
    ["endpoint", "method"], buckets=LATENCY_BUCKETS)
socket_connections = Gauge(
    "portal_socket_connections", "Socket.IO connections currently open on this process.",
    multiprocess_mode="livesum")
ballots_accepted = Counter("portal_ballots_accepted", "Ballots accepted into the ballot box.")
lean_casts = Counter(
    "portal_lean_casts", "Ballots accepted on the lean cast path (portal.voting.lean_cast); "
    "the other accepted ballots took the full Flask request.")
lean_signatures = Counter(
    "portal_lean_signatures", "Online initiative signatures taken on the lean signing path "
    "(portal.initiatives.lean_sign); the others took the full Flask request.")
ballots_refused = Counter(
    "portal_ballots_refused", "Ballots refused, by reason.", ["reason"])
messages_delivered = Counter(
    "portal_messages_delivered", "Messages delivered, by channel.", ["channel"])


def ballot_accepted() -> None:
    """Count one accepted ballot (call after the commit that stores it)."""
    ballots_accepted.inc()


def lean_cast_answered() -> None:
    """Count one ballot the lean cast path accepted (also counted by ``ballot_accepted``)."""
    lean_casts.inc()


def lean_sign_answered() -> None:
    """Count one online signature the lean signing path took."""
    lean_signatures.inc()


def ballot_refused(reason: str) -> None:
    """Count one refused ballot; ``reason`` is a fixed word such as ``proof`` or ``closed``."""
    ballots_refused.labels(reason=reason).inc()


def message_delivered(channel: str) -> None:
    """Count one delivered message; ``channel`` is a fixed word such as ``socketio`` or ``mail``."""
    messages_delivered.labels(channel=channel).inc()


def socket_connected() -> None:
    """A Socket.IO client connected to this process."""
    socket_connections.inc()


def socket_disconnected() -> None:
    """A Socket.IO client of this process went away."""
    socket_connections.dec()


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    """Record one answered HTTP request."""
    http_requests.labels(endpoint=endpoint, method=method, status=str(status)).inc()
    http_latency.labels(endpoint=endpoint, method=method).observe(seconds)


def is_multiprocess() -> bool:
    """Are the figures shared between processes through ``PROMETHEUS_MULTIPROC_DIR``?"""
    return bool(os.environ.get(MULTIPROC_ENV))


class QueueDepthCollector:
    """The Celery queue's length on the Redis broker, read at scrape time."""

    def __init__(self, redis_url: str | None, queue: str) -> None:
        self.redis_url, self.queue = redis_url, queue

    def collect(self) -> Any:
        """Yield the queue depth and heartbeat age gauges (absent when Redis does not answer)."""
        family = GaugeMetricFamily("portal_celery_queue_depth",
                                   "Tasks waiting in the Celery queue on Redis.", labels=["queue"])
        if self.redis_url:
            import redis

            client = redis.Redis.from_url(self.redis_url, socket_timeout=1,
                                          socket_connect_timeout=1)
            try:
                family.add_metric([self.queue], float(client.llen(self.queue)))
                beat = client.get(f"portal:heartbeat:{self.queue}")
            except redis.RedisError:
                return
            finally:
                client.close()
            yield family
            if beat is not None:
                age = GaugeMetricFamily(
                    "portal_celery_heartbeat_age_seconds",
                    "Seconds since a worker last ran the heartbeat task that beat queues "
                    "every minute (beat, broker and workers all working).", labels=["queue"])
                age.add_metric([self.queue], max(0.0, time.time() - float(beat)))
                yield age
        else:
            family.add_metric([self.queue], 0.0)
            yield family


def exposition(redis_url: str | None, queue: str) -> tuple[bytes, str]:
    """The metrics text of this process (or, in multiprocess mode, of all its workers)."""
    if is_multiprocess():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(QueueDepthCollector(redis_url, queue))  # type: ignore[arg-type]
    return body + generate_latest(extra), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (gunicorn ``child_exit`` hook)."""
    if is_multiprocess():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
