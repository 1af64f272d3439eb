"""Alembic: upgrade from empty reaches a schema identical to the models (SecureDrop test_alembic)."""
from __future__ import annotations

import os
import uuid
import warnings

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.database import make_engine
from portal.migrate import alembic_config, upgrade
from portal.models import metadata
from referendum_core.organisation import sync_organisations


def test_upgrade_from_empty_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    upgrade(url)
    upgrade(url)


def test_migrations_have_one_linear_history_or_a_merge():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, (
        f"several migration heads {script.get_heads()}: add a merge revision "
        "(alembic merge heads)")


def test_database_tests_run_on_the_migrated_schema(database_url):
    assert database_url


def test_internet_commission_memberships_move_to_their_own_roles(tmp_path):
    """Members of the internet polling-station commission held municipal commission roles with
    no municipality (read as "every municipality"); the migration gives them the internet
    commission's roles and leaves municipal commissions' members alone."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'roles.sqlite3'}"
    script = ScriptDirectory.from_config(alembic_config(url))
    before = script.get_revision("b885d4a0593a").down_revision
    upgrade(url, before)
    engine = make_engine(url)
    with engine.begin() as conn:
        for cid, kind in ((1, "internet"), (2, "municipal")):
            conn.execute(sa.text("INSERT INTO commissions (id, kind, name, name_en) "
                                 "VALUES (:id, :kind, :kind, :kind)"), {"id": cid, "kind": kind})
        for uid in (1, 2, 3):
            conn.execute(sa.text("INSERT INTO users (id, display_name, locale, is_active, "
                                 "totp_last_step, failed_logins, session_epoch, created_at) "
                                 "VALUES (:id, 'U', 'lv', 1, 0, 0, 0, '2026-01-01')"),
                         {"id": uid})
        for mid, uid, role, cid in ((1, 1, "commission_member", 1), (2, 2, "commission_chair", 1),
                                    (3, 3, "commission_member", 2)):
            conn.execute(sa.text("INSERT INTO memberships (id, user_id, role, commission_id, "
                                 "created_at) VALUES (:id, :uid, :role, :cid, '2026-01-01')"),
                         {"id": mid, "uid": uid, "role": role, "cid": cid})
    upgrade(url)
    with engine.connect() as conn:
        roles = dict(conn.execute(sa.text("SELECT id, role FROM memberships")).all())
    engine.dispose()
    assert roles == {1: "internet_commission_member", 2: "internet_commission_chair",
                     3: "commission_member"}


# Case texts sealed at rest (revision 5e7a1c0d9b42): rows written before it are sealed by it.

SEALED_REVISION = "5e7a1c0d9b42"
PHOTO = b"\x89PNG\r\n\x1a\nphoto bytes of a ballot box"
TEXTS = {("cases", "title"): "Urna nav aizzīmogota 161175-19997",
         ("cases", "summary"): "Sūdzība: personas kods 161175-19997",
         ("case_observer_reports", "description"): "Urna nav aizzīmogota",
         ("case_complaints", "contested"): "1. iecirkņa protokols",
         ("voting_home_requests", "address"): "Gaujas iela 5-2, Ādaži",
         ("voting_home_requests", "reason"): "Slimības dēļ",
         ("initiatives", "question"): "Vai atbalstāt?",
         ("initiatives", "reasons"): "Tāpēc."}
NOTES = ["Komentārs ar kodu 161175-19997", "", "Vēl viens"]


def _filler(column):  # type: ignore[no-untyped-def]
    """A value for a NOT NULL column the test does not care about."""
    import datetime as dt

    if column.foreign_keys or isinstance(column.type, sa.Integer):
        return 1
    if isinstance(column.type, sa.DateTime):
        return dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    if isinstance(column.type, sa.Date):
        return dt.date(2026, 3, 2)
    if isinstance(column.type, sa.Boolean):
        return False
    if isinstance(column.type, sa.LargeBinary):
        return b"x"
    return "x"


def _insert(conn, table: str, **values) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():  # SQLite cannot reflect the expression indexes of cases
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for column in reflected.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and not column.foreign_keys:
            continue
        row[column.name] = _filler(column)
    conn.execute(reflected.insert().values(**row))


def _old_rows(url: str) -> None:
    """Rows of every sealed table, written as the schema before sealing stored them."""
    engine = make_engine(url)
    with Session(engine) as session:
        sync_organisations(session)
        session.commit()
    texts = {column: value for (_table, column), value in TEXTS.items()}
    with engine.begin() as conn:
        _insert(conn, "cases", id=1, type="observer_report", state="submitted",
                title=texts["title"], summary=texts["summary"])
        for note in NOTES:
            _insert(conn, "case_events", case_id=1, kind="comment", note=note)
        _insert(conn, "case_observer_reports", case_id=1, category="ballot_box",
                severity="high", description=texts["description"])
        _insert(conn, "case_complaints", case_id=1, grounds="count_protocol",
                applicant_kind="voter", contested=texts["contested"])
        _insert(conn, "case_photos", case_id=1, content_type="image/png", size=len(PHOTO),
                sha256="0" * 64, data=PHOTO)
        _insert(conn, "voting_referendums", id=1, case_id=1, election_id="e-1")
        _insert(conn, "voting_home_requests", case_id=1, referendum_id=1, person_ref="p",
                address=texts["address"], reason=texts["reason"])
        _insert(conn, "initiatives", case_id=1, question=texts["question"],
                reasons=texts["reasons"])
    engine.dispose()


def _raw(url: str) -> dict[tuple[str, str], object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found: dict[tuple[str, str], object] = {
            (table, column): conn.execute(sa.text(f"SELECT {column} FROM {table}")).scalar_one()  # noqa: S608
            for table, column in TEXTS}
        found[("case_photos", "data")] = conn.execute(
            sa.text("SELECT data FROM case_photos")).scalar_one()
        found[("case_events", "note")] = [bytes(n) if isinstance(n, bytes | memoryview) else n
                                          for n in conn.execute(sa.text(
                                              "SELECT note FROM case_events ORDER BY id")).scalars()]
    engine.dispose()
    return found


def _check_sealing_migration(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from referendum_core.cases.models import Case, CasePhoto
    from referendum_core.initiatives import Initiative
    from referendum_core.voting.models import HomeVotingRequest
    from tests.conftest import TEST_DATA_KEY

    # The migration reads DATA_KEY as the portal does (the environment here); the tests' own
    # column key (tests/conftest.py ``column_key``) is derived from the same value.
    monkeypatch.setenv("DATA_KEY", TEST_DATA_KEY)
    before_sealing = ScriptDirectory.from_config(alembic_config(url)).get_revision(
        SEALED_REVISION).down_revision
    upgrade(url, before_sealing)
    _old_rows(url)
    upgrade(url, SEALED_REVISION)

    raw = _raw(url)
    for (table, column), plain in TEXTS.items():
        stored = bytes(raw[(table, column)])
        assert stored[:1] == b"\x01" and plain.encode() not in stored, (table, column)
    assert PHOTO not in bytes(raw[("case_photos", "data")])
    notes = raw[("case_events", "note")]
    assert notes[1] == b"" and not any(n and n.encode() in s for n, s in zip(NOTES, notes, strict=True))

    upgrade(url)  # the models are the head's
    engine = make_engine(url)
    with Session(engine) as session:
        case = session.get(Case, 1)
        assert (case.title, case.summary) == (TEXTS[("cases", "title")],
                                              TEXTS[("cases", "summary")])
        assert [e.note for e in case.events] == NOTES
        assert case.observer_report.description == TEXTS[("case_observer_reports", "description")]
        assert case.complaint.contested == TEXTS[("case_complaints", "contested")]
        assert session.scalars(sa.select(CasePhoto.data)).one() == PHOTO
        home = session.get(HomeVotingRequest, 1)
        assert (home.address, home.reason) == (TEXTS[("voting_home_requests", "address")],
                                               TEXTS[("voting_home_requests", "reason")])
        initiative = session.scalars(sa.select(Initiative)).one()
        assert (initiative.question, initiative.reasons) == (
            TEXTS[("initiatives", "question")], TEXTS[("initiatives", "reasons")])
    engine.dispose()

    # Down and up again: the texts come back in the clear and are sealed once more.
    command.downgrade(alembic_config(url), before_sealing)
    raw = _raw(url)
    assert {key: raw[key] for key in TEXTS} == TEXTS
    assert bytes(raw[("case_photos", "data")]) == PHOTO and raw[("case_events", "note")] == NOTES
    upgrade(url)
    assert bytes(_raw(url)[("cases", "title")])[:1] == b"\x01"


def test_sealing_migration_seals_existing_case_texts_on_sqlite(tmp_path, monkeypatch):
    _check_sealing_migration(f"sqlite:///{tmp_path / 'old.sqlite3'}", monkeypatch)


@pytest.mark.postgres
def test_sealing_migration_seals_existing_case_texts_on_postgresql(monkeypatch):
    base = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("PORTAL_TEST_DATABASE_URL is not a PostgreSQL database")
    name = f"sealing_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        _check_sealing_migration(
            make_url(base).set(database=name).render_as_string(hide_password=False),
            monkeypatch)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_signature_ids_are_never_given_again_after_the_rebuild(tmp_path):
    """SQLite: ``initiative_signatures`` is rebuilt with AUTOINCREMENT; a deleted (withdrawn)
    signature's id does not come back, as it did when the deleted row was the last."""
    import sqlite3

    path = tmp_path / "signatures.sqlite3"
    upgrade(f"sqlite:///{path}")
    new = ("INSERT INTO initiative_signatures (initiative_id, person_ref, method, signed_at, "
           "registered_at) VALUES (1, ?, 'online', '2026-03-05', '2026-03-05')")
    with sqlite3.connect(path) as conn:  # foreign keys off: no initiative needed
        assert "AUTOINCREMENT" in conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'initiative_signatures'").fetchone()[0]
        for ref in ("p1", "p2"):
            conn.execute(new, (ref,))
        conn.execute("DELETE FROM initiative_signatures WHERE person_ref = 'p2'")
        conn.execute(new, ("p3",))
        assert [r[0] for r in conn.execute(
            "SELECT id FROM initiative_signatures ORDER BY id")] == [1, 3]
        conn.rollback()
    conn.close()
    command.downgrade(alembic_config(f"sqlite:///{path}"), "c9d2e4f6a8b1")  # the table as it was
    with sqlite3.connect(path) as conn:
        assert "AUTOINCREMENT" not in conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'initiative_signatures'").fetchone()[0]
    conn.close()
