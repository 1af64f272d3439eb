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
