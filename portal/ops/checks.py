"""Readiness checks shared by ``/readyz`` and ``referendum-portal check``.

Each check answers ``ok``, ``fail``, ``warn`` (worth a look, not a reason to take the process out
of the load balancer) or ``skip`` (not configured here). A process is ready when none failed.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Flask
from sqlalchemy import text

log = logging.getLogger(__name__)

OK, FAIL, WARN, SKIP = "ok", "fail", "warn", "skip"
# Checks that start a subprocess or wait for replies are remembered this long per process.
SLOW_CHECK_TTL_SECONDS = 15.0


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    status: str
    detail: str
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Not a failure (``warn`` and ``skip`` pass)."""
        return self.status != FAIL

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape ``/readyz`` answers with."""
        return {"status": self.status, "detail": self.detail,
                "ms": round(self.seconds * 1000, 1)}


def _failure(name: str, exc: BaseException, what: str) -> tuple[str, str]:
    # The full error goes to the log; the answer names only its kind (no hosts or URLs).
    log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
    return FAIL, f"{what} ({type(exc).__name__})"


def check_database(app: Flask) -> tuple[str, str]:
    """The database answers ``SELECT 1``."""
    try:
        with app.extensions["portal_db"].engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return _failure("database", exc, "unreachable")
    return OK, app.extensions["portal_db"].engine.dialect.name


@lru_cache(maxsize=4)
def _scripts(url: str) -> Any:
    from alembic.script import ScriptDirectory

    from portal.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(url))


def check_schema(app: Flask) -> tuple[str, str]:
    """Every migration of the code is applied to the database, and no unknown one.

    Compared revision by revision (not only heads): branches that ``depends_on`` another are
    merged by Alembic, so the database's heads may be fewer than the scripts' heads.
    """
    try:
        with app.extensions["portal_db"].engine.connect() as conn:
            current = tuple(conn.execute(text("SELECT version_num FROM alembic_version"))
                            .scalars())
    except Exception as exc:
        return _failure("schema", exc, "cannot read the schema version (not migrated?)")
    if not current:
        return FAIL, "database not migrated (run referendum-portal migrate)"
    scripts = _scripts(app.config["DATABASE_URL"])
    for revision in current:
        try:
            scripts.get_revision(revision)
        except Exception:
            return FAIL, f"database is at {revision}, a migration this code does not know"
    try:
        applied = {rev.revision for rev in scripts.iterate_revisions(current, "base")}
    except Exception as exc:
        return _failure("schema", exc, "inconsistent schema version")
    missing = {rev.revision for rev in scripts.walk_revisions()} - applied
    if missing:
        return FAIL, (f"{len(missing)} migration(s) not applied: {','.join(sorted(missing))} "
                      "(run referendum-portal migrate)")
    return OK, "at head " + ",".join(sorted(current))


def check_redis(app: Flask) -> tuple[str, str]:
    """Redis (Socket.IO queue, Celery broker, rate limits) answers ``PING`` when configured."""
    url = app.config.get("REDIS_URL")
    if not url:
        return SKIP, "not configured (single process, in-memory)"
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        return _failure("redis", exc, "unreachable")
    finally:
        client.close()
    return OK, "answers PING"


def check_archive_key(app: Flask) -> tuple[str, str]:
    """The portal's OpenPGP archive key is in ``PORTAL_GNUPGHOME``."""
    keys = app.extensions.get("messaging_keys")
    if keys is None:
        return SKIP, "not configured (messaging not set up in this app)"
    try:
        present = keys.pgp.has_archive_key()
    except Exception as exc:
        return _failure("gpg", exc, "gpg does not answer")
    if present:
        return OK, f"archive key {keys.pgp.archive_fingerprint[-16:]}"
    if app.config["ENV"] == "production":
        return FAIL, "no archive key (run referendum-portal messaging init-keys)"
    return WARN, "no archive key yet"


def check_celery(app: Flask) -> tuple[str, str]:
    """A Celery worker answers a ping over the broker (when ``REDIS_URL`` is set)."""
    if not app.config.get("REDIS_URL"):
        return SKIP, "not configured (tasks run in-process)"
    celery = app.extensions.get("celery")
    if celery is None:
        return SKIP, "not configured (no Celery app)"
    if check_redis(app)[0] != OK:  # kombu would retry for seconds; the redis check says why
        return FAIL, "broker unreachable"
    try:
        # A connection of our own to this app's broker: the Celery app's pool may have been
        # made for another configuration (tests build many apps in one process).
        with celery.connection_for_write(app.config["REDIS_URL"], connect_timeout=1) as conn:
            replies = celery.control.ping(timeout=1.0, limit=1, connection=conn)
    except Exception as exc:
        return _failure("celery", exc, "broker unreachable")
    if replies:
        return OK, "a worker answered"
    # Without workers the portal still serves pages and queues tasks; taking every portal process
    # out of the load balancer for that would turn late notifications into an outage.
    status = FAIL if app.config.get("READYZ_REQUIRE_WORKER") else WARN
    return status, "no worker answered within 1 s (tasks wait in the queue)"


CHECKS: tuple[tuple[str, Callable[[Flask], tuple[str, str]], bool], ...] = (
    ("database", check_database, False),
    ("schema", check_schema, False),
    ("redis", check_redis, False),
    ("gpg", check_archive_key, True),
    ("celery", check_celery, True),
)


def run_checks(app: Flask, *, use_cache: bool = True) -> list[CheckResult]:
    """Run every check; slow ones are remembered for ``SLOW_CHECK_TTL_SECONDS`` per app."""
    cache: dict[str, tuple[float, CheckResult]] = app.extensions.setdefault("ops_check_cache", {})
    results = []
    for name, check, slow in CHECKS:
        now = time.monotonic()
        cached = cache.get(name) if (slow and use_cache) else None
        if cached and cached[0] > now:
            results.append(cached[1])
            continue
        started = time.perf_counter()
        status, detail = check(app)
        result = CheckResult(name, status, detail, time.perf_counter() - started)
        if slow:
            cache[name] = (now + SLOW_CHECK_TTL_SECONDS, result)
        results.append(result)
    return results


def is_ready(results: list[CheckResult]) -> bool:
    """No check failed."""
    return all(result.passed for result in results)
