"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via PORTAL_TEST_DATABASE_URL),
an app per test whose session runs inside a transaction rolled back afterwards, a fixed clock,
sign-in helpers per role and row factories."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.accounts import services
from portal.accounts.models import Role, User
from portal.database import make_engine
from portal.migrate import upgrade
from referendum_core import sealing
from referendum_core.clock import FixedClock
from referendum_core.organisation import (
    Commission,
    CommissionKind,
    Municipality,
    get_commission,
    sync_organisations,
)

PASSWORD = "correct horse battery staple"
TEST_SECRET = "test-secret-key-" + "x" * 40
TEST_DATA_KEY = "test-data-key-" + "y" * 40
DB_FIXTURES = {"app", "db_session", "client", "engine", "connection"}


def pytest_configure(config: Any) -> None:
    """Compile the translation catalogues so a bare ``pytest`` sees the Latvian texts."""
    from portal.i18n_build import build

    build()


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.uses_db)


def _test_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session", autouse=True)
def column_key() -> None:
    """Tests that use a database session without an app seal case texts under the test data
    key, as an app made with it would (``portal.database.init_sealing``)."""
    sealing.configure(sealer=sealing.ColumnSealer(
        sealing.derive_key(TEST_DATA_KEY, sealing.COLUMN_KEY_PURPOSE)))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated from empty to head (a fresh schema on PostgreSQL)."""
    url = _test_db_url(tmp_path_factory)
    if not url.startswith("sqlite"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        sync_organisations(session)
        session.commit()
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Any]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def connection(engine: Any) -> Iterator[Any]:
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture()
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


def make_test_app(database_url: str, clock: FixedClock, **overrides: Any) -> Any:
    from portal.app import create_app

    settings = {
        "ENV": "testing", "TESTING": True, "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET, "DATA_KEY": TEST_DATA_KEY, "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "OTP_SHOW_CODE_ON_SCREEN": True, "REDIS_URL": None,
        # Counters in process memory, never in a shared Redis (CI sets REDIS_URL): each test
        # starts from zero and reruns do not inherit earlier runs' counts.
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }
    settings.update(overrides)
    return create_app(settings, clock=clock)


@pytest.fixture(scope="session")
def gnupg_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The portal's GnuPG home with its archive key, generated once per test session."""
    from messaging.pgp import PGP

    home = tmp_path_factory.getbasetemp() / "portal-gnupg"
    pgp = PGP(home)
    pgp.ensure_archive_key()
    yield home
    pgp.stop_agent()


@pytest.fixture(scope="session")
def user_gnupg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, str]]:
    """A participant's own GnuPG home: (home, fingerprint, armoured public key)."""
    from messaging.pgp import PGP

    home = tmp_path_factory.getbasetemp() / "user-gnupg"
    pgp = PGP(home)
    fpr = pgp.generate_archive_key("Līga Liepa", "liga@example.lv")
    yield home, fpr, pgp.export_public_key(fpr)
    pgp.stop_agent()


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    """Override in a test module to change settings (e.g. enable CSRF or rate limits)."""
    return {}


@pytest.fixture(scope="session")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Where test apps keep the checkpoint signing key."""
    return tmp_path_factory.mktemp("checkpoints")


@pytest.fixture()
def app(database_url: str, connection: Any, clock: FixedClock, app_overrides: dict[str, Any],
        gnupg_home: Any, checkpoint_dir: Any,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # One key for the run; a checkpoint file per test (each test's database is rolled back).
    log_file = tmp_path_factory.mktemp("checkpoint-log") / "checkpoints.jsonl"
    settings = {"PORTAL_GNUPGHOME": str(gnupg_home),
                "CHECKPOINT_KEY_FILE": str(checkpoint_dir / "signing.pem"),
                "CHECKPOINT_LOG_FILE": str(log_file), **app_overrides}
    application = make_test_app(database_url, clock, **settings)
    if application.config.get("RATELIMIT_ENABLED") and str(
            application.config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory"):
        from portal.extensions import limiter

        with application.app_context():
            limiter.reset()  # counters live in process memory: start every test from zero
    database = application.extensions["portal_db"]
    database.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    yield application
    database.engine.dispose()


@pytest.fixture()
def db_session(app: Any, connection: Any) -> Iterator[Session]:
    session = app.extensions["portal_db"].new_session()
    yield session
    session.close()


@pytest.fixture()
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture()
def keys(app: Any) -> services.Keys:
    return app.extensions["keys"]


# Factories --------------------------------------------------------------------------------

def municipality(session: Session, atvk: str = "0023000") -> Municipality:
    return session.query(Municipality).filter_by(atvk_code=atvk).one()


class People:
    """Creates users of each role on demand (``people.cvk_admin``, ``people.member(atvk)``)."""

    def __init__(self, session: Session, clock: FixedClock, keys: services.Keys) -> None:
        self.session, self.clock, self.keys = session, clock, keys
        self._n = 0

    def _user(self, name: str, role: Role, *, commission: Commission | None = None,
              municipality_id: int | None = None, case_id: int | None = None,
              two_factor: bool = True) -> User:
        self._n += 1
        user = services.create_user(self.session, self.clock, None,
                                    email=f"{name}{self._n}@example.lv", display_name=name.title(),
                                    password=PASSWORD)
        services.grant_membership(self.session, self.clock, None, user, role, commission=commission,
                                  municipality_id=municipality_id, case_id=case_id)
        if two_factor and user.requires_two_factor:
            secret = pyotp.random_base32()
            services.enable_totp(self.session, self.clock, self.keys, user, secret,
                                 pyotp.TOTP(secret).at(self.clock.now()))
            user.totp_last_step = 0
            user.test_totp_secret = secret  # type: ignore[attr-defined]
        self.session.flush()
        return user

    def cvk_admin(self, **kw: Any) -> User:
        return self._user("admin", Role.CVK_ADMIN,
                          commission=get_commission(self.session, CommissionKind.CVK), **kw)

    def cvk_officer(self, **kw: Any) -> User:
        return self._user("officer", Role.CVK_OFFICER,
                          commission=get_commission(self.session, CommissionKind.CVK), **kw)

    def chair(self, atvk: str = "0023000", **kw: Any) -> User:
        muni = municipality(self.session, atvk)
        return self._user("chair", Role.COMMISSION_CHAIR, commission=get_commission(
            self.session, CommissionKind.MUNICIPAL, muni.id), **kw)

    def member(self, atvk: str = "0023000", **kw: Any) -> User:
        muni = municipality(self.session, atvk)
        return self._user("member", Role.COMMISSION_MEMBER, commission=get_commission(
            self.session, CommissionKind.MUNICIPAL, muni.id), **kw)

    def internet_member(self, **kw: Any) -> User:
        """A member of the internet polling-station commission (trustees are chosen from it)."""
        return self._user("internet", Role.INTERNET_COMMISSION_MEMBER,
                          commission=get_commission(self.session, CommissionKind.INTERNET), **kw)

    def internet_chair(self, **kw: Any) -> User:
        return self._user("internet-chair", Role.INTERNET_COMMISSION_CHAIR,
                          commission=get_commission(self.session, CommissionKind.INTERNET), **kw)

    def observer(self, atvk: str = "0023000", **kw: Any) -> User:
        return self._user("observer", Role.OBSERVER,
                          municipality_id=municipality(self.session, atvk).id, **kw)

    def voter(self, code: str = "161175-19997", name: str = "Anna Bērziņa") -> User:
        return services.find_or_create_voter(self.session, self.clock, self.keys, code, name)


@pytest.fixture()
def people(db_session: Session, clock: FixedClock, keys: services.Keys) -> People:
    return People(db_session, clock, keys)


def login(client: Any, user: User, clock: FixedClock | None = None) -> None:
    """Put ``user`` into the test client's session as if they had completed sign-in."""
    from flask_login.utils import _create_identifier

    from portal.security import new_session_id

    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["sid"] = new_session_id()
        sess["_fresh"] = True
        sess["_id"] = identifier
        sess.permanent = True
        sess["seen_at"] = sess["signed_in_at"] = (
            clock.now() if clock else datetime.now(UTC)).timestamp()


def sign_in(client: Any, user: User, clock: FixedClock, *, password: str = PASSWORD,
            next_url: str = "") -> Any:
    """Sign ``user`` (with TOTP, as every password account has) in through the forms: the
    password step, then the code of a time-step not used before (the clock moves 30 s)."""
    first = client.post("/login", data={"email": user.email, "password": password,
                                        "next": next_url})
    if first.status_code != 302 or not first.headers["Location"].endswith("/login/2fa"):
        return first
    clock.advance(timedelta(seconds=30))
    code = pyotp.TOTP(user.test_totp_secret).at(clock.now())  # type: ignore[attr-defined]
    return client.post("/login/2fa", data={"code": code})


@pytest.fixture()
def login_as(client: Any, db_session: Session, clock: FixedClock) -> Any:
    def _login(user: User) -> Any:
        db_session.commit()  # make the user visible to the app's session (same connection)
        login(client, user, clock)
        return client

    return _login


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


# Browser tests ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A portal served on 127.0.0.1 with the demo seeded (``tests.browser.LiveServer``)."""
    from tests.browser import require_chromium, start_live_server

    require_chromium()
    yield from start_live_server(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga")
    context.set_default_timeout(15000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


@pytest.fixture()
def phone_page(browser: Any) -> Iterator[Any]:
    """A phone-sized page (observers at polling stations)."""
    context = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(15000)
    pg = context.new_page()
    yield pg
    context.close()
