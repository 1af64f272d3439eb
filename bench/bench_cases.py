"""Benchmark of the case work queues with 100 000 cases.

    python bench/bench_cases.py                          # 100 000 cases, temporary SQLite file
    python bench/bench_cases.py --cases 20000 --runs 10  # quick
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench5 python bench/bench_cases.py

Seeds cases across all municipalities (bulk insert, with "opened"/"closed" events so the
dashboard has something to compute; on PostgreSQL then ``VACUUM (ANALYZE)``, as autovacuum
would after such a load), then requests pages through the Flask app as a CVK
officer and as a commission member and prints p50/p95 latency per page. The PostgreSQL
database given by ``DATABASE_URL`` should be empty; it is migrated first. Timings are not
asserted anywhere; this is for the README and for regressions.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyotp  # noqa: E402
from flask_login.utils import _create_identifier  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import portal.models  # noqa: E402,F401 - every table on the metadata
from portal.accounts import services as accounts  # noqa: E402
from portal.accounts.models import Role  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.database import make_engine  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.security import new_session_id  # noqa: E402
from referendum_core.cases.models import Case, CaseEvent  # noqa: E402
from referendum_core.clock import FixedClock  # noqa: E402
from referendum_core.organisation import (  # noqa: E402
    CommissionKind,
    Municipality,
    get_commission,
    sync_organisations,
)

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
TYPES = [("observer_report", ["submitted", "triaged", "investigating", "resolved", "dismissed"]),
         ("complaint", ["submitted", "under_review", "decided", "closed"]),
         ("commission_query", ["submitted", "answered", "closed"])]
FINAL = {"resolved", "dismissed", "closed"}


def seed(url: str, count: int, *, echo: bool = True) -> tuple[str, str, int]:
    """Bulk-insert ``count`` cases with events; returns (officer, member session ids, a case id)."""
    engine = make_engine(url)
    clock = FixedClock(NOW)
    rng = random.Random(5)
    with Session(engine) as session:
        sync_organisations(session)
        officer = accounts.create_user(session, clock, None, email="bench-officer@x.lv",
                                       display_name="Officer", password="correct horse battery")
        accounts.grant_membership(session, clock, None, officer, Role.CVK_OFFICER,
                                  commission=get_commission(session, CommissionKind.CVK))
        muni_ids = list(session.scalars(select(Municipality.id)))
        adazi = session.scalars(select(Municipality).where(
            Municipality.atvk_code == "0023000")).one()
        member = accounts.create_user(session, clock, None, email="bench-member@x.lv",
                                      display_name="Member", password="correct horse battery")
        accounts.grant_membership(session, clock, None, member, Role.COMMISSION_MEMBER,
                                  commission=get_commission(session, CommissionKind.MUNICIPAL,
                                                            adazi.id))
        for official in (officer, member):  # officials must have two-factor sign-in set up
            secret = pyotp.random_base32()
            accounts.enable_totp(session, clock, accounts.Keys("d" * 40), official, secret,
                                 pyotp.TOTP(secret).at(clock.now()))
        session.commit()
        officer_id, member_id = officer.get_id(), member.get_id()
        start_id = (session.scalar(select(Case.id).order_by(Case.id.desc())) or 0) + 1
    started = time.perf_counter()
    batch = 5000
    with engine.begin() as conn:
        for offset in range(0, count, batch):
            cases, events = [], []
            for n in range(offset, min(count, offset + batch)):
                case_type, states = rng.choice(TYPES)
                state = rng.choice(states)
                opened = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 120))
                closed = opened + timedelta(minutes=rng.randint(10, 60 * 24 * 10)) \
                    if state in FINAL else None
                deadline = opened + timedelta(days=rng.randint(1, 10))
                cid = start_id + n
                cases.append(dict(
                    id=cid, type=case_type, state=state, is_open=state not in FINAL,
                    municipality_id=rng.choice(muni_ids), title=f"Bench case {cid}",
                    summary="", owner_party="commission", opened_at=opened,
                    updated_at=closed or opened, closed_at=closed, deadline_at=deadline,
                    deadline_basis="service level", escalation_level=0, version=1))
                events.append(dict(case_id=cid, at=opened, kind="opened", actor_label="bench",
                                   note="", data="{}", deadline_at=deadline))
                if closed:
                    events.append(dict(case_id=cid, at=closed, kind="closed",
                                       actor_label="bench", note="", data="{}",
                                       deadline_at=deadline))
            conn.execute(insert(Case.__table__), cases)
            conn.execute(insert(CaseEvent.__table__), events)
    settle(engine)
    if echo:
        print(f"seeded {count} cases in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    return officer_id, member_id, start_id + count // 2


def settle(engine) -> None:
    """Give PostgreSQL what autovacuum gives a live database after a bulk load: planner
    statistics (without them the planner took 19 882 open observer reports for 38 and sorted
    them all) and the visibility map (without it no index-only scan skips the table).
    A server run with ``autovacuum = off`` never does this by itself."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in (Case.__table__, CaseEvent.__table__):
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table.name}")


def measure(client, path: str, runs: int) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def signed_in(app, session_id: str):
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_user_id"] = session_id
        sess["sid"] = new_session_id()
        sess["_fresh"] = True
        sess["_id"] = identifier
        sess.permanent = True
        sess["seen_at"] = sess["signed_in_at"] = NOW.timestamp()
    return client


PAGES = [
    ("CVK: all cases, newest", "officer", "/cases"),
    ("CVK: observer reports, open, by deadline", "officer",
     "/cases?type=observer_report&status=open&sort=deadline"),
    ("CVK: past deadline", "officer", "/cases?overdue=1"),
    ("CVK: page 500", "officer", "/cases?page=500"),
    ("commission: own municipality", "member", "/cases"),
    ("commission: submitted, unassigned", "member", "/cases?state=submitted&assignee=none"),
    ("CVK: case page", "officer", "/cases/{case_id}"),
    ("CVK: dashboard", "officer", "/cases/dashboard"),
]
RECOMPUTED = "CVK: dashboard, figures recomputed"
# The navigation's counts are kept a few seconds per person (WORK_COUNTS_CACHE_SECONDS), so the
# pages above reuse them; these are the same pages with the counts computed, as the first page
# after the period or after the person's own write.
COUNTED = [("CVK: all cases, navigation counts computed", "officer", "/cases"),
           ("commission: own municipality, navigation counts computed", "member", "/cases")]


def run(cases: int, runs: int, db: str | None = None, *, repetitions: int = 1,
        echo: bool = False) -> list[dict[str, tuple[float, float]]]:
    """Seed ``cases`` once, then ``repetitions`` passes over the pages; per pass, each page's
    (p50, p95) in milliseconds. ``db`` should be an empty database (default: SQLite file)."""
    say = print if echo else (lambda *_a, **_k: None)
    tmp = None
    url = db
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="bench-cases-")
        url = f"sqlite:///{tmp.name}/bench.sqlite3"
    upgrade(url)
    # Made first: the seed's case titles are sealed under this app's column key.
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "b" * 40,
                      "DATA_KEY": "d" * 40, "WTF_CSRF_ENABLED": False, "REDIS_URL": None,
                      "RATELIMIT_ENABLED": False, "SESSION_IDLE_MINUTES": 10_000},
                     clock=FixedClock(NOW))
    officer_id, member_id, case_id = seed(url, cases, echo=echo)
    clients = {"officer": signed_in(app, officer_id), "member": signed_in(app, member_id)}
    dialect = app.extensions["portal_db"].engine.dialect.name
    passes = []
    for _ in range(repetitions):
        say(f"{'page':45} {'p50 ms':>8} {'p95 ms':>8}   ({runs} runs, {dialect})")
        figures: dict[str, tuple[float, float]] = {}
        cache = app.extensions.get("case_dashboard_cache")  # made by the first dashboard
        if cache is not None:  # a later pass: cached figures again, starting empty
            cache.ttl = app.config["CASE_DASHBOARD_CACHE_SECONDS"]
            cache.clear()
        for name, who, path in PAGES:
            path = path.format(case_id=case_id)
            page_runs = max(3, runs // 5) if "dashboard" in path else runs
            figures[name] = measure(clients[who], path, page_runs)
            say(f"{name:45} {figures[name][0]:8.1f} {figures[name][1]:8.1f}")
        # The dashboard keeps its figures briefly (CASE_DASHBOARD_CACHE_SECONDS); this is the
        # cost of computing them, paid by the first request after each period.
        app.extensions["case_dashboard_cache"].ttl = 0
        figures[RECOMPUTED] = measure(clients["officer"], "/cases/dashboard", max(3, runs // 5))
        say(f"{RECOMPUTED:45} {figures[RECOMPUTED][0]:8.1f} {figures[RECOMPUTED][1]:8.1f}")
        counts = app.extensions["work_counts_cache"]
        counts.ttl = 0
        for name, who, path in COUNTED:
            figures[name] = measure(clients[who], path, runs)
            say(f"{name:45} {figures[name][0]:8.1f} {figures[name][1]:8.1f}")
        counts.ttl = app.config["WORK_COUNTS_CACHE_SECONDS"]
        counts.clear()
        passes.append(figures)
    app.extensions["portal_db"].engine.dispose()
    if tmp is not None:
        tmp.cleanup()
    return passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    run(args.cases, args.runs, args.db, echo=True)


if __name__ == "__main__":
    main()
