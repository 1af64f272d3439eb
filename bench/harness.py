"""What the HTTP and Socket.IO benchmarks share: the machine's description, finding PostgreSQL
and Redis on loopback, a throw-away database, portal processes started as ``docs/deploy.md``
says (``referendum-portal serve`` → gunicorn), CPU accounting and forged sign-in cookies.

The processes are started with the deployment tests' harness (``tests/deploy/conftest.py``:
``Processes``, ``wait_for``), so the benchmark drives the same shape CI tests.
"""
from __future__ import annotations

import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# The benchmarks' own Redis database number (the deployment tests use 12).
BENCH_REDIS_DB = 13
USER_AGENT = "portal-bench/1"


# --------------------------------------------------------------------------- the machine


def _first(path: str, pattern: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError:
        return "?"
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1).strip() if match else "?"


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) \
        else "?"


def machine(pg_url: str | None, redis_url: str | None) -> dict[str, str]:
    """nproc, CPU model, RAM, Python, PostgreSQL and Redis server versions, load average."""
    info = {
        "nproc": str(os.cpu_count()),
        "cpu": _first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$"),
        "ram": _ram(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "kernel": platform.release(),
        "loadavg": load_average(),
        "postgresql": "not reachable",
        "commit": "not measured",
        "redis": "not reachable",
    }
    if pg_url:
        try:
            from sqlalchemy import create_engine, text

            engine = create_engine(pg_url)
            with engine.connect() as conn:
                info["postgresql"] = conn.execute(text("SHOW server_version")).scalar() or "?"
            info["commit"] = commit_latency(engine)
            engine.dispose()
        except Exception as exc:  # reported, not fatal
            info["postgresql"] = f"error: {type(exc).__name__}"
    if redis_url:
        try:
            import redis

            client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
            info["redis"] = str(client.info("server").get("redis_version", "?"))
            client.close()
        except Exception as exc:
            info["redis"] = f"error: {type(exc).__name__}"
    return info


def commit_latency(engine: Any, commits: int = 200) -> str:
    """Median and p99 of a commit that waits for its WAL flush (a transaction that took a
    transaction id): what every audited write and every ballot waits for at least once. It
    differs between the machines this bench meets (the disk under PostgreSQL), and explains
    message-delivery figures that the CPU does not."""
    from sqlalchemy import text

    times = []
    with engine.connect() as conn:
        for _ in range(commits):
            conn.execute(text("SELECT txid_current()"))
            started = time.perf_counter()
            conn.commit()
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return (f"median {times[len(times) // 2]:.2f} ms, p99 {times[int(0.99 * len(times))]:.2f} ms"
            f" ({commits} commits)")


def cpu_stolen() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs so far (``/proc/stat``): the share of time a virtual
    machine's CPUs were runnable but the host ran something else."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def stolen_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> str:
    """The share of CPU time the host took between two ``cpu_stolen`` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return "?"
    return f"{100 * (after[0] - before[0]) / (after[1] - before[1]):.1f} %"


def _ram() -> str:
    kib = _first("/proc/meminfo", r"^MemTotal:\s*(\d+)")
    return f"{int(kib) / 1024 / 1024:.1f} GiB" if kib.isdigit() else "?"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _answers(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) == 0


def postgres_url() -> str | None:
    """``DATABASE_URL`` if it names PostgreSQL, else the machine's 127.0.0.1:5432 if it answers."""
    url = os.environ.get("DATABASE_URL") or ""
    if url.startswith("postgresql"):
        return url
    return DEFAULT_PG if _answers("127.0.0.1", 5432) else None


def redis_url() -> str | None:
    """``REDIS_URL`` (else 127.0.0.1:6379 if it answers), on the benchmarks' database number
    (``BENCH_REDIS_DB`` in the environment gives another: engineers sharing one Redis each
    bench on their own)."""
    url = os.environ.get("REDIS_URL") or (DEFAULT_REDIS if _answers("127.0.0.1", 6379) else "")
    if not url:
        return None
    base = re.sub(r"/\d*$", "", url)
    return f"{base}/{os.environ.get('BENCH_REDIS_DB') or BENCH_REDIS_DB}"


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database ``<prefix>_<random>`` on the server; dropped afterwards."""
    from sqlalchemy import text

    from tests.deploy.conftest import _admin_engine, database_url

    admin = _admin_engine(server_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield database_url(server_url, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --------------------------------------------------------------------------- CPU accounting


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def _process_cpu(entry: Path) -> tuple[list[str], int] | None:
    """(the fields of ``/proc/<pid>/stat`` after the command, user + system clock ticks), or
    ``None`` when the process has gone."""
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return fields, int(fields[11]) + int(fields[12])  # utime, stime


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in process group ``pgid``."""
    total = 0
    for entry in Path("/proc").iterdir():
        found = _process_cpu(entry) if entry.name.isdigit() else None
        if found is not None and int(found[0][2]) == pgid:  # field 5 of stat: process group
            total += found[1]
    return total / _clock_ticks()


def database_cpu_seconds(database_url: str) -> dict[int, float]:
    """User + system CPU seconds of each live PostgreSQL backend serving ``database_url``'s
    database (its processes are titled ``postgres: … <database> …``), by process id; empty
    when the server does not run on this machine. Two readings are compared with
    ``cpu_spent``."""
    from sqlalchemy.engine import make_url

    name = make_url(database_url).database or ""
    found_by_pid: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found = _process_cpu(entry) if title.startswith("postgres:") and f" {name} " in title \
            else None
        if found is not None:
            found_by_pid[int(entry.name)] = found[1] / _clock_ticks()
    return found_by_pid


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends alive at ``after`` spent since ``before`` (a backend that
    started meanwhile counts whole). A backend that ended meanwhile is not counted, so this is
    a lower bound, never negative (a plain difference of totals was, when a pooled connection
    closed during the run)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def print_figures(figures: dict[str, Any], width: int = 38) -> None:
    """One repetition's figures, a line each (the benchmarks' own command lines)."""
    for key, value in figures.items():
        shown = f"{value:>12.2f}" if isinstance(value, float) else str(value)
        print(f"{key:{width}} {shown}")
    print()


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat, to measure utilisation over a span."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]  # idle + iowait
    return float(sum(parts) - idle), float(sum(parts))


# --------------------------------------------------------------------------- portal processes


@dataclass
class Portal:
    """Portal processes (``serve``) and maybe a worker, sharing one database and Redis."""

    processes: Any
    ports: list[int] = field(default_factory=list)
    webs: list[Any] = field(default_factory=list)
    cast_ports: list[int] = field(default_factory=list)  # the ballot pool, when started
    gnupg_home: str = ""

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by every portal process (masters and workers)."""
        return sum(group_cpu_seconds(web.popen.pid) for web in self.webs)


@contextmanager
def portal(database: str, redis: str | None, *, processes: int = 2,
           serve_args: tuple[str, ...] = (), cast_pool: tuple[str, ...] | None = None,
           extra_env: dict[str, str] | None = None) -> Iterator[Portal]:
    """Migrate ``database`` and start ``processes`` portal processes, each
    ``referendum-portal serve --port P <serve_args>``, and with ``cast_pool`` one more process
    ``serve --port Q <cast_pool>`` that nginx would send ballot casts to (docs/deploy.md);
    stopped (whole process groups) on exit."""
    from tests.deploy.conftest import Processes, free_port, get_ok, portal_command, wait_for

    work = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST", "PORTAL_", "PROMETHEUS"))
           and key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DATA_KEY"}}
    suffix = secrets.token_hex(4)
    env.update({
        "PORTAL_ENV": "development", "PORTAL_INSTANCE": str(work / "instance"),
        "PORTAL_GNUPGHOME": str(work / "gnupg"), "SECRET_KEY": BENCH_SECRET,
        "DATA_KEY": BENCH_DATA_KEY, "LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database, "CELERY_QUEUE": f"bench-{suffix}",
        "SOCKETIO_CHANNEL": f"bench-socketio-{suffix}",
        # Each synthetic voter casts dozens of times a minute: the per-voter limit is checked
        # on every cast (its cost is measured) but not reached.
        "VOTER_BALLOT_RATE_LIMIT": "100000 per minute", **(extra_env or {})})
    if redis:
        env["REDIS_URL"] = redis
    procs = Processes(work, env)
    result = Portal(procs, gnupg_home=env["PORTAL_GNUPGHOME"])
    try:
        for step in (("migrate",), ("messaging", "init-keys")):  # docs/deploy.md, installation
            done = procs.run(*step, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(step)} failed: {done.stderr[-2000:]}")
        for _ in range(processes):
            port = free_port()
            web = procs.start(f"portal-{port}", [*portal_command(), "serve", "--port",
                                                 str(port), *serve_args])
            result.ports.append(port)
            result.webs.append(web)
        if cast_pool is not None:
            port = free_port()
            result.webs.append(procs.start(f"cast-{port}", [
                *portal_command(), "serve", "--port", str(port), *cast_pool]))
            result.cast_ports.append(port)
        all_ports = [*result.ports, *result.cast_ports]
        for base, web in zip([f"http://127.0.0.1:{p}" for p in all_ports], result.webs,
                             strict=True):
            wait_for(lambda b=base: get_ok(f"{b}/healthz"), 90, f"{base}/healthz",
                     web.output, proc=web)
        yield result
    finally:
        procs.stop_all()
        if redis:
            _forget_redis_keys(redis, env["CELERY_QUEUE"])
        shutil.rmtree(work, ignore_errors=True)


def _forget_redis_keys(url: str, queue: str) -> None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}",
                      f"portal:heartbeat:{queue}")
        for key in client.scan_iter("LIMITS:*"):
            client.delete(key)
        client.close()
    except Exception:  # noqa: S110 - best-effort tidying of our own database number
        pass


# Fixed keys of the benchmark deployment: the benchmark forges its voters' sign-in cookies with
# them (signing in 200 people through the eID flow is not what is measured).
BENCH_SECRET = "bench-secret-key-" + "s" * 32
BENCH_DATA_KEY = "bench-data-key-" + "d" * 32


def bench_app(database: str, gnupg_home: str | None = None) -> Any:
    """An in-process portal app on ``database`` with the benchmark deployment's keys (and its
    archive key, for writing messages)."""
    from portal.app import create_app

    config = {"ENV": "testing", "DATABASE_URL": database, "SECRET_KEY": BENCH_SECRET,
              "DATA_KEY": BENCH_DATA_KEY, "REDIS_URL": None, "RATELIMIT_ENABLED": False}
    if gnupg_home:
        config["PORTAL_GNUPGHOME"] = gnupg_home
    return create_app(config)


def signed_in_cookie(app: Any, user: Any, user_agent: str = USER_AGENT) -> tuple[str, str]:
    """(session cookie value, CSRF token) of ``user`` signed in from 127.0.0.1 with
    ``user_agent`` (the load client's), as the sign-in flow would have left them."""
    from flask import g, session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from portal.security import new_session_id

    with app.test_request_context(headers={"User-Agent": user_agent},
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        # Within an outer app context `g` outlives this request: forget the previous user's.
        g.pop("csrf_token", None)
        g.pop("_login_user", None)
        login_user(user, fresh=True)
        session["sid"] = new_session_id()
        session.permanent = True
        session["seen_at"] = session["signed_in_at"] = time.time()
        token = generate_csrf()
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return cookie, token


def cast_token(app: Any, user: Any, cookie: str, referendum_id: int) -> str:
    """The cast token the voting page would give ``user``'s script for the session of
    ``cookie`` (``signed_in_cookie``) in ``referendum_id`` (``portal.voting.cast_token``)."""
    from portal.voting.cast_token import page_cast_token

    session = app.session_interface.get_signing_serializer(app).loads(cookie)
    token = page_cast_token(app, user, session, referendum_id)
    assert token is not None
    return token
