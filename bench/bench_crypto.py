"""Benchmarks of the verifiable-ballot core.

    python bench/bench_crypto.py                         # full: 100 000-ballot record, 1 000 000 tally
    python bench/bench_crypto.py --record-ballots 5000 --tally-ballots 100000   # quick

Prints a table:
- ballot verifications per second on one core (two-choice yes/no ballots, the server's hot path);
- full verification of a record of N ballots with ``referendum-verify``'s engine on all cores;
- a tally of M ballots: homomorphic aggregation (all cores) + 3 trustees' partial decryptions
  with proofs + proof checks + baby-step giant-step recovery.
Timings are not asserted anywhere; this is for the README and for regressions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from referendum_core.crypto.ballot import encrypt_ballot, verify_ballot  # noqa: E402
from referendum_core.crypto.board import EMPTY_HEAD, board_head  # noqa: E402
from referendum_core.crypto.keys import generate_trustee_key  # noqa: E402
from referendum_core.crypto.manifest import build_manifest, context_from_manifest  # noqa: E402
from referendum_core.crypto.record import write_record  # noqa: E402
from referendum_core.crypto.simulate import DEFAULT_QUESTION  # noqa: E402
from referendum_core.crypto.tally import (  # noqa: E402
    aggregate,
    aggregate_to_json,
    combine_aggregates,
    partial_decrypt,
    recover_result,
    verify_partial_decryption,
)
from referendum_core.crypto.verify import verify_record_file  # noqa: E402

_MANIFEST: dict | None = None


def election(trustees: int = 3):
    secrets, publics = [], []
    for i in range(trustees):
        s, p = generate_trustee_key("bench-election", f"T{i}")
        secrets.append(s)
        publics.append(p)
    manifest = build_manifest(
        election_id="bench-election",
        municipality="0001000",
        question=DEFAULT_QUESTION,
        opens_at="2026-03-01T07:00:00Z",
        closes_at="2026-03-14T18:00:00Z",
        revoting=True,
        trustees=publics,
    )
    return manifest, secrets


def _init(manifest: dict) -> None:
    global _MANIFEST
    _MANIFEST = manifest


def _encrypt_range(args: tuple[int, int]) -> list[tuple[str, dict, str, list[int]]]:
    start, stop = args
    ctx = context_from_manifest(_MANIFEST)
    out = []
    for i in range(start, stop):
        sel = [1, 0] if i % 3 else [0, 1]
        alias = f"voter-{i:07d}"
        enc = encrypt_ballot(ctx, alias, sel)
        out.append((alias, enc.ballot, enc.tracker, sel))
    return out


def _sum_cycled(args: tuple[list, int]) -> list:
    pool, count = args
    return aggregate(pool[i % len(pool)] for i in range(count))


def bench_verify(manifest: dict, n: int) -> float:
    ctx = context_from_manifest(manifest)
    ballots = [encrypt_ballot(ctx, f"a{i}", [i % 2, 1 - i % 2]) for i in range(n)]
    t = time.perf_counter()
    for b in ballots:
        verify_ballot(ctx, b.ballot["alias"], b.ballot)
    return n / (time.perf_counter() - t)


def bench_signature_board(n: int) -> float:
    """Seconds to verify an initiative's signature board of ``n`` signatures and ``n // 50``
    exclusions of the three reasons (chain, count, every receipt's status)."""
    import secrets as random_bytes

    from referendum_core.crypto import signature_board as sb

    head, entries = sb.EMPTY_HEAD, []
    for seq in range(1, n + 1):
        entry = sb.signature_entry(seq, head, random_bytes.token_hex(32), "online", "2026-03-05")
        entries.append(entry)
        head = entry["hash"]
    for k in range(n // 50):
        entry = sb.exclusion_entry(len(entries) + 1, head, entries[k * 50]["receipt"],
                                   sb.REASONS[k % len(sb.REASONS)])
        entries.append(entry)
        head = entry["hash"]
    board = {"spec": sb.SPEC, "initiative": 1, "log": sb.board_log_name(1), "threshold": n,
             "seq": len(entries), "head": head, "count": n - n // 50,
             "checkpoint_key": "0" * 64, "checkpoints": [], "entries": entries}
    text = json.dumps(board)
    start = time.perf_counter()  # as the verifier does: parse the download, then check it
    sb.verify_board(json.loads(text))
    return time.perf_counter() - start


def bench_record(manifest: dict, secrets: list, n: int, jobs: int) -> tuple[float, float, int]:
    ctx = context_from_manifest(manifest)
    t0 = time.perf_counter()
    step = 500
    with ProcessPoolExecutor(jobs, initializer=_init, initargs=(manifest,)) as ex:
        chunks = list(ex.map(_encrypt_range, [(s, min(s + step, n)) for s in range(0, n, step)]))
    board, head, cts, expected = [], EMPTY_HEAD, [], [0, 0]
    for chunk in chunks:
        for alias, ballot, tracker, sel in chunk:
            board.append(
                {
                    "seq": len(board) + 1,
                    "alias": alias,
                    "tracker": tracker,
                    "ballot": ballot,
                    "cast_at": "2026-03-02T10:00:00Z",
                }
            )
            head = board_head(head, bytes.fromhex(tracker))
            cts.append(ballot)
            expected = [e + s for e, s in zip(expected, sel, strict=True)]
    agg = aggregate(cts)
    decs = [
        {"trustee": i, "shares": partial_decrypt(s, ctx.election_hash, agg)}
        for i, s in enumerate(secrets)
    ]
    record = {
        "manifest": manifest,
        "election_hash": ctx.election_hash.hex(),
        "board": board,
        "board_head": head.hex(),
        "audited": [],
        "excluded_aliases": [],
        "tally": {
            "counted": n,
            "aggregate": aggregate_to_json(agg),
            "decryptions": decs,
            "result": expected,
        },
    }
    build = time.perf_counter() - t0
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fp:
        write_record(record, fp)
        path = fp.name
    del record, board, cts, chunks
    size = os.path.getsize(path)
    try:
        t = time.perf_counter()
        summary = verify_record_file(path, jobs=jobs)
        verify = time.perf_counter() - t
    finally:
        os.unlink(path)
    assert list(summary.result.values()) == expected
    return build, verify, size


def bench_tally(manifest: dict, secrets: list, n: int, jobs: int) -> tuple[float, float, float]:
    ctx = context_from_manifest(manifest)
    pool_size = 1000
    pool = []
    for i in range(pool_size):
        sel = [1, 0] if i % 3 else [0, 1]
        enc = encrypt_ballot(ctx, f"p{i}", sel)
        pool.append(
            (
                [bytes.fromhex(c["alpha"]) for c in enc.ballot["choices"]],
                [bytes.fromhex(c["beta"]) for c in enc.ballot["choices"]],
            )
        )
    expected = [0, 0]
    for i in range(n):
        sel = [1, 0] if (i % pool_size) % 3 else [0, 1]
        expected[0] += sel[0]
        expected[1] += sel[1]
    t = time.perf_counter()
    per = [n // jobs + (1 if w < n % jobs else 0) for w in range(jobs)]
    # Each worker sums its share of the (cycled) ciphertexts; the shares are then combined.
    with ProcessPoolExecutor(jobs) as ex:
        parts = list(ex.map(_sum_cycled, [(pool, c) for c in per]))
    agg = combine_aggregates(parts)
    t_agg = time.perf_counter() - t
    t = time.perf_counter()
    shares = []
    for i, s in enumerate(secrets):
        js = partial_decrypt(s, ctx.election_hash, agg)
        shares.append(verify_partial_decryption(ctx.election_hash, ctx.trustee_keys[i], agg, js))
    result = recover_result(agg, shares, n)
    t_dec = time.perf_counter() - t
    assert result == expected, (result, expected)
    return t_agg, t_dec, t_agg + t_dec


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--verify-ballots", type=int, default=1000)
    ap.add_argument("--record-ballots", type=int, default=100_000)
    ap.add_argument("--tally-ballots", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    manifest, secrets = election()
    rows = []
    rate = bench_verify(manifest, args.verify_ballots)
    rows.append(
        ("ballot verification, 1 core", f"{rate:,.0f} ballots/s", f"{1000 / rate:.2f} ms/ballot")
    )
    if args.record_ballots:
        build, verify, size = bench_record(manifest, secrets, args.record_ballots, args.jobs)
        rows.append(
            (
                f"record build ({args.record_ballots:,} ballots, encrypt)",
                f"{build:,.1f} s",
                f"{args.jobs} processes",
            )
        )
        rows.append(
            (
                f"record full verify ({args.record_ballots:,} ballots)",
                f"{verify:,.1f} s",
                f"{args.record_ballots / verify:,.0f} ballots/s on {args.jobs} processes, {size / 1e6:,.0f} MB",
            )
        )
    if args.tally_ballots:
        t_agg, t_dec, total = bench_tally(manifest, secrets, args.tally_ballots, args.jobs)
        rows.append(
            (
                f"tally aggregation ({args.tally_ballots:,} ballots)",
                f"{t_agg:,.1f} s",
                f"{args.jobs} processes",
            )
        )
        rows.append(("tally decryption (3 trustees) + proofs + BSGS", f"{t_dec:,.2f} s", ""))
        rows.append((f"tally total ({args.tally_ballots:,} ballots)", f"{total:,.1f} s", ""))
    w = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    print(f"{'measure':<{w}}  {'value':>{w2}}  notes")
    print("-" * (w + w2 + 30))
    for a, b, c in rows:
        print(f"{a:<{w}}  {b:>{w2}}  {c}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
