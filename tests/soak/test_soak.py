"""Soak test: two portal processes (``referendum-portal serve`` → gunicorn, as docs/deploy.md
deploys them) on PostgreSQL and Redis, with voters casting ballots, officials messaging and
observers filing reports all at once from a few threads, for ``SOAK_SECONDS`` (default 60).

It asserts that no request failed and that every accepted write is in the database, and writes
the figures — requests and latency percentiles per operation, memory (RSS) of each portal
process at the start and the end — into ``bench/results.md`` between
``<!-- soak:start -->`` and ``<!-- soak:end -->`` (the rest of that file belongs to
``make bench``).

Ballots are encrypted before the clock starts (encrypting is the voter's browser's work, not
the portal's). Voters and officials get their session cookies signed with the deployment's key
(what the sign-in flow would leave), so the per-address sign-in limits stay on and untouched.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import statistics
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.harness import signed_in_cookie
from tests.deploy.conftest import free_ports, get_ok, portal_command, wait_for

pytestmark = [pytest.mark.uses_db, pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow,
              pytest.mark.timeout(int(float(os.environ.get("SOAK_SECONDS", "60"))) + 900)]

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.md"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"
USER_AGENT = "portal-soak/1"
VOTERS, OBSERVERS = 12, 2
# Paced load (requests per second per thread): steady, not a stampede.
VOTER_THREADS, VOTER_RATE = 2, 4.0
OFFICIAL_THREADS, OFFICIAL_RATE = 1, 2.0
OBSERVER_THREADS, OBSERVER_RATE = 1, 1.0
MAX_RSS_GROWTH_MIB = 150  # per process group: a leak, not warm-up, if beyond


@dataclass
class World:
    referendum_id: int
    thread_id: int
    station_id: int
    voters: list[tuple[str, str]]      # (cookie, CSRF token) per voter
    officials: list[tuple[str, str]]
    observers: list[tuple[str, str]]
    manifest: dict[str, Any]
    aliases: list[str]


@dataclass
class Tally:
    """Latencies per operation and every failure, shared by the load threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, op: str, fn: Any, ok: Any) -> Any:
        started = time.perf_counter()
        try:
            response = fn()
        except requests.RequestException as exc:
            with self.lock:
                self.errors.append(f"{op}: {exc!r}")
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[op].append(elapsed)
            if not ok(response):
                self.errors.append(f"{op}: HTTP {response.status_code} {response.text[:300]}")
                return None
        return response


def test_soak_two_portal_processes_postgresql_redis(processes, make_database, soak_redis_url):
    seconds = float(os.environ.get("SOAK_SECONDS", "60"))
    suffix = secrets.token_hex(4)
    processes.env.update({"DATABASE_URL": make_database("portal_soak"),
                          "REDIS_URL": soak_redis_url, "CELERY_QUEUE": f"soak-{suffix}",
                          "SOCKETIO_CHANNEL": f"soak-socketio-{suffix}",
                          # 12 synthetic voters cast as often as hundreds of people: the
                          # per-voter limit is checked on every cast but not reached.
                          "VOTER_BALLOT_RATE_LIMIT": "100000 per minute"})
    try:
        for step in (("migrate",), ("seed",), ("messaging", "init-keys")):
            done = processes.run(*step, timeout=300)
            assert done.returncode == 0, (step, done.stderr[-3000:])
        world = _set_up(processes.env)
        ballots = _encrypt(world, per_voter=int(seconds * VOTER_THREADS * VOTER_RATE
                                                / VOTERS) + 3)
        ports = free_ports(2)
        webs = [processes.start(f"portal-{port}", [*portal_command(), "serve", "--port",
                                                   str(port)]) for port in ports]
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, web in zip(bases, webs, strict=True):
            wait_for(lambda b=base: get_ok(f"{b}/healthz"), 90, f"{base}/healthz", web.output,
                     proc=web)

        tally = Tally()
        warm = Tally()  # one of each operation on each process before memory is measured
        _run(world, bases, ballots, warm, seconds=0)
        assert warm.errors == [], warm.errors
        rss_start = [_group_rss_kib(web.popen.pid) for web in webs]
        started = time.monotonic()
        _run(world, bases, ballots, tally, seconds=seconds)
        elapsed = time.monotonic() - started
        rss_end = [_group_rss_kib(web.popen.pid) for web in webs]
        for web in webs:
            assert web.popen.poll() is None, f"{web.name} died:\n{web.output()[-3000:]}"

        stored = _stored(processes.env, world)
        cast_ok = len(tally.latencies["cast ballot"]) + len(warm.latencies["cast ballot"])
        _write_results(tally, elapsed, rss_start, rss_end, stored)
        assert tally.errors == [], tally.errors[:20]
        assert stored["ballots"] == cast_ok, (stored, cast_ok)
        assert stored["reports"] >= len(tally.latencies["file report"])
        assert stored["messages"] >= len(tally.latencies["post message"])
        for before, after in zip(rss_start, rss_end, strict=True):
            assert (after - before) / 1024 < MAX_RSS_GROWTH_MIB, (rss_start, rss_end)
        errors = [line for web in webs for line in web.output().splitlines()
                  if '"level": "ERROR"' in line or '"level":"ERROR"' in line]
        assert errors == [], errors[:10]
    finally:
        processes.stop_all()
        _forget_redis(soak_redis_url, processes.env["CELERY_QUEUE"])


# Set-up (in this process, on the same database and keys) -------------------------------------

def _app(env: dict[str, str]) -> Any:
    from portal.app import create_app

    return create_app({"ENV": "testing", "DATABASE_URL": env["DATABASE_URL"],
                       "SECRET_KEY": env["SECRET_KEY"], "DATA_KEY": env["DATA_KEY"],
                       "PORTAL_GNUPGHOME": env["PORTAL_GNUPGHOME"], "REDIS_URL": None,
                       "RATELIMIT_ENABLED": False})


def _set_up(env: dict[str, str]) -> World:
    """A referendum in online voting now with ``VOTERS`` people on its list, Ādaži officials
    and observers, and a thread between the commission and the CVK."""
    from sqlalchemy import select

    from messaging import services as messaging
    from messaging.rules import Target, TargetKind
    from portal.accounts import services
    from portal.accounts.models import Role
    from referendum_core.clock import FixedClock
    from referendum_core.organisation import Municipality, PollingStation
    from referendum_core.voting import alias_for
    from tests.voting_support import build_scenario

    app = _app(env)
    clock = FixedClock(datetime(2026, 3, 2, 10, tzinfo=UTC))
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        keys = app.extensions["keys"]
        s = build_scenario(session, clock, keys, voters=VOTERS, station_number=951,
                           prefix="soak-")
        referendum = s.referendum
        # Set up on the law's calendar; the servers run on the real clock, so the online
        # window is moved around "now" (as the benchmark does).
        now = datetime.now(UTC)
        referendum.online_opens_at = now - timedelta(hours=1)
        referendum.online_closes_at = now + timedelta(days=1)
        aliases = [alias_for(session, clock, referendum, v.person_ref) for v in s.voters]
        adazi = session.scalars(select(Municipality).where(
            Municipality.atvk_code == "0023000")).one()
        station = session.scalars(select(PollingStation).where(
            PollingStation.municipality_id == adazi.id, PollingStation.number == 1)).one()
        observers = []
        for i in range(OBSERVERS):
            user = services.create_user(session, clock, None, email=f"soak.observer{i}@example.lv",
                                        display_name=f"Novērotājs {i}", password=None)
            services.grant_membership(session, clock, None, user, Role.OBSERVER,
                                      municipality_id=adazi.id)
            observers.append(user)
        thread = messaging.create_thread(session, clock, s.chair, subject="Soak",
                                         text="Sākam.", targets=[Target(TargetKind.CVK)])
        officer = services.find_user_by_email(session, "officer@demo.cvk.lv")
        session.commit()
        def cookie(user: Any) -> tuple[str, str]:
            return signed_in_cookie(app, user, USER_AGENT)

        world = World(referendum.id, thread.id, station.id, [cookie(v) for v in s.voters],
                      [cookie(s.chair), cookie(officer)], [cookie(o) for o in observers],
                      referendum.manifest_dict or {}, aliases)
        session.close()
    app.extensions["portal_db"].engine.dispose()
    return world


def _encrypt_for(job: tuple[dict[str, Any], str, int]) -> list[str]:
    from referendum_core.crypto import encrypt_ballot

    manifest, alias, count = job
    return [json.dumps(encrypt_ballot(manifest, alias, [1, 0] if i % 3 else [0, 1]).ballot)
            for i in range(count)]


def _encrypt(world: World, per_voter: int) -> list[list[str]]:
    with ProcessPoolExecutor(2) as pool:
        return list(pool.map(_encrypt_for, [(world.manifest, alias, per_voter)
                                            for alias in world.aliases]))


# The load -------------------------------------------------------------------------------------

def _http(cookie: tuple[str, str]) -> requests.Session:
    http = requests.Session()
    http.headers.update({"User-Agent": USER_AGENT, "X-CSRFToken": cookie[1]})
    http.cookies.set("portal_session", cookie[0], domain="127.0.0.1")
    return http


def _run(world: World, bases: list[str], ballots: list[list[str]], tally: Tally,
         seconds: float) -> None:
    """The load threads until ``seconds`` have passed (``0``: one round on each process)."""
    deadline = time.monotonic() + seconds
    once = seconds == 0

    def paced(rate: float, step: Any) -> Any:
        def loop(worker: int) -> None:
            n = worker
            while True:
                began = time.monotonic()
                if not once and began >= deadline:
                    return
                step(worker, n, bases[n % len(bases)])
                n += 1
                if once and n - worker >= len(bases):
                    return
                time.sleep(max(0.0, 1 / rate - (time.monotonic() - began)))
        return loop

    voter_sessions = [_http(c) for c in world.voters]
    cursor = {"voter": 0}
    lock = threading.Lock()

    def vote(worker: int, n: int, base: str) -> None:
        with lock:
            i = cursor["voter"] % len(world.voters)
            cursor["voter"] += 1
            if not ballots[i]:
                return
            ballot = ballots[i].pop()  # each ballot is sent once: a second time is a replay
        tally.timed("cast ballot", lambda: voter_sessions[i].post(
            f"{base}/api/voting/{world.referendum_id}/ballots", data=ballot, timeout=30,
            headers={"Content-Type": "application/json", "Accept": "application/json"}),
            lambda r: r.status_code == 201)

    official_sessions = [_http(c) for c in world.officials]

    def message(worker: int, n: int, base: str) -> None:
        http = official_sessions[n % len(official_sessions)]
        page = tally.timed("open thread", lambda: http.get(
            f"{base}/messages/{world.thread_id}", timeout=30), lambda r: r.status_code == 200)
        if page is None:
            return
        tally.timed("post message", lambda: http.post(
            f"{base}/messages/{world.thread_id}/post", timeout=30, allow_redirects=False,
            data={"csrf_token": _csrf(page.text), "text": f"Ziņa Nr. {n} no soak testa."}),
            lambda r: r.status_code in (302, 303))

    observer_sessions = [_http(c) for c in world.observers]

    def report(worker: int, n: int, base: str) -> None:
        http = observer_sessions[n % len(observer_sessions)]
        form = tally.timed("open report form", lambda: http.get(
            f"{base}/cases/report", timeout=30), lambda r: r.status_code == 200)
        if form is None:
            return
        started = re.search(r'name="started"[^>]*value="([^"]*)"', form.text)
        tally.timed("file report", lambda: http.post(
            f"{base}/cases/report", timeout=30, allow_redirects=False, data={
                "csrf_token": _csrf(form.text), "started": started.group(1) if started else "",
                "polling_station_id": str(world.station_id), "category": "other",
                "severity": "low", "description": f"Rinda pie iecirkņa, ziņojums {n}."}),
            lambda r: r.status_code in (302, 303))

    plan = ([(paced(VOTER_RATE, vote), i) for i in range(VOTER_THREADS)]
            + [(paced(OFFICIAL_RATE, message), i) for i in range(OFFICIAL_THREADS)]
            + [(paced(OBSERVER_RATE, report), i) for i in range(OBSERVER_THREADS)])
    threads = [threading.Thread(target=fn, args=(i,), daemon=True) for fn, i in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    for http in (*voter_sessions, *official_sessions, *observer_sessions):
        http.close()


def _csrf(html: str) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(html)


# Figures --------------------------------------------------------------------------------------

def _group_rss_kib(pgid: int) -> int:
    """Resident memory (KiB) of every process in the process group (gunicorn's master and
    workers), read from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat: the process group
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total


def _stored(env: dict[str, str], world: World) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            ballots = conn.execute(text(
                "SELECT count(*) FROM voting_board WHERE referendum_id = :r"),
                {"r": world.referendum_id}).scalar_one()
            reports = conn.execute(text("SELECT count(*) FROM case_observer_reports")).scalar_one()
            messages = conn.execute(text("SELECT count(*) FROM messages WHERE thread_id = :t"),
                                    {"t": world.thread_id}).scalar_one()
    finally:
        engine.dispose()
    return {"ballots": ballots, "reports": reports, "messages": messages}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _write_results(tally: Tally, elapsed: float, rss_start: list[int], rss_end: list[int],
                   stored: dict[str, int]) -> None:
    """Replace the soak section of ``bench/results.md`` (creating the file if need be)."""
    ms = 1000
    lines = [START, "## Soak test", "",
             f"`tests/soak/test_soak.py`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
             f"{elapsed:.0f} s against two portal processes (gunicorn + gevent) on PostgreSQL "
             f"and Redis, {os.cpu_count()} CPUs shared with the load threads. Voters cast "
             f"pre-encrypted ballots ({VOTER_THREADS} threads × {VOTER_RATE:g}/s), officials "
             f"open a thread and post ({OFFICIAL_THREADS} × {OFFICIAL_RATE:g}/s), observers "
             f"open the form and file a report ({OBSERVER_THREADS} × {OBSERVER_RATE:g}/s), "
             "alternating between the two processes.", "",
             f"Errors: **{len(tally.errors)}**. Stored afterwards: {stored['ballots']} ballots "
             f"on the board, {stored['reports']} observer reports, {stored['messages']} "
             "messages in the thread.", "",
             "| operation | requests | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for op in sorted(tally.latencies):
        values = tally.latencies[op]
        lines.append(f"| {op} | {len(values)} | {statistics.median(values) * ms:.0f} | "
                     f"{_percentile(values, 95) * ms:.0f} | {_percentile(values, 99) * ms:.0f} "
                     f"| {max(values) * ms:.0f} |")
    lines += ["", "| portal process | RSS at start MiB | RSS at end MiB | growth MiB |",
              "|---|---:|---:|---:|"]
    for i, (before, after) in enumerate(zip(rss_start, rss_end, strict=True), start=1):
        lines.append(f"| {i} (master + workers) | {before / 1024:.1f} | {after / 1024:.1f} | "
                     f"{(after - before) / 1024:+.1f} |")
    lines += ["", "Regenerate with `SOAK_SECONDS=60 pytest tests/soak -m slow` (PostgreSQL "
              "and Redis via DATABASE_URL and REDIS_URL).", END]
    section = "\n".join(lines)
    # A new file gets the title and the (empty) markers ``make bench`` fills, so that its run
    # replaces only its own block and this section stays.
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else \
        "# Benchmark results\n\n<!-- bench:begin -->\n<!-- bench:end -->\n"
    if START in old and END in old:
        head, rest = old.split(START, 1)
        new = head + section + rest.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(new, encoding="utf-8")


def _forget_redis(url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}",
                      f"portal:heartbeat:{queue}")
        for key in client.scan_iter("LIMITS:*"):  # our database number: only our counters
            client.delete(key)
    finally:
        client.close()
