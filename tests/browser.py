"""Browser-test support: a live portal server on a migrated, seeded SQLite file, Playwright
driving Debian's Chromium, and axe-core accessibility checks.

Fixtures are defined in ``tests/conftest.py`` (``live_server``, ``browser``, ``page``); this module
holds the helpers they use and the helpers tests call (``Actors``, ``sign_in_official``,
``sign_in_voter``, ``submit``, ``check_a11y``).

A read right after an action that changes the page waits for the result: Playwright's
``expect(...)`` assertions retry until the page shows it, and ``submit`` waits for a form's
answer. ``count()``, ``is_visible()``, ``inner_text()`` and the like read once, at once.
"""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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

    def totp(self, email: str, at: datetime | None = None) -> str:
        totp = pyotp.TOTP(self.totp_secrets[email])
        return totp.now() if at is None else totp.at(at)


def start_live_server(tmp_dir: Path, clock: Any = None, **overrides: Any) -> Iterator[LiveServer]:
    """Migrate and seed a fresh SQLite file, serve the portal on a free port in a thread.

    ``clock`` (default: the system clock) lets a test move the server's time, e.g. a
    ``FixedClock`` shared with the test."""
    from werkzeug.serving import make_server

    from portal.app import create_app
    from portal.seed import DEMO_PASSWORD, seed_demo
    from referendum_core.clock import SystemClock
    from tests import gpg_agents
    from tests.conftest import TEST_DATA_KEY, TEST_SECRET
    from tests.migrated import migrate_new_sqlite

    url = f"sqlite:///{tmp_dir / 'live.sqlite3'}"
    migrate_new_sqlite(url)
    settings = {"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET,
                "DATA_KEY": TEST_DATA_KEY, "RATELIMIT_ENABLED": False,
                "OTP_SHOW_CODE_ON_SCREEN": True, "REDIS_URL": None,
                "PORTAL_GNUPGHOME": str(tmp_dir / "gnupg"),
                "CHECKPOINT_KEY_FILE": str(tmp_dir / "checkpoint-signing.pem"),
                "CHECKPOINT_LOG_FILE": str(tmp_dir / "checkpoints.jsonl"),
                "COMMISSION_SIGNING_PKCS12": str(tmp_dir / "commission.p12"),
                # a signature board's batch of any size, as in tests/conftest.py
                "SIGNATURE_BOARD_MIN_BATCH": 1,
                # Static files cached for an hour, as nginx serves them (docs/deploy/nginx.conf):
                # without it every page asks again for each style sheet and script.
                "SEND_FILE_MAX_AGE_DEFAULT": 3600}
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
        gpg_agents.stop_homes_under(tmp_dir)


class Actors:
    """A fresh browser context per person, signed in as a person would at the server's time.
    With a ``FixedClock`` the clock moves 31 s before each official's sign-in: a TOTP code is
    refused the second time (replay), so every sign-in needs a step of its own."""

    def __init__(self, browser: Any, live: LiveServer, clock: Any) -> None:
        self.browser, self.live, self.clock = browser, live, clock
        self.contexts: list[Any] = []

    def page(self, phone: bool = False) -> Any:
        """A new page in a context of its own (Latvian, Riga time, downloads allowed); its
        console errors are collected in ``page.console_errors``."""
        options: dict[str, Any] = {"locale": "lv-LV", "timezone_id": "Europe/Riga",
                                   "accept_downloads": True}
        if phone:
            options.update(viewport={"width": 390, "height": 844}, is_mobile=True,
                           has_touch=True, device_scale_factor=2)
        context = self.browser.new_context(**options)
        context.set_default_timeout(30000)
        self.contexts.append(context)
        page = context.new_page()
        # Irreversible steps ask "are you sure?" (confirm.js); the person here says yes.
        page.on("dialog", lambda dialog: dialog.accept())
        page.console_errors = []
        page.on("console", lambda msg: page.console_errors.append(msg.text)
                if msg.type == "error" else None)
        return page

    def official(self, email: str) -> Any:
        self.clock.advance(timedelta(seconds=31))
        page = self.page()
        sign_in_official(page, self.live, email, at=self.clock.now())
        return page

    def voter(self, personal_code: str, phone: bool = False) -> Any:
        page = self.page(phone)
        sign_in_voter(page, self.live, personal_code)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def submit(page: Any, button: str, *, last: bool = False) -> None:
    """Press the button that sends a form and wait until the answer's page has loaded.
    A form's navigation starts in a task of its own (HTML's "plan to navigate"), so the click
    can return while the old page, loaded already, is still shown: a read right after it
    meets the old page, and a ``goto`` cancels the post."""
    target = page.get_by_role("button", name=button)
    with page.expect_navigation():
        (target.last if last else target).click()


def sign_in_voter(page: Any, live: LiveServer, personal_code: str) -> None:
    """A resident signs in with the personal code and the one-time code the demo shows on
    screen (its stand-in for the text message)."""
    page.goto(f"{live.url}/voter/login")
    page.get_by_label("Personas kods").fill(personal_code)
    submit(page, "Sūtīt man kodu")
    notice = page.get_by_role("status").inner_text()
    page.get_by_label("Saņemtais kods").fill(
        "".join(ch for ch in notice.split("ir", 1)[1] if ch.isdigit())[:6])
    submit(page, "Pieteikties", last=True)


def sign_in_official(page: Any, live: LiveServer, email: str, *,
                     at: datetime | None = None) -> None:
    """Password step then the TOTP step, as a person would; the code is the one for ``at``
    (the server's time when it runs on a test clock; default: now)."""
    page.goto(f"{live.url}/login")
    page.get_by_label("E-pasta adrese").fill(email)
    page.get_by_label("Parole").fill(live.demo_password)
    submit(page, "Turpināt")
    page.get_by_label("Kods no autentifikācijas lietotnes vai rezerves kods").fill(
        live.totp(email, at))
    submit(page, "Pieteikties", last=True)


def check_a11y(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core on the current page once it has loaded; return violations of the given
    impacts. After a click that navigates, first wait for something only the new page shows
    (the old page is loaded too)."""
    page.wait_for_load_state()
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Through the DevTools protocol, not a <script> tag: the page's CSP stays strict.
        page.evaluate(_axe_source())
    # axe gives every violation of a rule that has an impact of its own that impact, so the
    # rules whose impact was not asked for cannot report anything here: they are not run.
    result = page.evaluate("""async impacts => {
        const rules = Object.fromEntries(axe._audit.rules
            .filter(rule => rule.impact && !impacts.includes(rule.impact))
            .map(rule => [rule.id, {enabled: false}]));
        return await axe.run(document, {rules, resultTypes: ['violations']}); }""", list(impacts))
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
