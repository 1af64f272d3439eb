"""Witnessed heads: does the record's board pass through heads that others saw earlier?

Sources of heads (``docs/spec/checkpoints.md``):

* the record's own ``checkpoints`` (signed by the manifest's ``checkpoint_key``);
* checkpoints an observer kept (``referendum-verify --checkpoints FILE``), same key;
* bare heads copied by hand (``--expect-head SEQ:HEAD``), unsigned.

A head is at a board *length*: ``seq`` entries on the board (``seq`` 0 is the empty board,
head 32 zero bytes). Every head must lie on the record's board; two validly signed checkpoints
that contradict each other (same length, different heads; or a later one shorter) are a proof
of misbehaviour by the holder of the election's signing key, printed in full.

The verifier feeds each board head it computes to :meth:`BoardWitness.see`, which keeps only
the heads asked for; heads it could not keep (checkpoints read after the board) are found by
a second pass over the trackers (:meth:`BoardWitness.finish`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .board import EMPTY_HEAD, board_head
from .checkpoint import (
    Checkpoint,
    Contradiction,
    InvalidCheckpoint,
    board_log,
    contradictions,
    parse_checkpoint,
    verify_checkpoint,
)
from .exceptions import InvalidRecord

_EXPECT = re.compile(r"(\d{1,19}):([0-9a-f]{64})")


def parse_expect_head(text: str) -> tuple[int, str]:
    """``SEQ:HEAD`` (HEAD 64 hex digits) as ``(seq, head)``.

    Raises:
        ValueError: not of that form.
    """
    match = _EXPECT.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError("expected SEQ:HEAD (a number, a colon, 64 hex digits)")
    return int(match.group(1)), match.group(2)


@dataclass(frozen=True)
class Expected:
    """One head the board must pass through, and where it came from (for messages)."""

    seq: int
    head: str
    source: str
    checkpoint: Checkpoint | None = None


class WitnessFailure(InvalidRecord):
    """The board does not pass through a witnessed head, or signed checkpoints contradict
    each other; ``proofs`` are printable proofs of misbehaviour."""

    def __init__(self, message: str, location: str = "", proofs: tuple[str, ...] = ()) -> None:
        super().__init__(message, location)
        self.proofs = proofs

    def __reduce__(self) -> tuple[type, tuple[str, str, tuple[str, ...]]]:  # type: ignore[override]
        return (self.__class__, (self.message, self.location, self.proofs))


@dataclass
class BoardWitness:
    """Collects the heads to check, watches the board pass, then judges."""

    expect_heads: list[tuple[int, str]] = field(default_factory=list)
    external: list[Any] = field(default_factory=list)  # raw checkpoints (``--checkpoints``)
    in_record: list[Any] | None = None  # the record's ``checkpoints``, when it has them
    _wanted: set[int] = field(default_factory=set)
    _heads: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._wanted = {seq for seq, _ in self.expect_heads} | {
            item["seq"] for item in self.external
            if isinstance(item, dict) and type(item.get("seq")) is int}

    def take_record_checkpoints(self, value: Any) -> None:
        """The record's ``checkpoints`` value (checked in :meth:`finish`).

        Raises:
            InvalidRecord: not a list.
        """
        if not isinstance(value, list):
            raise InvalidRecord("checkpoints must be a list", "checkpoints")
        self.in_record = value
        self._wanted |= {item["seq"] for item in value
                         if isinstance(item, dict) and type(item.get("seq")) is int}

    @property
    def active(self) -> bool:
        """Is there anything to check?"""
        return bool(self.expect_heads or self.external or self.in_record)

    def see(self, length: int, head: bytes) -> None:
        """The board's head after ``length`` entries (called for every entry, in order)."""
        if length in self._wanted:
            self._heads[length] = head.hex()

    def _second_pass(self, board: Iterable[Any], missing: set[int]) -> None:
        head = EMPTY_HEAD
        for i, entry in enumerate(board):
            if not missing:
                return
            head = board_head(head, bytes.fromhex(entry["tracker"]))
            if i + 1 in missing:
                self._heads[i + 1] = head.hex()
                missing.discard(i + 1)

    def _expected(self, election_id: str, key: str | None) -> tuple[list[Expected],
                                                                    list[Checkpoint]]:
        """Every head to check; the validly signed checkpoints.

        Raises:
            InvalidRecord: a checkpoint is malformed, of another election, or not signed by
            the manifest's key.
        """
        log = board_log(election_id)
        out = [Expected(seq, head, f"--expect-head {seq}:{head}")
               for seq, head in self.expect_heads]
        signed: list[Checkpoint] = []
        for where, items in (("checkpoints", self.in_record or []),
                             ("--checkpoints", self.external)):
            for n, item in enumerate(items):
                at = f"{where}[{n}]"
                if key is None:
                    raise InvalidRecord("the manifest has no checkpoint_key to check "
                                        "checkpoints with", at)
                try:
                    cp = parse_checkpoint(item)
                    if cp.log != log:
                        raise InvalidCheckpoint(f"a checkpoint of {cp.log!r}, not of {log!r}",
                                                "log")
                    verify_checkpoint(cp, key)
                except InvalidCheckpoint as exc:
                    raise exc.at(at) from None
                signed.append(cp)
                out.append(Expected(cp.seq, cp.head, at, cp))
        return out, signed

    def finish(self, election_id: str, key: str | None, board_len: int,
               board_source: Callable[[], Iterable[Any]]) -> int:
        """Check every head; return how many were checked.

        Raises:
            WitnessFailure: a head is not on the board, or signed checkpoints contradict.
            InvalidRecord: a checkpoint is malformed or wrongly signed.
        """
        if not self.active:
            return 0
        expected, signed = self._expected(election_id, key)
        found: list[Contradiction] = contradictions(signed)
        if found:
            raise WitnessFailure("two signed checkpoints contradict each other",
                                 "checkpoints", tuple(c.render() for c in found))
        self._heads[0] = EMPTY_HEAD.hex()
        missing = {e.seq for e in expected if e.seq <= board_len and e.seq not in self._heads}
        if missing:
            self._second_pass(board_source(), missing)
        on_board = [e.seq <= board_len and self._heads.get(e.seq) == e.head for e in expected]
        for e, ok in zip(expected, on_board, strict=True):
            if ok:
                continue
            if e.seq > board_len:
                problem = (f"the board has {board_len} entries, fewer than the {e.seq} "
                           f"witnessed (entries were removed)")
            else:
                problem = f"the board does not pass through head {e.head} at {e.seq} entries"
            raise WitnessFailure(problem, e.source, self._proofs(e, expected, on_board, problem))
        return len(expected)

    def _proofs(self, failed: Expected, expected: list[Expected], on_board: list[bool],
                problem: str) -> tuple[str, ...]:
        """What a signed checkpoint off the board proves: alone, that the published board is
        not what was signed; with a later signed checkpoint that *is* on the board, that the
        key holder signed two histories (the earlier is not a prefix of the later)."""
        cp = failed.checkpoint
        if cp is None:
            return ()
        later = next((e.checkpoint for e, ok in zip(expected, on_board, strict=True)
                      if ok and e.checkpoint is not None and e.seq > cp.seq), None)
        if later is not None:
            return (Contradiction(cp, later, f"the board signed at {later.seq} entries does "
                                             f"not extend the one signed at {cp.seq} "
                                             f"(not a prefix)").render(),)
        return (f"PROOF OF MISBEHAVIOUR ({cp.log}): this signed checkpoint is not on the "
                f"published board ({problem})\n  {cp.line()}",)
