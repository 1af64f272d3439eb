"""Building and writing an election record (spec sections 6 and 8).

:class:`RecordBuilder` runs the server's side of an election in memory (the simulator and tests
use it; the web part can mirror its steps with database rows). :func:`write_record` writes a
record with the manifest first and one board entry per line, which any JSON reader accepts and
which lets the verifier stream it in a single pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from .ballot import check_ballot, verify_audited
from .board import EMPTY_HEAD, board_head
from .checkpoint import CheckpointSigner
from .exceptions import DecryptionError, InvalidBallot, InvalidRecord
from .manifest import ElectionContext, context_from_manifest
from .tally import (
    Aggregate,
    aggregate,
    aggregate_to_json,
    recover_result,
    verify_partial_decryption,
)

# ``checkpoints`` (optional, ``docs/spec/checkpoints.md``) come before the board, so that a
# streaming verifier knows which heads to keep while the board passes.
RECORD_KEY_ORDER = (
    "manifest",
    "election_hash",
    "dkg",
    "checkpoints",
    "board",
    "board_head",
    "audited",
    "excluded_aliases",
    "tally",
    "in_person",
)

REQUIRED_RECORD_KEYS = ("manifest", "election_hash", "board", "board_head", "audited",
                        "excluded_aliases")


@dataclass
class RecordBuilder:
    """An election's public state: board, audited ballots, exclusions, tally.

    Every accepted ballot goes through the same checks as the server's ``verify_ballot``.
    """

    manifest: dict[str, Any]
    context: ElectionContext = field(init=False)
    board: list[dict[str, Any]] = field(default_factory=list)
    audited: list[dict[str, Any]] = field(default_factory=list)
    excluded_aliases: list[str] = field(default_factory=list)
    head: bytes = EMPTY_HEAD
    _alphas: set[bytes] = field(default_factory=set)
    _last: dict[str, int] = field(default_factory=dict)
    _ciphertexts: list[tuple[tuple[bytes, ...], tuple[bytes, ...]]] = field(default_factory=list)
    _decryptions: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context = context_from_manifest(self.manifest)

    def cast(self, alias: str, ballot: dict[str, Any], cast_at: str) -> str:
        """Accept a ballot onto the board (section 5 checks + replay); return its tracker.

        Raises:
            CryptoError: the ballot is refused.
        """
        checked = check_ballot(self.context, alias, ballot)
        if any(a in self._alphas for a in checked.alphas):
            raise InvalidBallot("alpha already on the board or audited (replay)")
        if not self.context.revoting and alias in self._last:
            raise InvalidBallot("this voter has already voted and re-voting is off", "alias")
        self._alphas.update(checked.alphas)
        self._last[alias] = len(self.board)
        self._ciphertexts.append((checked.alphas, checked.betas))
        tracker = checked.tracker.hex()
        self.board.append(
            {
                "seq": len(self.board) + 1,
                "alias": alias,
                "tracker": tracker,
                "ballot": ballot,
                "cast_at": cast_at,
            }
        )
        self.head = board_head(self.head, checked.tracker)
        return tracker

    def add_audited(self, revealed: dict[str, Any]) -> str:
        """Publish a Benaloh-revealed ballot (never counted, and its alphas never castable);
        return its tracker.

        Raises:
            CryptoError: the opening does not verify, or an alpha is already taken.
        """
        tracker, _ = verify_audited(self.context, revealed)
        alphas = [bytes.fromhex(c["alpha"]) for c in revealed["choices"]]
        if any(a in self._alphas for a in alphas):
            raise InvalidBallot("alpha already on the board or audited (replay)")
        self._alphas.update(alphas)
        self.audited.append({"alias": revealed["alias"], "tracker": tracker, "ballot": revealed})
        return tracker

    def sign_checkpoint(self, signer: CheckpointSigner, at: str) -> dict[str, Any]:
        """Sign the board as it stands (its length and head) and keep the checkpoint."""
        checkpoint = signer.sign(len(self.board), self.head.hex(), at).to_json()
        self.checkpoints.append(checkpoint)
        return checkpoint

    def exclude(self, alias: str) -> None:
        """Mark an alias whose voter voted in person (its ballots are not counted)."""
        if alias not in self.excluded_aliases:
            self.excluded_aliases.append(alias)

    def counted_indices(self) -> list[int]:
        """Board indices of the counted ballots (last per alias, not excluded)."""
        excluded = set(self.excluded_aliases)
        return sorted(i for a, i in self._last.items() if a not in excluded)

    def aggregate(self) -> Aggregate:
        """The tally aggregate over the counted ballots (``[]`` if none)."""
        return aggregate(self._ciphertexts[i] for i in self.counted_indices())

    def add_decryption(self, trustee: int, shares: list[dict[str, str]]) -> None:
        """Record a trustee's verified partial decryption.

        Raises:
            CryptoError: the shares do not verify against the aggregate.
        """
        if not 0 <= trustee < len(self.context.trustee_keys):
            raise DecryptionError("no such trustee")
        verify_partial_decryption(
            self.context.election_hash,
            self.context.trustee_keys[trustee],
            self.aggregate(),
            shares,
        )
        self._decryptions[trustee] = shares

    def tally(self) -> dict[str, Any]:
        """The ``tally`` section; needs every trustee's shares when a ballot was counted.

        Raises:
            DecryptionError: a trustee's shares are missing.
        """
        agg = self.aggregate()
        counted = len(self.counted_indices())
        if counted == 0:
            return {
                "counted": 0,
                "aggregate": [],
                "decryptions": [],
                "result": [0] * self.context.n_choices,
            }
        n = len(self.context.trustee_keys)
        if set(self._decryptions) != set(range(n)):
            raise DecryptionError("shares of every trustee are needed")
        ds = [[bytes.fromhex(s["D"]) for s in self._decryptions[i]] for i in range(n)]
        return {
            "counted": counted,
            "aggregate": aggregate_to_json(agg),
            "decryptions": [{"trustee": i, "shares": self._decryptions[i]} for i in range(n)],
            "result": recover_result(agg, ds, counted),
        }

    def record(
        self, in_person: dict[str, Any] | None = None, *, with_tally: bool = True
    ) -> dict[str, Any]:
        """The complete record (section 8); without the tally it is what trustees check before
        decrypting."""
        rec: dict[str, Any] = {
            "manifest": self.manifest,
            "election_hash": self.context.election_hash.hex(),
            "board": self.board,
            "board_head": self.head.hex(),
            "audited": self.audited,
            "excluded_aliases": self.excluded_aliases,
        }
        if self.checkpoints:
            rec["checkpoints"] = self.checkpoints
        if with_tally:
            rec["tally"] = self.tally()
        if in_person is not None:
            rec["in_person"] = in_person
        return rec


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def iter_record(record: dict[str, Any]) -> Iterator[str]:
    """The text of a record in pieces, in the order :func:`write_record` writes it: manifest
    first, then one board / audited entry per line. ``board`` may be any iterable (e.g. rows
    read from a database as the pieces are consumed), so a record can be streamed.

    Raises:
        InvalidRecord: a required key is missing (on the first piece).
    """
    missing = [k for k in REQUIRED_RECORD_KEYS if k not in record]
    if missing:
        raise InvalidRecord(f"record lacks {', '.join(missing)}")
    keys = [k for k in RECORD_KEY_ORDER if k in record] + sorted(
        k for k in record if k not in RECORD_KEY_ORDER
    )
    yield "{\n"
    for n, key in enumerate(keys):
        sep = ",\n" if n + 1 < len(keys) else "\n"
        value = record[key]
        if key in ("board", "audited") and value:
            yield f"{_dumps(key)}:[\n"
            yield from _iter_lines(value)
            yield "]" + sep
        else:
            yield f"{_dumps(key)}:{_dumps(value)}{sep}"
    yield "}\n"


def write_record(record: dict[str, Any], fp: IO[str]) -> None:
    """Write a record: manifest first, then one board / audited entry per line.

    Raises:
        InvalidRecord: a required key is missing.
    """
    for piece in iter_record(record):
        fp.write(piece)


def _iter_lines(items: Iterable[Any]) -> Iterator[str]:
    first = True
    for item in items:
        yield _dumps(item) if first else ",\n" + _dumps(item)
        first = False
    yield "\n"
