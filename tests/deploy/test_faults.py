"""Faults on this machine's services, bounded and without disturbing them for others:

- PostgreSQL unreachable (a TCP relay in front of it is cut, as a restart would): requests get
  the friendly error page, /readyz says 503, and everything recovers by itself when it is back;
- a portal worker SIGKILLed in the middle of a writing request: nothing of it is committed, the
  audit chain still verifies and gunicorn serves again.

Redis unreachable: ``tests/portal/ops/test_ops_views.py::TestRedisDown`` (in process) and
``tests/deploy/test_redis_and_kill_faults.py`` (the deployment, Redis cut mid-run).
"""
from __future__ import annotations

import os
import signal
import socket
import threading

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATA_KEY, TEST_SECRET
from tests.deploy.conftest import PROJECT_ROOT, Relay, free_port, get_ok, wait_for

pytestmark = [pytest.mark.uses_db, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.timeout(180)]


def test_postgresql_unreachable_then_back(processes, make_database, clock):
    from portal.app import create_app
    from portal.migrate import upgrade

    url = make_database("portal_fault")
    upgrade(url)
    parts = make_url(url)
    relay = Relay((parts.host or "127.0.0.1", parts.port or 5432))
    relay.up()
    try:
        app = create_app({
            "ENV": "testing", "TESTING": True, "DATABASE_URL": parts.set(host="127.0.0.1", port=relay.port)
            .render_as_string(hide_password=False),
            "SECRET_KEY": TEST_SECRET, "DATA_KEY": TEST_DATA_KEY, "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False, "REDIS_URL": None,
            "PORTAL_GNUPGHOME": str(processes.directory / "gnupg")}, clock=clock)
        client = app.test_client()
        sign_in = {"email": "nobody@example.lv", "password": "wrong password"}
        assert client.post("/login", data=sign_in).status_code == 401  # the database answered
        assert client.get("/readyz").status_code == 200

        relay.down()  # PostgreSQL goes away (pooled connections are cut too)
        failed = client.post("/login", data=sign_in)
        assert failed.status_code == 500
        page = failed.get_data(as_text=True)
        assert "Nekas netika saglabāts" in page or "Nothing was saved" in page  # friendly page
        assert "Traceback" not in page and "psycopg" not in page and "OperationalError" not in page
        json_answer = client.get("/api/anything", headers={"Accept": "application/json"})
        assert json_answer.status_code in (404, 500)
        assert "Traceback" not in json_answer.get_data(as_text=True)
        ready = client.get("/readyz/details")
        assert ready.status_code == 503 and client.get("/readyz").status_code == 503
        assert ready.get_json()["checks"]["database"]["status"] == "fail"
        assert client.get("/healthz").status_code == 200

        relay.up()  # back: the next requests work without any restart
        assert client.post("/login", data=sign_in).status_code == 401
        assert client.get("/readyz").status_code == 200
        app.extensions["portal_db"].engine.dispose()
    finally:
        relay.down()



def test_idle_pooled_connection_cut_by_a_restart_is_replaced_before_use(make_database,
                                                                        monkeypatch):
    """No ``pool_pre_ping`` round trip on every request: a pooled connection is pinged only
    after sitting idle (``IDLE_PING_SECONDS``), and one that died meanwhile — its backend
    ended, as a PostgreSQL restart ends them all — is replaced unseen."""
    import portal.database
    from portal.database import make_engine

    url = make_database("portal_idle_ping")
    engine = make_engine(url, pool_size=1, max_overflow=0)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def backend_of_pooled_connection() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    def end_backend(pid: int) -> None:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    try:
        # In steady use (checked in a moment ago): no ping, so a dead connection is noticed
        # by the statement, which fails once and invalidates the pool.
        end_backend(backend_of_pooled_connection())
        with pytest.raises(Exception, match="terminat|closed|connection"):
            backend_of_pooled_connection()
        # After an idle spell: pinged at checkout, replaced, and the request never knows.
        monkeypatch.setattr(portal.database, "IDLE_PING_SECONDS", 0.0)
        first = backend_of_pooled_connection()
        end_backend(first)
        assert backend_of_pooled_connection() != first
    finally:
        engine.dispose()
        admin.dispose()


SLOW_APP = '''
"""Test-only WSGI app: the portal plus one slow, writing route (tests/deploy/test_faults.py)."""
import os
import time
from pathlib import Path

from portal.accounts import services
from portal.app import create_app
from portal.extensions import csrf
from portal.web import clock, db

app = create_app()


@app.post("/_test/slow-write")
def slow_write():
    user = services.create_user(db(), clock(), None, email="half-written@example.lv",
                                display_name="Half Written", password="a long enough password")
    db().flush()  # the rows and their audit entries are in PostgreSQL, not yet committed
    Path(os.environ["SLOW_MARKER"]).write_text(str(os.getpid()))
    time.sleep(60)
    return {"id": user.id}


csrf.exempt(slow_write)
'''


def test_worker_killed_mid_request_leaves_no_partial_write(processes, make_database, tmp_path):
    from portal.ops.cli import gunicorn_argv

    url = make_database("portal_kill")
    processes.env["DATABASE_URL"] = url
    assert processes.run("migrate").returncode == 0
    module_dir = tmp_path / "slowapp"
    module_dir.mkdir()
    (module_dir / "portal_slow_app.py").write_text(SLOW_APP)
    marker = tmp_path / "marker"
    port = free_port()
    argv = gunicorn_argv(host="127.0.0.1", port=port, workers=1, worker_class="gevent",
                         threads=1, worker_connections=100, timeout=120)
    argv[-1] = "portal_slow_app:app"
    web = processes.start("slow", argv, env={
        "SLOW_MARKER": str(marker),
        "PYTHONPATH": os.pathsep.join([str(module_dir), str(PROJECT_ROOT)])})
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: get_ok(f"{base}/healthz"), 60, "the portal", web.output, proc=web)
    engine = create_engine(url)
    database = make_url(url).database
    try:
        outcome: dict[str, object] = {}

        def _request() -> None:
            try:
                outcome["response"] = requests.post(f"{base}/_test/slow-write", timeout=60)
            except requests.RequestException as exc:
                outcome["error"] = exc

        caller = threading.Thread(target=_request, daemon=True)
        caller.start()
        pid = int(wait_for(lambda: marker.exists() and marker.read_text(), 30,
                           "the slow request to write", web.output, proc=web))
        with engine.connect() as conn:
            pending = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                "AND state = 'idle in transaction'"), {"db": database}).scalar()
            assert pending >= 1  # the write is flushed and waiting for its commit
        os.kill(pid, signal.SIGKILL)
        caller.join(timeout=30)
        assert not caller.is_alive()
        response = outcome.get("response")
        assert response is None or response.status_code >= 500  # never a success

        def _no_open_transaction() -> bool:
            with engine.connect() as conn:
                return conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                    "AND state = 'idle in transaction'"), {"db": database}).scalar() == 0

        wait_for(_no_open_transaction, 30, "PostgreSQL to roll the killed transaction back")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM users WHERE email = "
                                     "'half-written@example.lv'")).scalar() == 0
        verified = processes.run("audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # gunicorn's master started a new worker: the process serves again.
        wait_for(lambda: get_ok(f"{base}/healthz"), 60, "a new worker", web.output, proc=web)
        assert web.popen.poll() is None
    finally:
        engine.dispose()
        processes.stop_all()


def test_relay_helper_is_bounded():
    """The relay refuses connections while down (so the fault test really cuts PostgreSQL)."""
    relay = Relay(("127.0.0.1", 9))
    relay.up()
    relay.down()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", relay.port), timeout=2)
