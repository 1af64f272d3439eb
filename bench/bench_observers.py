"""Observer reports on referendum day against two portal processes (gunicorn + gevent) sharing
Redis and PostgreSQL, as in ``docs/deploy.md``.

    python -m bench.bench_observers --observers 2000 --rate 20 --seconds 60

``observers`` observers of one referendum hold a WebSocket each (the observer app open on
their phones); a few commission members hold one each, following the municipality's
observations (``observation.watch``), spread over both processes. Reports are POSTed to the
observer app's endpoint at ``rate`` per second (open loop, round robin over the observers),
each with an idempotency key of its own; one in ``RETRY_EVERY`` is sent a second time with the
same key (a phone retrying after a lost answer). Measured: from sending a report to each
commission page receiving its ``observation.changed`` (through the Redis queue when the
processes differ), and in the database afterwards, that every key became exactly one
submission and one case.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import harness
from bench.delivery import SocketClient, _connect_all, _pct, _stop

RETRY_EVERY = 20
COMMISSION_CLIENTS = 4
STATIONS = 40


def set_up(database: str, ports: list[int], observers: int,
           gnupg_home: str | None = None) -> dict[str, Any]:
    """A referendum in Ādaži with ``STATIONS`` polling stations, ``observers`` observers
    accredited to the municipality and ``COMMISSION_CLIENTS`` commission members, signed in
    (cookie and CSRF token each), spread over ``ports``."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    import portal.models  # noqa: F401 - every table on the metadata
    from portal.accounts import services as accounts
    from portal.accounts.models import Role
    from referendum_core.clock import FixedClock
    from referendum_core.organisation import (
        CommissionKind,
        Municipality,
        add_polling_station,
        get_commission,
        sync_organisations,
    )
    from referendum_core.voting.preparation import setup_referendum
    from tests.voting_support import CALENDAR, referendum_case

    app = harness.bench_app(database, gnupg_home)
    engine = app.extensions["portal_db"].engine
    clock = FixedClock(datetime.now(UTC))
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        sync_organisations(session)
        adazi = session.scalars(select(Municipality).where(
            Municipality.atvk_code == "0023000")).one()
        commission = get_commission(session, CommissionKind.MUNICIPAL, adazi.id)
        chair = accounts.create_user(session, clock, None, email="bench-chair@bench.lv",
                                     display_name="Chair", password=None)
        accounts.grant_membership(session, clock, None, chair, Role.COMMISSION_CHAIR,
                                  commission=commission)
        members = [chair] + [accounts.create_user(
            session, clock, None, email=f"bench-member-{i}@bench.lv",
            display_name=f"Member {i}", password=None) for i in range(COMMISSION_CLIENTS - 1)]
        for member in members[1:]:
            accounts.grant_membership(session, clock, None, member, Role.COMMISSION_MEMBER,
                                      commission=commission)
        stations = [add_polling_station(session, adazi, 900 + i, f"Iecirknis {i}",
                                        f"Iela {i}") for i in range(STATIONS)]
        # The servers run on the real clock: the referendum is set up today for a Saturday five
        # weeks on, so that the observers' rights (until its observation days end) run now.
        today = datetime.now(UTC).date()
        day = today + timedelta(days=35 + (5 - today.weekday()) % 7)
        then = FixedClock(datetime.now(UTC))
        case = referendum_case(session, then, adazi, "strategy", "Vai atbalstāt?",
                               decided_on=today - timedelta(days=3))
        referendum = setup_referendum(session, then, CALENDAR, chair, case=case,
                                      question_en="Do you support it?", referendum_day=day)
        people = []
        for i in range(observers):
            user = accounts.create_user(session, clock, None, email=f"bench-obs-{i}@bench.lv",
                                        display_name=f"Observer {i}", password=None)
            accounts.grant_membership(session, clock, None, user, Role.OBSERVER,
                                      municipality_id=adazi.id)
            people.append(user)
        session.commit()

        def signed_in(users: list[Any], offset: int) -> list[dict[str, Any]]:
            out = []
            for i, user in enumerate(users):
                cookie, token = harness.signed_in_cookie(app, user)
                out.append({"cookie": cookie, "token": token,
                            "port": ports[(i + offset) % len(ports)]})
            return out

        spec = {"referendum_id": referendum.id, "stations": [s.id for s in stations],
                "commission": signed_in(members, 0), "observers": signed_in(people, 1)}
    engine.dispose()
    return spec


def count_received(database: str) -> dict[str, int]:
    """Submissions, distinct keys and observer-report cases in the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*), count(DISTINCT client_key), count(DISTINCT case_id) "
            "FROM observer_submissions")).one()
        cases = conn.execute(text(
            "SELECT count(*) FROM cases WHERE type = 'observer_report'")).scalar_one()
    engine.dispose()
    return {"submissions": row[0], "keys": row[1], "submission_cases": row[2],
            "cases": cases}


# --------------------------------------------------------------------------- the load process


class Watcher(SocketClient):
    """A commission page following the municipality's observations."""

    async def watch(self) -> None:
        await self.ws.send('420["observation.watch",{}]')
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), 30)
            if frame == "2":
                await self.ws.send("3")
            elif frame.startswith("430"):
                if '"ok":true' not in frame:
                    raise RuntimeError(f"watch refused: {frame[:120]}")
                return

    async def listen_reports(self, receipts: dict[int, list[float]]) -> None:
        """Note when each report's ``observation.changed`` arrives."""
        import websockets

        loop = asyncio.get_running_loop()
        pattern = re.compile(r'"case_id":\s*(\d+)')
        while True:
            try:
                frame = await self.ws.recv()
            except websockets.ConnectionClosed:
                self.closed_early = True
                return
            if frame == "2":
                await self.ws.send("3")
            elif frame.startswith('42["observation.changed"'):
                found = pattern.search(frame)
                if found:
                    receipts.setdefault(int(found.group(1)), []).append(loop.time())


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    from bench.cast import Connection

    loop = asyncio.get_running_loop()
    observers = [SocketClient(o["port"], o["cookie"]) for o in spec["observers"]]
    watchers = [Watcher(c["port"], c["cookie"]) for c in spec["commission"]]
    started = loop.time()
    failures = await _connect_all(observers + watchers, [None] * (len(observers) +
                                                                   len(watchers)))
    connect_s = loop.time() - started
    for watcher in watchers:
        await watcher.watch()
    receipts: dict[int, list[float]] = {}
    held = [asyncio.create_task(o.listen(None)) for o in observers if not o.closed_early]
    listening = [asyncio.create_task(w.listen_reports(receipts)) for w in watchers]
    rate, seconds = spec["rate"], spec["seconds"]
    total = int(rate * seconds)
    sent_at: dict[int, float] = {}
    post_ms: list[float] = []
    statuses: dict[str, int] = {}
    duplicates_answered = retries = 0
    posters = 20
    start = loop.time() + 0.5

    def request(observer: dict[str, Any], body: bytes) -> bytes:
        return (f"POST /observe/api/report HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"User-Agent: {harness.USER_AGENT}\r\n"
                f"Cookie: portal_session={observer['cookie']}\r\n"
                f"X-CSRFToken: {observer['token']}\r\nAccept: application/json\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    async def poster(index: int) -> None:
        nonlocal duplicates_answered, retries
        conns = {port: Connection(port) for port in {o["port"] for o in spec["observers"]}}
        for k in range(index, total, posters):
            due = start + k / rate
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            observer = spec["observers"][k % len(spec["observers"])]
            body = json.dumps({
                "key": str(uuid.uuid4()), "referendum_id": spec["referendum_id"],
                "polling_station_id": spec["stations"][k % len(spec["stations"])],
                "category": "ballot_box", "severity": "critical",
                "description": f"Urnas plombe nr. {k} ir bojāta"}).encode()
            sent = loop.time()
            status, answer = await conns[observer["port"]].send(request(observer, body))
            post_ms.append((loop.time() - sent) * 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status == 201:
                sent_at[int(json.loads(answer)["case_id"])] = sent
            if k % RETRY_EVERY == 0:  # the phone did not get the answer: the same key again
                retries += 1
                status, answer = await conns[observer["port"]].send(request(observer, body))
                if status == 200 and json.loads(answer)["status"] == "already_received":
                    duplicates_answered += 1
        for conn in conns.values():
            conn.close()

    await asyncio.gather(*(poster(i) for i in range(posters)))
    await asyncio.sleep(2.0)
    await _stop(listening)
    still_open = sum(1 for o in observers if not o.closed_early)
    await _stop(held)
    latencies, lost = [], 0
    live_watchers = sum(1 for w in watchers if not w.closed_early)
    for case_id, sent in sent_at.items():
        got = receipts.get(case_id, [])
        latencies.extend((t - sent) * 1000 for t in got)
        lost += max(0, live_watchers - len(got))
    for client in observers + watchers:
        await client.close()
    latencies.sort()
    post_ms.sort()
    return {"observers_connected": still_open, "connect_failures": failures,
            "connect_s": connect_s, "reports": len(sent_at), "offered": total,
            "statuses": statuses, "retries": retries,
            "retries_answered_already_received": duplicates_answered,
            "receipts": len(latencies), "lost": lost, "p50_ms": _pct(latencies, 0.5),
            "p99_ms": _pct(latencies, 0.99), "max_ms": latencies[-1] if latencies else 0.0,
            "post_p50_ms": _pct(post_ms, 0.5), "post_p99_ms": _pct(post_ms, 0.99)}


def _load_process(spec: dict[str, Any], answer: Any) -> None:
    try:
        answer.put(("ok", asyncio.run(asyncio.wait_for(_load(spec), spec["timeout"]))))
    except BaseException as exc:  # reported to the parent, which fails the run
        answer.put(("error", f"{type(exc).__name__}: {exc}"))


def in_load_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load in a process of its own (its CPU apart from the servers')."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    answer = context.Queue()
    process = context.Process(target=_load_process, args=(spec, answer), daemon=True)
    process.start()
    try:
        status, result = answer.get(timeout=spec["timeout"] + 30)
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    if status != "ok":
        raise RuntimeError(f"observer load failed: {result}")
    return result


def run(*, server_url: str, redis: str, observers: int = 2000, rate: float = 20,
        seconds: float = 60, repetitions: int = 1) -> list[dict[str, Any]]:
    """Set up once, then ``repetitions`` load runs; figures per run."""
    figures = []
    with harness.scratch_database(server_url, "bench_observers") as database, \
            harness.portal(database, redis) as portal:
        spec = set_up(database, portal.ports, observers, portal.gnupg_home)
        for _ in range(repetitions):
            before = count_received(database)
            cpu = portal.cpu_seconds()
            result = in_load_process({**spec, "rate": rate, "seconds": seconds,
                                      "timeout": seconds * 3 + observers / 20 + 180})
            after = count_received(database)
            new = {k: after[k] - before[k] for k in after}
            offered_keys = result["offered"]
            figures.append({
                "observers_connected": float(result["observers_connected"]),
                "connect_failures": float(result["connect_failures"]),
                "reports_offered": float(offered_keys),
                "reports_received": float(new["keys"]),
                # Every key once: as many submissions and cases as keys, and no key lost.
                "reports_duplicated": float(new["submissions"] - new["keys"]
                                            + new["cases"] - new["keys"]),
                "reports_lost": float(offered_keys - new["keys"]),
                "retries_answered_already_received": float(
                    result["retries_answered_already_received"]),
                "retries": float(result["retries"]),
                "push_p50_ms": result["p50_ms"], "push_p99_ms": result["p99_ms"],
                "push_max_ms": result["max_ms"], "pushes_lost": float(result["lost"]),
                "post_p50_ms": result["post_p50_ms"], "post_p99_ms": result["post_p99_ms"],
                "server_cpu_s": portal.cpu_seconds() - cpu,
                "post_statuses": json.dumps(result["statuses"])})
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--observers", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--repetitions", type=int, default=1)
    args = parser.parse_args()
    pg, redis = harness.postgres_url(), harness.redis_url()
    if not pg or not redis:
        raise SystemExit("needs PostgreSQL and Redis (DATABASE_URL/REDIS_URL or 127.0.0.1)")
    started = time.monotonic()
    for figures in run(server_url=pg, redis=redis, observers=args.observers, rate=args.rate,
                       seconds=args.seconds, repetitions=args.repetitions):
        harness.print_figures(figures)
    print(f"{time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
