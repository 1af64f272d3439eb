"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via PORTAL_TEST_DATABASE_URL),
an app per test whose session runs inside a transaction rolled back afterwards, a fixed clock,
sign-in helpers per role and row factories.

The suite runs in parallel (``make test``: pytest-xdist, ``--dist loadgroup``). Each worker has
its own database (on PostgreSQL ``<database>_<worker>``), temporary directory, GnuPG homes and
instance directory; the tests of one module stay on one worker (their module-scoped fixtures are
built once), and tests that share something outside the process name a group of their own with
``pytest.mark.xdist_group``. No ``gpg-agent`` outlives the run (see ``tests/gpg_agents.py``)."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher, profiles
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.accounts import services
from portal.accounts.models import Role, User
from portal.database import make_engine
from referendum_core import sealing
from referendum_core.clock import FixedClock
from referendum_core.organisation import (
    Commission,
    CommissionKind,
    Municipality,
    get_commission,
    sync_organisations,
)
from tests import gpg_agents
from tests.migrated import migrate_new_sqlite

PASSWORD = "correct horse battery staple"
TEST_SECRET = "test-secret-key-" + "x" * 40
TEST_DATA_KEY = "test-data-key-" + "y" * 40
DB_FIXTURES = {"app", "db_session", "client", "engine", "connection"}


# Tests that run one at a time, on one worker, whatever their module: the deployment and soak
# tests start whole deployments (gunicorn, Celery) on the machine's Redis databases 12 and 14,
# whose rate-limit counters they share, and bound their waits for one deployment at a time.
SHARED_GROUPS = {"tests/deploy/": "deployment", "tests/soak/": "deployment"}


def _is_xdist_worker(config: Any) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: Any) -> None:
    """Compile the translation catalogues so a bare ``pytest`` sees the Latvian texts (once, in
    the process that starts the workers), mark the run (``tests/gpg_agents.py``) and hash
    passwords with argon2's cheapest parameters: the tests check who may sign in, not what a
    guess costs."""
    if not _is_xdist_worker(config):
        from portal.i18n_build import build

        build()
        gpg_agents.mark_run()
    services.set_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.uses_db)
        if not item.get_closest_marker("xdist_group"):
            # One module, one worker: module-scoped fixtures (live servers) are built once.
            shared = [group for path, group in SHARED_GROUPS.items() if item.nodeid.startswith(path)]
            item.add_marker(pytest.mark.xdist_group(shared[0] if shared else _module(item)))
    # Modules with slow tests first, so that no worker starts a long one while the others
    # have run out of work (a stable sort: every worker collects the same order).
    slow = {_module(item) for item in items
            if item.get_closest_marker("slow") or item.get_closest_marker("browser")}
    items.sort(key=lambda item: _module(item) not in slow)


def _module(item: Any) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Any:
    """Stop the gpg-agents of the GnuPG homes a test made in its ``tmp_path`` (by the portal it
    ran in-process or the portal processes it started)."""
    try:
        return (yield)
    finally:
        tmp_path = (getattr(item, "funcargs", None) or {}).get("tmp_path")
        if tmp_path is not None:
            gpg_agents.stop_homes_under(tmp_path)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Fail the run if a ``gpg-agent`` it started is still running once every fixture is torn
    down (and stop it): a fixture that makes a GnuPG home must stop its agent."""
    if _is_xdist_worker(session.config):
        return  # the process that started the workers checks, after they have all finished
    left = gpg_agents.stop_all_of_run()
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        homes = "\n".join(sorted({f"  {agent.home}" for agent in left}))
        message = f"gpg-agent left running by the tests (now stopped):\n{homes}"
        if reporter is not None:
            reporter.write_sep("=", "gpg-agents left running", red=True)
            reporter.write_line(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``PORTAL_INSTANCE`` of every portal a test builds from the environment (development
    secrets, the default GnuPG home): one per worker, never the checkout's ``instance/``."""
    path = tmp_path_factory.mktemp("instance")
    previous = os.environ.get("PORTAL_INSTANCE")
    os.environ["PORTAL_INSTANCE"] = str(path)
    yield path
    gpg_agents.stop_homes_under(path)
    if previous is None:
        os.environ.pop("PORTAL_INSTANCE", None)
    else:
        os.environ["PORTAL_INSTANCE"] = previous


def _admin_engine(url: str) -> Any:
    """An AUTOCOMMIT connection to the server of ``url`` (its ``postgres`` database)."""
    return make_engine(make_url(url).set(database="postgres").render_as_string(
        hide_password=False), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session", autouse=True)
def column_key() -> None:
    """Tests that use a database session without an app seal case texts under the test data
    key, as an app made with it would (``portal.database.init_sealing``)."""
    sealing.configure(sealer=sealing.ColumnSealer(
        sealing.derive_key(TEST_DATA_KEY, sealing.COLUMN_KEY_PURPOSE)))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated from empty to head (a fresh schema on PostgreSQL). On PostgreSQL
    each xdist worker gets a database of its own, ``<database>_<worker>``, dropped at the end."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    own_database = None
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        if worker:
            base = make_url(url)
            own_database = f"{base.database}_{worker}"
            url = base.set(database=own_database).render_as_string(hide_password=False)
            admin = _admin_engine(url)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{own_database}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{own_database}"'))
            admin.dispose()
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate_new_sqlite(url)
    engine = make_engine(url)
    with Session(engine) as session:
        sync_organisations(session)
        session.commit()
    engine.dispose()
    yield url
    if own_database:
        admin = _admin_engine(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{own_database}" WITH (FORCE)'))
        admin.dispose()


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


@pytest.fixture()
def cached(app: Any) -> Any:
    """The app with the navigation counts kept 10 s per person, as served (tests elsewhere
    count them afresh on every page)."""
    app.config["WORK_COUNTS_CACHE_SECONDS"] = 10
    app.extensions.pop("work_counts_cache", None)
    return app


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
        # A signature board's batch of any size, so a test can follow one signature through
        # its batch; the minimum batch has its own tests (test_signature_board_batches.py).
        "SIGNATURE_BOARD_MIN_BATCH": 1,
        # Navigation counts computed on every page: tests count a page's statements, and act as
        # several people in a row; the cache has its own tests (tests/portal/test_work_cache.py).
        "WORK_COUNTS_CACHE_SECONDS": 0,
    }
    settings.update(overrides)
    application = create_app(settings, clock=clock)
    application.jinja_env.bytecode_cache = TEMPLATE_CODE
    return application


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept in memory for every app of the process: each test builds an app
    of its own, and compiling the same templates again for each one is a large part of a page
    test's time. Keyed by template and source checksum, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self.code: dict[tuple[str, str], Any] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        bucket.code = self.code.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[(bucket.key, bucket.checksum)] = bucket.code


TEMPLATE_CODE = SharedTemplateCode()


def _share_url_builders() -> None:
    """Werkzeug compiles a URL builder (Python source through ``ast`` and ``compile``) for every
    rule of every app; the portal has some 1,300 rules and each test builds an app of its own, so
    this was most of an app's construction time. A builder depends only on the rule's text, its
    defaults and ``append_unknown`` (it reaches the rule's converters through its ``self``
    argument at call time), so the builders are shared by every app of the process."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders: dict[tuple, Any] = {}

    def shared(self: Rule, append_unknown: bool = True) -> Any:
        key = (self.rule, self.host, self.subdomain, self.merge_slashes, tuple(self._trace),
               repr(sorted((self.defaults or {}).items())), append_unknown)
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = compile_builder(self, append_unknown)
        return builder

    Rule._compile_builder = shared  # type: ignore[method-assign]


_share_url_builders()

# GnuPG homes whose archive key this process made: an app built on one does not run gpg again
# to learn that the key is there (each test builds an app; gpg's start is most of what is left).
_HOMES_WITH_ARCHIVE_KEY: set[str] = set()


def _skip_known_archive_keys() -> None:
    from messaging.pgp import PGP

    ensure = PGP.ensure_archive_key

    def known(self: PGP) -> str:
        if str(self.home) in _HOMES_WITH_ARCHIVE_KEY:
            return self.archive_fingerprint
        return ensure(self)

    PGP.ensure_archive_key = known  # type: ignore[method-assign]


_skip_known_archive_keys()


def _remember_derived_keys() -> None:
    """A trustee's file is sealed under a key derived with Argon2 at its deliberately high cost,
    and tests open again the files they (or the demo seed) have just sealed. The same
    passphrase, salt and parameters always give the same key, so the process keeps the keys it
    derived; every file has a salt of its own, so another file or another passphrase is still
    derived in full."""
    import json

    from referendum_core.crypto import secretfile

    derive = secretfile._derive
    derived: dict[tuple[str, bytes, str], bytes] = {}

    def remembered(passphrase: str, salt: bytes, kdf: dict[str, Any]) -> bytes:
        key = (passphrase, salt, json.dumps(kdf, sort_keys=True, default=str))
        if key not in derived:
            derived[key] = derive(passphrase, salt, kdf)
        return derived[key]

    secretfile._derive = remembered  # type: ignore[assignment]


_remember_derived_keys()


@pytest.fixture(scope="session")
def gnupg_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The portal's GnuPG home with its archive key, generated once per test session."""
    from messaging.pgp import PGP

    home = tmp_path_factory.getbasetemp() / "portal-gnupg"
    pgp = PGP(home)
    pgp.ensure_archive_key()
    _HOMES_WITH_ARCHIVE_KEY.add(str(home))
    yield home
    gpg_agents.stop(home)


@pytest.fixture(scope="session")
def user_gnupg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, str]]:
    """A participant's own GnuPG home: (home, fingerprint, armoured public key)."""
    from messaging.pgp import PGP

    home = tmp_path_factory.getbasetemp() / "user-gnupg"
    pgp = PGP(home)
    fpr = pgp.generate_archive_key("Līga Liepa", "liga@example.lv")
    yield home, fpr, pgp.export_public_key(fpr)
    gpg_agents.stop(home)


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
                "CHECKPOINT_LOG_FILE": str(log_file),
                "COMMISSION_SIGNING_PKCS12": str(checkpoint_dir / "commission.p12"),
                **app_overrides}
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
    from playwright.sync_api import expect, sync_playwright

    # Waiting assertions are as patient as the actions (the contexts' default timeouts): on a
    # busy machine a page's answer can take longer than expect's own 5 s.
    expect.set_options(timeout=15000)
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
