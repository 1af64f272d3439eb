"""Thread data keys: created per thread, stored only wrapped to OpenPGP keys (the portal archive
key plus the registered keys of participants), unwrapped on demand and cached in memory.

Rotation re-wraps every data key under a new archive key; bodies are not touched.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging import crypto
from messaging.exceptions import CryptoError, KeyNotFound, PGPError
from messaging.models import Thread, ThreadKey
from messaging.pgp import PGP
from referendum_core.clock import Clock

ARCHIVE = "archive"
PERSON = "person"


class ThreadKeys:
    """Creates, unwraps (with a small in-process cache) and re-wraps thread data keys."""

    def __init__(self, pgp: PGP, cache_size: int = 512) -> None:
        self.pgp = pgp
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
                                                       ThreadKey.purpose == ARCHIVE)).all()
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
                                                           ThreadKey.purpose == ARCHIVE)):
            by_thread.setdefault(row.thread_id, []).append(row)
        for thread_id, rows in by_thread.items():
            key = self._unwrap(rows)
            if key is not None:
                self._remember(thread_id, key)

    def _unwrap(self, rows: Iterable[ThreadKey]) -> bytes | None:
        """The data key from the newest archive-wrapped copy this GnuPG home can open."""
        for row in sorted(rows, key=lambda r: r.id, reverse=True):
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
        copies under other keys. Bodies stay as they are. Returns the number of threads.

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
