"""The CPU of one online signature in process: ``n`` signatures through the Flask test client
on a scratch PostgreSQL database, with the set-up of ``bench.sign``. Rates and latencies on a
shared machine are noise; the CPU a signature costs the portal process, and the statements it
runs, compare between two versions of the code.

    python -m bench.sign_profile -n 400                  # CPU and statements per signature
    python -m bench.sign_profile -n 400 --path form      # the form's post, the full request
    python -m bench.sign_profile -n 300 --profile out    # and a cProfile (CPU time) to ``out``

``--path lean`` (the default) signs as the page's script does, with the page's signing token
(``portal.initiatives.lean_sign`` takes it); ``--path form`` as the form without script.

Compare two trees by running it from each (``PYTHONPATH=<tree>``), alternately.
"""
from __future__ import annotations

import argparse
import cProfile
import re
import time
from typing import Any

from bench import harness, sign

WARM_UP = 50


_SENT = ("Content-Type", "X-Sign-Token", "X-Requested-With", "Accept")


def _cookie_headers_and_body(raw: bytes) -> tuple[str, dict[str, str], str]:
    """The session cookie, the headers the client sends besides it, and the body of one of
    ``bench.sign``'s pre-built requests."""
    head, body = raw.split(b"\r\n\r\n", 1)
    match = re.search(rb"portal_session=([^\r]+)", head)
    assert match is not None
    headers = {"User-Agent": harness.USER_AGENT}
    for line in head.decode().split("\r\n")[1:]:
        name, _, value = line.partition(": ")
        if name in _SENT:
            headers[name] = value
    return match.group(1).decode(), headers, body.decode()


def run(server_url: str, n: int, profile: str | None = None, path: str = "lean"
        ) -> dict[str, Any]:
    """Sign ``n`` times (after ``WARM_UP`` unmeasured signatures); the figures."""
    from sqlalchemy import create_engine, event

    import portal.models  # noqa: F401 - every table on the metadata
    from referendum_core.db import Base

    with harness.scratch_database(server_url, "bench_sign_profile") as database:
        engine = create_engine(database)
        Base.metadata.create_all(engine)
        engine.dispose()
        prepared = sign.set_up(database, WARM_UP + n, [80], path)
        app = harness.bench_app(database)
        client = app.test_client()
        statements = [0]
        event.listen(app.extensions["portal_db"].engine, "before_cursor_execute",
                     lambda *_: statements.__setitem__(0, statements[0] + 1))
        url = f"/initiatives/{prepared.initiative_id}/sign"

        def one(raw: bytes) -> None:
            cookie, headers, body = _cookie_headers_and_body(raw)
            client.set_cookie("portal_session", cookie, domain="localhost")
            answer = client.post(url, data=body, environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                 headers=headers)
            if answer.status_code != sign.PATHS[path]:  # a refusal answers 422 or 303
                raise RuntimeError(f"signature refused: {answer.status_code}")

        for raw in prepared.requests[:WARM_UP]:
            one(raw)
        statements[0] = 0
        profiler = cProfile.Profile(time.process_time) if profile else None
        cpu = time.process_time()
        if profiler:
            profiler.enable()
        for raw in prepared.requests[WARM_UP:]:
            one(raw)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        cpu = time.process_time() - cpu
        app.extensions["portal_db"].engine.dispose()
    return {"path": path, "signatures": n, "cpu_ms_per_signature": 1000 * cpu / n,
            "statements_per_signature": statements[0] / n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=400)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile (CPU time) here")
    parser.add_argument("--path", choices=sorted(sign.PATHS), default="lean")
    args = parser.parse_args()
    server = harness.postgres_url()
    if server is None:
        parser.error("no PostgreSQL: set DATABASE_URL")
    harness.print_figures(run(server, args.n, args.profile, args.path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
