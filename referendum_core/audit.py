"""Append-only, hash-chained audit log.

Every entry's hash covers its content and the previous entry's hash, so editing or deleting any
entry breaks the chain from that point on; ``verify_chain`` finds the first break. A single head
row, locked while appending, serialises writers so the chain never forks under concurrency.
An attacker able to rewrite the whole table *and* the head can forge a consistent chain, so the
portal signs checkpoints of the head with a key the database does not hold and copies them out
(``referendum_core.checkpoints``); ``verify_chain(..., expected_heads=...)`` proves the log only
grew since each of them.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, Integer, String, Text, bindparam, event, insert, select, update
from sqlalchemy.orm import (
    Mapped,
    Session,
    SessionTransaction,
    mapped_column,
)

from referendum_core.clock import Clock
from referendum_core.db import UPSERT_INSERTS, Base

GENESIS = "0" * 64
#: the longest actor label kept (a longer one is cut, never refused: the change it records stands)
LABEL_LENGTH = 200


class Actor(Protocol):
    """Whoever acts: a user (``id``) with a label for humans."""

    id: int

    @property
    def audit_label(self) -> str: ...


class AuditEntry(Base):
    """One audited event."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_label: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(80))
    municipality_id: Mapped[int | None] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def detail_dict(self) -> dict[str, Any]:
        return json.loads(self.detail)


class AuditHead(Base):
    """The chain's current end; exactly one row (id 1)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(entry: AuditEntry) -> str:
    """The hash of an entry's content chained to its predecessor."""
    body = {
        "seq": entry.seq, "at": entry.at.isoformat(), "actor_id": entry.actor_id,
        "actor_label": entry.actor_label, "action": entry.action,
        "object_type": entry.object_type, "object_id": entry.object_id,
        "municipality_id": entry.municipality_id, "ip": entry.ip, "detail": entry.detail,
    }
    return hashlib.sha256(entry.prev_hash.encode() + b"\n" + _canonical(body)).hexdigest()


@dataclass(frozen=True)
class AuditContext:
    """Where an action came from (filled by the web layer or a CLI)."""

    ip: str | None = None


def record(
    session: Session,
    clock: Clock,
    actor: Actor | None,
    action: str,
    *,
    obj: Any = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    municipality_id: int | None = None,
    context: AuditContext | None = None,
    **detail: Any,
) -> AuditEntry:
    """Append an entry in the caller's transaction (it lands or vanishes with the change).

    ``obj`` may be any mapped object with an ``id``; its class name becomes the object type.
    Personal codes must never be passed in ``detail``.
    """
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if municipality_id is None:
            municipality_id = getattr(obj, "municipality_id", None)
    return _append(session, AuditEntry(
        at=clock.now(),
        actor_id=actor.id if actor is not None else None,
        actor_label=(actor.audit_label if actor is not None else "system")[:LABEL_LENGTH],
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        municipality_id=municipality_id,
        ip=(context.ip if context else None),
        detail=_canonical(detail).decode(),
    ))


def _append(session: Session, entry: AuditEntry) -> AuditEntry:
    """Chain ``entry`` to the head and add it (the head row is locked until the transaction
    ends); remember it as written in this transaction (``refusals_written``).

    Every write of the portal appends here, so the usual case runs three prepared statements
    (lock and read the head, insert the entry, move the head) without the ORM's unit of work;
    the entry returned is the row as written, not attached to the session (a rolled-back
    savepoint must not leave it there), and a head the session holds is read afresh
    when next used."""
    session.flush()  # the caller's changes land before the entry, as they always did
    row = session.execute(_LOCK_HEAD).first()
    if row is None:
        return _append_first(session, entry)
    entry.seq, entry.prev_hash = row.last_seq + 1, row.last_hash
    entry.entry_hash = compute_hash(entry)
    session.execute(_INSERT_ENTRY, {name: getattr(entry, name) for name in _ENTRY_COLUMNS})
    session.execute(_MOVE_HEAD, {"last_seq": entry.seq, "last_hash": entry.entry_hash})
    held = session.identity_map.get(Session.identity_key(AuditHead, 1))
    if held is not None:
        session.expire(held)
    session.info.setdefault(_WRITTEN, []).append(entry)
    return entry


_ENTRY_COLUMNS = ("seq", "at", "actor_id", "actor_label", "action", "object_type",
                  "object_id", "municipality_id", "ip", "detail", "prev_hash", "entry_hash")
_HEAD = AuditHead.__table__
_LOCK_HEAD = select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT_ENTRY = insert(AuditEntry.__table__)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(
    last_seq=bindparam("last_seq"), last_hash=bindparam("last_hash"))


def _append_first(session: Session, entry: AuditEntry) -> AuditEntry:
    """``_append`` when the chain has no head yet (through the ORM, as it happens once)."""
    head = _lock_head(session)
    if head is None:  # the very first entry: one of the writers arriving together makes the head
        dialect = session.get_bind().dialect.name
        if dialect in UPSERT_INSERTS:
            session.execute(UPSERT_INSERTS[dialect](AuditHead)
                            .values(id=1, last_seq=0, last_hash=GENESIS)
                            .on_conflict_do_nothing(index_elements=["id"]))
            head = _lock_head(session)
        else:
            head = AuditHead(id=1, last_seq=0, last_hash=GENESIS)
            session.add(head)
    assert head is not None
    entry.seq, entry.prev_hash = head.last_seq + 1, head.last_hash
    entry.entry_hash = compute_hash(entry)
    head.last_seq, head.last_hash = entry.seq, entry.entry_hash
    session.add(entry)
    session.flush()
    session.info.setdefault(_WRITTEN, []).append(entry)
    return entry


def is_refusal(action: str) -> bool:
    """Does ``action`` name a refusal (``case.refused``, ``voting.ballot_refused`` …)?"""
    return action.endswith("refused")


def refusals_written(session: Session) -> list[AuditEntry]:
    """Unchained copies of the refusal entries written in the session's current transaction,
    to append again (``rewrite``) after that transaction is rolled back."""
    return [AuditEntry(at=e.at, actor_id=e.actor_id, actor_label=e.actor_label, action=e.action,
                       object_type=e.object_type, object_id=e.object_id,
                       municipality_id=e.municipality_id, ip=e.ip, detail=e.detail)
            for e in session.info.get(_WRITTEN, ()) if is_refusal(e.action)]


def rewrite(session: Session, copies: list[AuditEntry]) -> None:
    """Append ``copies`` (from ``refusals_written``) at the chain's current end, each keeping
    its original time, actor, object and detail."""
    for entry in copies:
        _append(session, entry)


_WRITTEN = "audit_entries_written"


@event.listens_for(Session, "after_transaction_end")
def _forget_written(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)


def _lock_head(session: Session) -> AuditHead | None:
    """The head row, locked until the transaction ends (it serialises appends); read afresh
    even if the session loaded it earlier (another writer may have moved it since)."""
    return session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()
                           .execution_options(populate_existing=True)).first()


@dataclass(frozen=True)
class ChainProblem:
    """The first place where the chain does not verify."""

    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.seq}: {self.reason}"


def current_head(session: Session) -> tuple[int, str]:
    """(last seq, last hash) — the value to copy out and compare later."""
    head = session.get(AuditHead, 1)
    return (head.last_seq, head.last_hash) if head is not None else (0, GENESIS)


def verify_chain(session: Session, batch: int = 5000, expected_head: tuple[int, str] | None = None,
                 expected_heads: Mapping[int, str] | None = None
                 ) -> tuple[int, ChainProblem | None]:
    """Walk the whole chain; return (entries checked, first problem or None).

    Detects edited entries (hash mismatch), deleted ones (gap in seq or broken link), a
    truncated end (head points past the last entry) and, given heads ``{seq: hash}`` copied
    out earlier (``expected_head`` is one such ``(seq, hash)``; ``expected_heads`` any number,
    e.g. from signed checkpoints), any rewrite of the history before them and any truncation
    below them. A checkpoint at seq 0 (the empty log) must carry the genesis hash.
    """
    # Every head given must hold: a hand-copied head and a signed checkpoint at the same seq
    # are both checked, so one cannot hide the other.
    wanted: dict[int, set[str]] = {seq: {digest} for seq, digest in (expected_heads or {}).items()}
    if expected_head is not None:
        wanted.setdefault(expected_head[0], set()).add(expected_head[1])
    if wanted.get(0, {GENESIS}) != {GENESIS}:
        return 0, ChainProblem(0, "differs from the head copied out earlier")
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    last_seen = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last_seen).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return checked, ChainProblem(expected_seq, "entry missing (deleted?)")
            if entry.prev_hash != expected_prev:
                return checked, ChainProblem(entry.seq, "link to previous entry broken")
            if compute_hash(entry) != entry.entry_hash:
                return checked, ChainProblem(entry.seq, "content changed after it was written")
            if entry.seq in wanted and wanted[entry.seq] != {entry.entry_hash}:
                return checked, ChainProblem(entry.seq, "differs from the head copied out earlier")
            expected_prev, expected_seq = entry.entry_hash, entry.seq + 1
            checked += 1
            last_seen = entry.seq
        session.expunge_all()
    if wanted and checked < max(wanted):
        return checked, ChainProblem(checked + 1, "entries after this point are missing")
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != checked or head.last_hash != expected_prev):
        return checked, ChainProblem(checked + 1, "entries after this point are missing")
    return checked, None
