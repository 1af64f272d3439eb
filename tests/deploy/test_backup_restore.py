"""The backup and restore procedure of docs/deploy.md, rehearsed: pg_dump of a portal database,
pg_restore into a fresh database, and there the schema is at head and the audit chain verifies
up to the head copied out at backup time.

The election record (``referendum-verify``) is not stored in the database yet — the record
export belongs to the voting issue — so only the audit chain is verified here.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

pytestmark = [pytest.mark.uses_db, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.timeout(180)]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found: install Debian's postgresql-client")
    return path


def test_dump_restore_and_the_audit_chain_still_verifies(processes, make_database, tmp_path):
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    original = make_database("portal_backup")
    processes.env["DATABASE_URL"] = original
    assert processes.run("migrate").returncode == 0
    seeded = processes.run("seed")
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    verified = processes.run("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    entries = verified.stdout.split()[1]
    head = processes.run("audit", "head").stdout.strip()

    # Backup, as docs/deploy.md says.
    dump = tmp_path / "portal.dump"
    subprocess.run([pg_dump, "--format=custom", "--no-owner", "--dbname", _libpq(original),
                    "--file", str(dump)], check=True, timeout=120, capture_output=True)
    assert dump.stat().st_size > 0

    # Restore into a fresh database.
    restored = make_database("portal_restore")
    result = subprocess.run([pg_restore, "--no-owner", "--exit-on-error", "--dbname",
                             _libpq(restored), str(dump)], timeout=120, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-2000:]

    on_restored = {"DATABASE_URL": restored}
    check = processes.run("check", env=on_restored)
    assert check.returncode == 0, check.stdout + check.stderr[-2000:]
    assert "ok    schema" in check.stdout
    again = processes.run("audit", "verify", "--head", head, env=on_restored)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.split()[1] == entries  # the same number of entries
    assert processes.run("audit", "head", env=on_restored).stdout.strip() == head

    # The rehearsal would notice a damaged restore: edit one entry and verification fails.
    engine = create_engine(restored)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET action = 'forged' WHERE seq = 2"))
    engine.dispose()
    damaged = processes.run("audit", "verify", env=on_restored)
    assert damaged.returncode == 1
    assert "audit entry 2" in damaged.stdout + damaged.stderr
