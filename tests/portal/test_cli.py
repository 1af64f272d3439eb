"""``referendum-portal`` commands: migrate, seed (idempotent), audit verify, check, demo-code."""
from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from portal.cli import main


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


def run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def test_migrate_seed_twice_and_verify(env):
    assert run("migrate").exit_code == 0
    first = run("seed")
    assert first.exit_code == 0, first.output
    assert "admin@demo.cvk.lv" in first.output and "161175-19997" in first.output
    # The demo's local test CA: made at seed time in instance/, never committed.
    assert str(env / "commission-signing-ca.pem") in first.output
    assert (env / "commission-signing.p12").stat().st_mode & 0o077 == 0
    db = sqlite3.connect(env / "cli.sqlite3")
    users = db.execute("select count(*) from users").fetchone()[0]
    assert run("seed").exit_code == 0
    assert db.execute("select count(*) from users").fetchone()[0] == users
    assert run("check").exit_code == 0
    result = run("audit", "verify")
    assert result.exit_code == 0 and "OK" in result.output
    head = run("audit", "head").output.strip()
    assert run("audit", "verify", "--head", head).exit_code == 0
    assert run("audit", "verify", "--head", head.split(":")[0] + ":" + "0" * 64).exit_code == 1
    code = run("demo-code", "admin@demo.cvk.lv")
    assert code.exit_code == 0 and len(code.output.strip()) == 6
    observer = run("demo-code", "observer.adazi@demo.cvk.lv")  # observers use TOTP too
    assert observer.exit_code == 0 and len(observer.output.strip()) == 6
    assert run("demo-code", "someone@else.lv").exit_code != 0


def test_audit_verify_fails_on_tampering(env):
    run("migrate")
    run("seed")
    db = sqlite3.connect(env / "cli.sqlite3")
    db.execute("update audit_log set action='forged' where seq=3")
    db.commit()
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert "audit entry 3" in result.output


def test_audit_verify_with_checkpoints_catches_truncation(env):
    """A log cut short with its head moved back passes the plain check; the signed checkpoint
    in the append-only file catches it (docs/spec/checkpoints.md)."""
    import json

    run("migrate")
    run("seed")
    signed = run("audit", "checkpoint")
    assert signed.exit_code == 0
    checkpoint = json.loads(signed.output.strip().splitlines()[-1])
    lines = (env / "checkpoints.jsonl").read_text().splitlines()
    assert json.loads(lines[-1]) == checkpoint
    key = run("audit", "checkpoint-key").output.strip().splitlines()[-1]
    assert checkpoint["key"] == key
    ok = run("audit", "verify", "--checkpoints", str(env / "checkpoints.jsonl"))
    assert ok.exit_code == 0 and "signed checkpoints" in ok.output
    db = sqlite3.connect(env / "cli.sqlite3")
    keep = checkpoint["seq"] - 2
    db.execute("delete from audit_log where seq > ?", (keep,))
    db.execute("update audit_head set last_seq = ?, last_hash = (select entry_hash from "
               "audit_log where seq = ?)", (keep, keep))
    db.commit()
    caught = run("audit", "verify", "--checkpoints", str(env / "checkpoints.jsonl"))
    assert caught.exit_code == 1 and "missing" in caught.output
    (env / "bad.jsonl").write_text("{not json\n")
    assert run("audit", "verify", "--checkpoints", str(env / "bad.jsonl")).exit_code == 1


def test_plain_audit_verify_checks_the_portals_own_checkpoints(env):
    """Without ``--checkpoints`` the command still checks the checkpoints the portal holds,
    as the audit page does: a log cut short, with its head and the database's copies of the
    checkpoints removed, is caught by the append-only file's copy."""
    import json

    from portal.app import create_app
    from referendum_core import audit
    from referendum_core.clock import SystemClock

    assert run("migrate").exit_code == 0
    app = create_app()
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        for n in range(4):
            audit.record(session, SystemClock(), None, "test.event", n=n)
        session.commit()
        session.close()
    checkpoint = json.loads(run("audit", "checkpoint").output.strip().splitlines()[-1])
    assert run("audit", "verify").exit_code == 0
    db = sqlite3.connect(env / "cli.sqlite3")
    keep = checkpoint["seq"] - 2
    db.execute("delete from audit_log where seq > ?", (keep,))
    db.execute("delete from signed_checkpoints")
    db.execute("update audit_head set last_seq = ?, last_hash = (select entry_hash from "
               "audit_log where seq = ?)", (keep, keep))
    db.commit()
    caught = run("audit", "verify")
    assert caught.exit_code == 1 and "missing" in caught.output
