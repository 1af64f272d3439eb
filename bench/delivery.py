"""Message delivery over Socket.IO against two portal processes (gunicorn + gevent) sharing
Redis, as in ``docs/deploy.md``.

    python -m bench.delivery --threads 100 --per-thread 10 --rate 50 --seconds 10
    python -m bench.delivery --connections 5000 --hold 30

- **latency**: ``threads`` message threads of ``per-thread`` participants, every participant
  connected (one WebSocket each, joined to the thread's room); messages are POSTed at ``rate``
  per second in total (open loop, round robin over the threads) and the latency is measured
  from sending the POST to each participant receiving ``message.new`` (through the Redis
  queue when the poster's and the reader's processes differ). A receipt missing two seconds
  after the last POST was answered counts as lost.
- **connections**: ``connections`` WebSockets opened (at most 100 handshakes at a time) and
  held ``hold`` seconds, answering Engine.IO pings; how many stayed open, and what the
  servers' ``portal_socket_connections`` gauge says.

The load runs in a process of its own: a raw Engine.IO/Socket.IO text-protocol client on
``websockets`` (asyncio, all connections in one event loop, no python-socketio client object
per connection) and the HTTP client of ``bench.cast``. Its CPU is reported per received
message, everything included (the POSTs, every connection's pings), so that the load's share
of the machine can be told apart from the servers' (``results.md`` has the figure).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench import harness

CONNECT_CONCURRENCY = 100


@dataclass
class Member:
    """A participant's sign-in as the load process needs it."""

    cookie: str
    token: str
    port: int


def set_up(database: str, ports: list[int], threads: int, per_thread: int,
           gnupg_home: str | None = None) -> list[dict[str, Any]]:
    """``threads`` threads, each started by a CVK officer with ``per_thread - 1`` other people;
    returns, per thread, its id and members (the first one posts), spread over ``ports``."""
    from sqlalchemy.orm import Session

    import portal.models  # noqa: F401 - every table on the metadata
    from messaging import services
    from messaging.rules import Target, TargetKind
    from portal.accounts import services as accounts
    from portal.accounts.models import Role
    from referendum_core.clock import FixedClock
    from referendum_core.organisation import CommissionKind, get_commission, sync_organisations

    app = harness.bench_app(database, gnupg_home)
    engine = app.extensions["portal_db"].engine
    clock = FixedClock(datetime.now(UTC))
    out = []
    with app.app_context(), Session(engine, expire_on_commit=False) as session:
        sync_organisations(session)
        cvk = get_commission(session, CommissionKind.CVK)
        for t in range(threads):
            officer = accounts.create_user(session, clock, None,
                                           email=f"bench-officer-{t}@bench.lv",
                                           display_name=f"Officer {t}", password=None)
            accounts.grant_membership(session, clock, None, officer, Role.CVK_OFFICER,
                                      commission=cvk)
            others = [accounts.create_user(session, clock, None,
                                           email=f"bench-{t}-{i}@bench.lv",
                                           display_name=f"Person {t}.{i}", password=None)
                      for i in range(per_thread - 1)]
            session.flush()
            thread = services.create_thread(
                session, clock, officer, subject=f"Bench {t}", text="Sākums",
                targets=[Target(TargetKind.PERSON, user_id=u.id) for u in others])
            session.commit()
            members = []
            for i, user in enumerate((officer, *others)):
                cookie, token = harness.signed_in_cookie(app, user)
                members.append({"cookie": cookie, "token": token,
                                "port": ports[(t + i) % len(ports)]})
            out.append({"id": thread.id, "members": members})
    engine.dispose()
    return out


# --------------------------------------------------------------------------- the load process


class SocketClient:
    """One Socket.IO connection over a WebSocket, speaking the Engine.IO v4 text protocol."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.ws: Any = None
        self.closed_early = False

    async def connect(self) -> None:
        """Open the WebSocket, the Engine.IO session and the Socket.IO namespace."""
        import websockets

        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket",
            additional_headers={"Cookie": f"portal_session={self.cookie}"},
            user_agent_header=harness.USER_AGENT, ping_interval=None, open_timeout=30,
            max_queue=64, compression=None)
        opened = await asyncio.wait_for(self.ws.recv(), 30)
        if not opened.startswith("0"):
            raise RuntimeError(f"Engine.IO open expected, got {opened[:60]!r}")
        await self.ws.send("40")
        accepted = await asyncio.wait_for(self.ws.recv(), 30)
        if not accepted.startswith("40"):
            raise RuntimeError(f"Socket.IO connect refused: {accepted[:80]!r}")

    async def join(self, thread_id: int) -> None:
        """Join the thread's room (acknowledged)."""
        await self.ws.send(f'420["join",{{"thread_id":{thread_id}}}]')
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), 30)
            if frame == "2":
                await self.ws.send("3")
            elif frame.startswith("430"):
                if '"ok":true' not in frame:
                    raise RuntimeError(f"join refused: {frame[:120]}")
                return

    async def listen(self, receipts: dict[int, list[float]] | None) -> None:
        """Answer pings and note when each ``message.new`` arrives, until the connection
        closes or the caller cancels this task. One ``recv`` per frame and no timer: a
        timeout per frame (``wait_for``) cost the load process more than the frames did."""
        import websockets

        loop = asyncio.get_running_loop()
        pattern = re.compile(r'"message_id":\s*(\d+)')
        while True:
            try:
                frame = await self.ws.recv()
            except websockets.ConnectionClosed:
                self.closed_early = True
                return
            if frame == "2":
                await self.ws.send("3")
            elif receipts is not None and frame.startswith('42["message.new"'):
                found = pattern.search(frame)
                if found:
                    receipts.setdefault(int(found.group(1)), []).append(loop.time())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def _connect_all(clients: list[SocketClient], joins: list[int | None]) -> int:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    failures = 0

    async def one(client: SocketClient, thread_id: int | None) -> None:
        nonlocal failures
        async with gate:
            try:
                await client.connect()
                if thread_id is not None:
                    await client.join(thread_id)
            except Exception:
                failures += 1
                client.closed_early = True

    await asyncio.gather(*(one(c, j) for c, j in zip(clients, joins, strict=True)))
    return failures


async def _latency_load(spec: dict[str, Any]) -> dict[str, Any]:
    from bench.cast import Connection

    loop = asyncio.get_running_loop()
    threads = spec["threads"]
    clients, joins = [], []
    for thread in threads:
        for member in thread["members"]:
            clients.append(SocketClient(member["port"], member["cookie"]))
            joins.append(thread["id"])
    started = loop.time()
    failures = await _connect_all(clients, joins)
    connect_s = loop.time() - started
    rate, seconds = spec["rate"], spec["seconds"]
    total = int(rate * seconds)
    receipts: dict[int, list[float]] = {}
    sent_at: dict[int, float] = {}
    post_ms: list[float] = []
    statuses: dict[int, int] = {}
    statuses_seen: dict[int, str] = {}  # the first answer of each refused status
    start = loop.time() + 0.5
    # Listen until two seconds after the last POST was answered; a receipt missing then
    # counts as lost.
    listeners = [asyncio.create_task(c.listen(receipts)) for c in clients
                 if not c.closed_early]
    posters = []
    for thread in threads:
        poster = thread["members"][0]
        head = (f"POST /messages/{thread['id']}/post HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"User-Agent: {harness.USER_AGENT}\r\n"
                f"Cookie: portal_session={poster['cookie']}\r\n"
                f"X-CSRFToken: {poster['token']}\r\nX-Requested-With: fetch\r\n"
                "Accept: application/json\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n").encode()
        posters.append((Connection(poster["port"]), head, poster["token"]))

    async def post_thread(index: int) -> None:
        conn, head, token = posters[index]
        for k in range(index, total, len(posters)):
            due = start + k / rate
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            body = urllib.parse.urlencode({"text": f"Ziņa {k}", "csrf_token": token}).encode()
            sent = loop.time()
            status, answer = await conn.send(
                head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            post_ms.append((loop.time() - sent) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                sent_at[int(json.loads(answer)["message_id"])] = sent
            elif status not in statuses_seen:
                statuses_seen[status] = answer[:300].decode(errors="replace")

    cpu = time.process_time()
    await asyncio.gather(*(post_thread(i) for i in range(len(posters))))
    await asyncio.sleep(2.0)
    await _stop(listeners)
    cpu = time.process_time() - cpu
    latencies: list[float] = []
    expected = lost = 0
    connected = {thread["id"]: 0 for thread in threads}
    for client, thread_id in zip(clients, joins, strict=True):
        if not client.closed_early:
            connected[thread_id] = connected.get(thread_id, 0) + 1
    per_thread_connected = sum(connected.values()) / max(1, len(threads))
    for message_id, sent in sent_at.items():
        got = receipts.get(message_id, [])
        latencies.extend((t - sent) * 1000 for t in got)
        wanted = round(per_thread_connected)
        expected += wanted
        lost += max(0, wanted - len(got))
    for client in clients:
        await client.close()
    for conn, _, _ in posters:
        conn.close()
    latencies.sort()
    post_ms.sort()
    return {"clients": len(clients) - failures, "connect_failures": failures,
            "connect_s": connect_s, "posted": len(sent_at),
            "statuses": {**statuses, **{f"first {k}": v for k, v in statuses_seen.items()}},
            "receipts": len(latencies), "expected": expected, "lost": lost,
            "p50_ms": _pct(latencies, 0.5), "p99_ms": _pct(latencies, 0.99),
            "post_p50_ms": _pct(post_ms, 0.5), "post_p99_ms": _pct(post_ms, 0.99),
            "client_cpu_s": cpu, "seconds": seconds}


async def _connections_load(spec: dict[str, Any]) -> dict[str, Any]:
    import requests

    loop = asyncio.get_running_loop()
    members = spec["members"]
    count, hold = spec["connections"], spec["hold"]
    clients = [SocketClient(members[i % len(members)]["port"],
                            members[i % len(members)]["cookie"]) for i in range(count)]
    cpu = time.process_time()
    started = loop.time()
    failures = await _connect_all(clients, [None] * count)
    connect_s = loop.time() - started
    listeners = [asyncio.create_task(c.listen(None)) for c in clients if not c.closed_early]
    await asyncio.sleep(hold)
    await _stop(listeners)
    dropped = sum(1 for c in clients if c.closed_early) - failures
    gauge = 0.0
    for port in spec["ports"]:
        text = await asyncio.to_thread(
            lambda p=port: requests.get(f"http://127.0.0.1:{p}/metrics", timeout=30).text)
        found = re.search(r"^portal_socket_connections (\S+)$", text, re.MULTILINE)
        gauge += float(found.group(1)) if found else 0.0
    for client in clients:
        await client.close()
    return {"connections": count, "connect_failures": failures, "dropped": dropped,
            "held": count - failures - dropped, "connect_s": connect_s, "hold_s": hold,
            "gauge": gauge, "client_cpu_s": time.process_time() - cpu}


async def _stop(listeners: list[asyncio.Task[None]]) -> None:
    """Cancel the listeners still running and wait until they have ended."""
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _load_process(kind: str, spec: dict[str, Any], answer: Any) -> None:
    runner = _latency_load if kind == "latency" else _connections_load
    try:
        answer.put(("ok", asyncio.run(asyncio.wait_for(runner(spec), spec["timeout"]))))
    except BaseException as exc:  # reported to the parent, which fails the run
        answer.put(("error", f"{type(exc).__name__}: {exc}"))


def in_load_process(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one load in a process of its own (its CPU apart from the servers' and ours)."""
    context = multiprocessing.get_context("spawn")
    answer = context.Queue()
    process = context.Process(target=_load_process, args=(kind, spec, answer), daemon=True)
    process.start()
    try:
        status, result = answer.get(timeout=spec["timeout"] + 30)
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    if status != "ok":
        raise RuntimeError(f"{kind} load failed: {result}")
    return result


def _first_messages(spec_threads: list[dict[str, Any]], rate: float) -> dict[str, float]:
    """One message in every thread on servers that have just started, at the same rate, not
    counted in the repetitions. Each process opens a thread's data key once (one gpg run,
    ``messaging.keyring``) and keeps it in memory; the repetitions measure the steady state
    after that, and this pass is reported on its own: what the first minutes after a restart
    look like."""
    result = in_load_process("latency", {"threads": spec_threads, "rate": rate,
                                         "seconds": len(spec_threads) / rate,
                                         "timeout": 180})
    return {"cold_delivery_p50_ms": result["p50_ms"], "cold_delivery_p99_ms": result["p99_ms"],
            "cold_receipts_lost": float(result["lost"])}


def run(*, server_url: str, redis: str, threads: int = 100, per_thread: int = 10,
        rate: float = 50, seconds: float = 10, connections: int = 5000, hold: float = 30,
        repetitions: int = 3) -> list[dict[str, float]]:
    """Set up once; one message per thread on the cold servers (``_first_messages``), then
    ``repetitions`` latency runs, then one connections run (its figures and the cold pass's are
    added to every repetition's dict, since each is measured once)."""
    figures: list[dict[str, float]] = []
    with harness.scratch_database(server_url, "bench_delivery") as database, \
            harness.portal(database, redis) as portal:
        spec_threads = set_up(database, portal.ports, threads, per_thread, portal.gnupg_home)
        cold = _first_messages(spec_threads, rate)
        for _ in range(repetitions):
            portal_cpu = portal.cpu_seconds()
            result = in_load_process("latency", {"threads": spec_threads, "rate": rate,
                                                 "seconds": seconds,
                                                 "timeout": seconds * 4 + 180})
            server_cpu = portal.cpu_seconds() - portal_cpu
            figures.append({
                "clients": float(result["clients"]),
                "connect_failures": float(result["connect_failures"]),
                "delivery_p50_ms": result["p50_ms"], "delivery_p99_ms": result["p99_ms"],
                "post_p50_ms": result["post_p50_ms"], "post_p99_ms": result["post_p99_ms"],
                "posted_per_s": result["posted"] / seconds,
                "receipts_lost": float(result["lost"]),
                "receipts": float(result["receipts"]),
                "client_cpu_us_per_receipt": 1e6 * result["client_cpu_s"]
                / max(1, result["receipts"]),
                "server_cpu_s": server_cpu, "post_statuses": json.dumps(result["statuses"])})
        for entry in figures:
            entry.update(cold)
        if connections:
            members = [m for thread in spec_threads for m in thread["members"]]
            held = in_load_process("connections", {
                "members": members, "connections": connections, "hold": hold,
                "ports": portal.ports, "timeout": hold + connections / 20 + 180})
            for entry in figures:
                entry.update({"connections_held": float(held["held"]),
                              "connections_dropped": float(held["dropped"]),
                              "connections_failed": float(held["connect_failures"]),
                              "connections_gauge": held["gauge"],
                              "connect_per_s": held["connections"] / max(0.001,
                                                                           held["connect_s"])})
    return figures


def main() -> int:
    """One or more repetitions printed as a table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--per-thread", type=int, default=10)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--hold", type=float, default=30)
    parser.add_argument("--repetitions", type=int, default=1)
    args = parser.parse_args()
    server, redis = harness.postgres_url(), harness.redis_url()
    if server is None or redis is None:
        parser.error("needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    for figures in run(server_url=server, redis=redis, threads=args.threads,
                       per_thread=args.per_thread, rate=args.rate, seconds=args.seconds,
                       connections=args.connections, hold=args.hold,
                       repetitions=args.repetitions):
        harness.print_figures(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
