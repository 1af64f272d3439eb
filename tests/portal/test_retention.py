"""Retention in the portal: periods from the configuration, voter sign-in codes, every kind run
in its own transaction by the daily beat task and by ``referendum-portal retention run``."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from portal.accounts.models import EndedSession, OneTimeCode
from portal.accounts.retention import purge_ended_sessions, purge_one_time_codes
from portal.celery_app import celery
from portal.cli import main
from portal.config import from_env
from portal.retention import PURGES, policy_from_config, run_retention, run_retention_now
from referendum_core.audit import AuditEntry
from referendum_core.retention import AUDIT_ACTION, RetentionPolicy

HOUR = timedelta(hours=1)
REF = "b" * 64


def _code(session, now, *, created_ago, used_ago=None):
    row = OneTimeCode(person_ref=REF, code_hash="0" * 64, created_at=now - created_ago,
                      expires_at=now - created_ago + timedelta(minutes=10),
                      used_at=None if used_ago is None else now - used_ago)
    session.add(row)
    session.flush()
    return row.id


def _retention_entries(session):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION)))


def test_settings_have_documented_defaults_and_come_from_the_environment():
    cfg = from_env({"PORTAL_INSTANCE": "/tmp", "SIGNATURE_RETENTION_DAYS": "400",  # noqa: S108
                    "ONE_TIME_CODE_RETENTION_HOURS": "2"})
    policy = policy_from_config(cfg.as_flask())
    assert policy.signatures == timedelta(days=400)
    assert policy.one_time_codes == timedelta(hours=2)
    defaults = policy_from_config(from_env({"PORTAL_INSTANCE": "/tmp"}).as_flask())  # noqa: S108
    assert defaults == RetentionPolicy()
    with pytest.raises(ValueError):
        policy_from_config({**cfg.as_flask(), "HOME_VOTING_RETENTION_DAYS": -1})


def test_spent_sign_in_codes_go_after_the_period_valid_ones_stay(db_session, clock):
    now = clock.now()
    old_used = _code(db_session, now, created_ago=30 * HOUR, used_ago=29 * HOUR)
    old_expired = _code(db_session, now, created_ago=26 * HOUR)
    recent_used = _code(db_session, now, created_ago=2 * HOUR, used_ago=2 * HOUR)
    valid = _code(db_session, now, created_ago=timedelta(minutes=1))
    policy = RetentionPolicy(one_time_codes=24 * HOUR, batch_size=1)
    assert purge_one_time_codes(db_session, clock, policy) == {"one_time_codes": 2}
    left = set(db_session.scalars(select(OneTimeCode.id)))
    assert old_used not in left and old_expired not in left
    assert {recent_used, valid} <= left
    (entry,) = _retention_entries(db_session)
    assert entry.detail_dict == {"kind": "one_time_codes", "one_time_codes": 2,
                                 "cutoff": (now - 24 * HOUR).isoformat()}
    assert REF not in entry.detail


def test_signed_out_sessions_are_forgotten_once_their_cookies_have_expired(db_session, clock):
    now = clock.now()
    db_session.add_all([EndedSession(sid_hash="a" * 64, ended_at=now - 13 * HOUR),
                        EndedSession(sid_hash="b" * 64, ended_at=now - 11 * HOUR)])
    db_session.flush()
    policy = RetentionPolicy(ended_sessions=12 * HOUR)
    assert purge_ended_sessions(db_session, clock, policy) == {"ended_sessions": 1}
    assert list(db_session.scalars(select(EndedSession.sid_hash))) == ["b" * 64]


def test_run_applies_every_kind_in_its_own_transaction_and_audits_each(app, db_session, clock):
    _code(db_session, clock.now(), created_ago=48 * HOUR)
    db_session.commit()
    with app.app_context():
        results = run_retention_now()
    assert set(results) == set(PURGES) == {"signatures", "home_voting", "voter_marks",
                                           "register_imports", "one_time_codes",
                                           "ended_sessions", "notifications"}
    assert results["one_time_codes"] == {"one_time_codes": 1}
    kinds = [e.detail_dict["kind"] for e in _retention_entries(db_session)]
    assert sorted(kinds) == sorted(PURGES)
    assert db_session.scalar(select(func.count()).select_from(OneTimeCode)) == 0


def test_dry_run_deletes_nothing_and_writes_no_audit(app, db_session, clock):
    _code(db_session, clock.now(), created_ago=48 * HOUR)
    db_session.commit()
    with app.app_context():
        results = run_retention_now(dry_run=True)
    assert results["one_time_codes"] == {"one_time_codes": 1}
    assert db_session.scalar(select(func.count()).select_from(OneTimeCode)) == 1
    assert _retention_entries(db_session) == []


def test_the_task_is_on_the_daily_beat_schedule(app, db_session, clock):
    entry = celery.conf.beat_schedule["retention-run-daily"]
    assert (entry["task"], entry["schedule"]) == ("portal.retention.run_retention", 86400.0)
    assert "portal.retention.run_retention" in celery.tasks
    _code(db_session, clock.now(), created_ago=48 * HOUR)
    db_session.commit()
    with app.app_context():
        assert run_retention.apply().get()["one_time_codes"] == {"one_time_codes": 1}


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'retention.sqlite3'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


def _cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_dry_run_then_run(env):
    from portal.app import create_app

    assert _cli("migrate").exit_code == 0
    app = create_app()
    now = datetime.now(UTC)
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        _code(session, now, created_ago=72 * HOUR)
        _code(session, now, created_ago=timedelta(minutes=1))
        session.commit()
        session.close()
    dry = _cli("retention", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "one_time_codes: would delete one_time_codes 1" in dry.output
    done = _cli("retention", "run")
    assert done.exit_code == 0, done.output
    assert "one_time_codes: deleted one_time_codes 1" in done.output
    assert "signatures: deleted signatures 0" in done.output
    again = _cli("retention", "run")
    assert "one_time_codes: deleted one_time_codes 0" in again.output
    verify = _cli("audit", "verify")
    assert verify.exit_code == 0 and "OK" in verify.output
    app.extensions["portal_db"].engine.dispose()


def test_cli_refuses_a_negative_period(env, monkeypatch):
    assert _cli("migrate").exit_code == 0
    monkeypatch.setenv("NOTIFICATION_RETENTION_DAYS", "-5")
    result = CliRunner().invoke(main, ["retention", "run"])
    assert result.exit_code != 0
    assert "must not be negative" in result.output


def test_initiative_page_keeps_the_count_after_its_signatures_are_purged(app, client, db_session,
                                                                        clock):
    from datetime import date

    from referendum_core.cases.models import Case, CaseType
    from referendum_core.initiatives import Initiative
    from referendum_core.signatures import Signature
    from tests.conftest import municipality

    now = clock.now()
    case = Case(type=CaseType.INITIATIVE, state="not_reached", title="Vai?", is_open=False,
                municipality_id=municipality(db_session).id, opened_at=now - 500 * 24 * HOUR,
                updated_at=now, closed_at=now - 400 * 24 * HOUR)
    db_session.add(case)
    db_session.flush()
    item = Initiative(case_id=case.id, municipality_id=case.municipality_id, subject="strategy",
                      initiator="residents", question="Vai atbalstāt parku?", reasons="Tāpēc.",
                      submitted_at=case.opened_at, decision_due_on=date(2025, 1, 1),
                      decision="can", signatures_needed=50, signatures_at_close=7,
                      valid_signatures=6)
    db_session.add(item)
    db_session.flush()
    for i in range(7):
        db_session.add(Signature(initiative_id=item.id, person_ref=f"{i:064d}", method="online",
                                 signed_at=case.opened_at, registered_at=case.opened_at))
    db_session.commit()
    with app.app_context():
        assert run_retention_now()["signatures"] == {"signatures": 7}
    page = client.get(f"/initiatives/{item.id}")
    assert page.status_code == 200
    assert 'value="7"' in page.get_data(as_text=True)
