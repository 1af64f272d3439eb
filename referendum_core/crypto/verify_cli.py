"""``referendum-verify RECORD.json [--tracker T] [--jobs N]``: verify an election record.

Exit status: 0 valid (and the tracker, if asked, was found); 1 invalid record; 2 unreadable
input or bad usage; 3 valid record but the tracker is not in it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from .exceptions import CryptoError
from .verify import verify_record_file

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
    args = ap.parse_args(argv)
    tracker = args.tracker.strip().lower() if args.tracker else None
    if tracker is not None and not re.fullmatch(r"[0-9a-f]{64}", tracker):
        print("referendum-verify: --tracker must be 64 hex digits", file=sys.stderr)
        return EXIT_UNREADABLE
    started = time.perf_counter()
    try:
        summary = verify_record_file(args.record, jobs=max(1, args.jobs), tracker=tracker)
    except CryptoError as exc:
        print("Election record is INVALID")
        print(f"  first failure at {exc.location or '(record)'}: {exc.message}")
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


if __name__ == "__main__":
    raise SystemExit(main())
