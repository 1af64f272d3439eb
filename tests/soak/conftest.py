"""The soak test reuses the deployment tests' harness (throw-away PostgreSQL database, processes
killed by group, bounded waits) with a Redis database number of its own."""
from __future__ import annotations

import os
import re

import pytest

from tests.deploy.conftest import make_database, pg_url, processes  # noqa: F401 - fixtures

# The deployment tests use 12, the benchmarks 13.
SOAK_REDIS_DB = 14


@pytest.fixture()
def soak_redis_url() -> str:
    """``REDIS_URL`` pointed at the soak test's own database number (skips without Redis)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: the soak test needs Redis (.ci/run sets REDIS_URL "
                    "when Redis answers on 6379)")
    import redis

    base = re.sub(r"/\d*$", "", url)
    ours = f"{base}/{SOAK_REDIS_DB}"
    try:
        redis.Redis.from_url(ours, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at REDIS_URL does not answer: {exc}")
    return ours
