"""The ballot pool of docs/deploy.md, started on loopback from its unit's own command line
(``docs/deploy/portal-ballots.service``) with a web process beside it, on PostgreSQL:

- nginx's example configuration sends the cast endpoint, and only it, to the pool, with the
  web processes as backups;
- casts through the pool are accepted (by the lean path), and the web process shows them;
- **the pool's workers killed in the middle of casts**, twice (the fault "a portal
  process killed mid-request: no partial ballot"): every ballot ends up on the board whole, exactly
  once — accepted at once, or, when its answer was lost, accepted on resending or refused as a
  replay of the copy already there, as the voting page resends (``voting.js``) — the board's
  hash chain, its claimed alphas and its counters agree, the audit chain verifies, and
  gunicorn has started new workers that accept casts again.

The voters and their sign-in cookies are made as the benchmarks make them
(``bench.cast.set_up``), with the deployment's keys.
"""
from __future__ import annotations

import json
import os
import re
import signal
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from bench.cast import encrypt_all
from bench.cast import set_up as set_up_referendum
from referendum_core.crypto import EMPTY_HEAD, board_head, context_from_manifest, verify_ballot
from tests.deploy.conftest import (
    DEPLOY_DOCS,
    cast,
    deployment_env,
    free_ports,
    get_ok,
    pool_argv,
    pool_unit_argv,
    portal_command,
    wait_for,
)

CAST_PATH = re.compile(r"^/api/voting/[0-9]+/ballots$")  # nginx.conf's location, checked below
VOTERS = 6
ROUNDS = 25  # ballots per voter in the burst


def test_nginx_sends_the_cast_endpoint_to_the_pool_and_falls_back_to_the_web_processes(app):
    conf = (DEPLOY_DOCS / "nginx.conf").read_text()
    upstream = re.search(r"upstream portal_ballots \{(.*?)\}", conf, re.DOTALL).group(1)
    unit = pool_unit_argv()
    assert unit[unit.index("--port") + 1] == "8101"
    assert re.search(r"^\s*server 127\.0\.0\.1:8101 max_fails", upstream, re.MULTILINE)
    backups = re.findall(r"^\s*server (\S+) backup;", upstream, re.MULTILINE)
    web = re.search(r"upstream portal \{(.*?)\}", conf, re.DOTALL).group(1)
    assert backups and all(f"server {b} " in web for b in backups)
    location = re.search(r"location ~ (\S+) \{(.*?)\}", conf, re.DOTALL)
    assert location.group(1) == CAST_PATH.pattern
    assert "proxy_pass http://portal_ballots;" in location.group(2)
    # A cast already sent is never passed on to a backup (it could be stored twice).
    directives = [line.split("#")[0] for line in conf.splitlines()]
    assert not any("proxy_next_upstream" in line for line in directives)
    # The location takes the cast endpoint and no other route of the portal.
    routed = set()
    for rule in app.url_map.iter_rules():
        sample = re.sub(r"<[^>]+>", "1", rule.rule)
        if CAST_PATH.match(sample):
            routed.add(rule.endpoint)
    assert routed == {"voting_api.cast"}


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers of a master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.uses_db
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_pool_workers_killed_mid_cast_leave_every_ballot_whole_and_once(processes,
                                                                         make_database):
    database = make_database("portal_ballot_pool")
    deployment_env(processes, database, None,
                   VOTER_BALLOT_RATE_LIMIT="100000 per minute")  # synthetic voters cast fast
    pool_port, web_port = free_ports(2)
    pool = processes.start("ballots", pool_argv(pool_port))
    web = processes.start("web", [*portal_command(), "serve", "--port", str(web_port)])
    for port, proc in ((pool_port, pool), (web_port, web)):
        wait_for(lambda p=port: get_ok(f"http://127.0.0.1:{p}/readyz"), 90,
                 f"port {port} ready", proc.output, proc=proc)
    election = set_up_referendum(database, VOTERS)
    ballots = encrypt_all(election, ROUNDS + 2, 2)
    context = context_from_manifest(election.manifest)
    referendum_id = election.referendum_id
    pool_base, web_base = f"http://127.0.0.1:{pool_port}", f"http://127.0.0.1:{web_port}"

    # Through the pool; the web process finds it on the board.
    first = cast(pool_port, referendum_id, election.cookies[0], ballots[0].pop())
    assert first.status_code == 201, first.text
    tracker = first.json()["tracker"]
    looked_up = requests.get(f"{web_base}/api/voting/{referendum_id}/board/{tracker}", timeout=10)
    assert looked_up.status_code == 200 and looked_up.json()["seq"] == 1

    # The burst: each voter casts back to back; the pool's workers are killed twice on the way.
    outcomes: dict[str, list[tuple[int, bytes, int | str]]] = {"accepted": [], "lost": []}
    lock = threading.Lock()

    def voter(v: int) -> None:
        for _ in range(ROUNDS):
            ballot = ballots[v].pop()
            try:
                status: int | str = cast(pool_port, referendum_id, election.cookies[v],
                                         ballot).status_code
            except requests.RequestException as exc:  # the connection died with the worker
                status = type(exc).__name__
            with lock:
                outcomes["accepted" if status == 201 else "lost"].append((v, ballot, status))

    def done() -> int:
        with lock:
            return len(outcomes["accepted"]) + len(outcomes["lost"])

    killed = []
    threads = [threading.Thread(target=voter, args=(v,), daemon=True) for v in range(VOTERS)]
    for thread in threads:
        thread.start()
    for after in (VOTERS * ROUNDS // 5, VOTERS * ROUNDS // 2):
        wait_for(lambda a=after: done() >= a, 120, f"{after} casts answered", pool.output)
        workers = _children(pool.popen.pid)
        assert workers, pool.output()[-3000:]
        for pid in workers:  # every worker: the casts in flight in any of them are cut
            os.kill(pid, signal.SIGKILL)
        killed.extend(workers)
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    lost = outcomes["lost"]
    # Past each worker's first cast (which parses the election), the lean path answered.
    metrics = requests.get(f"{pool_base}/metrics", timeout=10).text
    lean = float(re.search(r"^portal_lean_casts_total (\S+)$", metrics, re.M).group(1))
    assert lean >= len(outcomes["accepted"]) // 2, metrics
    assert lost, "no cast was in flight in a killed worker: the kills tested nothing"
    assert {status for _, _, status in lost} <= {"ConnectionError", "ChunkedEncodingError"}, [
        status for _, _, status in lost]

    # What the voting page does with a lost answer: resend the very same ballot. It is either
    # accepted now or refused as a replay of the copy the killed worker stored.
    wait_for(lambda: get_ok(f"{pool_base}/healthz"), 60, "the pool's new workers", pool.output,
             proc=pool)
    for v, ballot, _ in lost:
        again = cast(pool_port, referendum_id, election.cookies[v], ballot)
        if again.status_code == 201:
            continue
        assert again.json().get("reason") == "replay", again.text
        alias = election.aliases[v]
        on_board = requests.get(f"{web_base}/api/voting/{referendum_id}/board/"
                                f"{verify_ballot(context, alias, json.loads(ballot))}", timeout=10)
        assert on_board.status_code == 200, on_board.text

    # The board: every ballot exactly once, chained, with its alphas and counters.
    sent = 1 + VOTERS * ROUNDS
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            entries = conn.execute(text(
                "SELECT seq, alias, tracker, ballot, head FROM voting_board "
                "WHERE referendum_id = :r ORDER BY seq"), {"r": referendum_id}).all()
            referendum = conn.execute(text(
                "SELECT board_seq, board_head, online_voters FROM voting_referendums "
                "WHERE id = :r"), {"r": referendum_id}).one()
            alphas = set(conn.execute(text(
                "SELECT alpha FROM voting_ballot_alphas WHERE referendum_id = :r"),
                {"r": referendum_id}).scalars())
            counted = conn.execute(text(
                "SELECT coalesce(sum(ballots), 0) FROM voting_aliases WHERE referendum_id = :r"),
                {"r": referendum_id}).scalar()
    finally:
        engine.dispose()
    assert len(entries) == sent
    assert len({e.tracker for e in entries}) == sent
    assert [e.seq for e in entries] == list(range(1, sent + 1))
    head = EMPTY_HEAD
    for entry in entries:
        head = board_head(head, bytes.fromhex(entry.tracker))
        assert entry.head == head.hex(), f"the chain breaks at seq {entry.seq}"
    assert (referendum.board_seq, referendum.board_head) == (sent, head.hex())
    assert referendum.online_voters == len({e.alias for e in entries}) == VOTERS
    assert counted == sent
    board_alphas = [c["alpha"] for e in entries for c in json.loads(e.ballot)["choices"]]
    assert alphas == set(board_alphas) and len(board_alphas) == len(alphas)
    verified = processes.run("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # gunicorn replaced the killed workers, and they accept casts.
    assert pool.popen.poll() is None
    assert not set(killed) & set(_children(pool.popen.pid))
    for v in range(VOTERS):
        again = cast(pool_port, referendum_id, election.cookies[v], ballots[v].pop())
        assert again.status_code == 201, again.text
