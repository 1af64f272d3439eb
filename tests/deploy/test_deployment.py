"""The deployment of docs/deploy.md, started for real on loopback: two portal processes
(``referendum-portal serve`` → gunicorn + gevent), a Celery worker and beat, PostgreSQL and Redis.

Driven as a load balancer and a person would: both processes ready; signed in on one, the
session works on the other (same SECRET_KEY); a WebSocket on the other accepted with that
session; a task sent through Redis runs on the worker; metrics and JSON logs carry what they
should.
"""
from __future__ import annotations

import json
import re
import secrets

import pyotp
import pytest
import redis
import requests

from tests.conftest import csrf_token_from
from tests.deploy.conftest import Proc, free_ports, get_ok, wait_for

pytestmark = [pytest.mark.uses_db, pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow,
              pytest.mark.timeout(240)]

ADMIN = "admin@demo.cvk.lv"


def _sign_in(http: requests.Session, base: str, email: str, password: str, totp_secret: str
             ) -> requests.Response:
    page = http.get(f"{base}/login", timeout=10)
    answer = http.post(f"{base}/login", timeout=10, allow_redirects=False, data={
        "csrf_token": csrf_token_from(page.text), "email": email, "password": password,
        "next": ""})
    assert answer.status_code == 302 and "/login/2fa" in answer.headers["Location"], answer.text
    page = http.get(f"{base}/login/2fa", timeout=10)
    answer = http.post(f"{base}/login/2fa", timeout=10, allow_redirects=False, data={
        "csrf_token": csrf_token_from(page.text), "code": pyotp.TOTP(totp_secret).now()})
    assert answer.status_code == 302, answer.text
    return answer


def test_two_portal_processes_worker_beat_postgresql_redis(processes, make_database, redis_url):
    suffix = secrets.token_hex(4)
    queue, channel = f"deploy-{suffix}", f"deploy-socketio-{suffix}"
    processes.env.update({"DATABASE_URL": make_database("portal_deploy"), "REDIS_URL": redis_url,
                          "CELERY_QUEUE": queue, "SOCKETIO_CHANNEL": channel})
    r = redis.Redis.from_url(redis_url)
    try:
        # The release steps: migrate, then (demo data standing in for real data) seed.
        migrated = processes.run("migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        seeded = processes.run("seed")
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        totp = re.search(rf"{re.escape(ADMIN)}\s+TOTP key (\w+)", seeded.stdout).group(1)
        password = re.search(r"password for all: (\S+)\)", seeded.stdout).group(1)

        ports = free_ports(2)
        webs = [processes.start(f"portal-{port}", [*_cmd(), "serve", "--port", str(port)])
                for port in ports]
        worker = processes.start("worker", [*_cmd(), "worker", "--concurrency", "1"])
        beat = processes.start("beat", [*_cmd(), "beat"])
        bases = [f"http://127.0.0.1:{port}" for port in ports]

        # Both processes ready: database, schema, Redis, archive key — and the worker answers.
        for base, web in zip(bases, webs, strict=True):
            ready = wait_for(lambda b=base: _ready_with_worker(b), 90,
                             f"{base}/readyz with a worker", web.output, proc=web)
            assert ready["checks"]["redis"]["status"] == "ok"
            assert ready["checks"]["schema"]["status"] == "ok"
            assert ready["checks"]["gpg"]["status"] == "ok"
            assert requests.get(f"{base}/healthz", timeout=5).status_code == 200

        # Signed in on the first process, the session is valid on the second.
        http = requests.Session()
        answer = _sign_in(http, bases[0], ADMIN, password, totp)
        request_id = answer.headers["X-Request-ID"]
        page = http.get(f"{bases[1]}/account", timeout=10, allow_redirects=False)
        assert page.status_code == 200, page.headers.get("Location")
        assert ADMIN in page.text

        # A WebSocket (Socket.IO over gunicorn's gevent worker) on the second process, accepted
        # for the signed-in session.
        import simple_websocket

        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        ws = simple_websocket.Client.connect(
            f"ws://127.0.0.1:{ports[1]}/socket.io/?EIO=4&transport=websocket",
            headers={"Cookie": cookie})
        try:
            assert ws.receive(timeout=30).startswith("0{")  # Engine.IO open (a busy CI host)
            ws.send("40")
            frame = ws.receive(timeout=30)
            for _ in range(3):  # pings answered, as a browser does, while the answer comes
                if frame != "2":
                    break
                ws.send("3")
                frame = ws.receive(timeout=30)
            assert frame.startswith("40{")  # Socket.IO connect accepted
        finally:
            ws.close()

        # A task through Redis to the worker and its effect back.
        from celery import Celery

        r.delete(f"portal:heartbeat:{queue}")
        sender = Celery(broker=redis_url)
        sender.send_task("portal.ops.tasks.heartbeat", queue=queue)
        wait_for(lambda: r.get(f"portal:heartbeat:{queue}"), 30, "the worker to run the task",
                 worker.output, proc=worker)

        # Metrics of each process (loopback is allowed), with the heartbeat just stamped.
        for base in bases:
            text = requests.get(f"{base}/metrics", timeout=10).text
            assert "portal_http_requests_total" in text
            assert f'portal_celery_queue_depth{{queue="{queue}"}}' in text
        text = requests.get(f"{bases[1]}/metrics", timeout=10).text
        assert 'portal_http_requests_total{endpoint="accounts.account",method="GET",status="200"}' \
            in text
        age = re.search(rf'portal_celery_heartbeat_age_seconds{{queue="{queue}"}} (\S+)', text)
        assert age and float(age.group(1)) < 60

        # JSON logs: the sign-in's line carries the id the response returned (polled: on a
        # loaded machine the file may trail the response; the logs are shown if it never comes).
        def json_lines(proc: Proc) -> list[dict[str, object]]:
            return [json.loads(line) for line in proc.output().splitlines()
                    if line.startswith("{")]

        def sign_in_line() -> bool:
            return any(line.get("request_id") == request_id
                       and line.get("endpoint") == "accounts.two_factor"
                       and line.get("status") == 302 for line in json_lines(webs[0]))

        wait_for(sign_in_line, 15, f"the sign-in's log line (request id {request_id})",
                 lambda: "\n".join(f"== {w.name} ==\n{w.output()[-2500:]}" for w in webs))
        lines = json_lines(webs[0])
        assert all(line["level"] != "ERROR" for line in lines), [
            line for line in lines if line["level"] == "ERROR"]

        # Beat runs (exactly one in a deployment) and none of the processes died.
        assert "beat: Starting" in wait_for(
            lambda: "beat: Starting" in beat.output() and beat.output(), 30, "beat to start",
            beat.output)
        for proc in (*webs, worker, beat):
            assert proc.popen.poll() is None, f"{proc.name} exited:\n{proc.output()[-3000:]}"
    finally:
        processes.stop_all()
        r.delete(queue, f"portal:heartbeat:{queue}", f"_kombu.binding.{queue}",
                 f"_kombu.binding_permanent.{queue}")
        for key in r.scan_iter("LIMITS:*"):  # our Redis database: only our sign-in counters
            r.delete(key)
        r.close()


def _cmd() -> list[str]:
    from tests.deploy.conftest import portal_command

    return portal_command()


def _ready_with_worker(base: str) -> dict | None:
    response = get_ok(f"{base}/readyz/details")
    if response is None:
        return None
    body = response.json()
    return body if body["checks"]["celery"]["status"] == "ok" else None
