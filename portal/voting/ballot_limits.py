"""How many ballots (casts and audits together) each signed-in voter may send:
``VOTER_BALLOT_RATE_LIMIT`` (default ``20 per 10 minutes; 100 per day``), per voter and not per
address, since a school or a mobile carrier puts many voters behind one address.

A ballot costs milliseconds of proof checks, and a refused one an audit entry. A person sends
a handful: re-votes, and the voting page's own resends after a lost answer.

The counts are kept in this process's memory, in fixed windows, with the limits parsed by the
``limits`` library (Flask-Limiter's engine). Both ready-made stores cost a noticeable part of a
cast's CPU (figures in ``bench/results.md``, "Per-voter limit"):
- Flask-Limiter counting in Redis makes a network round trip per request;
- ``limits``' own memory store starts a timer thread on almost every count when casts come
  further apart than its 10 ms expiry timer.

Here a count is a dictionary update. The price: a voter sending to several processes gets the
limit in each, so a flood is still bounded, at the limit times the processes serving ballots.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from limits import RateLimitItem, parse_many

# The WSGI environ key under which the lean cast path (``portal.voting.lean_cast``) hands on a
# ballot it already counted, with ``hit``'s answer; ``NOT_COUNTED`` when absent.
COUNTED = "portal.ballot_counted"
NOT_COUNTED = object()

# Expired windows are dropped when the table grows past this many (each voter who sent a
# ballot holds one window per limit until it ends).
PRUNE_ABOVE = 50_000


class BallotCounts:
    """Fixed-window counts per key, for every limit of a limit string, thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, int], tuple[float, int]] = {}  # → (window end, count)
        self._parsed: tuple[str, list[RateLimitItem]] = ("", [])

    def _limits(self, limit_string: str) -> list[RateLimitItem]:
        if self._parsed[0] != limit_string:
            self._parsed = (limit_string, list(parse_many(limit_string)))
        return self._parsed[1]

    def hit(self, key: str, limit_string: str) -> int | None:
        """Count one ballot for ``key``; ``None`` while within every limit, else the seconds
        until the fullest window ends (the ballot is counted all the same)."""
        items = self._limits(limit_string)
        now = self._clock()
        wait = 0.0
        with self._lock:
            if len(self._windows) > PRUNE_ABOVE:
                self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
            for index, item in enumerate(items):
                end, count = self._windows.get((key, index), (0.0, 0))
                if end <= now:
                    end, count = now + item.get_expiry(), 0
                count += 1
                self._windows[(key, index)] = (end, count)
                if count > item.amount:
                    wait = max(wait, end - now)
        return max(1, math.ceil(wait)) if wait else None
