"""``make bench`` — every benchmark of the portal, each figure the median of several runs,
printed as a table and written to ``bench/results.md`` with the machine it ran on.

    python -m bench                       # everything at full size (about half an hour)
    python -m bench --quick               # small sizes, one run each: a smoke test
    python -m bench --quick --dry-run     # what would run, on what machine; runs nothing
    python -m bench --only cast,delivery  # some benchmarks only
    python -m bench --only observers      # observers' reports on referendum day

Each benchmark runs in a child process of its own (``python -m bench --child NAME``), so
one's memory (the register import's peak) or a crash does not reach the others. Benchmarks
needing PostgreSQL or Redis are reported as skipped, with the reason, when those do not
answer (``DATABASE_URL``/``REDIS_URL``, else 127.0.0.1:5432 and :6379).

In ``results.md`` only the part between the ``bench:begin``/``bench:end`` markers is
rewritten; the notes around it (what bounds each figure) are kept.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness

RESULTS = Path(__file__).with_name("results.md")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
CHILD_MARK = "BENCH-RESULT "


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is."""

    repetitions: int
    verify_ballots: int
    tally: tuple[int, ...]
    register_rows: int
    signatures: int
    cases: int
    case_runs: int
    voters: int
    cast_rate: float
    cast_seconds: float
    cast_closed_seconds: float
    threads: int
    per_thread: int
    message_rate: float
    message_seconds: float
    connections: int
    hold_seconds: float
    threshold_tally: int = 1_000_000
    board_signatures: int = 100_000
    sign_rate: float = 100
    sign_seconds: float = 600
    observers: int = 2000
    observer_rate: float = 20
    observer_seconds: float = 60


FULL = Sizes(repetitions=3, verify_ballots=1000, tally=(100_000, 1_000_000),
             register_rows=100_000, signatures=1000, cases=100_000, case_runs=30, voters=200,
             cast_rate=300, cast_seconds=10, cast_closed_seconds=5, threads=100, per_thread=10,
             message_rate=50, message_seconds=10, connections=5000, hold_seconds=30)
QUICK = Sizes(repetitions=1, verify_ballots=100, tally=(10_000,), register_rows=3000,
              signatures=50, cases=2000, case_runs=5, voters=20, cast_rate=30, cast_seconds=2,
              cast_closed_seconds=2, threads=5, per_thread=4, message_rate=10,
              message_seconds=2, connections=200, hold_seconds=3, threshold_tally=10_000,
              board_signatures=3000, sign_rate=20, sign_seconds=3, observers=200,
              observer_rate=10, observer_seconds=5)


# --------------------------------------------------------------------------- the benchmarks
# Each returns one dict of figures per repetition; it runs in a child process.


def _crypto(sizes: Sizes, _pg: str | None, _redis: str | None) -> list[dict[str, float]]:
    from bench import bench_crypto

    manifest, secrets = bench_crypto.election()
    out = []
    for _ in range(sizes.repetitions):
        figures = {"verify_per_s": bench_crypto.bench_verify(manifest, sizes.verify_ballots),
                   "signature_board_s": bench_crypto.bench_signature_board(
                       sizes.board_signatures)}
        for n in sizes.tally:
            t_agg, t_dec, total = bench_crypto.bench_tally(manifest, secrets, n,
                                                           os.cpu_count() or 1)
            figures[f"tally_{n}_s"] = total
            figures[f"tally_{n}_aggregate_s"] = t_agg
            figures[f"tally_{n}_decrypt_s"] = t_dec
        out.append(figures)
    return out


def _register(sizes: Sizes, pg: str | None, _redis: str | None) -> list[dict[str, float]]:
    from bench import bench_register

    out = []
    for _ in range(sizes.repetitions):
        if pg:
            with harness.scratch_database(pg, "bench_register") as database:
                out.append(bench_register.run(sizes.register_rows, sizes.signatures, database))
        else:
            out.append(bench_register.run(sizes.register_rows, sizes.signatures, None))
    return out


def _cases(sizes: Sizes, pg: str | None, _redis: str | None) -> list[dict[str, float]]:
    from bench import bench_cases

    def flat(passes: list[dict[str, tuple[float, float]]]) -> list[dict[str, float]]:
        return [{f"{page} p{q}": value for page, (p50, p95) in figures.items()
                 for q, value in ((50, p50), (95, p95))} for figures in passes]

    if pg:
        with harness.scratch_database(pg, "bench_cases") as database:
            return flat(bench_cases.run(sizes.cases, sizes.case_runs, database,
                                        repetitions=sizes.repetitions))
    return flat(bench_cases.run(sizes.cases, sizes.case_runs, None,
                                repetitions=sizes.repetitions))


def _cast(sizes: Sizes, pg: str | None, redis: str | None) -> list[dict[str, float]]:
    from bench import cast

    if not pg:
        raise Skip("PostgreSQL does not answer (DATABASE_URL or 127.0.0.1:5432)")
    common = dict(server_url=pg, redis=redis, voters=sizes.voters, rate=sizes.cast_rate,
                  seconds=sizes.cast_seconds, closed_seconds=sizes.cast_closed_seconds,
                  repetitions=sizes.repetitions)
    # The documented shape: casts go to a ballot pool of sync workers (docs/deploy.md).
    pooled = cast.run(**common, cast_pool=CAST_POOL)
    # For comparison: casts sent to the gevent portal processes themselves.
    plain = cast.run(**common)
    return [{**{f"pool_{k}": v for k, v in a.items()}, **{f"gevent_{k}": v for k, v in b.items()}}
            for a, b in zip(pooled, plain, strict=True)]


# Threads, not sync workers: gunicorn's sync worker closes the connection after every answer,
# so each ballot paid a TCP handshake and the accept on both sides (about 20 % more CPU per
# ballot here); two threads per process also overlap one cast's database wait with another's
# proof check. Still a bounded queue: at most 6 casts in progress, the rest in the backlog.
CAST_POOL = ("--worker-class", "gthread", "--workers", "3", "--threads", "2", "--timeout", "30")


def _delivery(sizes: Sizes, pg: str | None, redis: str | None) -> list[dict[str, float]]:
    from bench import delivery

    if not pg or not redis:
        raise Skip("needs PostgreSQL and Redis (DATABASE_URL/REDIS_URL or 127.0.0.1)")
    return delivery.run(server_url=pg, redis=redis, threads=sizes.threads,
                        per_thread=sizes.per_thread, rate=sizes.message_rate,
                        seconds=sizes.message_seconds, connections=sizes.connections,
                        hold=sizes.hold_seconds, repetitions=sizes.repetitions)


def _threshold(sizes: Sizes, _pg: str | None, _redis: str | None) -> list[dict[str, float]]:
    from bench import bench_threshold

    return [{**bench_threshold.bench_keygen(9, 5),
             **bench_threshold.bench_tally(sizes.threshold_tally, os.cpu_count() or 1)}
            for _ in range(sizes.repetitions)]


def _sign(sizes: Sizes, pg: str | None, redis: str | None) -> list[dict[str, float]]:
    from bench import sign

    if not pg:
        raise Skip("PostgreSQL does not answer (DATABASE_URL or 127.0.0.1:5432)")
    # One run: at full size it signs 60,000 distinct people over ten minutes.
    return [sign.run(server_url=pg, redis=redis, rate=sizes.sign_rate,
                     seconds=sizes.sign_seconds)]


def _observers(sizes: Sizes, pg: str | None, redis: str | None) -> list[dict[str, Any]]:
    from bench import bench_observers

    if not pg or not redis:
        raise Skip("needs PostgreSQL and Redis (DATABASE_URL/REDIS_URL or 127.0.0.1)")
    return bench_observers.run(server_url=pg, redis=redis, observers=sizes.observers,
                               rate=sizes.observer_rate, seconds=sizes.observer_seconds,
                               repetitions=sizes.repetitions)


class Skip(Exception):
    """A benchmark cannot run here; the message says why."""


BENCHMARKS: dict[str, Callable[[Sizes, str | None, str | None], list[dict[str, float]]]] = {
    "crypto": _crypto, "register": _register, "cases": _cases, "cast": _cast,
    "delivery": _delivery, "threshold": _threshold, "sign": _sign, "observers": _observers,
}


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    """One line of the table: which figure of which benchmark, and its target."""

    benchmark: str
    label: str
    key: str
    unit: str
    target: str = ""
    met: Callable[[float], bool] | None = None
    digits: int = 1


def rows_for(sizes: Sizes) -> list[Row]:
    """The table's lines for these sizes."""
    rows = [Row("crypto", "ballot verification, 1 core", "verify_per_s", "ballots/s", digits=0),
            Row("crypto", f"signature board of {sizes.board_signatures:,} signatures verified",
                "signature_board_s", "s", "< 10 s", lambda v: v < 10, digits=2)]
    for n in sizes.tally:
        rows += [Row("crypto", f"tally of {n:,} ballots (aggregate + 3 trustees + BSGS)",
                     f"tally_{n}_s", "s", digits=2),
                 Row("crypto", f"  of which aggregation ({os.cpu_count()} processes)",
                     f"tally_{n}_aggregate_s", "s", digits=2)]
    n = sizes.threshold_tally
    rows += [
        Row("threshold", "key generation n = 9, t = 5: CPU of the busiest trustee",
            "keygen_9_5_max_cpu_s", "s", "< 2 s", lambda v: v < 2, 3),
        Row("threshold", f"tally of {n:,} ballots decrypted by 3 of 5 trustees",
            f"threshold_tally_{n}_s", "s", "< 60 s" if n >= 1_000_000 else "",
            (lambda v: v < 60) if n >= 1_000_000 else None, 2),
        Row("threshold", "  of which 3 partial decryptions, their checks, Lagrange, BSGS",
            f"threshold_tally_{n}_decrypt_s", "s", digits=3),
    ]
    rows += [
        Row("register", f"register import, first ({sizes.register_rows:,} rows)",
            "first_rows_per_s", "rows/s", digits=0),
        Row("register", "register re-import (1 % changed, removed, added)",
            "reimport_rows_per_s", "rows/s", digits=0),
        Row("register", "register import peak memory (ru_maxrss)", "peak_mib", "MiB", digits=0),
        Row("register", "online signing, one commit each", "signatures_per_s", "signatures/s",
            digits=0),
    ]
    for page in ("CVK: all cases, newest", "CVK: observer reports, open, by deadline",
                 "CVK: past deadline", "CVK: page 500", "commission: own municipality",
                 "commission: submitted, unassigned", "CVK: case page", "CVK: dashboard",
                 "CVK: dashboard, figures recomputed", "CVK: all cases, navigation counts computed",
                 "commission: own municipality, navigation counts computed"):
        target = "p95 < 50 ms" if "dashboard" not in page else ""
        rows.append(Row("cases", f"{page} ({sizes.cases:,} cases), p95", f"{page} p95", "ms",
                        target, (lambda v: v < 50) if target else None))
    for shape, name in (("pool", "ballot pool (3 × 2 threads)"), ("gevent", "gevent processes")):
        p = f"{shape}_"
        rows += [
            # Accepted over the offered ballots' schedule plus the last answers' latency, so it
            # stays just under the offered rate even when every ballot is accepted in time:
            # "all accepted" allows 1 % for that tail; the capacity target is the saturated row.
            Row("cast", f"cast, {name}: accepted at {sizes.cast_rate:.0f}/s offered "
                f"({sizes.voters} voters)", p + "open_accepted_per_s", "ballots/s",
                "all offered" if shape == "pool" else "",
                (lambda v: v >= 0.99 * sizes.cast_rate) if shape == "pool" else None),
            Row("cast", f"cast, {name}: p50 latency at that rate", p + "open_p50_ms", "ms"),
            Row("cast", f"cast, {name}: p99 latency at that rate", p + "open_p99_ms", "ms",
                "< 250 ms" if shape == "pool" else "",
                (lambda v: v < 250) if shape == "pool" else None),
            Row("cast", f"cast, {name}: saturated ({sizes.voters} voters, no pause)",
                p + "closed_accepted_per_s", "ballots/s", "≥ 300/s" if shape == "pool" else "",
                (lambda v: v >= 300) if shape == "pool" else None),
            Row("cast", f"cast, {name}: p99 latency saturated", p + "closed_p99_ms", "ms"),
            Row("cast", f"cast, {name}: refused/failed casts (open + saturated)",
                p + "open_refused", "casts", digits=0),
            Row("cast", f"cast, {name}: server CPU per ballot", p + "server_cpu_ms_per_ballot",
                "ms", digits=2),
            Row("cast", f"cast, {name}: PostgreSQL CPU per ballot",
                p + "database_cpu_ms_per_ballot", "ms", digits=2),
        ]
    rate, minutes = sizes.sign_rate, sizes.sign_seconds / 60
    rows += [
        Row("sign", f"initiative signing over HTTP: accepted at {rate:.0f}/s offered for "
            f"{minutes:g} min", "sign_accepted_per_s", "signatures/s", "all offered",
            lambda v: v >= 0.99 * rate),
        Row("sign", "  p50 latency at that rate", "sign_p50_ms", "ms"),
        Row("sign", "  p99 latency at that rate", "sign_p99_ms", "ms", "< 250 ms",
            lambda v: v < 250),
        Row("sign", "  refused or failed", "sign_refused", "signatures", "0", lambda v: v == 0,
            0),
        Row("sign", "  server CPU per signature", "sign_server_cpu_ms", "ms", digits=2),
        Row("sign", "  PostgreSQL CPU per signature", "sign_database_cpu_ms", "ms", digits=2),
        Row("sign", "  the batch publishing them all (shuffled, chained)", "publish_batch_s",
            "s", digits=2),
    ]
    wanted = min(5000, sizes.connections)
    rows += [
        Row("cast", "HTTP throughput (pool, saturated) / bare verification rate",
            "pool_ratio_http_to_bare", "", digits=3),
        Row("cast", "load client CPU per cast", "pool_client_cpu_ms_per_ballot", "ms", digits=2),
        Row("cast", "machine CPU busy during the open-loop run (pool), share of all CPUs",
            "pool_machine_busy_open", "", digits=2),
        Row("delivery", f"message delivery p50 ({sizes.threads * sizes.per_thread} clients, "
            f"{sizes.message_rate:.0f} msg/s)", "delivery_p50_ms", "ms"),
        Row("delivery", "message delivery p99", "delivery_p99_ms", "ms", "< 100 ms",
            lambda v: v < 100),
        Row("delivery", "POST answered, p99", "post_p99_ms", "ms"),
        Row("delivery", "first message of each thread after the servers start, p99 "
            "(cold key cache, measured once)", "cold_delivery_p99_ms", "ms"),
        Row("delivery", "receipts lost", "receipts_lost", "receipts", "0", lambda v: v == 0, 0),
        Row("delivery", "load client CPU per receipt", "client_cpu_us_per_receipt", "µs", digits=0),
        Row("delivery", f"concurrent connections held {sizes.hold_seconds:.0f} s "
            f"(of {sizes.connections:,})", "connections_held", "connections",
            f"≥ {wanted:,}", lambda v: v >= wanted, 0),
        Row("delivery", "connections dropped while held", "connections_dropped", "connections",
            "0", lambda v: v == 0, 0),
        Row("delivery", "servers' portal_socket_connections gauge at the end",
            "connections_gauge", "connections", digits=0),
        Row("observers", f"observers connected (of {sizes.observers:,})",
            "observers_connected", "connections", f"≥ {sizes.observers:,}",
            lambda v: v >= sizes.observers, 0),
        Row("observers", f"critical reports received ({sizes.observer_rate:.0f}/s for "
            f"{sizes.observer_seconds:.0f} s offered)", "reports_received", "reports",
            digits=0),
        Row("observers", "reports received twice (every 20th sent twice, same key)",
            "reports_duplicated", "reports", "0", lambda v: v == 0, 0),
        Row("observers", "reports lost", "reports_lost", "reports", "0", lambda v: v == 0, 0),
        Row("observers", "report submitted → commission page notified, p50", "push_p50_ms",
            "ms"),
        Row("observers", "report submitted → commission page notified, p99", "push_p99_ms",
            "ms", "< 1000 ms", lambda v: v < 1000),
        Row("observers", "commission pages not notified", "pushes_lost", "pushes", "0",
            lambda v: v == 0, 0),
        Row("observers", "report POST answered, p99", "post_p99_ms", "ms"),
    ]
    return rows


def median_of(runs: list[dict[str, Any]], key: str) -> tuple[float, float, float] | None:
    """(median, min, max) of ``key`` over the runs that have a number for it."""
    values = [r[key] for r in runs if isinstance(r.get(key), int | float) and r[key] == r[key]]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def render(rows: list[Row], results: dict[str, Any]) -> str:
    """The Markdown table: median, spread over the runs, target and whether it is met."""
    lines = ["| benchmark | figure | median | runs (min – max) | target | met |",
             "|---|---|---:|---|---|---|"]
    for row in rows:
        outcome = results.get(row.benchmark)
        if isinstance(outcome, str):  # skipped or failed: say why once per benchmark
            continue
        found = median_of(outcome or [], row.key)
        if found is None:
            continue
        median, low, high = found
        fmt = f"{{:,.{row.digits}f}}"
        met = "" if row.met is None else ("yes" if row.met(median) else "**no**")
        lines.append(f"| {row.benchmark} | {row.label} | {fmt.format(median)} {row.unit} | "
                     f"{len(outcome)}: {fmt.format(low)} – {fmt.format(high)} | "
                     f"{row.target} | {met} |")
    for name, outcome in results.items():
        if isinstance(outcome, str):
            lines.append(f"| {name} | — | {outcome} | | | |")
    return "\n".join(lines)


def describe(machine: dict[str, str], sizes: Sizes, started: str, seconds: float,
             load_after: str, stolen: str = "?") -> str:
    """The run's header: the machine and how the figures were taken."""
    return "\n".join([
        f"Run {started} UTC, {seconds / 60:.1f} min, `python -m bench"
        f"{' --quick' if sizes is QUICK else ''}`.",
        "",
        f"- machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['ram']} RAM, "
        f"Linux {machine['kernel']}",
        f"- {machine['python']}; PostgreSQL {machine['postgresql']}; "
        f"Redis {machine['redis']}",
        f"- PostgreSQL commit with its WAL flush: {machine.get('commit', 'not measured')}",
        f"- load average before the run: {machine['loadavg']} (after: {load_after}) — other "
        "engineers' tests share the machine; CPU time taken by the host (steal) during the "
        f"run: {stolen}",
        "- **the load generators run on the same 2-core machine** as the portal processes, "
        "PostgreSQL and Redis; their own CPU cost is in the table",
        f"- each figure is the median of {sizes.repetitions} run(s); the spread is shown",
    ])


# --------------------------------------------------------------------------- running


def _child(name: str, sizes_name: str) -> int:
    sizes = QUICK if sizes_name == "quick" else FULL
    try:
        result: Any = BENCHMARKS[name](sizes, harness.postgres_url(), harness.redis_url())
    except Skip as exc:
        result = f"skipped: {exc}"
    print(CHILD_MARK + json.dumps(result), flush=True)
    return 0


def run_child(name: str, sizes_name: str, timeout: float) -> list[dict[str, Any]] | str:
    """One benchmark in a child process; its figures, or why there are none."""
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "bench", "--child", name,
                               "--sizes", sizes_name], capture_output=True, text=True,
                              timeout=timeout, cwd=harness.PROJECT_ROOT, check=False,
                              env={**os.environ, "PYTHONPATH": str(harness.PROJECT_ROOT)})
    except subprocess.TimeoutExpired:
        return f"failed: no answer within {timeout:.0f} s"
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(CHILD_MARK):
            print(f"  {name}: {time.monotonic() - started:.0f} s", flush=True)
            return json.loads(line[len(CHILD_MARK):])
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    return f"failed (exit {done.returncode}): {tail[0][:200]}"


def write_results(text: str, path: Path = RESULTS) -> None:
    """Replace the generated part of ``results.md`` (the notes around it stay)."""
    block = f"{BEGIN}\n{text}\n{END}"
    if path.exists() and BEGIN in (old := path.read_text()) and END in old:
        before, rest = old.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        path.write_text(before + block + after)
    else:
        path.write_text(f"# Benchmark results\n\n{block}\n")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--dry-run", action="store_true",
                        help="show the machine and the plan; run nothing, write nothing")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHMARKS))
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the table (default bench/results.md; "
                             "--quick writes nothing unless given)")
    parser.add_argument("--child", choices=sorted(BENCHMARKS), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", choices=("full", "quick"), default="full",
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.sizes)
    sizes = QUICK if args.quick else FULL
    names = [n for n in (args.only.split(",") if args.only else BENCHMARKS) if n]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    pg, redis = harness.postgres_url(), harness.redis_url()
    machine = harness.machine(pg, redis)
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    print(f"machine: {machine}")
    print(f"sizes: {sizes}")
    print(f"benchmarks: {', '.join(names)}")
    if args.dry_run:
        return 0
    clock, steal = time.monotonic(), harness.cpu_stolen()
    results: dict[str, Any] = {}
    for name in names:
        print(f"running {name} …", flush=True)
        results[name] = run_child(name, "quick" if args.quick else "full",
                                  timeout=600 if args.quick else 3600)
    text = describe(machine, sizes, started, time.monotonic() - clock, harness.load_average(),
                    harness.stolen_share(steal, harness.cpu_stolen())
                    ) + "\n\n" + render(rows_for(sizes), results)
    print()
    print(text)
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        write_results(text, output)
        print(f"\nwritten to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
