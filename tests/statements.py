"""Counting the SQL a block of code sends: the cost tests assert fixed statement counts (no
timing asserts), whatever the number of rows, participants or ballots."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event


@contextmanager
def captured_statements(db_session: Any) -> Iterator[list[str]]:
    """The statements sent on ``db_session``'s engine inside the block, whitespace folded;
    the test harness's own savepoints are left out."""
    bind = db_session.get_bind()
    engine = getattr(bind, "engine", bind)
    seen: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)
