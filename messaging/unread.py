"""Read positions and notices: what a post leaves for its author and its readers, and
``mark_read`` (split from ``messaging.services``, which re-exports ``mark_read``).

A post moves its author's read position and queues one pending unread notice per reader (and
a mention notice for those named with ``@``): outbox rows that ``messaging.notifications`` sends,
one e-mail per burst of messages. Statements are built once; on PostgreSQL the thread's last
activity, the author's position and the notices are one statement.
"""
from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from messaging import directory, runtime
from messaging.exceptions import NotParticipant
from messaging.models import (
    Message,
    Notification,
    NotificationKind,
    NotificationStatus,
    ReadState,
    Thread,
)
from messaging.reading import _refuse, is_participant, load_thread, readers_select
from referendum_core.audit import AuditContext
from referendum_core.clock import Clock

_MENTION = re.compile(r"(?<![\w@])@([\w.\-]{2,64})", re.UNICODE)


def _advance_read(session: Session, clock: Clock, user_id: int, thread_id: int,
                  message_id: int, state: ReadState | None = None) -> ReadState:
    if state is None:
        state = session.scalars(select(ReadState).where(ReadState.thread_id == thread_id,
                                                        ReadState.user_id == user_id)).first()
    if state is None:
        state = ReadState(thread_id=thread_id, user_id=user_id, last_read_message_id=0,
                          read_at=clock.now())
        session.add(state)
    if message_id > state.last_read_message_id:
        state.last_read_message_id = message_id
        state.read_at = clock.now()
    return state


@functools.cache
def _read_own_statement() -> Any:
    """Move a read position forward (built once; run through Core, no ORM bookkeeping)."""
    table = ReadState.__table__
    return (update(table)
            .where(table.c.thread_id == bindparam("thread"), table.c.user_id == bindparam("user"),
                   table.c.last_read_message_id < bindparam("message"))
            .values(last_read_message_id=bindparam("message"), read_at=bindparam("at")))


def read_own_message(session: Session, clock: Clock, user_id: int, thread_id: int,
                      message_id: int) -> None:
    """The author has read their own message: one UPDATE when they have a read position
    already (every post after their first), else the position is created."""
    moved = session.execute(_read_own_statement(), {
        "thread": thread_id, "user": user_id, "message": message_id, "at": clock.now()})
    _read_own_moved(session, clock, user_id, thread_id, message_id, moved.rowcount)  # type: ignore[attr-defined]


def _read_own_moved(session: Session, clock: Clock, user_id: int, thread_id: int,
                    message_id: int, moved: int) -> None:
    if moved == 0:  # the author's first message here: create the position
        _advance_read(session, clock, user_id, thread_id, message_id)
        return
    for obj in list(session.identity_map.values()):  # a position loaded earlier is now stale
        if isinstance(obj, ReadState) and obj.thread_id == thread_id and obj.user_id == user_id:
            session.expire(obj)


@functools.cache
def _posted_statement_postgresql(has_author: bool) -> Any:
    """On PostgreSQL the thread's last activity, the author's read position and the readers'
    unread notices are written by one statement (data-modifying CTEs: one round trip instead
    of three); it answers how many read positions moved."""
    threads = Thread.__table__
    touched = (update(threads).where(threads.c.id == bindparam("p_thread", type_=Integer))
               .values(last_message_at=bindparam("p_now", type_=threads.c.last_message_at.type))
               .returning(threads.c.id).cte("touched"))
    notices = (_notify_statement(False).returning(Notification.__table__.c.id)
               .cte("notices"))
    if not has_author:
        return select(literal(0, Integer)).add_cte(touched, notices)
    moved = _read_own_statement().returning(ReadState.__table__.c.id).cte("moved")
    return (select(select(func.count()).select_from(moved).scalar_subquery())
            .add_cte(touched, notices))


def touch_read_and_notify_postgresql(session: Session, clock: Clock, thread: Thread,
                                      message: Message) -> None:
    now = clock.now()
    author_id = message.author_id
    moved = session.execute(_posted_statement_postgresql(author_id is not None), {
        "p_thread": thread.id, "p_now": now, "p_message": message.id, "p_author": author_id,
        "p_kind": NotificationKind.UNREAD.value,
        "p_due": now + runtime.settings().notify_unread_after,
        "thread": thread.id, "user": author_id, "message": message.id, "at": now}).scalar_one()
    set_committed_value(thread, "last_message_at", now)
    if author_id is not None:
        _read_own_moved(session, clock, author_id, thread.id, message.id, moved)


def mark_read(session: Session, clock: Clock, actor: Any, thread_or_id: Thread | int,
              up_to_message_id: int | None = None, *, context: AuditContext | None = None
              ) -> ReadState:
    """Record that ``actor`` has read a thread (up to a message, default: all). Pending
    unread-notifications that are now read are cancelled.

    Raises:
        NotParticipant.
    """
    thread = load_thread(session, thread_or_id) if isinstance(thread_or_id, int) else thread_or_id
    if thread is None or not is_participant(thread, actor):
        _refuse(session, clock, actor, NotParticipant(), "mark_read", thread=thread,
                context=context)
    last = session.scalar(select(func.max(Message.id)).where(Message.thread_id == thread.id)) or 0
    target = min(up_to_message_id, last) if up_to_message_id is not None else last
    state = session.scalars(select(ReadState).where(ReadState.thread_id == thread.id,
                                                    ReadState.user_id == actor.id)).first()
    before = state.last_read_message_id if state is not None else 0
    if state is None:
        state = ReadState(thread_id=thread.id, user_id=actor.id, last_read_message_id=0,
                          read_at=clock.now())
        session.add(state)
    _advance_read(session, clock, actor.id, thread.id, target, state)
    if state.last_read_message_id >= last:
        session.execute(
            update(Notification)
            .where(Notification.user_id == actor.id, Notification.thread_id == thread.id,
                   Notification.status == NotificationStatus.PENDING)
            .values(status=NotificationStatus.CANCELLED)
            .execution_options(synchronize_session="evaluate"))
    session.flush()
    if state.last_read_message_id > before:
        runtime.publish("message.read", {"thread_id": thread.id, "user_id": actor.id,
                                         "message_id": state.last_read_message_id})
    return state


def queue_unread(session: Session, clock: Clock, thread: Thread, message: Message) -> None:
    """An unread notice for every reader but the author who has none pending for the thread
    (one ``INSERT … SELECT``, the same however many readers; in a busy thread it inserts
    nothing)."""
    now = clock.now()
    session.execute(_notify_statement(False), {
        "p_thread": thread.id, "p_message": message.id, "p_author": message.author_id,
        "p_now": now, "p_kind": NotificationKind.UNREAD.value,
        "p_due": now + runtime.settings().notify_unread_after})


def queue_mentions(session: Session, clock: Clock, thread: Thread, message: Message,
                    text: str) -> None:
    """A mention notice, due at once, for the readers named with ``@`` (no query without)."""
    words = {m.group(1).casefold().rstrip(".") for m in _MENTION.finditer(text)}
    if not words:
        return
    mentioned = _mentioned(session, thread, message.author_id, words)
    if mentioned:
        now = clock.now()
        session.execute(_notify_statement(True), {
            "p_thread": thread.id, "p_message": message.id, "p_author": message.author_id,
            "p_now": now, "p_kind": NotificationKind.MENTION.value, "p_due": now,
            "p_only": sorted(mentioned)})


@functools.cache
def _notify_statement(only_some: bool) -> Any:
    """``INSERT … SELECT`` of outbox rows of ``:p_kind`` for the thread's readers but the author
    (or those of them in ``:p_only``) who have none pending for the thread yet: one pending row
    per user, thread and kind, so a burst of messages makes one e-mail. Built once."""
    users = directory.users_table()
    outbox = Notification.__table__
    pending = outbox.alias("pending")
    columns = outbox.c
    thread_id = bindparam("p_thread", type_=columns.thread_id.type)
    kind = bindparam("p_kind", type_=columns.kind.type)
    already = select(pending.c.id).where(
        pending.c.user_id == users.c.id, pending.c.thread_id == thread_id,
        pending.c.kind == kind, pending.c.status == NotificationStatus.PENDING.value)
    rows = readers_select().with_only_columns(
        users.c.id, thread_id, bindparam("p_message", type_=columns.message_id.type), kind,
        literal(NotificationStatus.PENDING.value, columns.status.type),
        bindparam("p_now", type_=columns.created_at.type),
        bindparam("p_due", type_=columns.next_attempt_at.type),
        literal(0, columns.attempts.type),
    ).where(users.c.id.is_distinct_from(bindparam("p_author", type_=Integer)),
            ~already.exists())
    if only_some:
        rows = rows.where(users.c.id.in_(bindparam("p_only", expanding=True)))
    return insert(outbox).from_select(
        ["user_id", "thread_id", "message_id", "kind", "status", "created_at", "next_attempt_at",
         "attempts"], rows)


def _mentioned(session: Session, thread: Thread, author_id: int | None,
               words: set[str]) -> set[int]:
    """Readers (but the author) named as ``@name`` (e-mail local part, or display name
    without spaces)."""
    users = directory.users_table()
    readers = readers_select().with_only_columns(users.c.id, users.c.display_name, users.c.email)
    found = set()
    for uid, display_name, email in session.execute(readers, {"p_thread": thread.id}):
        if uid == author_id:
            continue
        handles = {display_name.replace(" ", "").casefold()}
        if email:
            handles.add(email.split("@", 1)[0].casefold())
        if handles & words:
            found.add(uid)
    return found
