"""The public signature board of an initiative (``docs/spec/signature-board.md``): receipts,
the hash chain of entries, and the verifier that recomputes the chain, the count and a
receipt's status from the published board alone.

Pure and free of the database: the portal's service (``referendum_core.signature_board``)
builds boards with these functions and ``referendum-verify-signatures`` checks them.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .checkpoint import (
    InvalidCheckpoint,
    contradictions,
    parse_checkpoint,
    verify_checkpoint,
)
from .exceptions import CryptoError

SPEC = "referendum-signature-board/1"
TAG_DOMAIN = b"referendum-signature-tag/1"
RECEIPT_DOMAIN = b"referendum-signature-receipt/1"
CHAIN_DOMAIN = b"referendum-signature-board/1"
EMPTY_HEAD = "0" * 64
METHODS = ("online", "in_person")
REASONS = ("not_eligible", "duplicate", "withdrawn")
BOARD_KEYS = frozenset({"spec", "initiative", "log", "threshold", "entries", "seq", "head",
                        "count", "checkpoint_key", "checkpoints"})
SIGNATURE_KEYS = frozenset({"seq", "kind", "receipt", "method", "day", "hash"})
EXCLUSION_KEYS = frozenset({"seq", "kind", "receipt", "reason", "hash"})

_HEX32 = re.compile(r"[0-9a-f]{64}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InvalidBoard(CryptoError):
    """The board breaks the spec; ``location`` names the first place where (``entries[3]``)."""

    def __init__(self, reason: str, location: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.location = location

    def render(self) -> str:
        return f"INVALID at {self.location or '(board)'}: {self.reason}"


def frame(x: bytes) -> bytes:
    """4-byte big-endian length, then ``x``."""
    return len(x).to_bytes(4, "big") + x


def board_log_name(initiative_id: int) -> str:
    """The checkpoint log name of an initiative's board."""
    return f"signatures:{initiative_id}"


def person_tag(key: bytes, initiative_id: int, person_ref: str) -> bytes:
    """The per-initiative keyed tag of a person: HMAC-SHA256 under the portal's board key, so
    nobody without that key can test whether a known person signed."""
    message = frame(TAG_DOMAIN) + frame(str(initiative_id).encode()) + frame(person_ref.encode())
    return hmac.new(key, message, hashlib.sha256).digest()


def make_receipt(initiative_id: int, tag: bytes, nonce: bytes) -> str:
    """``SHA-256(frame(label) ‖ frame(initiative id) ‖ frame(tag) ‖ frame(nonce))`` in hex."""
    if len(tag) != 32 or len(nonce) != 32:
        raise ValueError("the tag and the nonce are 32 bytes each")
    return hashlib.sha256(frame(RECEIPT_DOMAIN) + frame(str(initiative_id).encode())
                          + frame(tag) + frame(nonce)).hexdigest()


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_body(entry: dict[str, Any]) -> dict[str, Any]:
    """The hashed part of an entry: every field but ``hash``."""
    return {k: v for k, v in entry.items() if k != "hash"}


def chain_step(previous_head: str, body: dict[str, Any]) -> str:
    """``head_n = SHA-256(frame(label) ‖ frame(head_{n-1} raw) ‖ frame(canonical(body_n)))``."""
    return hashlib.sha256(frame(CHAIN_DOMAIN) + frame(bytes.fromhex(previous_head))
                          + frame(canonical(body))).hexdigest()


def signature_entry(seq: int, previous_head: str, receipt: str, method: str, day: str
                    ) -> dict[str, Any]:
    body = {"seq": seq, "kind": "signature", "receipt": receipt, "method": method, "day": day}
    return {**body, "hash": chain_step(previous_head, body)}


def exclusion_entry(seq: int, previous_head: str, receipt: str, reason: str) -> dict[str, Any]:
    body = {"seq": seq, "kind": "exclusion", "receipt": receipt, "reason": reason}
    return {**body, "hash": chain_step(previous_head, body)}


@dataclass(frozen=True)
class BoardSummary:
    """What the verifier recomputed."""

    initiative: int
    seq: int
    head: str
    signatures: int
    exclusions: int
    count: int
    threshold: int | None
    checkpoints: int
    status: dict[str, tuple[str, str | None]]  # receipt -> ("on_board"|"excluded", reason)

    def receipt_status(self, receipt: str) -> tuple[str, str | None] | None:
        return self.status.get(receipt.strip().lower())


def _check_entry(entry: Any, n: int, previous_head: str,
                 status: dict[str, tuple[str, str | None]]) -> str:
    where = f"entries[{n}]"
    if not isinstance(entry, dict):
        raise InvalidBoard("an entry is a JSON object", where)
    kind = entry.get("kind")
    keys = SIGNATURE_KEYS if kind == "signature" else EXCLUSION_KEYS
    if kind not in ("signature", "exclusion"):
        raise InvalidBoard("kind must be signature or exclusion", f"{where}.kind")
    if set(entry) != keys:
        missing = sorted(keys - set(entry))
        if missing:
            raise InvalidBoard(f"missing {', '.join(missing)}", f"{where}.{missing[0]}")
        raise InvalidBoard(f"unknown field {sorted(set(entry) - keys)[0]}", where)
    if type(entry["seq"]) is not int or entry["seq"] != n + 1:
        raise InvalidBoard(f"seq must be {n + 1} (entries in order, none dropped)",
                           f"{where}.seq")
    receipt = entry["receipt"]
    if not isinstance(receipt, str) or not _HEX32.fullmatch(receipt):
        raise InvalidBoard("receipt must be 64 lowercase hex digits", f"{where}.receipt")
    if kind == "signature":
        if entry["method"] not in METHODS:
            raise InvalidBoard("method must be online or in_person", f"{where}.method")
        if not isinstance(entry["day"], str) or not _is_day(entry["day"]):
            raise InvalidBoard("day must be a calendar day YYYY-MM-DD", f"{where}.day")
        if receipt in status:
            raise InvalidBoard("duplicate receipt", f"{where}.receipt")
        status[receipt] = ("on_board", None)
    else:
        if entry["reason"] not in REASONS:
            raise InvalidBoard("an exclusion needs a reason: not_eligible, duplicate or "
                               "withdrawn", f"{where}.reason")
        known = status.get(receipt)
        if known is None:
            raise InvalidBoard("exclusion of a receipt not on the board before it",
                               f"{where}.receipt")
        if known[0] == "excluded":
            raise InvalidBoard("receipt excluded twice", f"{where}.receipt")
        status[receipt] = ("excluded", entry["reason"])
    if not isinstance(entry["hash"], str) or not _HEX32.fullmatch(entry["hash"]):
        raise InvalidBoard("hash must be 64 lowercase hex digits", f"{where}.hash")
    head = chain_step(previous_head, entry_body(entry))
    if head != entry["hash"]:
        raise InvalidBoard("hash does not chain (changed, reordered or dropped entry)",
                           f"{where}.hash")
    return head


def _is_day(text: str) -> bool:
    """``YYYY-MM-DD`` naming a day of the calendar (not ``2026-02-30``)."""
    if not _DAY.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def verify_board(board: Any, *, extra_checkpoints: Iterable[Any] = ()) -> BoardSummary:
    """Recompute the chain, the count and every receipt's status; check the checkpoints.

    Raises:
        InvalidBoard: the first place where the board breaks the spec.
    """
    if not isinstance(board, dict):
        raise InvalidBoard("a board is a JSON object")
    missing = sorted(BOARD_KEYS - set(board))
    if missing:
        raise InvalidBoard("missing field", missing[0])
    unknown = sorted(set(board) - BOARD_KEYS)
    if unknown:
        raise InvalidBoard("unknown field (a board has exactly the fields of section 5)",
                           unknown[0])
    if board["spec"] != SPEC:
        raise InvalidBoard(f"spec must be {SPEC}", "spec")
    initiative = board["initiative"]
    if type(initiative) is not int or initiative < 1:
        raise InvalidBoard("initiative must be a positive integer", "initiative")
    log = board_log_name(initiative)
    if board["log"] != log:
        raise InvalidBoard(f"log must be {log}", "log")
    threshold = board["threshold"]
    if threshold is not None and (type(threshold) is not int or threshold < 0):
        raise InvalidBoard("threshold must be a non-negative integer or null", "threshold")
    entries = board["entries"]
    if not isinstance(entries, list):
        raise InvalidBoard("entries must be a list", "entries")
    status: dict[str, tuple[str, str | None]] = {}
    heads = [EMPTY_HEAD]
    for n, entry in enumerate(entries):
        heads.append(_check_entry(entry, n, heads[-1], status))
    if board["seq"] != len(entries):
        raise InvalidBoard(f"seq is {len(entries)}, the number of entries", "seq")
    if board["head"] != heads[-1]:
        raise InvalidBoard("head is not the hash of the last entry", "head")
    signatures = len(status)
    exclusions = sum(1 for s, _ in status.values() if s == "excluded")
    count = signatures - exclusions
    if type(board["count"]) is not int or board["count"] != count:
        raise InvalidBoard(f"count must be {count} (signatures {signatures} minus exclusions "
                           f"{exclusions})", "count")
    key = board["checkpoint_key"]
    raw = board["checkpoints"]
    if not isinstance(raw, list):
        raise InvalidBoard("checkpoints must be a list", "checkpoints")
    good = []
    for where, item in [(f"checkpoints[{i}]", c) for i, c in enumerate(raw)] + [
            (f"extra checkpoint {i}", c) for i, c in enumerate(extra_checkpoints)]:
        try:
            cp = parse_checkpoint(item)
            if cp.log != log:
                raise InvalidBoard(f"checkpoint of another log ({cp.log})", where)
            verify_checkpoint(cp, key)
        except InvalidCheckpoint as exc:
            raise InvalidBoard(str(exc), where) from None
        if cp.seq > len(entries) or heads[cp.seq] != cp.head:
            raise InvalidBoard(f"the board does not pass through this signed checkpoint "
                               f"(seq {cp.seq})", where)
        good.append(cp)
    found = contradictions(good)
    if found:
        raise InvalidBoard(found[0].reason + "\n" + found[0].render(), "checkpoints")
    return BoardSummary(initiative, len(entries), heads[-1], signatures, exclusions, count,
                        threshold, len(good), status)
