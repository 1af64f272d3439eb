"""Threads, participants, encrypted messages and attachments, read state, wrapped thread keys and
the notification outbox.

Nothing a person wrote is stored in clear: subjects, bodies, earlier revisions, attachment names
and contents are AES-GCM ciphertexts under the thread's data key (``messaging.crypto``); the data
key itself is stored only wrapped to OpenPGP keys (``ThreadKey``).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referendum_core.db import Base


class ParticipantKind(StrEnum):
    PERSON = "person"  # one user
    GROUP = "group"  # everyone holding a role (or any commission role) in a commission


class Thread(Base):
    """A conversation: an encrypted subject, participants and messages; optionally a case's."""

    __tablename__ = "message_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # The case this thread belongs to (one thread per case).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True, unique=True)
    # The municipality the thread concerns (audit scoping and commission lookups), if any.
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    last_message_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    participants: Mapped[list[ThreadParticipant]] = relationship(
        back_populates="thread", cascade="all, delete-orphan", lazy="selectin")
    keys: Mapped[list[ThreadKey]] = relationship(
        back_populates="thread", cascade="all, delete-orphan")

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class ThreadParticipant(Base):
    """Who is in a thread: a person (``user_id``) or a membership group (``commission_id`` and
    optionally a ``role``; no role = every commission role of that commission)."""

    __tablename__ = "thread_participants"
    __table_args__ = (UniqueConstraint("thread_id", "user_id", "commission_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[ParticipantKind] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    commission_id: Mapped[int | None] = mapped_column(ForeignKey("commissions.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime]

    thread: Mapped[Thread] = relationship(back_populates="participants")


class Message(Base):
    """One message; ``body_enc`` is the current text, earlier texts live in ``MessageRevision``."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread_id_id", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id", ondelete="CASCADE"))
    # None = a message from the system (workflow notices).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]

    revisions: Mapped[list[MessageRevision]] = relationship(
        back_populates="message", cascade="all, delete-orphan",
        order_by="MessageRevision.id")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", lazy="selectin",
        order_by="Attachment.id")

    @property
    def is_system(self) -> bool:
        return self.author_id is None


class MessageRevision(Base):
    """A text a message had before an edit (kept for the record)."""

    __tablename__ = "message_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            index=True)
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # When that text was written (the message's creation or the previous edit).
    written_at: Mapped[datetime]
    replaced_at: Mapped[datetime]

    message: Mapped[Message] = relationship(back_populates="revisions")


class Attachment(Base):
    """A file attached to a message: type sniffed from its content, name and content encrypted."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            index=True)
    filename_enc: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    blob_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]

    message: Mapped[Message] = relationship(back_populates="attachments")


class ReadState(Base):
    """How far a user has read a thread (read receipts; unread = newer messages by others)."""

    __tablename__ = "thread_read_states"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_read_message_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime]


class ThreadKey(Base):
    """The thread's data key wrapped to one key, named by its fingerprint: OpenPGP-encrypted to
    the archive key or a participant's key, or sealed under the servers' own key (``server``,
    named by a hash of that key; see ``messaging.keyring``)."""

    __tablename__ = "thread_keys"
    __table_args__ = (UniqueConstraint("thread_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id", ondelete="CASCADE"),
                                           index=True)
    fingerprint: Mapped[str] = mapped_column(String(40), index=True)
    # "archive" for the portal's key, "person" for a participant's registered key, "server" for
    # the copy sealed under the key the servers derive from DATA_KEY.
    purpose: Mapped[str] = mapped_column(String(10))
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    thread: Mapped[Thread] = relationship(back_populates="keys")


class NotificationKind(StrEnum):
    UNREAD = "unread"  # messages still unread after the configured delay
    MENTION = "mention"  # named in a message: sent without the delay


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"  # read before it was due
    FAILED = "failed"  # gave up after the last retry


class Notification(Base):
    """An e-mail to send (outbox row): it survives a failed SMTP server and is retried.

    It holds no text: the e-mail is composed when sent, from the messages still unread.
    One pending row per (user, thread, kind) — a burst of messages makes one e-mail.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id", ondelete="CASCADE"),
                                           index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(String(10))
    status: Mapped[NotificationStatus] = mapped_column(String(10), default=NotificationStatus.PENDING)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None]
    was_encrypted: Mapped[bool | None]
