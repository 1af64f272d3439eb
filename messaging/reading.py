"""Reading messaging: access checks, decryption of subjects, texts, names and attachments,
unread counts and read receipts. Loading a thread always goes through ``access_thread``."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import Integer, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from messaging import crypto, directory, rules, runtime
from messaging.exceptions import NotParticipant, Refused
from messaging.keyring import ThreadKeys
from messaging.models import Attachment, Message, ReadState, Thread, ThreadParticipant
from referendum_core import audit
from referendum_core.audit import AuditContext
from referendum_core.clock import Clock


def _keys(keys: ThreadKeys | None) -> ThreadKeys:
    return keys or runtime.thread_keys()


def _refuse(session: Session, clock: Clock, actor: Any, error: Refused, attempted: str, *,
            thread: Thread | None = None, context: AuditContext | None = None,
            **detail: Any) -> NoReturn:
    """Audit a refusal in the caller's transaction, then raise it.

    Raises:
        Refused: ``error``, always.
    """
    audit.record(session, clock, actor, "messaging.refused", obj=thread,
                 object_type="Thread" if thread is not None else None, context=context,
                 attempted=attempted, reason=error.code, **detail)
    raise error


def _aad(thread_id: int, purpose: str) -> bytes:
    return crypto.associated_data(thread_id, purpose)


def _spec_label(spec: dict[str, Any]) -> str:
    if spec.get("user_id") is not None:
        return f"user:{spec['user_id']}"
    return f"group:{spec.get('commission_id')}:{spec.get('role') or '*'}"


def is_participant(thread: Thread, user: Any) -> bool:
    """Is ``user`` in ``thread`` (in person or through a membership group)?"""
    return rules.is_participant(thread.participants, user)


_WITH_PARTICIPANTS = (joinedload(Thread.participants),)


def load_thread(session: Session, thread_id: int) -> Thread | None:
    """A thread with its participants, in one statement (the access check needs them)."""
    return session.get(Thread, thread_id, options=_WITH_PARTICIPANTS)


def access_thread(session: Session, clock: Clock, actor: Any, thread_id: int, *,
                  context: AuditContext | None = None, attempted: str = "read") -> Thread:
    """Load a thread for ``actor``.

    Raises:
        NotParticipant: no such thread, or ``actor`` is not in it (audited).
    """
    thread = load_thread(session, thread_id)
    if thread is None or not is_participant(thread, actor):
        _refuse(session, clock, actor, NotParticipant(), attempted, thread=thread,
                context=context, thread_id=thread_id)
    return thread


def thread_for_case(session: Session, case_id: int) -> Thread | None:
    """The thread of a case, if it has one."""
    return session.scalars(select(Thread).where(Thread.case_id == case_id)).first()


def threads_for(session: Session, user: Any, limit: int = 200) -> list[Thread]:
    """The threads ``user`` is in, most recently active first."""
    ids = select(ThreadParticipant.thread_id).where(
        directory.participant_clause(ThreadParticipant, user))
    return list(session.scalars(
        select(Thread).where(Thread.id.in_(ids))
        .order_by(func.coalesce(Thread.last_message_at, Thread.created_at).desc(), Thread.id.desc())
        .limit(limit)))


def subject_of(session: Session, thread: Thread, *, keys: ThreadKeys | None = None) -> str:
    """The decrypted subject."""
    key = _keys(keys).key_for(session, thread.id)
    return crypto.open_text(key, thread.subject_enc, _aad(thread.id, "subject"))


def subjects_of(session: Session, threads: Sequence[Thread], *,
                keys: ThreadKeys | None = None) -> dict[int, str]:
    """Decrypted subjects of ``threads`` by id (their data keys fetched in one query)."""
    keys = _keys(keys)
    keys.preload(session, [t.id for t in threads])
    return {t.id: subject_of(session, t, keys=keys) for t in threads}


def text_of(session: Session, message: Message, *, keys: ThreadKeys | None = None) -> str:
    """The decrypted current text of a message."""
    key = _keys(keys).key_for(session, message.thread_id)
    return crypto.open_text(key, message.body_enc, _aad(message.thread_id, "body"))


def revision_texts(session: Session, message: Message, *, keys: ThreadKeys | None = None
                   ) -> list[tuple[datetime, datetime, str]]:
    """Earlier texts of a message: (written at, replaced at, text), oldest first."""
    key = _keys(keys).key_for(session, message.thread_id)
    aad = _aad(message.thread_id, "body")
    return [(r.written_at, r.replaced_at, crypto.open_text(key, r.body_enc, aad))
            for r in message.revisions]


def attachment_name(session: Session, attachment: Attachment, thread_id: int, *,
                    keys: ThreadKeys | None = None) -> str:
    """The decrypted file name of an attachment."""
    key = _keys(keys).key_for(session, thread_id)
    return crypto.open_text(key, attachment.filename_enc, _aad(thread_id, "file-name"))


def access_attachment(session: Session, clock: Clock, actor: Any, thread_id: int,
                      attachment_id: int, *, context: AuditContext | None = None,
                      keys: ThreadKeys | None = None) -> tuple[Attachment, str, bytes]:
    """An attachment of a thread ``actor`` is in: (row, file name, content).

    Raises:
        NotParticipant: not in the thread, or the attachment is not in it (audited).
    """
    thread = access_thread(session, clock, actor, thread_id, context=context,
                           attempted="download")
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.message.thread_id != thread.id:
        _refuse(session, clock, actor, NotParticipant("attachment"), "download",
                thread=thread, context=context, attachment_id=attachment_id)
    key = _keys(keys).key_for(session, thread.id)
    data = crypto.open_sealed(key, attachment.blob_enc, _aad(thread.id, "file"))
    return attachment, attachment_name(session, attachment, thread.id, keys=keys), data


def messages_of(session: Session, thread: Thread, *, after_id: int = 0, limit: int = 500
                ) -> list[Message]:
    """Messages of a thread in order (``after_id`` for "newer than")."""
    return list(session.scalars(
        select(Message).where(Message.thread_id == thread.id, Message.id > after_id)
        .order_by(Message.id).limit(limit)))


def recent_messages(session: Session, thread: Thread, *, before_id: int | None = None,
                    limit: int = 50) -> tuple[list[Message], bool]:
    """The newest ``limit`` messages (older than ``before_id``) in order, with their attachments
    and revisions loaded in the same round trips; and whether earlier ones exist."""
    query = select(Message).where(Message.thread_id == thread.id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    rows = list(session.scalars(
        query.options(selectinload(Message.attachments), selectinload(Message.revisions))
        .order_by(Message.id.desc()).limit(limit + 1)))
    has_earlier = len(rows) > limit
    return list(reversed(rows[:limit])), has_earlier


@functools.cache
def readers_select() -> Any:
    """``directory.readers_select`` of the thread ``:p_thread``, built once per process (the
    parameter is not named after a column: an UPDATE would take such a value as one to set)."""
    return directory.readers_select(ThreadParticipant.__table__,
                                    bindparam("p_thread", type_=Integer))


def thread_user_ids(session: Session, thread: Thread) -> set[int]:
    """Every active user who can read ``thread`` now (persons plus current group members), in
    one query however many groups take part."""
    return set(session.scalars(readers_select(), {"p_thread": thread.id}))


def unread_counts(session: Session, user: Any, thread_ids: Sequence[int]) -> dict[int, int]:
    """Messages by others newer than what ``user`` has read, per thread (one grouped query,
    however many threads the list shows)."""
    if not thread_ids:
        return {}
    read = aliased(ReadState)
    rows = session.execute(
        select(Message.thread_id, func.count(Message.id))
        .outerjoin(read, and_(read.thread_id == Message.thread_id, read.user_id == user.id))
        .where(Message.thread_id.in_(list(thread_ids)),
               Message.id > func.coalesce(read.last_read_message_id, 0),
               or_(Message.author_id.is_(None), Message.author_id != user.id))
        .group_by(Message.thread_id))
    counts = dict.fromkeys(thread_ids, 0)
    counts.update({thread_id: int(n) for thread_id, n in rows})
    return counts


def unread_threads(session: Session, user: Any) -> list[tuple[int, int]]:
    """(thread id, messages by others not yet read) of every thread of ``user`` with unread
    messages, most recent first: one grouped statement, however many threads."""
    read = aliased(ReadState)
    mine = select(ThreadParticipant.thread_id).where(
        directory.participant_clause(ThreadParticipant, user))
    rows = session.execute(
        select(Message.thread_id, func.count(Message.id), func.max(Message.id))
        .outerjoin(read, and_(read.thread_id == Message.thread_id, read.user_id == user.id))
        .where(Message.thread_id.in_(mine),
               Message.id > func.coalesce(read.last_read_message_id, 0),
               or_(Message.author_id.is_(None), Message.author_id != user.id))
        .group_by(Message.thread_id).order_by(func.max(Message.id).desc()))
    return [(int(thread_id), int(n)) for thread_id, n, _last in rows]


def read_positions(session: Session, thread: Thread) -> dict[int, int]:
    """user id → last message id read (read receipts)."""
    return dict(session.execute(select(ReadState.user_id, ReadState.last_read_message_id)
                                .where(ReadState.thread_id == thread.id)).all())
