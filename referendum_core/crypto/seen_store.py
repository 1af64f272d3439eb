"""What the verifier must remember across the whole board, kept on disk.

Checking the re-vote rule, replays and the counted set needs every alias's last position, the
positions superseded by a re-vote and every alpha seen so far. In memory that is a few hundred
bytes per ballot (≈ 300 MB for a million); here it lives in a temporary SQLite file with a fixed
page cache, so verifying a record of any size takes bounded memory. A lookup is an indexed read
of a local file, small beside checking the ballot's proofs.
"""
from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

CACHE_KIB = 32 * 1024  # the store's page cache; the file itself may grow on disk


class SeenStore:
    """Aliases → last board position, superseded positions, and alphas, in a temporary file."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="referendum-verify-")
        self._db = sqlite3.connect(Path(self._dir.name) / "seen.sqlite3", isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE",
                       f"cache_size=-{CACHE_KIB}", "locking_mode=EXCLUSIVE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript("""
            CREATE TABLE last (alias TEXT PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE superseded (idx INTEGER PRIMARY KEY);
            CREATE TABLE alphas (a BLOB PRIMARY KEY, origin INTEGER NOT NULL) WITHOUT ROWID;
        """)
        self.aliases = 0
        self.superseded = 0
        self._in_batch = False

    # Batches keep the file's writes in one transaction each ---------------------------------
    def begin(self) -> None:
        if not self._in_batch:
            self._db.execute("BEGIN")
            self._in_batch = True

    def commit(self) -> None:
        if self._in_batch:
            self._db.execute("COMMIT")
            self._in_batch = False

    # Re-votes --------------------------------------------------------------------------------
    def last_of(self, alias: str) -> int | None:
        row = self._db.execute("SELECT idx FROM last WHERE alias = ?", (alias,)).fetchone()
        return None if row is None else int(row[0])

    def set_last(self, alias: str, idx: int, previous: int | None) -> None:
        """Record ``idx`` as ``alias``'s latest ballot; ``previous`` becomes superseded."""
        if previous is None:
            self._db.execute("INSERT INTO last (alias, idx) VALUES (?, ?)", (alias, idx))
            self.aliases += 1
        else:
            self._db.execute("UPDATE last SET idx = ? WHERE alias = ?", (idx, alias))
            self._db.execute("INSERT INTO superseded (idx) VALUES (?)", (previous,))
            self.superseded += 1

    def is_superseded(self, idx: int) -> bool:
        return self._db.execute("SELECT 1 FROM superseded WHERE idx = ?", (idx,)).fetchone() \
            is not None

    def superseded_positions(self) -> Iterator[int]:
        """Superseded positions in ascending order (streamed)."""
        for (idx,) in self._db.execute("SELECT idx FROM superseded ORDER BY idx"):
            yield int(idx)

    # Replays ---------------------------------------------------------------------------------
    def add_alpha(self, alpha: bytes, origin: int = 0) -> bool:
        """Remember ``alpha`` and where it came from (``origin``, the caller's code); False if
        it was already seen."""
        try:
            self._db.execute("INSERT INTO alphas (a, origin) VALUES (?, ?)", (alpha, origin))
        except sqlite3.IntegrityError:
            return False
        return True

    def origin_of(self, alpha: bytes) -> int | None:
        """The ``origin`` an alpha was first remembered with, if it was."""
        row = self._db.execute("SELECT origin FROM alphas WHERE a = ?", (alpha,)).fetchone()
        return None if row is None else int(row[0])

    def close(self) -> None:
        try:
            self.commit()
            self._db.close()
        finally:
            self._dir.cleanup()


def merged_ascending(*streams: Iterable[int]) -> Iterator[int]:
    """Union of ascending integer streams, ascending, without duplicates."""
    import heapq

    last = None
    for value in heapq.merge(*streams):
        if value != last:
            yield value
            last = value
