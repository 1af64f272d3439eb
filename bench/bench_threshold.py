"""Benchmarks of the t-of-n trustees (``docs/spec/threshold-trustees.md``).

    python -m bench.bench_threshold                      # n = 9, t = 5 key generation; 1,000,000
    python -m bench.bench_threshold --tally-ballots 10000   # quick

- key generation: CPU time each trustee spends on its own rounds (commit, reveal, sealing the
  shares, checking the shares received, answering, finalising), the largest over the trustees;
- a tally of M ballots decrypted by 3 of 5 trustees: homomorphic aggregation (all cores), three
  partial decryptions with proofs, their checks, the Lagrange combination and baby-step
  giant-step recovery.
Timings are not asserted anywhere; the figures go to ``bench/results.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

from bench.bench_crypto import _sum_cycled
from referendum_core.crypto import dkg
from referendum_core.crypto.ballot import encrypt_ballot
from referendum_core.crypto.manifest import build_manifest, context_from_manifest
from referendum_core.crypto.simulate import DEFAULT_QUESTION
from referendum_core.crypto.tally import combine_aggregates, partial_decrypt
from referendum_core.crypto.threshold import (
    check_decryptions,
    manifest_trustees,
    threshold_result,
)

ELECTION = "bench-threshold"


def bench_keygen(n: int = 9, t: int = 5) -> dict[str, float]:
    """Run a whole key generation; return the largest and the mean CPU seconds per trustee."""
    params = dkg.Params(ELECTION, t, n)
    transcript = dkg.empty_transcript(params)
    cpu = dict.fromkeys(range(1, n + 1), 0.0)
    states = []

    def timed(i: int, fn, *args):  # noqa: ANN001, ANN202 - a local helper
        start = time.process_time()
        out = fn(*args)
        cpu[i] += time.process_time() - start
        return out

    for i in range(1, n + 1):
        state, message = timed(i, dkg.commit, params, i, f"T{i}")
        states.append(state)
        dkg.add_message(transcript, message)
    for step in (dkg.reveal, dkg.deal_shares, dkg.check_shares, dkg.answer_complaints):
        messages = [
            timed(s.index, step, s) if step is dkg.reveal else timed(s.index, step, s, transcript)
            for s in states
        ]
        for m in messages:
            dkg.add_message(transcript, m)
    for s in states:
        timed(s.index, dkg.finalize, s, transcript)
    return {
        f"keygen_{n}_{t}_max_cpu_s": max(cpu.values()),
        f"keygen_{n}_{t}_mean_cpu_s": sum(cpu.values()) / n,
    }


def election(n: int = 5, t: int = 3) -> tuple[dict, dict]:
    """A threshold manifest and the trustees' secrets, by a real key generation."""
    from referendum_core.crypto.simulate import run_key_generation

    transcript, secrets, outcome = run_key_generation(dkg.Params(ELECTION, t, n))
    members, th, y = manifest_trustees(transcript, outcome)
    manifest = build_manifest(
        election_id=ELECTION,
        municipality="0001000",
        question=DEFAULT_QUESTION,
        opens_at="2026-03-01T07:00:00Z",
        closes_at="2026-03-14T18:00:00Z",
        revoting=True,
        trustees=members,
        threshold=(th, y),
    )
    return manifest, secrets


def bench_tally(n_ballots: int, jobs: int, decrypting: tuple[int, ...] = (1, 3, 5)) -> dict:
    """Aggregate ``n_ballots`` (cycled from 1,000 real ones), decrypt with ``decrypting``."""
    manifest, secrets = election()
    ctx = context_from_manifest(manifest)
    assert ctx.threshold is not None  # noqa: S101 - built as a threshold manifest above
    pool_size = min(1000, n_ballots)
    pool = []
    for i in range(pool_size):
        enc = encrypt_ballot(ctx, f"p{i}", [1, 0] if i % 3 else [0, 1])
        chs = enc.ballot["choices"]
        pool.append(([bytes.fromhex(c["alpha"]) for c in chs],
                     [bytes.fromhex(c["beta"]) for c in chs]))
    expected = [0, 0]
    for i in range(n_ballots):
        expected[0 if (i % pool_size) % 3 else 1] += 1
    t0 = time.perf_counter()
    per = [n_ballots // jobs + (1 if w < n_ballots % jobs else 0) for w in range(jobs)]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as ex:
            parts = list(ex.map(_sum_cycled, [(pool, c) for c in per]))
    else:
        parts = [_sum_cycled((pool, n_ballots))]
    agg = combine_aggregates(parts)
    t_agg = time.perf_counter() - t0
    t1 = time.perf_counter()
    decs = [
        {"trustee": j, "shares": partial_decrypt(secrets[j], ctx.election_hash, agg)}
        for j in decrypting
    ]
    valid, skipped = check_decryptions(ctx.election_hash, ctx.threshold, agg, decs)
    result = threshold_result(ctx.threshold, agg, valid, n_ballots)
    t_dec = time.perf_counter() - t1
    if skipped or result != expected:
        raise AssertionError((skipped, result, expected))
    return {
        f"threshold_tally_{n_ballots}_s": t_agg + t_dec,
        f"threshold_tally_{n_ballots}_decrypt_s": t_dec,
    }


def main() -> int:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tally-ballots", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    for key, value in {**bench_keygen(), **bench_tally(args.tally_ballots, args.jobs)}.items():
        print(f"{key:40} {value:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
