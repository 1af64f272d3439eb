"""Helpers for tests that run real portal processes: a migrated file database with two people
and a thread, forged sign-in cookies, and a portal process served by Socket.IO's server."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from portal.config import PROJECT_ROOT
from tests.migrated import migrate_new_sqlite

SECRET = "live-test-secret-" + "s" * 40
DATA_KEY = "live-test-data-key-" + "d" * 40
USER_AGENT = "portal-live-test/1.0"

SERVER = """
import sys
from portal.app import create_app
from portal.extensions import socketio
app = create_app({"ENV": "testing", "RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False})
socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), allow_unsafe_werkzeug=True,
             use_reloader=False, log_output=False)
"""


def environment(db_url: str, gnupg_home: Path, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a portal process in these tests."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MAIL_URL")}
    env.update({"DATABASE_URL": db_url, "SECRET_KEY": SECRET, "DATA_KEY": DATA_KEY,
                "PORTAL_GNUPGHOME": str(gnupg_home), "PORTAL_INSTANCE": str(instance),
                "PORTAL_ENV": "testing", "PYTHONPATH": str(PROJECT_ROOT)})
    env.update(extra)
    return env


def prepare(db_url: str, gnupg_home: Path) -> tuple[Any, dict[str, int]]:
    """Migrate ``db_url``, add a commission member, a CVK officer and a thread between them."""
    from sqlalchemy.orm import Session

    from messaging import services
    from messaging.rules import Target, TargetKind
    from portal.accounts import services as accounts
    from portal.accounts.models import Role
    from portal.app import create_app
    from portal.database import make_engine
    from referendum_core.clock import SystemClock
    from referendum_core.organisation import (
        CommissionKind,
        Municipality,
        get_commission,
        sync_organisations,
    )

    migrate_new_sqlite(db_url)
    app = create_app({"ENV": "testing", "TESTING": True, "DATABASE_URL": db_url,
                      "SECRET_KEY": SECRET, "DATA_KEY": DATA_KEY, "REDIS_URL": None,
                      "PORTAL_GNUPGHOME": str(gnupg_home)})
    clock = SystemClock()
    engine = make_engine(db_url)
    with Session(engine) as session:
        sync_organisations(session)
        adazi = session.query(Municipality).filter_by(atvk_code="0023000").one()
        member = accounts.create_user(session, clock, None, email="member@live.lv",
                                      display_name="Mārtiņš Egle", password="x" * 16)
        accounts.grant_membership(session, clock, None, member, Role.COMMISSION_MEMBER,
                                  commission=get_commission(session, CommissionKind.MUNICIPAL,
                                                            adazi.id))
        officer = accounts.create_user(session, clock, None, email="officer@live.lv",
                                       display_name="Pēteris Ozols", password="x" * 16)
        accounts.grant_membership(session, clock, None, officer, Role.CVK_OFFICER,
                                  commission=get_commission(session, CommissionKind.CVK))
        session.flush()
        thread = services.create_thread(session, clock, member, subject="Dzīvā sarakste",
                                        text="Sākums", targets=[Target(TargetKind.CVK)])
        session.commit()
        ids = {"member": member.id, "officer": officer.id, "thread": thread.id}
        tokens = {"member": member.get_id(), "officer": officer.get_id()}
    engine.dispose()
    app.extensions["live_tokens"] = tokens
    return app, ids


def session_cookie(app: Any, who: str, user_agent: str = USER_AGENT) -> str:
    """A signed session cookie value signing ``who`` in (as after a completed sign-in)."""
    from flask_login.utils import _create_identifier

    from portal.security import new_session_id

    with app.test_request_context(headers={"User-Agent": user_agent},
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = _create_identifier()
    data = {"_user_id": app.extensions["live_tokens"][who], "_fresh": True, "_id": identifier,
            "_permanent": True, "seen_at": time.time(), "sid": new_session_id()}
    return app.session_interface.get_signing_serializer(app).dumps(data)


def start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a portal process and wait until it answers."""
    handle = log.open("wb")
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env,  # noqa: S603
                               stdout=handle, stderr=subprocess.STDOUT, cwd=str(PROJECT_ROOT))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"portal process exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"portal process did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started by ``start``."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def free_port() -> int:
    """A free loopback port for a portal process."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_page(browser: Any, app: Any, who: str, url: str) -> tuple[Any, Any, list[str]]:
    """A signed-in page of ``who`` on ``url`` once its live connection is up:
    (context, page, console errors)."""
    context = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga",
                                  user_agent=USER_AGENT)
    context.set_default_timeout(15000)
    context.add_cookies([{"name": "portal_session", "domain": "127.0.0.1", "path": "/",
                          "value": session_cookie(app, who)}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url)
    page.wait_for_selector('#thread[data-live="1"]', state="attached")
    return context, page, errors
