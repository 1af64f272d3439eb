"""The bulletin-board hash chain and the counted set (spec section 6)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from . import group as g

BOARD_TAG = b"board-v1"
#: ``head_0``: 32 zero bytes.
EMPTY_HEAD = bytes(32)


def board_head(previous_head: bytes, tracker: bytes) -> bytes:
    """One step: ``head_n = SHA-256(frame("board-v1") ‖ frame(head_{n-1}) ‖ frame(tracker_n))``."""
    return hashlib.sha256(g.frame(BOARD_TAG) + g.frame(previous_head) + g.frame(tracker)).digest()


def chain_heads(trackers: Iterable[bytes], head: bytes = EMPTY_HEAD) -> bytes:
    """Fold :func:`board_head` over trackers (raw bytes) starting from ``head``."""
    for t in trackers:
        head = board_head(head, t)
    return head
