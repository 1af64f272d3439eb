"""Alembic environment: the URL comes from the caller (``referendum-portal migrate``) or the
environment; the target metadata is every model of the portal."""
from __future__ import annotations

import os

from alembic import context

from portal.database import make_engine
from portal.models import metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from portal.config import from_env

        url = os.environ.get("DATABASE_URL") or from_env().DATABASE_URL
    return url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _set_foreign_keys(connection, state: str) -> None:  # type: ignore[no-untyped-def]
    """PRAGMA foreign_keys is ignored inside a transaction, so it goes straight to the driver
    (whose connection is in autocommit mode, ``portal.database.make_engine``)."""
    connection.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={state}")


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # SQLite alters a table by copying it, dropping the old one and renaming the copy. With
    # foreign keys enforced, that drop cascades: every row referring to the table (memberships
    # of users, say) would be deleted. So enforcement is off while migrating, the references
    # are checked at the end, and enforcement is restored.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        if connection.in_transaction():
            connection.commit()
        _set_foreign_keys(connection, "OFF")
    try:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
    finally:
        if sqlite:
            if connection.in_transaction():
                connection.commit()
            _set_foreign_keys(connection, "ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
