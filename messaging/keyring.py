"""Thread data keys: created per thread, stored wrapped to OpenPGP keys (the portal archive key
plus the registered keys of participants), unwrapped on demand and cached in memory.

With a server key (the portal derives it from its ``DATA_KEY``) each thread key is also stored
sealed under that key (AES-256-GCM, bound to the thread): a process that has not opened the
thread yet then reads it with one AES decryption instead of a gpg run, which is a subprocess
serialised behind every other cold thread, so the first messages after a restart do not
wait for each other (figures in ``bench/results.md``). Both wrappings protect against the same thing, a copy of the database without the
server's secrets: the archive key's secret part lives in the servers' GnuPG home, unprotected
by a passphrase, as the server key lives in their configuration. The archive copy stays the
one that exports, participants' keys and offline recovery rely on.

Rotation re-wraps every data key under a new archive key and, when a server key is set,
re-seals its copy under the current server key; bodies are not touched.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from messaging import crypto
from messaging.exceptions import CryptoError, KeyNotFound, PGPError
from messaging.models import Thread, ThreadKey
from messaging.pgp import PGP
from referendum_core.clock import Clock

ARCHIVE = "archive"
PERSON = "person"
SERVER = "server"

log = logging.getLogger(__name__)


class ThreadKeys:
    """Creates, unwraps (with a small in-process cache) and re-wraps thread data keys."""

    def __init__(self, pgp: PGP, cache_size: int = 512, server_key: bytes | None = None
                 ) -> None:
        self.pgp = pgp
        if server_key is not None and len(server_key) != crypto.KEY_BYTES:
            raise CryptoError("a server key must be 32 bytes")
        self._server_key = server_key
        # Names the server key in ``ThreadKey.fingerprint`` (a hash: it reveals nothing of it).
        self._server_id = (hashlib.sha256(b"thread-key-server-id|" + server_key).hexdigest()[:40]
                           if server_key is not None else None)
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        # Fingerprints whose secret key has opened a data key here: a thread key not cached yet
        # then costs one gpg run (decrypt), not two (listing the secret keys first as well).
        self._opens: set[str] = set()

    def _remember(self, thread_id: int, key: bytes) -> None:
        with self._lock:
            self._cache[thread_id] = key
            self._cache.move_to_end(thread_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def forget(self) -> None:
        """Drop every cached data key (after a rotation, or in tests)."""
        with self._lock:
            self._cache.clear()
            self._opens.clear()

    def create(self, session: Session, clock: Clock, thread: Thread,
               person_keys: Iterable[tuple[str, str]] = ()) -> bytes:
        """A new data key for ``thread`` wrapped to the archive key and to each
        ``(fingerprint, armoured public key)`` in ``person_keys``."""
        if thread.id is None:
            session.flush()
        key = crypto.new_data_key()
        fingerprint = self.pgp.archive_fingerprint
        session.add(ThreadKey(thread_id=thread.id, fingerprint=fingerprint, purpose=ARCHIVE,
                              wrapped=self.pgp.wrap_key(key, fingerprint), created_at=clock.now()))
        self._add_server_copy(session, clock, thread.id, key)
        self._remember(thread.id, key)
        for fpr, armored in person_keys:
            self.add_person_key(session, clock, thread, armored, fpr, key=key)
        return key

    def add_person_key(self, session: Session, clock: Clock, thread: Thread, armored: str,
                       fingerprint: str | None = None, *, key: bytes | None = None) -> str | None:
        """Wrap the thread key to a participant's registered public key too (idempotent).
        Returns the fingerprint, or None when the key cannot be used."""
        try:
            fpr = self.pgp.import_public_key(armored)
        except PGPError:
            return None
        if fingerprint and fingerprint.replace(" ", "").upper() != fpr:
            return None
        exists = session.scalars(select(ThreadKey.id).where(
            ThreadKey.thread_id == thread.id, ThreadKey.fingerprint == fpr)).first()
        if exists:
            return fpr
        data_key = key if key is not None else self.key_for(session, thread.id)
        try:
            wrapped = self.pgp.wrap_key(data_key, fpr)
        except PGPError:
            return None
        session.add(ThreadKey(thread_id=thread.id, fingerprint=fpr, purpose=PERSON,
                              wrapped=wrapped, created_at=clock.now()))
        return fpr

    def key_for(self, session: Session, thread_id: int) -> bytes:
        """The data key of a thread.

        Raises:
            KeyNotFound: no wrapped copy can be opened with the keys of this GnuPG home.
        """
        with self._lock:
            cached = self._cache.get(thread_id)
        if cached is not None:
            return cached
        rows = session.scalars(select(ThreadKey).where(ThreadKey.thread_id == thread_id,
                                                       ThreadKey.purpose.in_(_OPENABLE))).all()
        key = self._unwrap(rows)
        if key is None:
            raise KeyNotFound(f"no archive key here opens the data key of thread {thread_id}")
        self._remember(thread_id, key)
        return key

    def preload(self, session: Session, thread_ids: Iterable[int]) -> None:
        """Unwrap the data keys of ``thread_ids`` not cached yet, reading their wrapped copies in
        one query (a list of threads then costs one query, not one per thread). Keys that
        cannot be opened are left for ``key_for`` to report."""
        with self._lock:
            missing = sorted({t for t in thread_ids if t not in self._cache})
        if not missing:
            return
        by_thread: dict[int, list[ThreadKey]] = {}
        for row in session.scalars(select(ThreadKey).where(ThreadKey.thread_id.in_(missing),
                                                           ThreadKey.purpose.in_(_OPENABLE))):
            by_thread.setdefault(row.thread_id, []).append(row)
        for thread_id, rows in by_thread.items():
            key = self._unwrap(rows)
            if key is not None:
                self._remember(thread_id, key)

    def _add_server_copy(self, session: Session, clock: Clock, thread_id: int,
                         key: bytes) -> None:
        """Store ``key`` sealed under the server key (none without one)."""
        if self._server_key is None:
            return
        sealed = crypto.seal(self._server_key, key, _server_aad(thread_id))
        session.add(ThreadKey(thread_id=thread_id, fingerprint=str(self._server_id),
                              purpose=SERVER,
                              wrapped=base64.b64encode(sealed).decode("ascii"),
                              created_at=clock.now()))

    def _open_server_copy(self, rows: list[ThreadKey]) -> bytes | None:
        """The data key from a copy sealed under this process's server key, if there is one
        that opens."""
        if self._server_key is None:
            return None
        for row in rows:
            if row.purpose != SERVER or row.fingerprint != self._server_id:
                continue
            try:
                key = crypto.open_sealed(self._server_key, base64.b64decode(row.wrapped),
                                         _server_aad(row.thread_id))
            except (CryptoError, ValueError):
                # Altered, or moved from another thread: the archive copy decides.
                log.warning("the server copy of thread %s's key does not open", row.thread_id)
                continue
            if len(key) == crypto.KEY_BYTES:
                return key
        return None

    def _unwrap(self, rows: Iterable[ThreadKey]) -> bytes | None:
        """The data key from the copy sealed under the server key, else from the newest
        archive-wrapped copy this GnuPG home can open."""
        rows = list(rows)
        key = self._open_server_copy(rows)
        if key is not None:
            return key
        archive = (r for r in rows if r.purpose == ARCHIVE)
        for row in sorted(archive, key=lambda r: r.id, reverse=True):
            if row.fingerprint not in self._opens and not self.pgp.has_secret_key(row.fingerprint):
                continue
            try:
                key = self.pgp.unwrap_key(row.wrapped, crypto.KEY_BYTES)
            except PGPError:
                self._opens.discard(row.fingerprint)
                continue
            self._opens.add(row.fingerprint)
            return key
        return None

    def rotate(self, session: Session, clock: Clock, new_fingerprint: str) -> int:
        """Re-wrap every thread's data key to ``new_fingerprint`` and drop the archive-wrapped
        copies under other keys; with a server key, replace each thread's server copy by one
        sealed under it (this also gives threads made before server copies existed one).
        Bodies stay as they are. Returns the number of threads.

        Raises:
            KeyNotFound / CryptoError: a thread key cannot be opened (nothing is changed then,
            as the caller rolls the transaction back).
        """
        count = 0
        thread_ids = session.scalars(select(Thread.id).order_by(Thread.id)).all()
        for thread_id in thread_ids:
            key = self.key_for(session, thread_id)
            rows = session.scalars(select(ThreadKey).where(ThreadKey.thread_id == thread_id,
                                                           ThreadKey.purpose == ARCHIVE)).all()
            if not any(r.fingerprint == new_fingerprint for r in rows):
                session.add(ThreadKey(thread_id=thread_id, fingerprint=new_fingerprint,
                                      purpose=ARCHIVE, wrapped=self.pgp.wrap_key(key, new_fingerprint),
                                      created_at=clock.now()))
            for row in rows:
                if row.fingerprint != new_fingerprint:
                    session.delete(row)
            if self._server_key is not None:
                session.execute(delete(ThreadKey).where(ThreadKey.thread_id == thread_id,
                                                        ThreadKey.purpose == SERVER))
                self._add_server_copy(session, clock, thread_id, key)
            count += 1
        session.flush()
        # Prove every thread opens under the new key before the caller commits.
        self.forget()
        for thread_id in thread_ids:
            row = session.scalars(select(ThreadKey).where(
                ThreadKey.thread_id == thread_id, ThreadKey.fingerprint == new_fingerprint)).one()
            if len(self.pgp.unwrap_key(row.wrapped, crypto.KEY_BYTES)) != crypto.KEY_BYTES:
                raise CryptoError(f"re-wrapped key of thread {thread_id} does not open")
        return count


_OPENABLE = (ARCHIVE, SERVER)


def _server_aad(thread_id: int) -> bytes:
    return crypto.associated_data(thread_id, "thread-key")


def rotate_archive_key(session: Session, clock: Clock, keys: ThreadKeys, *,
                       delete_old: bool = False) -> tuple[str, str, int]:
    """Create a new archive key, re-wrap every thread key under it, commit, and make it current.
    Returns (old fingerprint, new fingerprint, threads re-wrapped). Audited.

    The new key becomes current only after the database commit, so a failure leaves the old key
    in charge and every thread readable.
    """
    from referendum_core import audit

    old = keys.pgp.archive_fingerprint
    new = keys.pgp.generate_archive_key(make_current=False)
    count = keys.rotate(session, clock, new)
    audit.record(session, clock, None, "messaging.archive_key_rotated", old_fingerprint=old,
                 new_fingerprint=new, threads=count)
    session.commit()
    keys.pgp.set_archive_key(new)
    if delete_old and old != new:
        keys.pgp.delete_secret_key(old)
    return old, new, count
