"""Faults of the deployment of docs/deploy.md, on this machine's services and bounded in time:

- **Redis stops mid-run** (a TCP relay in front of it is cut; the shared Redis keeps running
  for everyone else): both portal processes keep serving pages and accepting ballots and
  messages; when Redis is back, live updates between the processes resume and the notification
  e-mails owed for messages posted during the outage are sent by the worker (none lost);
- **a portal process killed mid-request while posting a message**: the message is either
  fully stored or not at all — here, killed after its rows were written but before the commit,
  not at all — and the client is told (the request fails; it never sees a success); posting
  again stores it exactly once.

The voters, thread members and their sign-in cookies are made as the benchmarks make them
(``bench.cast.set_up``, ``bench.delivery.set_up``), with the deployment's keys.
"""
from __future__ import annotations

import os
import re
import signal
import threading
import time
import urllib.parse

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import harness
from bench.cast import encrypt_all
from bench.cast import set_up as set_up_referendum
from bench.delivery import set_up as set_up_threads
from tests.deploy.conftest import (
    PROJECT_ROOT,
    Relay,
    cast,
    deployment_env,
    free_port,
    free_ports,
    get_ok,
    portal_command,
    wait_for,
)

pytestmark = [pytest.mark.uses_db, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.timeout(300)]


class _Inbox:
    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def _post(port: int, member: dict, thread_id: int, message: str, timeout: float = 30
          ) -> requests.Response:
    return requests.post(
        f"http://127.0.0.1:{port}/messages/{thread_id}/post", timeout=timeout,
        data=urllib.parse.urlencode({"text": message, "csrf_token": member["token"]}),
        headers={"Cookie": f"portal_session={member['cookie']}",
                 "X-CSRFToken": member["token"], "X-Requested-With": "fetch",
                 "User-Agent": harness.USER_AGENT, "Accept": "application/json",
                 "Content-Type": "application/x-www-form-urlencoded"})


class Listener:
    """A member's open page: a WebSocket joined to the thread's room, collecting the ids of
    ``message.new`` events in a thread of its own (pings answered)."""

    def __init__(self, port: int, member: dict, thread_id: int) -> None:
        import simple_websocket

        self.ws = simple_websocket.Client.connect(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
            headers={"Cookie": f"portal_session={member['cookie']}",
                     "User-Agent": harness.USER_AGENT})
        assert self.ws.receive(timeout=30).startswith("0{")
        self.ws.send("40")
        assert self._next_frame(90).startswith("40")
        self.ws.send(f'420["join",{{"thread_id":{thread_id}}}]')
        self.ids: list[int] = []
        self.running = True
        joined = self.ws.receive(timeout=30)
        assert joined.startswith("430") and '"ok":true' in joined, joined
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _next_frame(self, seconds: float) -> str:
        """The next frame that is not a ping (pings answered, as a browser does), within
        ``seconds``: on a busy host the connect answer can come after the first ping."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            frame = self.ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            if frame == "2":
                self.ws.send("3")
            elif frame is not None:
                return frame
        return ""

    def _listen(self) -> None:
        while self.running:
            try:
                frame = self.ws.receive(timeout=1)
            except Exception:  # closed
                return
            if frame == "2":
                self.ws.send("3")
            elif frame and frame.startswith('42["message.new"'):
                self.ids.append(int(re.search(r'"message_id":\s*(\d+)', frame).group(1)))

    def close(self) -> None:
        self.running = False
        self.ws.close()


@pytest.mark.redis
def test_redis_stopping_mid_run(processes, make_database, pg_url, redis_url):
    """Pages, ballots and messages keep working without Redis; live updates and the owed
    notification e-mails resume when it is back."""
    parts = make_url(redis_url)
    relay = Relay((parts.host or "127.0.0.1", parts.port or 6379))
    relay.up()
    mail_port = free_port()
    inbox = _Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=mail_port)
    smtp.start()
    database = make_database("portal_redis_fault")
    relayed = f"redis://127.0.0.1:{relay.port}/{parts.database or 0}"
    listener = None
    try:
        deployment_env(processes, database, relayed, MAIL_URL=f"smtp://127.0.0.1:{mail_port}",
                        NOTIFY_UNREAD_AFTER_MINUTES="0")
        ports = free_ports(2)
        webs = [processes.start(f"portal-{p}", [*portal_command(), "serve", "--port", str(p)])
                for p in ports]
        worker = processes.start("worker", [*portal_command(), "worker", "--concurrency", "1"])
        for port, web in zip(ports, webs, strict=True):
            wait_for(lambda p=port: get_ok(f"http://127.0.0.1:{p}/readyz"), 90,
                     f"portal {port} ready", web.output, proc=web)
        gnupg = processes.env["PORTAL_GNUPGHOME"]
        [thread] = set_up_threads(database, ports, 1, 2, gnupg)
        poster, reader = thread["members"]  # the poster on ports[0], the reader on ports[1]
        _notifications_due_now(database)  # the set-up's app delays them 15 minutes
        election = set_up_referendum(database, 2)
        ballots = encrypt_all(election, 2, 1)
        listener = Listener(reader["port"], reader, thread["id"])
        before = _post(poster["port"], poster, thread["id"], "Pirms pārtraukuma")
        assert before.status_code == 200, before.text
        first_id = before.json()["message_id"]
        wait_for(lambda: first_id in listener.ids, 20, "the live update through Redis")

        relay.down()  # Redis goes away mid-run
        for port in ports:
            base = f"http://127.0.0.1:{port}"
            assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
            assert requests.get(f"{base}/login", timeout=20).status_code == 200  # pages
            ready = requests.get(f"{base}/readyz/details", timeout=20)
            assert ready.status_code == 503
            assert ready.json()["checks"]["redis"]["status"] == "fail"
        accepted = cast(ports[0], election.referendum_id, election.cookies[0], ballots[0][0])
        assert accepted.status_code == 201, accepted.text  # ballots are accepted
        during = _post(poster["port"], poster, thread["id"], "Pārtraukuma laikā")
        assert during.status_code == 200, during.text  # messages are stored
        during_id = during.json()["message_id"]

        relay.up()  # Redis is back (same address)
        for port, web in zip(ports, webs, strict=True):
            wait_for(lambda p=port: get_ok(f"http://127.0.0.1:{p}/readyz"), 60,
                     f"portal {port} ready again", web.output, proc=web)
        # Live updates between the processes resume (the Socket.IO queue reconnects).
        deadline = time.monotonic() + 60
        resumed = None
        while time.monotonic() < deadline and resumed is None:
            answer = _post(poster["port"], poster, thread["id"], "Pēc pārtraukuma")
            assert answer.status_code == 200, answer.text
            message_id = answer.json()["message_id"]
            try:
                wait_for(lambda m=message_id: m in listener.ids, 5, "a live update")
                resumed = message_id
            except pytest.fail.Exception:
                continue
        assert resumed is not None, "live updates did not resume within 60 s"
        accepted = cast(ports[1], election.referendum_id, election.cookies[1], ballots[1][0])
        assert accepted.status_code == 201, accepted.text
        # Notification e-mails owed for the messages (the reader has not read them) are sent
        # by the worker once beat's task reaches it through Redis: nothing was lost.
        from celery import Celery

        sender = Celery(broker=redis_url)  # directly, as beat would queue it
        sender.send_task("portal.messages.tasks.send_due_notifications",
                         queue=processes.env["CELERY_QUEUE"])
        reader_email = "bench-0-0@bench.lv"
        wait_for(lambda: reader_email in inbox.recipients, 90,
                 "the notification e-mail to the reader", worker.output, proc=worker)
        engine = create_engine(database)
        try:
            with engine.connect() as conn:
                owed = conn.execute(text(
                    "SELECT count(*) FROM notification_outbox WHERE status = 'pending' "
                    "AND next_attempt_at <= now()")).scalar()
                stored = conn.execute(text("SELECT count(*) FROM messages WHERE id = :m"),
                                      {"m": during_id}).scalar()
        finally:
            engine.dispose()
        assert stored == 1
        assert owed == 0, "a notification is still owed after the worker ran"
        for proc in (*webs, worker):
            assert proc.popen.poll() is None, f"{proc.name} exited:\n{proc.output()[-3000:]}"
    finally:
        if listener is not None:
            listener.close()
        relay.down()
        smtp.stop()
        processes.stop_all()
        _forget(redis_url, processes.env.get("CELERY_QUEUE", ""))


def _notifications_due_now(database: str) -> None:
    engine = create_engine(database)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE notification_outbox SET next_attempt_at = now()"))
    finally:
        engine.dispose()


def _forget(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}",
                  f"portal:heartbeat:{queue}")
    for key in client.scan_iter("LIMITS:*"):
        client.delete(key)
    client.close()


KILL_APP = '''
"""Test-only WSGI app: the portal, with posting a message held after its rows are written
(before the commit) when the text says so (tests/deploy/test_redis_and_kill_faults.py)."""
import os
import time
from pathlib import Path

from messaging import services
from portal.app import create_app
from portal.web import db

app = create_app()
_post_message = services.post_message


def _held_post_message(*args, **kwargs):
    message = _post_message(*args, **kwargs)
    if "hold me" in args[4]:
        db().flush()  # the message, its read state, notifications and audit entry are written
        Path(os.environ["HOLD_MARKER"]).write_text(str(os.getpid()))
        time.sleep(60)
    return message


services.post_message = _held_post_message
'''


def test_portal_killed_while_posting_a_message_loses_nothing_half_way(processes, make_database,
                                                                      tmp_path):
    from portal.ops.cli import gunicorn_argv

    database = make_database("portal_kill_message")
    deployment_env(processes, database, None)
    module_dir = tmp_path / "killapp"
    module_dir.mkdir()
    (module_dir / "portal_kill_app.py").write_text(KILL_APP)
    marker = tmp_path / "marker"
    port = free_port()
    argv = gunicorn_argv(host="127.0.0.1", port=port, workers=1, worker_class="gevent",
                         threads=1, worker_connections=100, timeout=120)
    argv[-1] = "portal_kill_app:app"
    web = processes.start("held", argv, env={
        "HOLD_MARKER": str(marker),
        "PYTHONPATH": os.pathsep.join([str(module_dir), str(PROJECT_ROOT)])})
    wait_for(lambda: get_ok(f"http://127.0.0.1:{port}/healthz"), 60, "the portal", web.output,
             proc=web)
    [thread] = set_up_threads(database, [port], 1, 2, processes.env["PORTAL_GNUPGHOME"])
    poster = thread["members"][0]
    engine = create_engine(database)

    def count(sql: str) -> int:
        with engine.connect() as conn:
            return conn.execute(text(sql), {"t": thread["id"]}).scalar()

    messages_before = count("SELECT count(*) FROM messages WHERE thread_id = :t")
    notifications_before = count("SELECT count(*) FROM notification_outbox")
    try:
        outcome: dict[str, object] = {}

        def _request() -> None:
            try:
                outcome["response"] = _post(port, poster, thread["id"], "hold me", timeout=60)
            except requests.RequestException as exc:
                outcome["error"] = exc

        caller = threading.Thread(target=_request, daemon=True)
        caller.start()
        pid = int(wait_for(lambda: marker.exists() and marker.read_text(), 30,
                           "the post to be written, uncommitted", web.output, proc=web))
        os.kill(pid, signal.SIGKILL)
        caller.join(timeout=30)
        assert not caller.is_alive()
        # The client is told: the request failed, it never saw a success.
        response = outcome.get("response")
        assert response is None or response.status_code >= 500, response
        assert "error" in outcome or response is not None
        wait_for(lambda: count("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                               "current_database() AND state = 'idle in transaction'") == 0,
                 30, "PostgreSQL to roll the killed transaction back")
        # Nothing of it was kept: no message, no notification owed for it.
        assert count("SELECT count(*) FROM messages WHERE thread_id = :t") \
            == messages_before
        assert count("SELECT count(*) FROM notification_outbox") == notifications_before
        verified = processes.run("audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # Posting again (a new worker serves) stores the message exactly once.
        wait_for(lambda: get_ok(f"http://127.0.0.1:{port}/healthz"), 60, "a new worker",
                 web.output, proc=web)
        again = _post(port, poster, thread["id"], "posted again after the crash")
        assert again.status_code == 200, again.text
        assert count("SELECT count(*) FROM messages WHERE thread_id = :t") \
            == messages_before + 1
        page = requests.get(f"http://127.0.0.1:{port}/messages/{thread['id']}", timeout=30,
                            headers={"Cookie": f"portal_session={poster['cookie']}",
                                     "User-Agent": harness.USER_AGENT})
        assert page.status_code == 200
        assert page.text.count("posted again after the crash") == 1
        assert "hold me" not in page.text
    finally:
        engine.dispose()
        processes.stop_all()

