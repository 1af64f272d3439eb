"""A small per-process cache of values that may be a few seconds old (figures on a dashboard,
the counts beside the navigation): thread-safe, bounded, keyed by whatever the caller says makes
a value different (a scope, a person, the portal clock's period)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values kept ``ttl`` seconds of this process's time (``ttl`` ≤ 0: nothing is kept). At
    most ``max_entries``: when full, expired values go first, then all of them (a bound, not an
    eviction policy: the values are cheap to compute again)."""

    def __init__(self, ttl: float, max_entries: int = 64) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, V]] = {}

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``compute()`` (kept for later)."""
        if self.ttl <= 0:
            return compute()
        moment = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > moment:
            return hit[1]
        return self._keep(key, compute())

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` for ``key`` (replacing what was kept); returns it."""
        return value if self.ttl <= 0 else self._keep(key, value)

    def _keep(self, key: Hashable, value: V) -> V:
        moment = time.monotonic()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > moment}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
            self._entries[key] = (moment + self.ttl, value)
        return value

    def drop(self, match: Callable[[Hashable], bool]) -> None:
        """Forget the values whose key ``match`` accepts."""
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if not match(k)}

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
