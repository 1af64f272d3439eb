"""Retention jobs (SECURITY.md "Retention"): the periods come from the configuration,
the rules from the packages that own the data (``referendum_core.retention``,
``messaging.retention``, ``portal.accounts.retention``). Each kind runs in its own transaction,
so a failure in one leaves the others done and is retried by the next run (every purge is
idempotent). Run daily by Celery beat, or by ``referendum-portal retention run`` from cron
(``portal.retention_cli``).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from messaging.retention import purge_notifications
from portal.accounts.retention import purge_ended_sessions, purge_one_time_codes
from portal.celery_app import celery, in_transaction
from referendum_core.clock import Clock
from referendum_core.retention import PURGES as CORE_PURGES
from referendum_core.retention import RetentionPolicy

log = logging.getLogger(__name__)
Purge = Callable[..., dict[str, int]]

# Every kind in the order it runs: one transaction and one audit entry each.
PURGES: dict[str, Purge] = {
    **CORE_PURGES,
    "one_time_codes": purge_one_time_codes,
    "ended_sessions": purge_ended_sessions,
    "notifications": purge_notifications,
}

RUN_EVERY = 86400.0  # seconds: daily


def policy_from_config(config: Mapping[str, Any]) -> RetentionPolicy:
    """The retention periods of the portal's settings (``*_RETENTION_*``).

    Raises:
        ValueError: a negative period.
    """
    return RetentionPolicy(
        signatures=timedelta(days=int(config["SIGNATURE_RETENTION_DAYS"])),
        one_time_codes=timedelta(hours=int(config["ONE_TIME_CODE_RETENTION_HOURS"])),
        notifications=timedelta(days=int(config["NOTIFICATION_RETENTION_DAYS"])),
        register_imports=timedelta(days=int(config["REGISTER_IMPORT_RETENTION_DAYS"])),
        home_voting=timedelta(days=int(config["HOME_VOTING_RETENTION_DAYS"])),
        voter_marks=timedelta(days=int(config["VOTER_MARK_RETENTION_DAYS"])),
        ended_sessions=_lifetime(config["PERMANENT_SESSION_LIFETIME"]),
    )


def _lifetime(value: timedelta | int | float) -> timedelta:
    """Flask takes the session lifetime as a timedelta or as seconds."""
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def run_all(run: Callable[[Callable[[Session], dict[str, int]]], dict[str, int]],
            clock: Clock, policy: RetentionPolicy, *, dry_run: bool = False
            ) -> dict[str, dict[str, int]]:
    """Run every purge through ``run`` (one transaction each); returns the counts per kind."""
    results: dict[str, dict[str, int]] = {}
    for kind, purge in PURGES.items():
        results[kind] = run(lambda session, purge=purge: purge(
            session, clock, policy, dry_run=dry_run))
    return results


def run_retention_now(*, dry_run: bool = False) -> dict[str, dict[str, int]]:
    """Apply the configured retention in the current app, one transaction per kind."""
    app = current_app
    policy = policy_from_config(app.config)
    results = run_all(in_transaction, app.extensions["clock"], policy, dry_run=dry_run)
    log.info("retention %s: %s", "dry run" if dry_run else "done",
             {kind: sum(counts.values()) for kind, counts in results.items()})
    return results


@celery.task(name="portal.retention.run_retention")
def run_retention() -> dict[str, dict[str, int]]:
    """Beat task (daily): delete personal data past its retention period (idempotent)."""
    return run_retention_now()


celery.add_periodic_task(RUN_EVERY, run_retention, name="retention-run-daily")
