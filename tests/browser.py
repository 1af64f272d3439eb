"""Browser-test support: a live portal server on a migrated, seeded SQLite file, Playwright
driving Debian's Chromium, and axe-core accessibility checks.

Fixtures are defined in ``tests/conftest.py`` (``live_server``, ``browser``, ``page``); this module
holds the helpers they use and the helpers tests call (``sign_in_official``, ``check_a11y``).
"""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyotp
import pytest

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def chromium_missing_reason() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return (f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package "
                "(.ci/run does) to run browser tests")
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed"
    return None


@dataclass
class LiveServer:
    url: str
    app: Any
    totp_secrets: dict[str, str] = field(default_factory=dict)
    demo_password: str = ""

    def totp(self, email: str) -> str:
        return pyotp.TOTP(self.totp_secrets[email]).now()


def start_live_server(tmp_dir: Path, clock: Any = None, **overrides: Any) -> Iterator[LiveServer]:
    """Migrate and seed a fresh SQLite file, serve the portal on a free port in a thread.

    ``clock`` (default: the system clock) lets a test move the server's time, e.g. a
    ``FixedClock`` shared with the test."""
    from werkzeug.serving import make_server

    from portal.app import create_app
    from portal.migrate import upgrade
    from portal.seed import DEMO_PASSWORD, seed_demo
    from referendum_core.clock import SystemClock
    from tests.conftest import TEST_DATA_KEY, TEST_SECRET

    url = f"sqlite:///{tmp_dir / 'live.sqlite3'}"
    upgrade(url)
    settings = {"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET,
                "DATA_KEY": TEST_DATA_KEY, "RATELIMIT_ENABLED": False,
                "OTP_SHOW_CODE_ON_SCREEN": True, "REDIS_URL": None,
                "PORTAL_GNUPGHOME": str(tmp_dir / "gnupg")}
    settings.update(overrides)
    app = create_app(settings, clock=clock or SystemClock())
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        printed = seed_demo(session, app.extensions["clock"], app.extensions["keys"])
        session.commit()
        session.close()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app,
                      totp_secrets={r["email"]: r["totp_secret"] for r in printed},
                      demo_password=DEMO_PASSWORD)
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["portal_db"].engine.dispose()


def sign_in_official(page: Any, live: LiveServer, email: str) -> None:
    """Password step then the TOTP step, as a person would."""
    page.goto(f"{live.url}/login")
    page.get_by_label("E-pasta adrese").fill(email)
    page.get_by_label("Parole").fill(live.demo_password)
    page.get_by_role("button", name="Turpināt").click()
    page.get_by_label("Kods no autentifikācijas lietotnes vai rezerves kods").fill(live.totp(email))
    page.get_by_role("button", name="Pieteikties").last.click()


def check_a11y(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core on the current page; return violations of the given impacts."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Through the DevTools protocol, not a <script> tag: the page's CSP stays strict.
        page.evaluate(_axe_source())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v.get("impact") in impacts]
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in bad]


@lru_cache(maxsize=1)
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def require_chromium() -> None:
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
