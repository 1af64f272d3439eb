"""Single-use secrets raced by parallel requests: ten requests at once against a served portal
present the same recovery code, TOTP code, voter one-time code or invitation link. Exactly one
wins, and every failed attempt is counted.

The portal is served on a database of its own (real commits from parallel requests): a scratch
PostgreSQL database next to ``PORTAL_TEST_DATABASE_URL`` (or ``DATABASE_URL``), where row locks
decide, and a temporary SQLite file, where the write lock taken at ``BEGIN IMMEDIATE`` does.
"""
from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
import requests
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from portal.accounts import services
from portal.accounts.models import OneTimeCode, RecoveryCode, Role, User
from portal.database import make_engine
from portal.migrate import upgrade
from referendum_core.clock import FixedClock
from referendum_core.organisation import CommissionKind, get_commission, sync_organisations
from tests.conftest import PASSWORD, TEST_DATA_KEY, TEST_SECRET

pytestmark = pytest.mark.uses_db
PARALLEL = 10


def _postgres_base() -> str | None:
    for name in ("PORTAL_TEST_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith("postgresql"):
            return url
    return None


@dataclass
class Served:
    url: str
    app: Any
    clock: FixedClock

    def work(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(session)`` on the served database and commit."""
        session = self.app.extensions["portal_db"].new_session()
        try:
            result = fn(session)
            session.commit()
            return result
        finally:
            session.close()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           gnupg_home: Any) -> Iterator[Served]:
    from werkzeug.serving import make_server

    from portal.app import create_app

    admin = None
    if request.param == "postgres":
        base = _postgres_base()
        if base is None:
            pytest.skip("needs PostgreSQL: set PORTAL_TEST_DATABASE_URL or DATABASE_URL to a "
                        "postgresql+psycopg:// URL")
        name = f"races_{uuid.uuid4().hex[:8]}"
        admin = make_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('races') / 'races.sqlite3'}"
    upgrade(url)
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": TEST_SECRET,
                      "DATA_KEY": TEST_DATA_KEY, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "OTP_SHOW_CODE_ON_SCREEN": True,
                      "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://",
                      "PORTAL_GNUPGHOME": str(gnupg_home), "LEAN_CAST": False}, clock=clock)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = Served(f"http://127.0.0.1:{server.server_port}", app, clock)
    live.work(sync_organisations)
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["portal_db"].engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _at_once(requests_to_send: list[Callable[[], requests.Response]]) -> list[int]:
    """Send the requests from as many threads released together; their status codes."""
    barrier = threading.Barrier(len(requests_to_send))
    statuses: list[int | BaseException] = [0] * len(requests_to_send)

    def run(i: int) -> None:
        try:
            barrier.wait()
            statuses[i] = requests_to_send[i]().status_code
        except BaseException as exc:  # noqa: BLE001 - reported below
            statuses[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests_to_send))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(s, int) for s in statuses), statuses
    return statuses  # type: ignore[return-value]


def _official(live: Served) -> tuple[int, str, str, list[str]]:
    """A new commission member with TOTP: (id, e-mail, TOTP secret, recovery codes)."""
    email = f"member-{uuid.uuid4().hex[:8]}@example.lv"
    secret = pyotp.random_base32()
    keys = live.app.extensions["keys"]

    def make(session: Any) -> tuple[int, list[str]]:
        user = services.create_user(session, live.clock, None, email=email,
                                    display_name="Race Member", password=PASSWORD)
        services.grant_membership(session, live.clock, None, user, Role.CVK_OFFICER,
                                  commission=get_commission(session, CommissionKind.CVK))
        services.enable_totp(session, live.clock, keys, user, secret,
                             pyotp.TOTP(secret).at(live.clock.now()))
        user.totp_last_step = 0
        codes = services.regenerate_recovery_codes(session, live.clock, keys, user)
        session.flush()
        return user.id, codes

    user_id, codes = live.work(make)
    return user_id, email, secret, codes


def _after_password_step(live: Served, email: str) -> list[requests.Session]:
    clients = []
    for _ in range(PARALLEL):
        client = requests.Session()
        answer = client.post(f"{live.url}/login", data={"email": email, "password": PASSWORD},
                             allow_redirects=False)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/2fa")
        clients.append(client)
    return clients


def _second_factor(live: Served, client: requests.Session, code: str) -> Callable[[], Any]:
    return lambda: client.post(f"{live.url}/login/2fa", data={"code": code},
                               allow_redirects=False)


def _user(live: Served, user_id: int) -> User:
    return live.work(lambda session: session.get(User, user_id))


def test_one_recovery_code_signs_in_once_under_ten_parallel_requests(served):
    user_id, email, _secret, codes = _official(served)
    clients = _after_password_step(served, email)
    statuses = _at_once([_second_factor(served, c, codes[0]) for c in clients])
    assert sorted(statuses) == [302] + [401] * (PARALLEL - 1)
    used = served.work(lambda s: s.scalar(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_not(None)).limit(2)))
    assert used is not None
    counted = served.work(lambda s: s.scalars(text(
        "SELECT count(*) FROM audit_log WHERE action = '2fa.failed' AND actor_id = :u"),
        {"u": user_id}).one())
    assert counted == PARALLEL - 1


def test_one_totp_code_signs_in_once_under_ten_parallel_requests(served):
    user_id, email, secret, _codes = _official(served)
    clients = _after_password_step(served, email)
    served.clock.advance(timedelta(seconds=30))
    code = pyotp.TOTP(secret).at(served.clock.now())
    statuses = _at_once([_second_factor(served, c, code) for c in clients])
    assert sorted(statuses) == [302] + [401] * (PARALLEL - 1)
    counted = served.work(lambda s: s.scalars(text(
        "SELECT count(*) FROM audit_log WHERE action = '2fa.failed' AND actor_id = :u"),
        {"u": user_id}).one())
    assert counted == PARALLEL - 1


def _voter_clients(live: Served, personal_code: str) -> tuple[list[requests.Session], str]:
    """Ten browsers sharing the session of one voter who asked for a code; the code."""
    first = requests.Session()
    first.post(f"{live.url}/voter/login", data={"personal_code": personal_code},
               allow_redirects=False)
    page = first.get(f"{live.url}/voter/code").text
    shown = re.search(r"\b(\d{6})\b", page).group(1)
    clients = []
    for _ in range(PARALLEL):
        client = requests.Session()
        client.cookies.update(first.cookies)
        clients.append(client)
    return clients, shown


def _pending_code(live: Served, personal_code: str) -> OneTimeCode:
    ref = live.app.extensions["keys"].personal_codes.lookup_hash(personal_code)
    return live.work(lambda s: s.scalars(select(OneTimeCode).where(
        OneTimeCode.person_ref == ref).order_by(OneTimeCode.id.desc())).first())


def test_parallel_wrong_voter_codes_are_all_counted(served):
    from datetime import date

    from tests.register_data import code_for

    personal_code = code_for(date(1980, 1, 2), 70 + (0 if "sqlite" in served.url else 1))
    clients, shown = _voter_clients(served, personal_code)
    wrong = f"{(int(shown) + 1) % 10**6:06d}"
    statuses = _at_once([lambda c=c: c.post(f"{served.url}/voter/code", data={"code": wrong},
                                            allow_redirects=False) for c in clients])
    assert statuses == [401] * PARALLEL
    assert _pending_code(served, personal_code).attempts == services.OTP_MAX_ATTEMPTS
    # The attempts are used up: the right code no longer signs anyone in.
    answer = clients[0].post(f"{served.url}/voter/code", data={"code": shown},
                             allow_redirects=False)
    assert answer.status_code == 401


def test_one_voter_code_signs_in_once_under_ten_parallel_requests(served):
    from datetime import date

    from tests.register_data import code_for

    personal_code = code_for(date(1980, 1, 3), 72 + (0 if "sqlite" in served.url else 1))
    clients, shown = _voter_clients(served, personal_code)
    statuses = _at_once([lambda c=c: c.post(f"{served.url}/voter/code", data={"code": shown},
                                            allow_redirects=False) for c in clients])
    assert sorted(statuses) == [302] + [401] * (PARALLEL - 1)
    assert _pending_code(served, personal_code).used_at is not None


def test_one_invitation_activates_once_under_ten_parallel_requests(served):
    """Ten browsers open the same invitation link, each with its own TOTP secret and password;
    one activates the account, and it is that one's password and secret that work."""
    keys = served.app.extensions["keys"]
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.lv"

    def make(session: Any) -> tuple[int, str]:
        user = services.create_user(session, served.clock, None, email=email,
                                    display_name="Jauns Novērotājs")
        _invitation, token = services.invite(session, served.clock, keys, None, user,
                                             lifetime=timedelta(hours=72))
        return user.id, token

    user_id, token = served.work(make)
    link = f"{served.url}/invitation/{token}"
    clients, secrets = [], []
    for _ in range(PARALLEL):
        client = requests.Session()
        page = client.get(link).text
        secrets.append(re.search(r'data-secret="([A-Z2-7]+)"', page).group(1))
        clients.append(client)
    code_at = served.clock.now()
    sends = [lambda i=i: clients[i].post(link, data={
        "password": f"password number {i:02d}", "confirm": f"password number {i:02d}",
        "code": pyotp.TOTP(secrets[i]).at(code_at)}, allow_redirects=False)
        for i in range(PARALLEL)]
    statuses = _at_once(sends)
    assert sorted(statuses) == [302] + [404] * (PARALLEL - 1)
    winner = statuses.index(302)
    user = _user(served, user_id)
    stored = keys.open(services.TOTP_PURPOSE, user.totp_secret_enc).decode()
    assert stored == secrets[winner]
    assert services._check_password(user.password_hash, f"password number {winner:02d}")
