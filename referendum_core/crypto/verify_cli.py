"""``referendum-verify RECORD.json [--tracker T] [--jobs N] [--expect-head SEQ:HEAD]…
[--checkpoints FILE]…``: verify an election record, and that its board passes through heads
witnessed earlier (``docs/spec/checkpoints.md``); contradicting signed checkpoints are printed
as a proof of misbehaviour.

Exit status: 0 valid (and the tracker, if asked, was found); 1 invalid record; 2 unreadable
input or bad usage; 3 valid record but the tracker is not in it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from .checkpoint import read_checkpoints
from .exceptions import CryptoError
from .verify import verify_record_file
from .witness import BoardWitness, WitnessFailure, parse_expect_head

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE, EXIT_TRACKER_MISSING = 0, 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    ap = argparse.ArgumentParser(
        prog="referendum-verify",
        description="Verify an election record (spec referendum-record/1).",
    )
    ap.add_argument("record", help="path to the record JSON")
    ap.add_argument("--tracker", help="also report where this ballot tracker is (64 hex digits)")
    ap.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for ballot checks (default: all CPUs)",
    )
    ap.add_argument("--quiet", action="store_true", help="print only the verdict line")
    _add_witness_arguments(ap)
    args = ap.parse_args(argv)
    tracker = args.tracker.strip().lower() if args.tracker else None
    if tracker is not None and not re.fullmatch(r"[0-9a-f]{64}", tracker):
        print("referendum-verify: --tracker must be 64 hex digits", file=sys.stderr)
        return EXIT_UNREADABLE
    witness = _witness_from_arguments(args)
    if isinstance(witness, int):
        return witness
    started = time.perf_counter()
    try:
        summary = verify_record_file(args.record, jobs=max(1, args.jobs), tracker=tracker,
                                     witness=witness)
    except CryptoError as exc:
        print("Election record is INVALID")
        print(f"  first failure at {exc.location or '(record)'}: {exc.message}")
        if isinstance(exc, WitnessFailure):
            for proof in exc.proofs:
                print(proof)
        return EXIT_INVALID
    except (OSError, UnicodeDecodeError) as exc:
        print(f"referendum-verify: cannot read {args.record}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    elapsed = time.perf_counter() - started
    if args.quiet:
        print("Election record is VALID")
    else:
        print(summary.render())
        print(f"  verified in {elapsed:.1f} s")
    if summary.tracker is not None and summary.tracker.status == "not found":
        return EXIT_TRACKER_MISSING
    return EXIT_VALID


# --------------------------------------------------------------------------- witnessed heads


def _add_witness_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--expect-head", action="append", default=[], metavar="SEQ:HEAD",
                    help="a board head seen earlier (after SEQ ballots); the board must pass "
                         "through it (repeatable)")
    ap.add_argument("--checkpoints", action="append", default=[], metavar="FILE",
                    help="signed board checkpoints kept by an observer (JSON array, an object "
                         "with 'checkpoints', or JSON lines); the board must pass through each "
                         "(repeatable)")


def _witness_from_arguments(args: argparse.Namespace) -> BoardWitness | int:
    """The heads asked for, or the exit status of bad usage (message printed)."""
    heads = []
    for text in args.expect_head:
        try:
            heads.append(parse_expect_head(text))
        except ValueError as exc:
            print(f"referendum-verify: --expect-head {text!r}: {exc}", file=sys.stderr)
            return EXIT_UNREADABLE
    external: list[object] = []
    for path in args.checkpoints:
        try:
            with open(path, encoding="utf-8") as fp:
                external += read_checkpoints(fp.read())
        except (OSError, UnicodeDecodeError, CryptoError) as exc:
            print(f"referendum-verify: cannot read checkpoints {path}: {exc}", file=sys.stderr)
            return EXIT_UNREADABLE
    return BoardWitness(expect_heads=heads, external=external)


if __name__ == "__main__":
    raise SystemExit(main())
