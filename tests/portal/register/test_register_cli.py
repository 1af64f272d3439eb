"""``referendum-portal register import``: the same diff, report and audit as the import page
(VRL 12, 15(3¹) extracts; Art. 7 data), exit 1 when aborted or refused, nothing half-applied."""
from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from portal.cli import main
from tests.register_data import LAND_HEADER, csv_bytes, new_code

ATVK = "0023000"


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"], catch_exceptions=False).exit_code == 0
    from portal.app import create_app
    from portal.database import in_transaction
    from referendum_core.organisation import sync_organisations

    app = create_app()
    with app.app_context():
        in_transaction(sync_organisations)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def rows(n, first=0, name="Persona"):
    return [(new_code(i), f"{name} {i}", "1980-01-01", "LV", ATVK) for i in range(first, n)]


def db(env):
    return sqlite3.connect(env / "cli.sqlite3")


def test_import_prints_the_report_and_is_audited_with_a_system_label(env):
    path = env / "people.csv"
    path.write_bytes(csv_bytes(rows(3)))
    result = run("register", "import", str(path), "--municipality", ATVK,
                 "--source", "population")
    assert result.exit_code == 0, result.output
    assert "Importēts" in result.output
    assert "Nolasītas rindas: 3" in result.output and "Pievienotas: 3" in result.output
    conn = db(env)
    assert conn.execute("select count(*) from register_persons").fetchone()[0] == 3
    action, label = conn.execute("select action, actor_label from audit_log "
                                 "order by seq desc limit 1").fetchone()
    assert action == "register.imported"
    assert label.startswith("system: register import (command line")
    assert conn.execute("select status, filename from register_imports").fetchone() == (
        "applied", "people.csv")

    # a re-import is a diff
    path.write_bytes(csv_bytes(rows(2) + rows(4, first=3)))
    result = run("register", "import", str(path), "--municipality", ATVK,
                 "--source", "population")
    assert result.exit_code == 0, result.output
    assert "Pievienotas: 1" in result.output and "Dzēstas: 1" in result.output


def test_abort_mode_with_a_bad_row_exits_1_and_imports_nothing(env):
    path = env / "people.csv"
    path.write_bytes(csv_bytes(rows(2) + [("12345678901", "X", "1980-01-01", "LV", ATVK)]))
    result = run("register", "import", str(path), "--municipality", ATVK,
                 "--source", "population", "--mode", "abort")
    assert result.exit_code == 1
    assert "Nekas netika importēts" in result.output
    assert "4" in result.output and "personas kods nav derīgs" in result.output
    conn = db(env)
    assert conn.execute("select count(*) from register_persons").fetchone()[0] == 0
    assert conn.execute("select action from audit_log order by seq desc limit 1"
                        ).fetchone()[0] == "register.import_aborted"


def test_continue_mode_skips_the_bad_row(env):
    path = env / "people.csv"
    path.write_bytes(csv_bytes(rows(2) + [("12345678901", "X", "1980-01-01", "LV", ATVK)]))
    result = run("register", "import", str(path), "--municipality", ATVK,
                 "--source", "population", "--mode", "continue")
    assert result.exit_code == 0
    assert db(env).execute("select count(*) from register_persons").fetchone()[0] == 2


def test_wrong_header_is_refused_with_exit_1_and_kept_in_the_audit_log(env):
    path = env / "land.csv"
    path.write_bytes(csv_bytes([(new_code(1), "80440010001", ATVK)], header=LAND_HEADER))
    result = run("register", "import", str(path), "--municipality", ATVK,
                 "--source", "population")
    assert result.exit_code == 1
    assert "Faila galvene ir nepareiza" in result.output
    assert db(env).execute("select action from audit_log order by seq desc limit 1"
                           ).fetchone()[0] == "register.import_refused"


def test_land_json_lines_and_unknown_municipality(env):
    path = env / "land.jsonl"
    path.write_text(json.dumps({"personal_code": new_code(1), "cadastral_number": "80440010001",
                                "municipality": ATVK}) + "\n")
    result = run("register", "import", str(path), "--municipality", ATVK, "--source", "land")
    assert result.exit_code == 0, result.output
    assert db(env).execute("select count(*) from register_land_owners").fetchone()[0] == 1
    result = run("register", "import", str(path), "--municipality", "9999999",
                 "--source", "land")
    assert result.exit_code == 1 and "9999999" in result.output
