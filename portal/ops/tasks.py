"""The Celery heartbeat: beat queues it every minute, a worker runs it and stamps the time in
Redis. ``/metrics`` shows its age, so one alert ("heartbeat older than 5 minutes") covers the
whole chain: beat running, broker reachable, a worker consuming the queue."""
from __future__ import annotations

import time

from flask import current_app

from portal.celery_app import celery

HEARTBEAT_EVERY_SECONDS = 60.0


def heartbeat_key(queue: str) -> str:
    """The Redis key holding the last heartbeat of ``queue`` (unix time)."""
    return f"portal:heartbeat:{queue}"


@celery.task(name="portal.ops.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Record that a worker of this queue is alive (idempotent: only the newest time counts)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.set(heartbeat_key(current_app.config.get("CELERY_QUEUE", "portal")),
                   f"{time.time():.3f}", ex=24 * 3600)
    finally:
        client.close()


celery.add_periodic_task(HEARTBEAT_EVERY_SECONDS, heartbeat, name="ops-heartbeat")
