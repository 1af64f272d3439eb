"""Search and signed export of the threads a person is in.

Search decrypts rather than keeping a blind index: a keyword index over ciphertext leaks which
messages share words and needs per-thread keys anyway; the threads a person can read are few
enough to scan (bounded by ``SEARCH_SCAN_LIMIT`` newest messages), and nothing searchable is
ever written to the database.
"""
from __future__ import annotations

import hashlib
import io
import json
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging import crypto, directory
from messaging.keyring import ThreadKeys
from messaging.models import Message, Thread
from messaging.reading import (
    _aad,
    _keys,
    _spec_label,
    access_thread,
    attachment_name,
    messages_of,
    revision_texts,
    subject_of,
    text_of,
    threads_for,
)
from referendum_core import audit
from referendum_core.audit import AuditContext
from referendum_core.clock import Clock

SEARCH_SCAN_LIMIT = 5000


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class SearchHit:
    """A message that matched, with its decrypted text."""

    thread: Thread
    message: Message
    text: str


def search_messages(session: Session, actor: Any, query: str, *, limit: int = 50,
                    keys: ThreadKeys | None = None) -> list[SearchHit]:
    """Messages containing every word of ``query`` (case and diacritics ignored), newest first,
    only in threads ``actor`` is in. Decrypt-and-search (see the module docstring)."""
    keys = _keys(keys)
    words = [_fold(w) for w in query.split() if w.strip()]
    if not words:
        return []
    threads = {t.id: t for t in threads_for(session, actor, limit=1000)}
    if not threads:
        return []
    hits: list[SearchHit] = []
    candidates = session.scalars(select(Message).where(Message.thread_id.in_(list(threads)))
                                 .order_by(Message.id.desc()).limit(SEARCH_SCAN_LIMIT))
    for message in candidates:
        text = text_of(session, message, keys=keys)
        haystack = _fold(text)
        if all(w in haystack for w in words):
            hits.append(SearchHit(threads[message.thread_id], message, text))
            if len(hits) >= limit:
                break
    return hits


@dataclass(frozen=True)
class ThreadExport:
    """A signed export: ``archive`` (zip) and its detached armoured ``signature``."""

    name: str
    archive: bytes
    signature: str
    signer_fingerprint: str
    public_key: str

    def bundle(self) -> bytes:
        """One zip to download: the archive, its ``.asc`` signature, the portal public key."""
        out = io.BytesIO()
        stamp = (1980, 1, 1, 0, 0, 0)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as outer:
            for name, data in (
                (f"{self.name}.zip", self.archive),
                (f"{self.name}.zip.asc", self.signature.encode()),
                ("portal-archive-key.asc", self.public_key.encode()),
                ("README.txt", (
                    "Verify: gpg --import portal-archive-key.asc && "
                    f"gpg --verify {self.name}.zip.asc {self.name}.zip\n"
                    f"Signing key fingerprint: {self.signer_fingerprint}\n").encode()),
            ):
                outer.writestr(zipfile.ZipInfo(name, stamp), data)
        return out.getvalue()


def export_thread(session: Session, clock: Clock, actor: Any, thread_id: int, *,
                  context: AuditContext | None = None, keys: ThreadKeys | None = None
                  ) -> ThreadExport:
    """The whole thread (texts, revisions, attachments, participants) as a zip signed by the
    portal key. Only participants may export. Audited.

    Raises:
        NotParticipant.
    """
    keys = _keys(keys)
    thread = access_thread(session, clock, actor, thread_id, context=context, attempted="export")
    data_key = keys.key_for(session, thread.id)
    messages = messages_of(session, thread, limit=100_000)
    authors = directory.people(session, {m.author_id for m in messages if m.author_id})
    now = clock.now()
    stamp = now.timetuple()[:6]
    out = io.BytesIO()
    records = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        transcript = [f"# {subject_of(session, thread, keys=keys)}", ""]
        for message in messages:
            text = text_of(session, message, keys=keys)
            author = authors.get(message.author_id) if message.author_id else None
            label = author.display_name if author else "system"
            files = []
            for attachment in message.attachments:
                name = attachment_name(session, attachment, thread.id, keys=keys)
                content = crypto.open_sealed(data_key, attachment.blob_enc,
                                             _aad(thread.id, "file"))
                path = f"attachments/{attachment.id}-{name}"
                archive.writestr(zipfile.ZipInfo(path, stamp), content)
                files.append({"id": attachment.id, "name": name, "path": path,
                              "content_type": attachment.content_type, "size": attachment.size,
                              "sha256": hashlib.sha256(content).hexdigest()})
            records.append({
                "id": message.id, "author": label, "author_id": message.author_id,
                "created_at": message.created_at.isoformat(),
                "edited_at": message.edited_at.isoformat() if message.edited_at else None,
                "reply_to": message.reply_to_id, "text": text, "attachments": files,
                "revisions": [{"written_at": w.isoformat(), "replaced_at": r.isoformat(),
                               "text": t} for w, r, t in revision_texts(session, message,
                                                                          keys=keys)],
            })
            transcript += [f"## {label} — {message.created_at.isoformat()}", "", text, ""]
        document = {
            "format": "referendum-portal/thread-export/v1",
            "thread_id": thread.id, "case_id": thread.case_id,
            "subject": subject_of(session, thread, keys=keys),
            "exported_at": now.isoformat(), "exported_by": actor.audit_label,
            "closed_at": thread.closed_at.isoformat() if thread.closed_at else None,
            "participants": [_spec_label({"user_id": p.user_id, "commission_id": p.commission_id,
                                          "role": p.role}) for p in thread.participants],
            "messages": records,
        }
        archive.writestr(zipfile.ZipInfo("thread.json", stamp),
                         json.dumps(document, ensure_ascii=False, indent=2))
        archive.writestr(zipfile.ZipInfo("transcript.md", stamp), "\n".join(transcript))
    data = out.getvalue()
    signature = keys.pgp.sign_detached(data)
    audit.record(session, clock, actor, "messaging.thread_exported", obj=thread, context=context,
                 sha256=hashlib.sha256(data).hexdigest(), messages=len(records))
    return ThreadExport(name=f"thread-{thread.id}-{now.strftime('%Y%m%dT%H%M%SZ')}",
                        archive=data, signature=signature,
                        signer_fingerprint=keys.pgp.archive_fingerprint,
                        public_key=keys.pgp.export_public_key())
