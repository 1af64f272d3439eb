"""Ballots cast over HTTP on PostgreSQL, against the deployment of ``docs/deploy.md``: two
portal processes (gunicorn), Redis, each ballot's proofs verified by the server.

    python -m bench.cast --voters 200 --seconds 10 --rate 300        # one repetition, a table

Set-up (not timed): a referendum with ``voters`` people on its list, trustees and an open vote;
every ballot encrypted in advance (a process pool), each voter's sign-in cookie, CSRF token and
cast token forged with the deployment's keys; then every voter casts twice to warm the servers up. Then
two load shapes, each from ``voters`` keep-alive connections (one per voter, spread over the two
processes as nginx's ``ip_hash`` would):

- **open loop** at ``rate`` ballots/s (voter ``v`` casts at ``start + (v + k·voters) / rate``):
  accepted ballots/s and p50/p99 latency measured from each ballot's *scheduled* time, so a
  server that falls behind is charged for the wait (no coordinated omission);
- **closed loop**: every voter casts again as soon as the answer arrives — the saturation
  throughput (latency there is just ``voters / throughput`` queueing).

The load client is a minimal HTTP/1.1 client on asyncio (pre-built request bytes, one read of
the answer), so it costs far less CPU than the server; its CPU seconds are reported.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import harness


@dataclass
class Voter:
    """One voter of the benchmark: where they connect and their pre-built requests."""

    port: int
    head: bytes  # request line and headers up to Content-Length
    ballots: list[bytes] = field(default_factory=list)

    def request(self) -> bytes:
        body = self.ballots.pop()
        return self.head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


@dataclass
class Election:
    """What the set-up made: the referendum, its manifest and, per voter, the session cookie,
    the CSRF token and the cast token of the voting page."""

    referendum_id: int
    manifest: dict[str, Any]
    aliases: list[str]
    cookies: list[tuple[str, str, str]]


def _encrypt(job: tuple[dict[str, Any], str, int]) -> list[bytes]:
    from referendum_core.crypto import encrypt_ballot

    manifest, alias, count = job
    return [json.dumps(encrypt_ballot(manifest, alias, [1, 0] if i % 3 else [0, 1]).ballot,
                       separators=(",", ":")).encode() for i in range(count)]


def encrypt_all(election: Election, per_voter: int, jobs: int) -> list[list[bytes]]:
    """``per_voter`` fresh ballots for every voter (all cores)."""
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(_encrypt, [(election.manifest, alias, per_voter)
                                        for alias in election.aliases]))


def set_up(database: str, voters: int) -> Election:
    """A referendum in online voting now, ``voters`` people on its list with aliases and
    sign-in cookies (see ``harness.signed_in_cookie``)."""
    from sqlalchemy.orm import Session

    import portal.models  # noqa: F401 - every table on the metadata
    from portal.accounts.services import Keys
    from referendum_core.clock import FixedClock
    from referendum_core.organisation import sync_organisations
    from referendum_core.voting import alias_for
    from tests.voting_support import build_scenario

    app = harness.bench_app(database)
    engine = app.extensions["portal_db"].engine
    clock = FixedClock(datetime(2026, 3, 2, 10, tzinfo=UTC))
    with Session(engine, expire_on_commit=False) as session:
        sync_organisations(session)
        scenario = build_scenario(session, clock, Keys(harness.BENCH_DATA_KEY), voters=voters,
                                  station_number=901)
        referendum = scenario.referendum
        # The set-up happened on the law's calendar; the servers run on the real clock, so the
        # online window is moved around "now" (the manifest's own dates are not re-checked).
        now = datetime.now(UTC)
        referendum.online_opens_at = now - timedelta(hours=1)
        referendum.online_closes_at = now + timedelta(days=1)
        aliases = [alias_for(session, clock, referendum, v.person_ref) for v in scenario.voters]
        session.commit()
        cookies = []
        for voter in scenario.voters:
            cookie, csrf = harness.signed_in_cookie(app, voter)
            cookies.append((cookie, csrf, harness.cast_token(app, voter, cookie, referendum.id)))
        election = Election(referendum.id, referendum.manifest_dict or {}, aliases, cookies)
    engine.dispose()
    return election


def make_voters(election: Election, ports: list[int], ballots: list[list[bytes]]
                ) -> list[Voter]:
    """The voters' pre-built requests, voter ``i`` on ``ports[i % len(ports)]``."""
    out = []
    for i, ((cookie, token, cast), mine) in enumerate(zip(election.cookies, ballots,
                                                           strict=True)):
        port = ports[i % len(ports)]
        head = (f"POST /api/voting/{election.referendum_id}/ballots HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nUser-Agent: {harness.USER_AGENT}\r\n"
                f"Cookie: portal_session={cookie}\r\nX-CSRFToken: {token}\r\n"
                f"X-Cast-Token: {cast}\r\n"
                "Content-Type: application/json\r\nAccept: application/json\r\n").encode()
        out.append(Voter(port, head, list(mine)))
    return out


# --------------------------------------------------------------------------- the load client


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects when the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one pre-built request; its status and body (``(0, b"")`` when the connection
        broke mid-way)."""
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            try:
                self.writer.write(raw)
                head = await self.reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                lower = head.lower()
                at = lower.find(b"content-length:")
                length = int(lower[at + 15:lower.index(b"\r\n", at)]) if at >= 0 else 0
                body = await self.reader.readexactly(length)
                if b"connection: close" in lower:
                    self.close()
                return status, body
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:  # a fresh connection broke as well
                    return 0, b""
        return 0, b""

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class LoadResult:
    """What one load run measured."""

    sent: int
    accepted: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    client_cpu_s: float

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _open_loop(voters: list[Voter], rate: float, seconds: float) -> LoadResult:
    loop = asyncio.get_running_loop()
    conns = [Connection(v.port) for v in voters]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    total = int(rate * seconds)
    start = loop.time() + 0.2

    async def one_voter(index: int) -> None:
        voter, conn = voters[index], conns[index]
        for k in range(index, total, len(voters)):
            due = start + k / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            status, _ = await conn.send(voter.request())
            latencies.append((loop.time() - due) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    cpu = time.process_time()
    await asyncio.wait_for(asyncio.gather(*(one_voter(i) for i in range(len(voters)))),
                           timeout=seconds * 4 + 60)
    elapsed = loop.time() - start
    for conn in conns:
        conn.close()
    return LoadResult(total, statuses.get(201, 0), elapsed, latencies, statuses,
                      time.process_time() - cpu)


async def _closed_loop(voters: list[Voter], seconds: float) -> LoadResult:
    loop = asyncio.get_running_loop()
    conns = [Connection(v.port) for v in voters]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = loop.time()
    stop = start + seconds

    async def one_voter(index: int) -> None:
        voter, conn = voters[index], conns[index]
        while loop.time() < stop and voter.ballots:
            sent = loop.time()
            status, _ = await conn.send(voter.request())
            latencies.append((loop.time() - sent) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    cpu = time.process_time()
    await asyncio.wait_for(asyncio.gather(*(one_voter(i) for i in range(len(voters)))),
                           timeout=seconds + 60)
    elapsed = loop.time() - start
    for conn in conns:
        conn.close()
    return LoadResult(sum(statuses.values()), statuses.get(201, 0), elapsed, latencies,
                      statuses, time.process_time() - cpu)


# --------------------------------------------------------------------------- one repetition


def bare_verification_rate(manifest: dict[str, Any], count: int) -> float:
    """Ballots/s of ``verify_ballot`` alone on one core (the manifest's context cached)."""
    from referendum_core.crypto import verify_ballot

    batch = _encrypt((manifest, "bare-verification", count))
    parsed = [json.loads(b) for b in batch]
    verify_ballot(manifest, "bare-verification", parsed[0])  # context validated and cached
    started = time.perf_counter()
    for ballot in parsed:
        verify_ballot(manifest, "bare-verification", ballot)
    return count / (time.perf_counter() - started)


@contextmanager
def deployment(server_url: str, redis: str | None, serve_args: tuple[str, ...] = (),
               cast_pool: tuple[str, ...] | None = None
               ) -> Iterator[tuple[harness.Portal, str]]:
    """A scratch database with two portal processes (and the ballot pool) on it."""
    with harness.scratch_database(server_url, "bench_cast") as database, \
            harness.portal(database, redis, serve_args=serve_args,
                           cast_pool=cast_pool) as portal:
        yield portal, database


def run(*, server_url: str, redis: str | None, voters: int = 200, rate: float = 300,
        seconds: float = 10, closed_seconds: float = 5, repetitions: int = 3,
        serve_args: tuple[str, ...] = (), cast_pool: tuple[str, ...] | None = None,
        jobs: int | None = None) -> list[dict[str, float]]:
    """Set up once, then ``repetitions`` × (open loop at ``rate``, closed loop); one dict of
    figures per repetition. With ``cast_pool`` (``serve`` arguments) ballots go to a ballot
    pool process of their own, as nginx routes them in docs/deploy.md; otherwise to the two
    portal processes."""
    jobs = jobs or os.cpu_count() or 1
    per_voter = int(rate * seconds / voters + 2) + int(700 * closed_seconds / voters + 2)
    figures = []
    with deployment(server_url, redis, serve_args, cast_pool) as (portal, database):
        election = set_up(database, voters)
        bare = bare_verification_rate(election.manifest, 300)
        warm_up(election, portal, jobs)
        for _ in range(repetitions):
            ballots = encrypt_all(election, per_voter, jobs)
            figures.append(_repetition(portal, database, election, ballots, rate, seconds,
                                       closed_seconds, bare))
    return figures


def warm_up(election: Election, portal: harness.Portal, jobs: int) -> None:
    """Every voter casts twice before anything is measured. A server that has just started
    pays for its first requests once: connections to PostgreSQL and Redis, statement caches,
    the election's parsed manifest. Counted in the run, that start-up would dominate the p99
    (``results.md``, "Ballot casting")."""
    voters = make_voters(election, portal.cast_ports or portal.ports,
                         encrypt_all(election, 2, jobs))
    asyncio.run(_closed_loop(voters, 30.0))


def _repetition(portal: harness.Portal, database: str, election: Election,
                ballots: list[list[bytes]], rate: float, seconds: float, closed_seconds: float,
                bare: float) -> dict[str, float]:
    voters = make_voters(election, portal.cast_ports or portal.ports, ballots)
    time.sleep(1.0)  # let the encryption pool's processes go away
    busy0, all0 = harness.machine_busy()
    server0, db0 = portal.cpu_seconds(), harness.database_cpu_seconds(database)
    opened = asyncio.run(_open_loop(voters, rate, seconds))
    server1, db1 = portal.cpu_seconds(), harness.database_cpu_seconds(database)
    busy1, all1 = harness.machine_busy()
    closed = asyncio.run(_closed_loop(voters, closed_seconds))
    server2 = portal.cpu_seconds()
    accepted_rate = opened.accepted / opened.seconds
    saturated = closed.accepted / closed.seconds
    return {
        "open_offered_per_s": opened.sent / seconds,
        "open_accepted_per_s": accepted_rate,
        "open_p50_ms": opened.percentile(0.50),
        "open_p99_ms": opened.percentile(0.99),
        "open_refused": float(opened.sent - opened.accepted),
        "closed_accepted_per_s": saturated,
        "closed_p50_ms": closed.percentile(0.50),
        "closed_p99_ms": closed.percentile(0.99),
        "closed_refused": float(sum(closed.statuses.values()) - closed.accepted),
        "bare_verify_per_s": bare,
        "ratio_http_to_bare": saturated / bare,
        "client_cpu_ms_per_ballot": 1000 * (opened.client_cpu_s + closed.client_cpu_s)
        / max(1, opened.sent + sum(closed.statuses.values())),
        "server_cpu_ms_per_ballot": 1000 * (server1 - server0) / max(1, opened.sent),
        "database_cpu_ms_per_ballot": 1000 * harness.cpu_spent(db0, db1) / max(1, opened.sent),
        "server_cpu_ms_per_ballot_saturated": 1000 * (server2 - server1)
        / max(1, sum(closed.statuses.values())),
        "machine_busy_open": (busy1 - busy0) / max(1.0, all1 - all0),
        "statuses": json.dumps({**{f"open {k}": v for k, v in opened.statuses.items()},
                                **{f"closed {k}": v for k, v in closed.statuses.items()}}),
    }


def main() -> int:
    """One repetition (or ``--repetitions``) printed as a table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--closed-seconds", type=float, default=5)
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--serve-arg", action="append", default=[],
                        help="extra argument for `referendum-portal serve` (repeatable)")
    parser.add_argument("--cast-pool", default=None,
                        help="`serve` arguments of a ballot pool process, e.g. "
                             "'--worker-class gthread --workers 2 --threads 2'")
    args = parser.parse_args()
    server = harness.postgres_url()
    if server is None:
        parser.error("no PostgreSQL: set DATABASE_URL")
    for figures in run(server_url=server, redis=harness.redis_url(), voters=args.voters,
                       rate=args.rate, seconds=args.seconds, closed_seconds=args.closed_seconds,
                       repetitions=args.repetitions, serve_args=tuple(args.serve_arg),
                       cast_pool=tuple(args.cast_pool.split()) if args.cast_pool else None):
        harness.print_figures(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

