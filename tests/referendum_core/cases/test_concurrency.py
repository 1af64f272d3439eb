"""Two officials move the same case at once: one wins, the other is refused (``StaleCase``).

Runs on a database of its own (real commits from two sessions): a temporary SQLite file, or a
scratch database next to ``PORTAL_TEST_DATABASE_URL`` when that is PostgreSQL (CI).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.accounts import services as accounts
from portal.database import make_engine
from portal.migrate import upgrade
from referendum_core.cases import services
from referendum_core.cases.exceptions import StaleCase
from referendum_core.cases.models import Case
from referendum_core.clock import FixedClock
from referendum_core.organisation import sync_organisations
from tests.case_factories import COMMISSION, report, station
from tests.migrated import migrate_new_sqlite

pytestmark = pytest.mark.uses_db


@pytest.fixture(scope="module")
def scratch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        url = f"sqlite:///{tmp_path_factory.mktemp('cases_cc') / 'cc.sqlite3'}"
        migrate_new_sqlite(url)
        yield url
        return
    name = f"cases_cc_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_two_officials_move_the_same_case_at_once_one_wins(scratch_url):
    engine = make_engine(scratch_url)
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    with Session(engine, expire_on_commit=False) as setup:
        sync_organisations(setup)
        actors = [accounts.create_user(setup, clock, None, email=f"{n}-{uuid.uuid4().hex[:6]}@x.lv",
                                       display_name=n, password="correct horse battery staple")
                  for n in ("observer", "anna", "ben")]
        case_id = report(setup, clock, actors[0], station(setup)).id
        setup.commit()

    first = Session(engine, expire_on_commit=False)
    second = Session(engine, expire_on_commit=False)
    try:
        # Both load the case (version 1) and finish reading, as two page views would.
        mine, theirs = first.get(Case, case_id), second.get(Case, case_id)
        first.commit()
        second.commit()
        services.transition_case(first, clock, actors[1], mine, "triage", 1, parties=COMMISSION)
        first.commit()
        # The second official's form also said version 1; the row is at 2 now.
        with pytest.raises(StaleCase):
            services.transition_case(second, clock, actors[2], theirs, "dismiss", 1, "dup",
                                     parties=COMMISSION)
        second.rollback()
        with Session(engine) as check:
            case = check.get(Case, case_id)
            assert (case.state, case.version) == ("triaged", 2)
            assert [e.kind for e in case.events] == ["opened", "transition"]
    finally:
        first.close()
        second.close()
        engine.dispose()
