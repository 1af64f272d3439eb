"""Two portal processes sharing one Redis message queue: a message posted through process A
reaches a Socket.IO client connected to process B."""
from __future__ import annotations

import os
import re
import socket
import threading
import uuid

import pytest
import requests
import socketio as sio_client

from tests.portal.messages import live_server

REDIS_URL = os.environ.get("REDIS_URL")
pytestmark = [
    pytest.mark.redis, pytest.mark.slow,
    pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: the multi-process Socket.IO "
                       "test needs Redis (CI sets REDIS_URL=redis://127.0.0.1:6379/0)"),
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_message_posted_on_a_reaches_client_on_b(tmp_path, gnupg_home):
    db_url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    app, ids = live_server.prepare(db_url, gnupg_home)
    channel = f"portal-test-{uuid.uuid4().hex}"  # distinct per test run
    env = live_server.environment(db_url, gnupg_home, tmp_path / "instance",
                                  REDIS_URL=REDIS_URL or "", SOCKETIO_CHANNEL=channel,
                                  CELERY_QUEUE=channel)
    port_a, port_b = _port(), _port()
    proc_a = live_server.start(port_a, env, tmp_path / "a.log")
    try:
        proc_b = live_server.start(port_b, env, tmp_path / "b.log")
        try:
            received: list[dict] = []
            arrived = threading.Event()
            client = sio_client.Client(reconnection=False)

            @client.on("message.new")
            def _on_new(data):  # type: ignore[no-untyped-def]
                received.append(data)
                arrived.set()

            officer_cookie = live_server.session_cookie(app, "officer")
            client.connect(f"http://127.0.0.1:{port_b}", transports=["polling"],
                           headers={"Cookie": f"portal_session={officer_cookie}",
                                    "User-Agent": live_server.USER_AGENT}, wait_timeout=10)
            answer = client.call("join", {"thread_id": ids["thread"]}, timeout=10)
            assert answer["ok"] is True

            web = requests.Session()
            web.headers["User-Agent"] = live_server.USER_AGENT
            web.cookies.set("portal_session", live_server.session_cookie(app, "member"),
                            domain="127.0.0.1", path="/")
            page = web.get(f"http://127.0.0.1:{port_a}/messages/{ids['thread']}", timeout=10)
            assert page.status_code == 200
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
            posted = web.post(f"http://127.0.0.1:{port_a}/messages/{ids['thread']}/post",
                              data={"text": "Caur Redis", "csrf_token": token},
                              headers={"X-Requested-With": "fetch"}, timeout=10)
            assert posted.status_code == 200, posted.text
            message_id = posted.json()["message_id"]
            assert arrived.wait(15), "the event did not arrive at process B"
            assert {"thread_id": ids["thread"], "message_id": message_id} in received
            client.disconnect()
        finally:
            live_server.stop(proc_b)
    finally:
        live_server.stop(proc_a)
