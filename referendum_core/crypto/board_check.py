"""Checks of single board entries, run in worker processes by the record verifier."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from . import group as g
from .ballot import check_ballot
from .exceptions import CryptoError, InvalidEncoding, InvalidManifest, InvalidRecord
from .manifest import ElectionContext, parse_utc
from .tally import Aggregate, aggregate

ENTRY_KEYS = frozenset({"seq", "alias", "tracker", "ballot", "cast_at"})
AUDITED_WRAPPER_KEYS = frozenset({"alias", "tracker", "ballot", "seq", "audited_at", "cast_at"})
AUDITED_REQUIRED = frozenset({"alias", "tracker", "ballot"})
BATCH = 128


#: ``cast_at`` on the board (spec section 9): RFC 3339, UTC, whole seconds. In this one form
#: the text's order is the time's order, so "never decreases" is a comparison of strings.
CAST_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def check_cast_at(ctx: ElectionContext, value: Any) -> str:
    """``cast_at`` is ``YYYY-MM-DDTHH:MM:SSZ``, a real time, inside [opens_at, closes_at].

    Raises:
        InvalidRecord: location ``cast_at``.
    """
    if not isinstance(value, str) or not CAST_AT.fullmatch(value):
        raise InvalidRecord("cast_at must be an RFC 3339 UTC time YYYY-MM-DDTHH:MM:SSZ", "cast_at")
    try:
        cast_at = parse_utc(value, "cast_at")
    except InvalidManifest as exc:
        raise InvalidRecord(exc.message, "cast_at") from None
    if not ctx.opens_at <= cast_at <= ctx.closes_at:
        raise InvalidRecord("cast outside the voting period", "cast_at")
    return value


def check_entry(ctx: ElectionContext, entry: Any) -> tuple[int, str, bytes, Any, str]:
    """Checks of one board entry that need no other entry; locations relative to the entry.

    Returns ``(seq, alias, tracker, CheckedBallot, cast_at)``.

    Raises:
        CryptoError: the first failed check.
    """
    if not isinstance(entry, dict) or entry.keys() != ENTRY_KEYS:
        raise InvalidRecord("board entry must have exactly seq, alias, tracker, ballot, cast_at")
    seq, alias = entry["seq"], entry["alias"]
    if type(seq) is not int:
        raise InvalidEncoding("seq must be an integer", "seq")
    if not isinstance(alias, str) or not alias:
        raise InvalidEncoding("alias must be a non-empty string", "alias")
    try:
        tracker = g.parse_hex32(entry["tracker"], "tracker")
    except CryptoError as exc:
        raise exc.at("tracker") from None
    try:
        checked = check_ballot(ctx, alias, entry["ballot"])
    except CryptoError as exc:
        raise exc.at("ballot") from None
    if checked.tracker != tracker:
        raise InvalidRecord("tracker does not match the ballot", "tracker")
    cast_at = check_cast_at(ctx, entry["cast_at"])
    return seq, alias, tracker, checked, cast_at


@dataclass
class Batch:
    start: int
    entries: list[tuple[int, str, bytes, tuple[bytes, ...], str]]
    agg: Aggregate
    failure: CryptoError | None = None


def check_batch_ctx(ctx: ElectionContext, start: int, batch: list[Any]) -> Batch:
    out = Batch(start, [], [])
    cts = []
    for j, entry in enumerate(batch):
        try:
            seq, alias, tracker, checked, cast_at = check_entry(ctx, entry)
        except CryptoError as exc:
            out.failure = exc.at(f"board[{start + j}]")
            break
        out.entries.append((seq, alias, tracker, checked.alphas, cast_at))
        cts.append((checked.alphas, checked.betas))
    out.agg = aggregate(cts)
    return out


_WORKER_CTX: ElectionContext | None = None


def init_worker(ctx: ElectionContext) -> None:
    global _WORKER_CTX
    _WORKER_CTX = ctx


def check_batch(start: int, batch: list[Any]) -> Batch:
    assert _WORKER_CTX is not None
    return check_batch_ctx(_WORKER_CTX, start, batch)


def batched(entries: Iterable[Any]) -> Iterator[tuple[int, list[Any]]]:
    batch: list[Any] = []
    start = 0
    for e in entries:
        batch.append(e)
        if len(batch) == BATCH:
            yield start, batch
            start += len(batch)
            batch = []
    if batch:
        yield start, batch


def check_audited_wrapper(entry: dict[str, Any]) -> None:
    """Spec section 8: a wrapper is ``{alias, tracker, ballot}``, optionally with ``seq`` (a
    positive integer) and ``audited_at``, ``cast_at`` (RFC 3339 UTC times).

    Raises:
        InvalidRecord: location relative to the entry.
    """
    if not entry.keys() <= AUDITED_WRAPPER_KEYS or not AUDITED_REQUIRED <= entry.keys():
        raise InvalidRecord("audited entry must wrap a revealed ballot as {alias, tracker, "
                            "ballot} (seq, audited_at, cast_at allowed)")
    if "seq" in entry and (type(entry["seq"]) is not int or entry["seq"] < 1):
        raise InvalidRecord("seq must be a positive integer", "seq")
    for key in ("audited_at", "cast_at"):
        if key in entry:
            try:
                parse_utc(entry[key], key)
            except CryptoError as exc:
                raise InvalidRecord(exc.message, key) from None
