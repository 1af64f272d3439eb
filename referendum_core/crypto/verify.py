"""The full record verifier (spec section 8), streaming and parallel.

The record is read with :mod:`.jsonstream`, so memory does not grow with the size of the ballots:
what is kept per ballot is its alias → position and its alphas (for the re-vote and replay rules).
Ballot checks run in worker processes (``jobs``); the board chain, re-vote, replay and counted-set
rules run in order in the main process, so the failure reported is the first in board order.

Counted aggregates are computed as *(sum of all ballots) − (sum of the uncounted ones)*: workers
sum every ballot while verifying it, and a second, cheap pass over the board collects the few
ballots superseded by a re-vote or excluded because their voter voted in person.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import group as g
from .ballot import open_with_randomness, verify_audited
from .board import EMPTY_HEAD, board_head
from .board_check import (
    Batch,
    batched,
    check_audited_wrapper,
    check_batch,
    check_batch_ctx,
    init_worker,
)
from .exceptions import CryptoError, InvalidEncoding, InvalidRecord
from .jsonstream import check_strict, iter_object
from .manifest import ElectionContext, context_from_manifest
from .seen_store import SeenStore, merged_ascending
from .summary import Summary, TrackerStatus
from .tally import (
    Aggregate,
    aggregate,
    combine_aggregates,
    recover_result,
    verify_partial_decryption,
)
from .threshold import ThresholdReport, check_dkg_record, verify_threshold_tally
from .witness import BoardWitness

STREAM_KEYS = frozenset({"board", "audited"})
REQUIRED_KEYS = (
    "manifest",
    "election_hash",
    "board",
    "board_head",
    "audited",
    "excluded_aliases",
    "tally",
)
#: Every top-level key a record may have (spec section 8; ``checkpoints``: checkpoints.md;
#: ``dkg``: threshold-trustees.md). Any other key is refused: one verifier would ignore it and
#: another reject it, and no hash covers it.
RECORD_KEYS = frozenset({*REQUIRED_KEYS, "in_person", "checkpoints", "dkg"})
TALLY_KEYS = frozenset({"counted", "aggregate", "decryptions", "result"})

BoardSource = Callable[[], Iterable[Any]]


# --------------------------------------------------------------------------- the verifier



@dataclass
class RecordVerifier:
    """Feed top-level ``(key, value)`` pairs, then call :meth:`finish` with board re-readers."""

    jobs: int = 1
    tracker: str | None = None
    randomness: list[str] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    ctx: ElectionContext | None = None
    board_done: bool = False
    audited_done: bool = False
    n_board: int = 0
    n_audited: int = 0
    head: bytes = EMPTY_HEAD
    last_cast_at: str = ""
    store: SeenStore = field(default_factory=SeenStore)
    agg_all: Aggregate = field(default_factory=list)
    tracker_status: TrackerStatus | None = None
    tracker_index: int | None = None
    witness: BoardWitness = field(default_factory=BoardWitness)
    threshold_report: ThresholdReport | None = None

    def __enter__(self) -> RecordVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.close()

    def _prepare(self) -> ElectionContext:
        if self.ctx is None:
            self.ctx = context_from_manifest(self.values["manifest"])
            eh = self.values["election_hash"]
            if not isinstance(eh, str) or eh != self.ctx.election_hash.hex():
                raise InvalidRecord(
                    "election_hash is not SHA-256(canonical(manifest))", "election_hash"
                )
        return self.ctx

    def _ready(self) -> bool:
        return "manifest" in self.values and "election_hash" in self.values

    def feed(self, key: str, value: Any) -> None:
        """Take one top-level value; the board/audited arrays may be lazy iterators.

        Raises:
            InvalidRecord: a key the record format does not have.
        """
        if key not in RECORD_KEYS:
            raise InvalidRecord("not a key of the election record", key)
        self.seen.add(key)
        if key == "board":
            if self._ready():
                self._verify_board(value)
                self.board_done = True
        elif key == "audited":
            if self._ready():
                self._verify_audited(value)
                self.audited_done = True
        else:
            self.values[key] = value
            if key == "checkpoints":
                self.witness.take_record_checkpoints(value)
            if key == "election_hash" and "manifest" in self.values:
                self._prepare()

    # ---- board

    def _results(self, entries: Iterable[Any]) -> Iterator[Batch]:
        ctx = self._prepare()
        if self.jobs <= 1:
            for start, batch in batched(entries):
                yield check_batch_ctx(ctx, start, batch)
            return
        methods = multiprocessing.get_all_start_methods()
        mp = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        ex = ProcessPoolExecutor(self.jobs, mp_context=mp, initializer=init_worker, initargs=(ctx,))
        window: deque[Future[Batch]] = deque()
        try:
            for start, batch in batched(entries):
                window.append(ex.submit(check_batch, start, batch))
                if len(window) > 3 * self.jobs:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            ex.shutdown(wait=True, cancel_futures=True)

    def _verify_board(self, entries: Iterable[Any]) -> None:
        if not isinstance(entries, Iterable) or isinstance(entries, str | dict):
            raise InvalidRecord("board must be a list", "board")
        ctx = self._prepare()
        want = self.tracker
        store = self.store
        for res in self._results(entries):
            store.begin()
            for j, (seq, alias, tracker, alphas, cast_at) in enumerate(res.entries):
                i = res.start + j
                self._check_board_order(i, seq, cast_at)
                prev = store.last_of(alias)
                if prev is not None and not ctx.revoting:
                    raise InvalidRecord(
                        "second ballot of an alias without re-voting", f"board[{i}].alias"
                    )
                self._remember_alphas(alphas, i, f"board[{i}].ballot")
                store.set_last(alias, i, prev)
                self.head = board_head(self.head, tracker)
                self.witness.see(i + 1, self.head)
                if want is not None and tracker.hex() == want and self.tracker_index is None:
                    self.tracker_index = i
                    self.tracker_status = TrackerStatus(want, f"board[{i}]", alias)
            store.commit()
            if res.failure is not None:
                raise res.failure
            self.agg_all = combine_aggregates([self.agg_all, res.agg])
            self.n_board = res.start + len(res.entries)

    def _check_board_order(self, i: int, seq: int, cast_at: str) -> None:
        """Spec section 9, board fields: ``seq`` runs 1, 2, 3 … without gaps and ``cast_at``
        never decreases along the board (its fixed form orders as text does)."""
        if seq != i + 1:
            raise InvalidRecord(
                f"seq must be {i + 1} (seq runs 1, 2, 3 … without gaps)", f"board[{i}].seq"
            )
        if cast_at < self.last_cast_at:
            raise InvalidRecord(
                f"cast_at is earlier than board[{i - 1}].cast_at (it never decreases)",
                f"board[{i}].cast_at",
            )
        self.last_cast_at = cast_at

    def _remember_alphas(self, alphas: Iterable[bytes], origin: int, where: str) -> None:
        """Spec section 9: alphas are unique among all choices of all ballots on the board and
        of all audited ballots, and an audited ballot is never cast. ``origin`` is the board
        index, or ``-(j + 1)`` for ``audited[j]``; the board and the audited list may come in
        either order, so the second of the two to name an alpha is the one reported.

        Raises:
            InvalidRecord: at ``{where}.choices[k].alpha``.
        """
        for k, a in enumerate(alphas):
            if self.store.add_alpha(a, origin):
                continue
            other = self.store.origin_of(a)
            assert other is not None
            here_board = origin >= 0
            there = f"board[{other}]" if other >= 0 else f"audited[{-other - 1}]"
            if here_board and other >= 0:
                why = f"alpha already on the board at {there} (replay)"
            elif here_board or other >= 0:
                why = (f"alpha of {there}: an audited (opened) ballot is never cast"
                       if here_board else
                       f"alpha also on the board at {there}: an audited (opened) ballot is "
                       "never cast")
            else:
                why = f"alpha of {there} too (reused randomness)"
            raise InvalidRecord(why, f"{where}.choices[{k}].alpha")

    def _verify_audited(self, entries: Iterable[Any]) -> None:
        if not isinstance(entries, Iterable) or isinstance(entries, str | dict):
            raise InvalidRecord("audited must be a list", "audited")
        ctx = self._prepare()
        for i, entry in enumerate(entries):
            where = f"audited[{i}]"
            try:
                if isinstance(entry, dict) and "choices" not in entry:
                    check_audited_wrapper(entry)
                    try:
                        tracker, _ = verify_audited(ctx, entry["ballot"])
                    except CryptoError as exc:
                        raise exc.at("ballot") from None
                    if entry["tracker"] != tracker:
                        raise InvalidRecord("tracker does not match the ballot", "tracker")
                    if entry["alias"] != entry["ballot"]["alias"]:
                        raise InvalidRecord("alias does not match the ballot", "alias")
                    revealed_where = "ballot"
                else:
                    tracker, _ = verify_audited(ctx, entry)
                    revealed_where = ""
            except CryptoError as exc:
                raise exc.at(where) from None
            revealed = entry["ballot"] if revealed_where else entry
            self.store.begin()
            self._remember_alphas(
                (bytes.fromhex(c["alpha"]) for c in revealed["choices"]),
                -(i + 1),
                f"{where}.{revealed_where}" if revealed_where else where,
            )
            self.store.commit()
            if self.tracker is not None and tracker == self.tracker:
                # An opened ballot is never counted, whatever else names its tracker.
                self.tracker_index = None
                self.tracker_status = TrackerStatus(
                    tracker,
                    f"{where}{'.' + revealed_where if revealed_where else ''}",
                    entry.get("alias", "") if isinstance(entry, dict) else "",
                    "audited",
                )
            self.n_audited = i + 1

    # ---- end

    def board_phase(
        self, board_source: BoardSource, audited_source: BoardSource
    ) -> tuple[ElectionContext, Aggregate, int, set[str], set[int]]:
        """Everything up to the counted aggregate (what a trustee checks before decrypting).

        Returns ``(context, counted aggregate, counted, excluded aliases, excluded positions)``.

        Raises:
            CryptoError: the first failure, with its location.
        """
        for key in REQUIRED_KEYS:
            if key not in self.seen and key != "tally":
                raise InvalidRecord("missing", key)
        ctx = self._prepare()
        if not self.board_done:
            self._verify_board(board_source())
        if self.values.get("board_head") != self.head.hex():
            raise InvalidRecord(
                "board_head is not the head of the board's hash chain", "board_head"
            )
        if not self.audited_done:
            self._verify_audited(audited_source())
        excluded = self.values["excluded_aliases"]
        if not isinstance(excluded, list):
            raise InvalidRecord("excluded_aliases must be a list", "excluded_aliases")
        for i, a in enumerate(excluded):
            if not isinstance(a, str):
                raise InvalidEncoding("alias must be a string", f"excluded_aliases[{i}]")
        excluded_set = set(excluded)
        excluded_positions = {
            p for p in (self.store.last_of(a) for a in excluded_set) if p is not None
        }
        counted = self.store.aliases - len(excluded_positions)
        agg = self._counted_aggregate(board_source, excluded_positions, counted)
        return ctx, agg, counted, excluded_set, excluded_positions

    def finish(self, board_source: BoardSource, audited_source: BoardSource) -> Summary:
        """Run the checks that need the whole record; return the summary.

        Raises:
            CryptoError: the first failure, with its location.
        """
        ctx, agg, counted, excluded_set, excluded_positions = self.board_phase(
            board_source, audited_source
        )
        witnessed = self._check_witnessed(ctx, board_source)
        if ctx.threshold is not None:
            self.threshold_report = check_dkg_record(
                ctx.threshold, ctx.election_id, self.values.get("dkg")
            )
        elif "dkg" in self.seen:
            # A v1 manifest (no ``threshold``) fixes every trustee's own key: a key generation
            # transcript beside it is checked by nothing and would only pass for a t-of-n one.
            raise InvalidRecord(
                "a record whose manifest has no threshold (v1) has no key generation", "dkg"
            )
        if "tally" not in self.seen:
            raise InvalidRecord("missing", "tally")
        result = self._verify_tally(ctx, agg, counted)
        in_person = self._check_in_person(ctx)
        if self.tracker_status is not None and self.tracker_index is not None:
            i = self.tracker_index
            self.tracker_status.status = (
                "superseded"
                if self.store.is_superseded(i)
                else "excluded"
                if i in excluded_positions
                else "counted"
            )
            if self.randomness is not None:
                # The record stays valid whatever the voter's randomness says; a failure to
                # open is the voter's finding, reported beside the verdict.
                try:
                    self.tracker_status.selected = open_board_entry(
                        ctx, board_source, self.tracker_index, self.randomness
                    )
                except CryptoError as exc:
                    self.tracker_status.opening_error = str(exc)
        return Summary(
            election_id=ctx.election_id,
            municipality=str(ctx.manifest.get("municipality", "")),
            election_hash=ctx.election_hash.hex(),
            trustees=len(ctx.trustee_keys),
            ballots_on_board=self.n_board,
            audited=self.n_audited,
            voters=self.store.aliases,
            superseded=self.store.superseded,
            excluded_aliases=len(excluded_set),
            excluded_on_board=len(excluded_positions),
            counted=counted,
            result=dict(zip(ctx.choice_ids, result, strict=True)),
            board_head=self.head.hex(),
            in_person=in_person,
            tracker=(
                self.tracker_status or TrackerStatus(self.tracker)
                if self.tracker is not None
                else None
            ),
            witnessed_heads=witnessed,
            threshold=self.threshold_report,
        )

    def _check_witnessed(self, ctx: ElectionContext, board_source: BoardSource) -> int:
        """The board passes through every witnessed head (``witness.py``); returns how many.

        Raises:
            WitnessFailure: it does not, or signed checkpoints contradict each other.
        """
        return self.witness.finish(ctx.election_id, ctx.checkpoint_key, self.n_board,
                                   board_source)

    def _counted_aggregate(
        self, board_source: BoardSource, excluded_positions: set[int], counted: int
    ) -> Aggregate:
        if counted == 0:
            return []
        if not excluded_positions and not self.store.superseded:
            return self.agg_all
        uncounted = merged_ascending(self.store.superseded_positions(), sorted(excluded_positions))

        def removed_ballots() -> Iterator[tuple[list[bytes], list[bytes]]]:
            wanted = next(uncounted, None)
            for i, entry in enumerate(board_source()):
                if wanted is None:
                    return
                if i == wanted:
                    chs = entry["ballot"]["choices"]
                    yield ([bytes.fromhex(c["alpha"]) for c in chs],
                           [bytes.fromhex(c["beta"]) for c in chs])
                    wanted = next(uncounted, None)

        removed = aggregate(removed_ballots())
        return [
            (g.sub(a, ra), g.sub(s, rs))
            for (a, s), (ra, rs) in zip(self.agg_all, removed, strict=True)
        ]

    def _verify_tally(self, ctx: ElectionContext, agg: Aggregate, counted: int) -> list[int]:
        tally = self.values["tally"]
        if not isinstance(tally, dict) or tally.keys() != TALLY_KEYS:
            raise InvalidRecord(
                "tally must have exactly counted, aggregate, decryptions, result", "tally"
            )
        if tally["counted"] != counted or type(tally["counted"]) is not int:
            raise InvalidRecord(f"counted ballots are {counted}", "tally.counted")
        n = ctx.n_choices
        published = tally["aggregate"]
        if not isinstance(published, list) or len(published) != len(agg):
            raise InvalidRecord(f"aggregate must list {len(agg)} entries", "tally.aggregate")
        for k, ((a, s), e) in enumerate(zip(agg, published, strict=True)):
            if not isinstance(e, dict) or e.keys() != {"A", "S"}:
                raise InvalidRecord("entry must have exactly A, S", f"tally.aggregate[{k}]")
            if e["A"] != a.hex():
                raise InvalidRecord("does not match the counted ballots", f"tally.aggregate[{k}].A")
            if e["S"] != s.hex():
                raise InvalidRecord("does not match the counted ballots", f"tally.aggregate[{k}].S")
            if a == g.IDENTITY or s == g.IDENTITY:
                raise InvalidRecord("aggregate is the identity", f"tally.aggregate[{k}]")
        if ctx.threshold is not None and self.threshold_report is not None:
            return verify_threshold_tally(
                ctx.election_hash, ctx.threshold, n, agg, counted, tally, self.threshold_report
            )
        decs = tally["decryptions"]
        n_trustees = len(ctx.trustee_keys) if counted else 0
        if not isinstance(decs, list) or len(decs) != n_trustees:
            raise InvalidRecord(f"need {n_trustees} trustee decryptions", "tally.decryptions")
        shares: list[list[g.Point] | None] = [None] * n_trustees
        for j, d in enumerate(decs):
            where = f"tally.decryptions[{j}]"
            if not isinstance(d, dict) or d.keys() != {"trustee", "shares"}:
                raise InvalidRecord("must have exactly trustee, shares", where)
            i = d["trustee"]
            if type(i) is not int or not 0 <= i < n_trustees or shares[i] is not None:
                raise InvalidRecord("unknown or repeated trustee index", f"{where}.trustee")
            try:
                shares[i] = verify_partial_decryption(
                    ctx.election_hash, ctx.trustee_keys[i], agg, d["shares"]
                )
            except CryptoError as exc:
                raise exc.at(f"{where}.shares") from None
        result = tally["result"]
        if (
            not isinstance(result, list)
            or len(result) != n
            or any(type(t) is not int for t in result)
        ):
            raise InvalidRecord(f"result must list {n} integers", "tally.result")
        if counted == 0:
            expected = [0] * n
        else:
            try:
                expected = recover_result(agg, [s for s in shares if s is not None], counted)
            except CryptoError as exc:
                raise exc.at("tally.result") from None
        for k, (got, want) in enumerate(zip(result, expected, strict=True)):
            if got != want:
                raise InvalidRecord(f"decrypts to {want}", f"tally.result[{k}]")
        return expected

    def _check_in_person(self, ctx: ElectionContext) -> dict[str, Any] | None:
        if "in_person" not in self.values:
            return None
        ip = self.values["in_person"]
        if not isinstance(ip, dict):  # present, it is an object (null is no absence)
            raise InvalidRecord("in_person must be an object", "in_person")
        for key in ("ballots_issued", "invalid"):
            if key in ip and (type(ip[key]) is not int or ip[key] < 0):
                raise InvalidRecord("must be a non-negative integer", f"in_person.{key}")
        counts = ip.get("counts", {})
        if not isinstance(counts, dict):
            raise InvalidRecord("counts must be an object", "in_person.counts")
        for c, v in counts.items():
            if c not in ctx.choice_ids or type(v) is not int or v < 0:
                raise InvalidRecord("unknown choice or bad count", f"in_person.counts.{c}")
        return ip


# --------------------------------------------------------------------------- cast as intended


def open_board_entry(
    ctx: ElectionContext, board_source: BoardSource, index: int, randomness: list[str]
) -> list[str]:
    """The choice ids that ``board[index]`` selects, read with the voter's per-choice randomness
    (the check of the ballot actually cast). The entry has passed every check already.

    Raises:
        CryptoError: the randomness does not open this ballot (location ``randomness[k]``).
    """
    for i, entry in enumerate(board_source()):
        if i == index:
            chs = entry["ballot"]["choices"]
            plain = open_with_randomness(
                ctx,
                [bytes.fromhex(c["alpha"]) for c in chs],
                [bytes.fromhex(c["beta"]) for c in chs],
                randomness,
            )
            return [cid for cid, m in zip(ctx.choice_ids, plain, strict=True) if m]
    raise InvalidRecord("the tracker's entry is gone from the board", f"board[{index}]")


# --------------------------------------------------------------------------- entry points


def _stream_key(path: str, key: str) -> Iterator[Any]:
    with open(path, encoding="utf-8") as fp:
        for k, v in iter_object(fp, STREAM_KEYS):
            if k == key:
                if isinstance(v, list):
                    yield from v
                elif hasattr(v, "__next__"):
                    yield from v
                else:
                    raise InvalidRecord(f"{key} must be a list", key)
                return
    raise InvalidRecord("missing", key)


def verify_record_file(
    path: str, *, jobs: int = 1, tracker: str | None = None, randomness: list[str] | None = None,
    witness: BoardWitness | None = None,
) -> Summary:
    """Verify a record file, streaming. See :class:`RecordVerifier`. With ``tracker`` and the
    voter's ``randomness``, also open that ballot (:func:`open_board_entry`); ``witness`` holds
    heads seen elsewhere that the board must pass through.

    Raises:
        CryptoError: the first failure, with its location.
        OSError: the file cannot be read.
    """
    with RecordVerifier(jobs=jobs, tracker=tracker, randomness=randomness,
                        witness=witness or BoardWitness()) as v:
        with open(path, encoding="utf-8") as fp:
            for key, value in iter_object(fp, STREAM_KEYS):
                v.feed(key, value)
        return v.finish(lambda: _stream_key(path, "board"), lambda: _stream_key(path, "audited"))


def verify_record(
    record: Any, *, jobs: int = 1, tracker: str | None = None, randomness: list[str] | None = None,
    witness: BoardWitness | None = None,
) -> Summary:
    """Verify a record already in memory (``randomness``, ``witness``: as for
    ``verify_record_file``).

    Raises:
        CryptoError: the first failure, with its location.
    """
    if not isinstance(record, dict):
        raise InvalidRecord("record must be a JSON object")
    check_strict(record)
    with RecordVerifier(jobs=jobs, tracker=tracker, randomness=randomness,
                        witness=witness or BoardWitness()) as v:
        for key, value in record.items():
            if key in STREAM_KEYS and not isinstance(value, list):
                raise InvalidRecord(f"{key} must be a list", key)
            v.feed(key, value)
        return v.finish(lambda: record.get("board", []), lambda: record.get("audited", []))


def counted_aggregate_file(path: str, *, jobs: int = 1) -> tuple[ElectionContext, Aggregate, int]:
    """Verify a record's manifest, board and audits, and recompute the counted aggregate
    (the tally section is not needed). Trustees run this before decrypting.

    Raises:
        CryptoError: the first failure, with its location.
    """
    with RecordVerifier(jobs=jobs) as v:
        with open(path, encoding="utf-8") as fp:
            for key, value in iter_object(fp, STREAM_KEYS):
                v.feed(key, value)
        ctx, agg, counted, _, _ = v.board_phase(
            lambda: _stream_key(path, "board"), lambda: _stream_key(path, "audited")
        )
        return ctx, agg, counted
