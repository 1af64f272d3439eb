"""Engine, sessions and the one-transaction-per-request rule.

A request gets one session; it commits when the view answered with a non-error status and rolls
back otherwise. Side effects (Socket.IO emits, Celery tasks) registered with ``on_commit`` fire
only after that commit (Zulip ``send_event_on_commit``).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from referendum_core import audit, sealing
from referendum_core.refusals import Kept, Refused

log = logging.getLogger(__name__)
T = TypeVar("T")
# Side effects queued by code running inside ``in_transaction`` (tasks, CLI), outside a request.
_task_callbacks: ContextVar[list[Callable[[], None]] | None] = ContextVar("_task_callbacks",
                                                                         default=None)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings the portal relies on (foreign keys and WAL on SQLite).

    On SQLite the driver's own transaction handling is replaced by explicit ``BEGIN`` so that
    savepoints and ``BEGIN IMMEDIATE``-style locking behave (SQLAlchemy's pysqlite recipe).
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name != "sqlite" and not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _request_may_write() else "BEGIN")
    return engine


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Set by work outside a Flask request that writes (the lean cast path, ``writing``).
_writing: ContextVar[bool] = ContextVar("_writing", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside belong to a request that writes, though no Flask request
    context is pushed (``portal.voting.lean_cast``): on SQLite they begin ``IMMEDIATE``."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def _request_may_write() -> bool:
    """Whether the transaction belongs to a request that may change data (not GET/HEAD/OPTIONS).

    On SQLite (WAL) such a request takes the write lock when its transaction begins
    (``BEGIN IMMEDIATE``), waiting for it up to ``busy_timeout``. A deferred transaction that
    read first cannot take the lock later once another connection has committed in between:
    SQLite then answers "database is locked" at once, without waiting, so of two people posting
    to a thread at the same moment one would get a 500. Reading
    requests, tasks and commands keep deferred transactions, which never block writers."""
    return _writing.get() or (has_request_context() and request.method not in _SAFE_METHODS)


IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use when it sat unused for ``IDLE_PING_SECONDS``.

    ``pool_pre_ping`` would cost a round trip on every request; a connection in steady use
    proves itself alive (and a failure on it invalidates the whole pool). The one that waited
    through a quiet spell — perhaps across a PostgreSQL restart — is pinged, and a dead one is
    replaced before the request sees it (``DisconnectionError`` makes the pool retry).
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            raise DisconnectionError(f"idle connection failed its ping: {err}") from err
        if not alive:
            raise DisconnectionError("idle connection failed its ping")


class Database:
    """Holds the engine and session factory of one app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.sessionmaker: sessionmaker[Session] = sessionmaker(expire_on_commit=False)

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.sessionmaker.configure(bind=self.engine)
        app.extensions["portal_db"] = self
        app.after_request(_commit_or_rollback)
        app.teardown_request(_close_session)

    def new_session(self) -> Session:
        return self.sessionmaker()


def init_sealing(app: Flask, data_key: str) -> None:
    """Give the sealed columns (case texts) this app's column key, derived from ``data_key``;
    while this app's context is pushed its key is the one in force (``referendum_core.sealing``)."""
    app.extensions["column_sealer"] = sealing.ColumnSealer(
        sealing.derive_key(data_key, sealing.COLUMN_KEY_PURPOSE))
    sealing.configure(sealer=app.extensions["column_sealer"], provider=_current_app_sealer)


def _current_app_sealer() -> sealing.ColumnSealer | None:
    if not has_app_context():
        return None
    return current_app.extensions.get("column_sealer")


def get_db() -> Database:
    return current_app.extensions["portal_db"]


def get_session() -> Session:
    """The current request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = get_db().new_session()
        g.on_commit = []
    return g.db_session


def on_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` after the current transaction commits (never if it rolls back): a
    task's or command's (``in_transaction``), else the request's. A task run at once inside a
    request (Celery without a broker, after the request's commit) has its own transaction."""
    pending = _task_callbacks.get()
    if pending is not None:
        pending.append(callback)
        return
    if has_request_context():
        get_session()
        g.on_commit.append(callback)
        return
    callback()  # no transaction boundary in sight: the caller has already committed


def _fire(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a failed side effect must not undo a committed change
            log.exception("after-commit callback failed")


def in_transaction(fn: Callable[[Session], T]) -> T:
    """Run ``fn(session)`` in one transaction of the current app (a task or a command): commit
    and then fire the side effects it queued with ``on_commit``, or roll back and fire none."""
    session = get_db().new_session()
    token = _task_callbacks.set([])
    try:
        result = fn(session)
        session.commit()
        callbacks = _task_callbacks.get() or []
    except Exception:
        session.rollback()
        raise
    finally:
        _task_callbacks.reset(token)
        session.close()
    _fire(callbacks)
    return result


def commit() -> None:
    """Commit now and fire the queued side effects (for views that need an id before redirecting)."""
    session = g.get("db_session")
    if session is None:
        return
    session.commit()
    callbacks, g.on_commit = g.on_commit, []
    _fire(callbacks)


def rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()
        g.on_commit = []


def rollback_keeping_refusals(kept: Sequence[Kept] = ()) -> None:
    """End the request's transaction after a refusal: roll everything back, then write the
    refusal's audit entries (the ones the services recorded before refusing) again and do the
    writes the refusal keeps (``Refused.keeping``: a failed sign-in's count) in a short
    transaction of their own and commit it, firing the side effects those writes queued. A
    refusal so keeps its audit and what its rule declares, nothing else, and no view commits
    before answering 4xx."""
    session = g.get("db_session")
    if session is None:
        return
    copies = audit.refusals_written(session)
    rollback()
    if copies or kept:
        audit.rewrite(session, copies)
        for write in kept:
            write(session)
        commit()


def _commit_or_rollback(response: Response) -> Response:
    if "db_session" in g:
        if response.status_code < 400:
            commit()
        else:
            rollback()
    return response


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def transactional(handler: Callable[..., T]) -> Callable[..., T]:
    """One transaction per Socket.IO event (no request cycle commits for it): commit, firing
    the after-commit side effects, or roll back; then close the session."""
    from functools import wraps

    @wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> T:
        try:
            result = handler(*args, **kwargs)
        except Refused as err:
            # The session stays open (closed when the request context ends) for the refusal's
            # answer, which may read the signed-in user.
            rollback_keeping_refusals(err.kept)
            raise
        except Exception:
            rollback()
            _close_session(None)
            raise
        commit()
        _close_session(None)
        return result

    return wrapped
