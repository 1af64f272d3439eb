"""New SQLite databases at the head revision without running the migrations for each one.

Every live server, and some modules, start from a SQLite file of their own; migrating one from
empty runs some thirty revisions (seconds each time). The first call in a process migrates a
template (``portal.migrate.upgrade``, the path the CLI takes); later calls copy it with SQLite's
backup API, which copies the pages as they are, WAL included. ``tests/test_migrations.py``
keeps migrating from empty, step by step, itself."""
from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from portal.migrate import upgrade

_TEMPLATE_DIR = tempfile.TemporaryDirectory(prefix="portal-migrated-")  # gone at the process's end
_TEMPLATE = Path(_TEMPLATE_DIR.name) / "head.sqlite3"


def migrate_new_sqlite(url: str) -> None:
    """Bring the SQLite file of ``url`` (``sqlite:///<path>``, not there yet) to the head
    revision; any other URL is migrated as it is."""
    if not url.startswith("sqlite:///") or ":memory:" in url:
        upgrade(url)
        return
    path = Path(url[len("sqlite:///"):])
    if path.exists():
        raise FileExistsError(f"{path}: a new database's file must not exist yet")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not _TEMPLATE.exists():
        try:
            upgrade(f"sqlite:///{_TEMPLATE}")
        except BaseException:
            _TEMPLATE.unlink(missing_ok=True)  # half-migrated: the next call starts afresh
            raise
    source, target = sqlite3.connect(_TEMPLATE), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
