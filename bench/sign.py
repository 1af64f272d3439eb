"""Initiative signatures over HTTP on PostgreSQL, against the deployment of ``docs/deploy.md``:
two portal processes (gunicorn, gevent), Redis, every signature checked against the register
(Art. 7), held once per person (Art. 11(1)) and given its pending receipt on the public
signature board, one transaction each.

    python -m bench.sign --rate 100 --seconds 600         # the target: 100/s for ten minutes
    python -m bench.sign --rate 100 --seconds 30          # a shorter run

Set-up (not timed): a municipality with ``rate × seconds`` voters in the register, each with an
account and a forged sign-in cookie (``harness.signed_in_cookie``), and an initiative collecting
signatures now. Every signer signs once, so the load is ``rate × seconds`` distinct people.
Each signer signs as a browser with script does (``--path lean``, the default): the
initiative's page is fetched once with their cookie (in process, in the set-up) for its signing
token, and the signature is posted with it in ``X-Sign-Token`` (``portal/static/js/sign.js``;
taken by ``portal.initiatives.lean_sign``, answered 201). ``--path form`` posts the form with
its CSRF token instead, as a browser without script (the full Flask request, answered 302).
Then an **open loop** at ``rate`` signatures/s over ``connections`` keep-alive connections
(signature ``k`` is due at ``start + k / rate``): accepted signatures/s and p50/p99 latency
measured from each signature's *scheduled* time, so a server that falls behind is charged for
the wait. Afterwards the database must hold exactly the accepted signatures, each with one
pending board entry; the batch that publishes them is timed and the board verified.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench import harness
from bench.cast import Connection, LoadResult

ATVK = "0023000"
WARM_UP = 200  # signers who sign before the measured run


#: How a signature is sent, and the status that says it was recorded.
PATHS = {"lean": 201, "form": 302}


@dataclass
class Signers:
    """What the set-up made: the initiative and each signer's pre-built request."""

    initiative_id: int
    requests: list[bytes]


def _page_token(client: Any, initiative_id: int, cookie: str) -> str:
    """The signing token of the initiative's page, fetched as the signer's browser would."""
    client.set_cookie("portal_session", cookie, domain="localhost")
    page = client.get(f"/initiatives/{initiative_id}",
                      environ_base={"REMOTE_ADDR": "127.0.0.1"},
                      headers={"User-Agent": harness.USER_AGENT})
    html = page.get_data(as_text=True)
    if page.status_code != 200 or 'data-sign-token="' not in html:
        raise RuntimeError(f"the initiative page gave no signing token ({page.status_code})")
    token = html.split('data-sign-token="', 1)[1].split('"', 1)[0]
    if not token:
        raise RuntimeError("the initiative page gave an empty signing token")
    return token


def _code(n: int) -> str:
    from bench.bench_register import code

    return code(n)


def set_up(database: str, signers: int, ports: list[int], path: str = "lean") -> Signers:
    """``signers`` voters of one municipality (register rows and accounts, in bulk) and an
    initiative collecting signatures around the real time (the servers' clock); each signer's
    request sent by ``path`` (``PATHS``)."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    import portal.models  # noqa: F401 - every table on the metadata
    from portal.accounts.models import User
    from portal.accounts.services import Keys
    from referendum_core.calendar import WorkingDayCalendar
    from referendum_core.clock import FixedClock
    from referendum_core.initiatives import (
        Subject,
        decide_initiative,
        publish_due_initiatives,
        submit_initiative,
    )
    from referendum_core.organisation import Municipality, sync_organisations
    from referendum_core.register import PersonRecord

    app = harness.bench_app(database)
    engine = app.extensions["portal_db"].engine
    protector = Keys(harness.BENCH_DATA_KEY).personal_codes
    clock, calendar = FixedClock(datetime(2026, 3, 2, 10, tzinfo=UTC)), WorkingDayCalendar()
    codes = [_code(n) for n in range(1, signers + 2)]  # the last one is the applicant
    refs = [protector.lookup_hash(c) for c in codes]
    with Session(engine, expire_on_commit=False) as session:
        sync_organisations(session)
        muni = session.scalars(select(Municipality).where(Municipality.atvk_code == ATVK)).one()
        muni.voters_at_last_election = 10 * signers
        session.execute(insert(PersonRecord), [
            {"person_ref": ref, "personal_code_enc": protector.encrypt(c), "name": "Bench",
             "birth_date": date(1970, 1, 1), "citizenship": "LV",
             "residence_municipality_id": muni.id, "row_hash": "x",
             "updated_at": clock.now()} for ref, c in zip(refs, codes, strict=True)])
        session.execute(insert(User), [
            {"person_ref": ref, "personal_code_enc": protector.encrypt(c),
             "display_name": f"Bench {n}", "created_at": clock.now()}
            for n, (ref, c) in enumerate(zip(refs[:-1], codes[:-1], strict=True))])
        initiative = submit_initiative(
            session, clock, calendar, None, municipality=muni, subject=Subject.STRATEGY,
            question="Vai atbalstāt?", reasons="Bench.", basis_date=date(2026, 2, 1),
            person_ref=refs[-1])
        decide_initiative(session, clock, calendar, None, initiative, can=True)
        clock.set(datetime(2026, 3, 5, 8, tzinfo=UTC))
        publish_due_initiatives(session, clock, calendar)
        # Decided on the law's calendar; the servers run on the real clock, so the collection
        # window is moved around "now".
        now = datetime.now(UTC)
        initiative.collection_starts_at = now - timedelta(hours=1)
        initiative.collection_ends_at = now + timedelta(days=1)
        session.commit()
        users = list(session.scalars(select(User).where(User.person_ref.is_not(None))
                                     .order_by(User.id)))
        requests = []
        client = app.test_client()
        with app.app_context():
            for i, user in enumerate(users):
                cookie, token = harness.signed_in_cookie(app, user)
                port = ports[i % len(ports)]
                head = (f"POST /initiatives/{initiative.id}/sign HTTP/1.1\r\n"
                        f"Host: 127.0.0.1:{port}\r\nUser-Agent: {harness.USER_AGENT}\r\n"
                        f"Cookie: portal_session={cookie}\r\n")
                if path == "lean":
                    requests.append((
                        head + f"X-Sign-Token: {_page_token(client, initiative.id, cookie)}\r\n"
                        "X-Requested-With: fetch\r\nAccept: application/json\r\n"
                        "Content-Length: 0\r\n\r\n").encode())
                    continue
                body = f"csrf_token={token}".encode()
                requests.append((
                    head + "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        result = Signers(initiative.id, requests)
    engine.dispose()
    return result


async def _open_loop(requests: list[bytes], ports: list[int], rate: float,
                     connections: int, accepted: int = PATHS["lean"]) -> LoadResult:
    """Signature ``k`` due at ``start + k / rate`` on connection ``k % connections``;
    ``accepted`` is the status of a recorded signature (201 to the script, the redirect 302 to
    the form; a refusal answers 422 or 303)."""
    loop = asyncio.get_running_loop()
    conns = [Connection(ports[i % len(ports)]) for i in range(connections)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    total = len(requests)
    start = loop.time() + 0.2

    async def one_connection(index: int) -> None:
        conn = conns[index]
        for k in range(index, total, connections):
            due = start + k / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # The request was built for port k % len(ports); connection index keeps that port.
            status, _ = await conn.send(requests[k])
            latencies.append((loop.time() - due) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    cpu = time.process_time()
    seconds = total / rate
    await asyncio.wait_for(asyncio.gather(*(one_connection(i) for i in range(connections))),
                           timeout=seconds * 4 + 60)
    elapsed = loop.time() - start
    for conn in conns:
        conn.close()
    return LoadResult(total, statuses.get(accepted, 0), elapsed, latencies, statuses,
                      time.process_time() - cpu)


def check_and_publish(database: str, initiative_id: int, accepted: int) -> dict[str, float]:
    """The database holds exactly the accepted signatures (warm-up included), each with one
    pending receipt;
    the batch that publishes them (shuffled, chained) is timed and the board verified."""
    import json

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from referendum_core.clock import SystemClock
    from referendum_core.crypto.signature_board import verify_board
    from referendum_core.signature_board import BoardEntry, board_document, publish_pending
    from referendum_core.signatures import Signature

    app = harness.bench_app(database)
    engine = app.extensions["portal_db"].engine
    with Session(engine) as session:
        signatures = session.scalar(select(func.count()).where(
            Signature.initiative_id == initiative_id)) or 0
        pending = session.scalar(select(func.count()).where(
            BoardEntry.initiative_id == initiative_id, BoardEntry.seq.is_(None))) or 0
        if signatures != accepted or pending != accepted:
            raise RuntimeError(f"{accepted} accepted, but {signatures} signatures and "
                               f"{pending} pending board entries")
        started = time.perf_counter()
        publish_pending(session, SystemClock(), initiative_id, everything=True)
        session.commit()
        published = time.perf_counter() - started
        document = json.loads(json.dumps(board_document(session, initiative_id, None,
                                                        "0" * 64)))
    engine.dispose()
    started = time.perf_counter()
    summary = verify_board(document)
    verified = time.perf_counter() - started
    if summary.count != accepted:
        raise RuntimeError(f"the board counts {summary.count}, {accepted} were accepted")
    return {"publish_batch_s": published, "board_verify_s": verified}


def run(*, server_url: str, redis: str | None, rate: float = 100, seconds: float = 600,
        connections: int = 50, path: str = "lean") -> dict[str, float]:
    """Set up, sign ``rate × seconds`` times at ``rate`` by ``path``, check; the figures."""
    signers = int(rate * seconds)
    with harness.scratch_database(server_url, "bench_sign") as database, \
            harness.portal(database, redis) as portal:
        warm = min(WARM_UP, signers)
        prepared = set_up(database, warm + signers, portal.ports, path)
        # A server that has just started pays for its first requests once (connections to
        # PostgreSQL and Redis, statement caches, templates): some signers sign first, unmeasured.
        warmed = asyncio.run(_open_loop(prepared.requests[:warm], portal.ports, rate / 2,
                                        min(connections, warm), PATHS[path]))
        busy0, all0 = harness.machine_busy()
        server0, db0 = portal.cpu_seconds(), harness.database_cpu_seconds(database)
        result = asyncio.run(_open_loop(prepared.requests[warm:], portal.ports, rate,
                                        min(connections, signers), PATHS[path]))
        server1, db1 = portal.cpu_seconds(), harness.database_cpu_seconds(database)
        busy1, all1 = harness.machine_busy()
        figures: dict[str, Any] = {
            "sign_path": path, "sign_offered_per_s": rate, "sign_seconds": seconds,
            "sign_accepted_per_s": result.accepted / result.seconds,
            "sign_p50_ms": result.percentile(0.50), "sign_p99_ms": result.percentile(0.99),
            "sign_max_ms": max(result.latencies_ms, default=float("nan")),
            "sign_refused": float(result.sent - result.accepted),
            "sign_server_cpu_ms": 1000 * (server1 - server0) / max(1, result.sent),
            "sign_database_cpu_ms": 1000 * harness.cpu_spent(db0, db1) / max(1, result.sent),
            "sign_client_cpu_ms": 1000 * result.client_cpu_s / max(1, result.sent),
            "sign_machine_busy": (busy1 - busy0) / max(1.0, all1 - all0),
            "sign_statuses": str(dict(sorted(result.statuses.items()))),
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        }
        figures.update(check_and_publish(database, prepared.initiative_id,
                                         warmed.accepted + result.accepted))
    return figures


def main() -> int:
    """One run printed as a table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--path", choices=sorted(PATHS), default="lean",
                        help="lean: the page's script with its signing token (default); "
                             "form: the form's post without script")
    args = parser.parse_args()
    server = harness.postgres_url()
    if server is None:
        parser.error("no PostgreSQL: set DATABASE_URL")
    harness.print_figures(run(server_url=server, redis=harness.redis_url(), rate=args.rate,
                              seconds=args.seconds, connections=args.connections,
                              path=args.path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
