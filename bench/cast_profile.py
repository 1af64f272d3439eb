"""The CPU of one ballot cast on the lean path, in process: ``n`` casts through the portal's
WSGI app on a scratch PostgreSQL database, with the set-up of ``bench.cast`` (a referendum in
online voting, voters signed in, each with a cast token, every ballot encrypted in advance).
Rates and latencies on a shared machine are noise; the CPU a cast costs the portal process,
the instructions it executes and the statements it runs through SQLAlchemy (the lean path
runs its two on the driver's cursor) compare between two versions of the code.

    python -m bench.cast_profile -n 400                   # CPU and statements per ballot
    python -m bench.cast_profile -n 300 --profile out     # and a cProfile (CPU time) to ``out``
    python -m bench.cast_profile -n 100 --instructions    # instructions per ballot (callgrind)

The app is configured as the benchmark's servers are (the per-voter limit counted, the request
log line formatted as JSON, here written to /dev/null); the environ of each request is built
in advance, so the figures are the server's alone. The live push (once a second per process)
is held back: every cast is answered by the lean path (``portal.voting.lean_cast``), which the
script checks.

``--instructions`` runs the casts in a child process under ``valgrind --tool=callgrind`` with
the instrumentation off until the measured casts begin and off again when they end (callgrind's
client requests, through a few lines of C compiled on the spot): the instructions of ``n``
casts over ``n``, start-up and warm-up excluded. Unlike CPU time, the count does not move with
the other work on the machine.

Compare two trees by running it from each (``PYTHONPATH=<tree>``).
"""
from __future__ import annotations

import argparse
import cProfile
import ctypes
import io
import json
import math
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench import harness

WARM_UP = 40
VOTERS = 50


def prepare(database: str, ballots: int) -> dict[str, Any]:
    """The election of ``bench.cast`` and ``ballots`` encrypted ballots spread over its voters,
    as a JSON-able job."""
    from bench import cast

    election = cast.set_up(database, VOTERS)
    per_voter = math.ceil(ballots / VOTERS)
    encrypted = cast.encrypt_all(election, per_voter, os.cpu_count() or 1)
    requests = []
    for i in range(per_voter):
        for (cookie, csrf, token), mine in zip(election.cookies, encrypted, strict=True):
            requests.append((cookie, csrf, token, mine[i].decode()))
    return {"database": database, "referendum_id": election.referendum_id,
            "requests": requests[:ballots]}


def _app(database: str) -> Any:
    """The portal app as the benchmark's servers run it."""
    from portal.app import create_app
    from portal.logging import configure_logging

    app = create_app({"ENV": "testing", "DATABASE_URL": database,
                      "SECRET_KEY": harness.BENCH_SECRET, "DATA_KEY": harness.BENCH_DATA_KEY,
                      "REDIS_URL": None, "RATELIMIT_ENABLED": True,
                      "VOTER_BALLOT_RATE_LIMIT": "100000 per minute"})
    configure_logging("json", "INFO", stream=open(os.devnull, "w"))  # noqa: SIM115
    return app


def _environs(job: dict[str, Any]) -> list[tuple[dict[str, Any], bytes]]:
    from werkzeug.test import EnvironBuilder

    path = f"/api/voting/{job['referendum_id']}/ballots"
    out = []
    for cookie, csrf, token, body in job["requests"]:
        builder = EnvironBuilder(path=path, method="POST", headers={
            "User-Agent": harness.USER_AGENT, "Cookie": f"portal_session={cookie}",
            "X-CSRFToken": csrf, "X-Cast-Token": token, "Content-Type": "application/json",
            "Accept": "application/json"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        environ = builder.get_environ()
        environ.pop("wsgi.input", None)
        out.append((environ, body.encode()))
    return out


def cast_all(job: dict[str, Any], warm_up: int, n: int, profile: str | None = None,
             toggle: Any = None) -> dict[str, Any]:
    """Cast ``warm_up`` ballots unmeasured, then ``n``; the figures. ``toggle``: callgrind's
    ``start`` and ``stop`` (``_toggle``), called around the ``n`` casts."""
    from sqlalchemy import event

    from portal import metrics
    from portal.voting.live import last_pushes

    app = _app(job["database"])
    last_pushes(app)[job["referendum_id"]] = math.inf  # no live push: every cast is lean
    environs = _environs(job)
    assert len(environs) >= warm_up + n, "not enough ballots prepared"
    statements = [0]
    event.listen(app.extensions["portal_db"].engine, "before_cursor_execute",
                 lambda *_: statements.__setitem__(0, statements[0] + 1))
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    def one(environ: dict[str, Any], body: bytes) -> None:
        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        answer = app(environ, start_response)
        b"".join(answer)
        if hasattr(answer, "close"):
            answer.close()
        if not statuses[-1].startswith("201"):
            raise RuntimeError(f"cast refused: {statuses[-1]}")

    for environ, body in environs[:warm_up]:
        one(environ, body)
    lean = _lean_count(metrics)
    statements[0] = 0
    profiler = cProfile.Profile(time.process_time) if profile else None
    cpu = time.process_time()
    if profiler:
        profiler.enable()
    if toggle is not None:
        toggle.start()
    for environ, body in environs[warm_up:warm_up + n]:
        one(environ, body)
    if toggle is not None:
        toggle.stop()
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu = time.process_time() - cpu
    lean = _lean_count(metrics) - lean
    app.extensions["portal_db"].engine.dispose()
    if lean != n:
        raise RuntimeError(f"{n - lean} of {n} casts went to the full app")
    return {"ballots": n, "cpu_ms_per_ballot": 1000 * cpu / n,
            "sqlalchemy_statements_per_ballot": statements[0] / n}


def _lean_count(metrics: Any) -> float:
    """The lean path's answer count so far (``portal_lean_cast_answers_total``)."""
    from prometheus_client import REGISTRY

    for family in REGISTRY.collect():
        for sample in family.samples:
            if "lean_cast" in sample.name and sample.name.endswith("_total"):
                return sample.value
    return 0.0


_TOGGLE_C = """
#include <valgrind/callgrind.h>
void start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void stop(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS; }
"""


def _toggle(work: str) -> Any:
    """The callgrind client requests as C functions (``start``, ``stop``) in ``work``."""
    source, library = os.path.join(work, "toggle.c"), os.path.join(work, "toggle.so")
    with open(source, "w") as f:
        f.write(_TOGGLE_C)
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", library, source], check=True)
    return ctypes.CDLL(library)


def _callgrind(job_file: str, warm_up: int, n: int, work: str) -> int:
    """Instructions executed by a child while casting ``n`` ballots (after ``warm_up``)."""
    _toggle(work)  # compiled here, where a failure shows
    out = os.path.join(work, "callgrind.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                    f"--callgrind-out-file={out}.%p", sys.executable, "-m",
                    "bench.cast_profile", "--child", job_file, "--warm-up", str(warm_up),
                    "-n", str(n), "--toggle", work],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = 0
    for name in os.listdir(work):
        if name.startswith("callgrind.out"):
            with open(os.path.join(work, name)) as f:
                total += max((int(line.split()[1]) for line in f
                              if line.startswith(("summary:", "totals:"))), default=0)
    if not total:
        raise RuntimeError("no instruction total in the callgrind output")
    return total


def run(server_url: str, n: int, profile: str | None = None, instructions: bool = False,
        top: int = 25) -> dict[str, Any]:
    """Prepare, cast, measure; the figures."""
    from sqlalchemy import create_engine

    import portal.models  # noqa: F401 - every table on the metadata
    from referendum_core.db import Base

    with harness.scratch_database(server_url, "bench_cast_profile") as database:
        engine = create_engine(database)
        Base.metadata.create_all(engine)
        engine.dispose()
        if not instructions:
            job = prepare(database, WARM_UP + n)
            figures = cast_all(job, WARM_UP, n, profile)
            if profile:
                _print_top(profile, top)
            return figures
        job = prepare(database, WARM_UP + n)
        with tempfile.TemporaryDirectory(prefix="cast-profile-") as work:
            job_file = os.path.join(work, "job.json")
            with open(job_file, "w") as f:
                json.dump(job, f)
            total = _callgrind(job_file, WARM_UP, n, work)
        return {"ballots": n, "instructions_per_ballot": f"{total / n / 1e6:.3f} M"}


def _print_top(profile: str, top: int) -> None:
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(top)
    print(re.sub(r"^.*?(?=\s+ncalls)", "", text.getvalue(), count=1, flags=re.S))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=400)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile (CPU time) here")
    parser.add_argument("--top", type=int, default=25, help="functions listed with --profile")
    parser.add_argument("--instructions", action="store_true",
                        help="instructions per ballot under callgrind (slow)")
    parser.add_argument("--child", metavar="JOB", help=argparse.SUPPRESS)
    parser.add_argument("--warm-up", type=int, default=WARM_UP, help=argparse.SUPPRESS)
    parser.add_argument("--toggle", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with open(args.child) as f:
            job = json.load(f)
        toggle = ctypes.CDLL(os.path.join(args.toggle, "toggle.so")) if args.toggle else None
        harness.print_figures(cast_all(job, args.warm_up, args.n, toggle=toggle))
        return 0
    server = harness.postgres_url()
    if server is None:
        parser.error("no PostgreSQL: set DATABASE_URL")
    harness.print_figures(run(server, args.n, args.profile, args.instructions, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
