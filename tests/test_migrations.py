"""Alembic: upgrade from empty reaches a schema identical to the models (SecureDrop test_alembic)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.database import make_engine
from portal.migrate import alembic_config, upgrade
from portal.models import metadata


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
