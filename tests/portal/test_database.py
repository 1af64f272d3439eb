"""SQLite transactions of requests that change data take the write lock when they begin."""
from __future__ import annotations

import sqlite3

import pytest
from flask import Flask
from sqlalchemy import text

from portal.database import make_engine


@pytest.fixture()
def sqlite_file(tmp_path):
    path = tmp_path / "locks.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    yield path, engine
    engine.dispose()


def _writer_can_start(path) -> bool:
    """Whether another connection could take the write lock right now."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.parametrize(("method", "locks"), [("POST", True), ("DELETE", True),
                                                ("GET", False), (None, False)])
def test_a_writing_request_takes_the_sqlite_write_lock_at_begin(sqlite_file, method, locks):
    """A deferred transaction that read first cannot take the lock once another connection
    committed in between ("database is locked" at once, a 500 for one of two people posting
    to a thread together); requests that may write therefore begin with BEGIN IMMEDIATE.
    Reads, tasks and commands (no request) stay deferred and never block writers."""
    path, engine = sqlite_file
    app = Flask(__name__)

    def read_in_transaction() -> bool:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT n FROM t")).all()
            return not _writer_can_start(path)

    if method is None:
        assert read_in_transaction() is locks
    else:
        with app.test_request_context(method=method):
            assert read_in_transaction() is locks
