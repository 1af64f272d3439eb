"""Every write of messaging, verb-named (reads are in ``messaging.reading``, search and export
in ``messaging.export``; their names are re-exported here for callers).

Each function takes the session and the acting person, checks the rule, writes, audits and raises
a ``messaging.exceptions`` error when refused (after auditing the refusal in the same session, so
a caller that commits before answering keeps the record). Services flush; the caller commits.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from messaging import crypto, directory, reading, rules, runtime, unread
from messaging.attachments import CheckedFile, inspect
from messaging.exceptions import (
    AttachmentRejected,
    NotParticipant,
    Refused,
    ThreadClosed,
    UnsafeContent,
)
from messaging.export import (
    SEARCH_SCAN_LIMIT,
    SearchHit,
    ThreadExport,
    export_thread,
    search_messages,
)
from messaging.keyring import ThreadKeys
from messaging.markdown import check_text
from messaging.models import (
    Attachment,
    Message,
    MessageRevision,
    ParticipantKind,
    Thread,
    ThreadParticipant,
)
from messaging.reading import (
    _aad,
    _keys,
    _refuse,
    _spec_label,
    access_attachment,
    access_thread,
    attachment_name,
    is_participant,
    load_thread,
    messages_of,
    read_positions,
    recent_messages,
    revision_texts,
    subject_of,
    subjects_of,
    text_of,
    thread_for_case,
    thread_user_ids,
    threads_for,
    unread_counts,
    unread_threads,
)
from messaging.unread import mark_read
from referendum_core import audit
from referendum_core.audit import AuditContext
from referendum_core.cases.models import Case
from referendum_core.clock import Clock


@dataclass(frozen=True)
class Upload:
    """A file handed to ``post_message``."""

    filename: str
    data: bytes


# Checks ----------------------------------------------------------------------------------

def _check_text(session: Session, clock: Clock, actor: Any, text: str, attempted: str,
                thread: Thread | None, context: AuditContext | None, limit: int) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        _refuse(session, clock, actor, Refused("empty_text"), attempted, thread=thread,
                context=context)
    if len(text) > limit:
        _refuse(session, clock, actor, Refused("text_too_long"), attempted, thread=thread,
                context=context, length=len(text))
    try:
        check_text(text)
    except UnsafeContent as exc:
        _refuse(session, clock, actor, exc, attempted, thread=thread, context=context,
                detail=str(exc))
    return text


def _check_uploads(session: Session, clock: Clock, actor: Any, uploads: Sequence[Upload],
                   thread: Thread | None, context: AuditContext | None) -> list[CheckedFile]:
    settings = runtime.settings()
    if len(uploads) > settings.max_attachments:
        _refuse(session, clock, actor, AttachmentRejected("too_many"), "post_message",
                thread=thread, context=context, count=len(uploads))
    checked = []
    for upload in uploads:
        try:
            checked.append(inspect(upload.data, upload.filename, settings.max_attachment_bytes))
        except AttachmentRejected as exc:
            _refuse(session, clock, actor, exc, "post_message", thread=thread,
                    context=context, detail=str(exc), size=len(upload.data))
    return checked


# Threads -----------------------------------------------------------------------------------

def _target_participant(session: Session, target: rules.Target) -> dict[str, Any]:
    if target.kind == rules.TargetKind.CVK:
        return {"kind": ParticipantKind.GROUP,
                "commission_id": directory.cvk_commission(session).id,
                "role": directory.CVK_OFFICER}
    if target.kind == rules.TargetKind.COMMISSION:
        commission = directory.municipal_commission(session, target.municipality_id or 0)
        if commission is None:
            raise Refused("unknown_commission")
        return {"kind": ParticipantKind.GROUP, "commission_id": commission.id, "role": None}
    return {"kind": ParticipantKind.PERSON, "user_id": target.user_id}


def _add_participant_row(session: Session, clock: Clock, thread: Thread, added_by: Any,
                         spec: dict[str, Any], keys: ThreadKeys) -> ThreadParticipant | None:
    for existing in thread.participants:
        if (existing.user_id == spec.get("user_id")
                and existing.commission_id == spec.get("commission_id")
                and existing.role == spec.get("role")):
            return None
    row = ThreadParticipant(thread=thread, added_at=clock.now(),
                            added_by_id=getattr(added_by, "id", None), **spec)
    session.add(row)
    if row.user_id is not None:
        person = directory.person(session, row.user_id)
        if person is not None and person.pgp_public_key:
            keys.add_person_key(session, clock, thread, person.pgp_public_key,
                                person.pgp_fingerprint)
    return row


def _new_thread(session: Session, clock: Clock, actor: Any, subject: str, *,
                case_id: int | None, municipality_id: int | None, keys: ThreadKeys) -> Thread:
    thread = Thread(subject_enc=b"", case_id=case_id, municipality_id=municipality_id,
                    created_by_id=getattr(actor, "id", None), created_at=clock.now())
    session.add(thread)
    session.flush()
    key = keys.create(session, clock, thread)
    thread.subject_enc = crypto.seal_text(key, subject, _aad(thread.id, "subject"))
    return thread


def create_thread(session: Session, clock: Clock, actor: Any, *, subject: str, text: str,
                  targets: Sequence[rules.Target], uploads: Sequence[Upload] = (),
                  municipality_id: int | None = None,
                  voter_municipality_ids: Sequence[int] | None = None,
                  context: AuditContext | None = None,
                  keys: ThreadKeys | None = None) -> Thread:
    """Start a thread with ``targets`` and its first message.

    Raises:
        Refused: ``not_allowed`` (the rules forbid a target), ``no_recipient``, ``empty_subject``,
            text or attachment refusals (see ``post_message``). Each refusal is audited.
    """
    keys = _keys(keys)
    settings = runtime.settings()
    subject = " ".join((subject or "").split())
    if not subject:
        _refuse(session, clock, actor, Refused("empty_subject"), "create_thread",
                context=context)
    if len(subject) > settings.max_subject_chars:
        _refuse(session, clock, actor, Refused("subject_too_long"), "create_thread",
                context=context)
    if not targets:
        _refuse(session, clock, actor, Refused("no_recipient"), "create_thread",
                context=context)
    starter = rules.standing_of(actor, voter_municipality_ids)
    for target in targets:
        if not rules.may_start_thread(starter, target) or target.user_id == actor.id:
            _refuse(session, clock, actor, Refused("not_allowed"), "create_thread",
                    context=context, target=str(target.kind),
                    target_municipality_id=target.municipality_id,
                    target_user_id=target.user_id)
    try:
        check_text(subject)
    except UnsafeContent as exc:
        _refuse(session, clock, actor, exc, "create_thread", context=context)
    text = _check_text(session, clock, actor, text, "create_thread", None, context,
                       settings.max_text_chars)
    checked = _check_uploads(session, clock, actor, uploads, None, context)
    specs = []
    for target in targets:
        try:
            specs.append(_target_participant(session, target))
        except Refused as exc:
            _refuse(session, clock, actor, exc, "create_thread", context=context)
    if municipality_id is None:
        municipality_id = next((t.municipality_id for t in targets if t.municipality_id), None)

    thread = _new_thread(session, clock, actor, subject, case_id=None,
                         municipality_id=municipality_id, keys=keys)
    _add_participant_row(session, clock, thread, actor,
                         {"kind": ParticipantKind.PERSON, "user_id": actor.id}, keys)
    for spec in specs:
        _add_participant_row(session, clock, thread, actor, spec, keys)
    session.flush()
    audit.record(session, clock, actor, "messaging.thread_created", obj=thread, context=context,
                 participants=[_spec_label(s) for s in specs])
    _store_message(session, clock, actor, thread, text, None, list(zip(uploads, checked,
                                                                        strict=True)), keys)
    return thread


def open_case_thread(session: Session, clock: Clock, actor: Any, *, case_id: int, subject: str,
                     municipality_id: int | None,
                     participant_user_ids: Sequence[int] = (),
                     keys: ThreadKeys | None = None) -> Thread:
    """The thread of a case, created on first call (one per case; later calls add any new
    ``participant_user_ids`` and return it). Participants: the CVK officers group, the municipal
    commission of ``municipality_id`` and the given persons. Audited."""
    keys = _keys(keys)
    thread = thread_for_case(session, case_id)
    created = thread is None
    if thread is None:
        # A blank subject falls back to the case's reference (L-000012), never "#<row id>".
        subject = (" ".join(subject.split())[: runtime.settings().max_subject_chars]
                   or Case.reference_of(case_id))
        thread = _new_thread(session, clock, actor, subject, case_id=case_id,
                             municipality_id=municipality_id, keys=keys)
        _add_participant_row(session, clock, thread, actor, _target_participant(
            session, rules.Target(rules.TargetKind.CVK)), keys)
        if municipality_id is not None:
            commission = directory.municipal_commission(session, municipality_id)
            if commission is not None:
                _add_participant_row(session, clock, thread, actor, {
                    "kind": ParticipantKind.GROUP, "commission_id": commission.id,
                    "role": None}, keys)
    added = []
    for user_id in participant_user_ids:
        row = _add_participant_row(session, clock, thread, actor,
                                   {"kind": ParticipantKind.PERSON, "user_id": user_id}, keys)
        if row is not None:
            added.append(user_id)
    session.flush()
    if created:
        audit.record(session, clock, actor, "messaging.case_thread_opened", obj=thread,
                     case_id=case_id, persons=added)
    elif added:
        audit.record(session, clock, actor, "messaging.participant_added", obj=thread,
                     case_id=case_id, persons=added)
    return thread


def add_participant(session: Session, clock: Clock, actor: Any, thread_or_id: Thread | int,
                    target: rules.Target, *, context: AuditContext | None = None,
                    keys: ThreadKeys | None = None) -> ThreadParticipant | None:
    """Bring a person or group into a thread (None if already in). Audited; adding a CVK
    administrator is marked as such, since it is the only way an administrator reads a thread.

    Raises:
        NotParticipant: ``actor`` is not in the thread. Refused(``not_allowed``): the rules forbid.
    """
    keys = _keys(keys)
    thread = _thread(session, thread_or_id)
    if not is_participant(thread, actor):
        _refuse(session, clock, actor, NotParticipant(), "add_participant", thread=thread,
                context=context)
    if not rules.may_add_participant(rules.standing_of(actor), target):
        _refuse(session, clock, actor, Refused("not_allowed"), "add_participant",
                thread=thread, context=context, target=str(target.kind))
    try:
        spec = _target_participant(session, target)
    except Refused as exc:
        _refuse(session, clock, actor, exc, "add_participant", thread=thread,
                context=context)
    row = _add_participant_row(session, clock, thread, actor, spec, keys)
    if row is None:
        return None
    session.flush()
    audit.record(session, clock, actor, "messaging.participant_added", obj=thread,
                 context=context, participant=_spec_label(spec),
                 is_cvk_admin=target.person.is_cvk_admin)
    return row


def close_thread(session: Session, clock: Clock, actor: Any, thread_or_id: Thread | int, *,
                 context: AuditContext | None = None) -> Thread:
    """Close a thread to new messages (officials in it). Audited.

    Raises:
        NotParticipant, Refused(``not_allowed``).
    """
    thread = _thread(session, thread_or_id)
    member = is_participant(thread, actor)
    if not member:
        _refuse(session, clock, actor, NotParticipant(), "close_thread", thread=thread,
                context=context)
    if not rules.may_close_thread(rules.standing_of(actor), is_participant=member):
        _refuse(session, clock, actor, Refused("not_allowed"), "close_thread",
                thread=thread, context=context)
    if thread.closed_at is None:
        thread.closed_at = clock.now()
        thread.closed_by_id = actor.id
        session.flush()
        audit.record(session, clock, actor, "messaging.thread_closed", obj=thread, context=context)
    return thread


def _thread(session: Session, thread_or_id: Thread | int) -> Thread:
    if isinstance(thread_or_id, Thread):
        return thread_or_id
    thread = load_thread(session, thread_or_id)
    if thread is None:
        raise NotParticipant("no such thread")
    return thread


# Messages ----------------------------------------------------------------------------------

def _store_message(session: Session, clock: Clock, actor: Any, thread: Thread, text: str,
                   reply_to_id: int | None, files: list[tuple[Upload, CheckedFile]],
                   keys: ThreadKeys) -> Message:
    key = keys.key_for(session, thread.id)
    now = clock.now()
    message = Message(thread_id=thread.id, author_id=getattr(actor, "id", None),
                      reply_to_id=reply_to_id, created_at=now,
                      body_enc=crypto.seal_text(key, text, _aad(thread.id, "body")))
    session.add(message)
    for upload, checked in files:
        message.attachments.append(Attachment(
            filename_enc=crypto.seal_text(key, checked.filename, _aad(thread.id, "file-name")),
            content_type=checked.content_type, size=checked.size, created_at=now,
            blob_enc=crypto.seal(key, upload.data, _aad(thread.id, "file"))))
    if session.get_bind().dialect.name == "postgresql":
        session.flush()
        unread.touch_read_and_notify_postgresql(session, clock, thread, message)
    else:
        thread.last_message_at = now
        session.flush()
        if actor is not None:
            unread.read_own_message(session, clock, actor.id, thread.id, message.id)
        unread.queue_unread(session, clock, thread, message)
    unread.queue_mentions(session, clock, thread, message, text)
    audit.record(session, clock, actor, "messaging.message_posted", obj=thread,
                 message_id=message.id, attachments=len(files), reply_to=reply_to_id)
    runtime.publish("message.new", {"thread_id": thread.id, "message_id": message.id})
    return message


def post_message(session: Session, clock: Clock, actor: Any, thread_or_id: Thread | int,
                 text: str, *, reply_to_id: int | None = None, uploads: Sequence[Upload] = (),
                 context: AuditContext | None = None, keys: ThreadKeys | None = None) -> Message:
    """Post a message (with attachments) to a thread ``actor`` is in.

    Raises:
        NotParticipant, ThreadClosed, UnsafeContent, AttachmentRejected, Refused (``empty_text``,
        ``text_too_long``, ``bad_reply``). Nothing is stored when refused; the refusal is audited.
    """
    keys = _keys(keys)
    thread = load_thread(session, thread_or_id) if isinstance(thread_or_id, int) else thread_or_id
    if thread is None or not is_participant(thread, actor):
        _refuse(session, clock, actor, NotParticipant(), "post_message", thread=thread,
                context=context,
                thread_id=thread_or_id if isinstance(thread_or_id, int) else None)
    if thread.is_closed:
        _refuse(session, clock, actor, ThreadClosed(), "post_message", thread=thread,
                context=context)
    text = _check_text(session, clock, actor, text, "post_message", thread, context,
                       runtime.settings().max_text_chars)
    if reply_to_id is not None:
        parent = session.get(Message, reply_to_id)
        if parent is None or parent.thread_id != thread.id:
            _refuse(session, clock, actor, Refused("bad_reply"), "post_message",
                    thread=thread, context=context)
    checked = _check_uploads(session, clock, actor, uploads, thread, context)
    return _store_message(session, clock, actor, thread, text, reply_to_id,
                          list(zip(uploads, checked, strict=True)), keys)


def post_system_message(session: Session, clock: Clock, thread_or_id: Thread | int, text: str,
                        *, keys: ThreadKeys | None = None, read_by: Any = None) -> Message:
    """A message from the system (no author) — workflow notices such as case transitions.
    Allowed in closed threads too (e.g. "the case was closed"). ``read_by``: the person whose
    action the notice reports; it is not news to them, so it is read for them if they take
    part in the thread (their own decision is not an unread message on their home)."""
    keys = _keys(keys)
    thread = _thread(session, thread_or_id)
    text = (text or "").strip()
    if not text:
        raise Refused("empty_text")
    check_text(text)
    message = _store_message(session, clock, None, thread, text, None, [], keys)
    if read_by is not None and getattr(read_by, "id", None) is not None \
            and reading.is_participant(thread, read_by):
        unread.mark_read(session, clock, read_by, thread, message.id)
    return message


def edit_message(session: Session, clock: Clock, actor: Any, message_id: int, text: str, *,
                 context: AuditContext | None = None, keys: ThreadKeys | None = None) -> Message:
    """Change one's own message within the edit window; the old text is kept as a revision.

    Raises:
        NotParticipant, ThreadClosed, Refused(``not_author`` / ``edit_window_over``),
        UnsafeContent, Refused(``empty_text``).
    """
    keys = _keys(keys)
    message = session.get(Message, message_id)
    thread = load_thread(session, message.thread_id) if message is not None else None
    if message is None or thread is None or not is_participant(thread, actor):
        _refuse(session, clock, actor, NotParticipant(), "edit_message", thread=thread,
                context=context, message_id=message_id)
    if message.author_id != actor.id:
        _refuse(session, clock, actor, Refused("not_author"), "edit_message",
                thread=thread, context=context, message_id=message_id)
    if thread.is_closed:
        _refuse(session, clock, actor, ThreadClosed(), "edit_message", thread=thread,
                context=context, message_id=message_id)
    now = clock.now()
    if now - message.created_at > runtime.settings().edit_window:
        _refuse(session, clock, actor, Refused("edit_window_over"), "edit_message",
                thread=thread, context=context, message_id=message_id)
    text = _check_text(session, clock, actor, text, "edit_message", thread, context,
                       runtime.settings().max_text_chars)
    key = keys.key_for(session, thread.id)
    session.add(MessageRevision(message_id=message.id, body_enc=message.body_enc,
                                written_at=message.edited_at or message.created_at,
                                replaced_at=now))
    message.body_enc = crypto.seal_text(key, text, _aad(thread.id, "body"))
    message.edited_at = now
    session.flush()
    session.expire(message, ["revisions"])
    audit.record(session, clock, actor, "messaging.message_edited", obj=thread, context=context,
                 message_id=message.id)
    runtime.publish("message.edited", {"thread_id": thread.id, "message_id": message.id})
    return message


__all__ = [
    "SEARCH_SCAN_LIMIT",
    "SearchHit",
    "ThreadExport",
    "Upload",
    "access_attachment",
    "access_thread",
    "add_participant",
    "attachment_name",
    "close_thread",
    "create_thread",
    "edit_message",
    "export_thread",
    "is_participant",
    "load_thread",
    "mark_read",
    "messages_of",
    "open_case_thread",
    "post_message",
    "post_system_message",
    "read_positions",
    "recent_messages",
    "revision_texts",
    "search_messages",
    "subject_of",
    "subjects_of",
    "text_of",
    "thread_for_case",
    "thread_user_ids",
    "threads_for",
    "unread_counts",
    "unread_threads",
]
