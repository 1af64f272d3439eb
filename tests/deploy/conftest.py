"""Helpers for tests that start real processes against this machine's PostgreSQL and Redis:
a throw-away database per test, a Redis database number and names of our own, processes that
are always killed, and bounded waits.

These tests are marked ``uses_db`` so that ``make test`` runs them in its PostgreSQL pass (where
``DATABASE_URL`` is set); in the SQLite pass they skip, saying why.
"""
from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import harness

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOCS = PROJECT_ROOT / "docs" / "deploy"  # the example configuration of docs/deploy.md
BIN = Path(sys.executable).parent
# A Redis database number of the deployment tests' own: rate-limit counters, Socket.IO channel
# and Celery queue of other engineers' tests never mix with ours.
DEPLOY_REDIS_DB = 12


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL") or ""
    if not url.startswith("postgresql"):
        pytest.skip("DATABASE_URL (PostgreSQL) is not set: this pass runs on SQLite; "
                    "`make test` runs these tests in its PostgreSQL pass")
    return url


@pytest.fixture()
def pg_url() -> str:
    """The PostgreSQL server's URL from ``DATABASE_URL`` (skips without one)."""
    return _server_url()


@pytest.fixture()
def redis_url() -> str:
    """``REDIS_URL`` pointed at the deployment tests' own database number (skips without it)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set (.ci/run sets it when Redis answers on 6379)")
    import redis

    base = re.sub(r"/\d*$", "", url)
    ours = f"{base}/{DEPLOY_REDIS_DB}"
    try:
        redis.Redis.from_url(ours, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at REDIS_URL does not answer: {exc}")
    return ours


def _admin_engine(server_url: str) -> Any:
    url = make_url(server_url).set(drivername="postgresql+psycopg", database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``."""
    url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture()
def make_database(pg_url: str) -> Iterator[Callable[[str], str]]:
    """``make_database("prefix")`` creates ``<prefix>_<random>`` and returns its URL; every
    database made is dropped afterwards (connections forced closed)."""
    admin = _admin_engine(pg_url)
    made: list[str] = []

    def _make(prefix: str) -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return database_url(pg_url, name)

    try:
        yield _make
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports free on 127.0.0.1 right now (all held open while choosing,
    so the kernel cannot hand the same one out twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def portal_command() -> list[str]:
    """``referendum-portal`` as installed in this virtualenv."""
    script = BIN / "referendum-portal"
    return [str(script)] if script.exists() else [sys.executable, "-m", "portal.cli"]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Processes:
    """Starts processes with their output in files; ``stop_all`` TERMs, then KILLs, each one's
    whole process group (gunicorn's and Celery's children included)."""

    directory: Path
    env: dict[str, str]
    started: list[Proc] = field(default_factory=list)

    def run(self, *args: str, timeout: float = 120, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        """Run a ``referendum-portal`` command to completion (bounded)."""
        return subprocess.run([*portal_command(), *args], env={**self.env, **(env or {})},
                              cwd=self.directory, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        """Start ``argv`` in its own process group."""
        log = self.directory / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        popen = subprocess.Popen(argv, env={**self.env, **(env or {})}, cwd=self.directory,
                                 stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            _signal_group(proc.popen, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.started:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc.popen, signal.SIGKILL)
            try:
                proc.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def _signal_group(popen: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture()
def processes(tmp_path: Path) -> Iterator[Processes]:
    """A ``Processes`` whose environment is a clean portal environment in ``tmp_path``."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST", "PORTAL_", "PROMETHEUS"))
           and key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DATA_KEY"}}
    env.update({
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE": str(tmp_path / "instance"),
        "PORTAL_GNUPGHOME": str(tmp_path / "gnupg"),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_KEY": secrets.token_urlsafe(48),
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    })
    procs = Processes(tmp_path, env)
    try:
        yield procs
    finally:
        procs.stop_all()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str,
              logs: Callable[[], str] = lambda: "", proc: Proc | None = None) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after
    ``timeout`` seconds, or as soon as ``proc`` exits (with the logs, to see why)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            pytest.fail(f"{proc.name} exited ({proc.popen.returncode}) while waiting for "
                        f"{what}:\n{proc.output()[-4000:]}")
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # the service is still starting
            last_error = exc
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last error: {last_error})\n"
                f"{logs()[-4000:]}")


def get_ok(url: str, **kwargs: Any) -> requests.Response | None:
    """``url``'s response when it answered 200, else ``None``."""
    response = requests.get(url, timeout=5, **kwargs)
    return response if response.status_code == 200 else None


class Relay:
    """A TCP relay 127.0.0.1:<port> → a service (PostgreSQL, Redis) that can be cut (every
    connection closed, nothing listening) and restored on the same port: an outage of a shared
    server without stopping it for the others using it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:  # wakes the accept() of the other thread (close alone would not)
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def deployment_env(processes: Processes, database: str, redis: str | None, **extra: str) -> None:
    """``processes`` set up as the benchmarks' deployment (their keys, so ``bench`` can forge
    sign-ins; queue and channel names of their own) on ``database``, migrated, with the
    archive key made."""
    suffix = secrets.token_hex(4)
    processes.env.update({
        "DATABASE_URL": database, "SECRET_KEY": harness.BENCH_SECRET,
        "DATA_KEY": harness.BENCH_DATA_KEY, "CELERY_QUEUE": f"faults-{suffix}",
        "SOCKETIO_CHANNEL": f"faults-socketio-{suffix}", **extra})
    if redis:
        processes.env["REDIS_URL"] = redis
    for step in (("migrate",), ("messaging", "init-keys")):
        done = processes.run(*step)
        assert done.returncode == 0, done.stderr[-3000:]


def cast(port: int, referendum_id: int, cookie: tuple[str, str, str], ballot: bytes,
         timeout: float = 30) -> requests.Response:
    """POST ``ballot`` to the portal on ``port`` as the voter of ``cookie`` (session, CSRF and
    cast tokens), as the voting page's script does."""
    session_cookie, token, cast_token = cookie
    return requests.post(
        f"http://127.0.0.1:{port}/api/voting/{referendum_id}/ballots", data=ballot, timeout=timeout,
        headers={"Cookie": f"portal_session={session_cookie}", "X-CSRFToken": token,
                 "X-Cast-Token": cast_token, "User-Agent": harness.USER_AGENT,
                 "Content-Type": "application/json"})


def pool_unit_argv() -> list[str]:
    """The ``ExecStart`` command line of the ballot pool's unit, as systemd would run it."""
    unit = (DEPLOY_DOCS / "portal-ballots.service").read_text()
    [line] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(line.removeprefix("ExecStart="))
    assert argv[0].endswith("/referendum-portal") and argv[1] == "serve", argv
    return argv


def pool_argv(port: int) -> list[str]:
    """The pool unit's ``ExecStart``, with this checkout's command and ``port``."""
    args = pool_unit_argv()[2:]
    args[args.index("--port") + 1] = str(port)
    return [*portal_command(), "serve", *args]
