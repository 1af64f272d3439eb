"""``referendum-verify-signatures FILE [--receipt HEX] [--checkpoints FILE]``: recompute an
initiative's public signature board (``docs/spec/signature-board.md``): the chain, the count
(signatures minus exclusions) and, with ``--receipt``, what became of that signature.

Exit status: 0 valid (and the receipt, if asked, is on the board); 1 invalid board;
2 unreadable input or bad usage; 3 valid board but the receipt is not on it.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import jsonstream
from .checkpoint import InvalidCheckpoint, read_checkpoints
from .exceptions import CryptoError
from .signature_board import InvalidBoard, verify_board

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE, EXIT_RECEIPT_MISSING = 0, 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="referendum-verify-signatures",
                                 description="Verify an initiative's public signature board.")
    ap.add_argument("board", help="path to the board JSON (the page's download)")
    ap.add_argument("--receipt", help="also say what became of this receipt (64 hex digits)")
    ap.add_argument("--checkpoints", action="append", default=[],
                    help="checkpoints kept earlier that the board must pass through")
    args = ap.parse_args(argv)
    receipt = args.receipt.strip().lower() if args.receipt else None
    if receipt is not None and not re.fullmatch(r"[0-9a-f]{64}", receipt):
        print("referendum-verify-signatures: --receipt must be 64 hex digits", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        # Strict JSON as the election record's (no duplicate key, float, NaN, lone surrogate,
        # deep nesting): Python's json.loads keeps the last of two equal keys and recurses
        # without bound, so a board could say one count to one reader and another to us.
        board = jsonstream.loads(Path(args.board).read_bytes())
        extra = [cp for path in args.checkpoints
                 for cp in read_checkpoints(Path(path).read_text(encoding="utf-8"))]
    except (OSError, ValueError, InvalidCheckpoint, CryptoError) as exc:
        print(f"referendum-verify-signatures: cannot read input: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        summary = verify_board(board, extra_checkpoints=extra)
    except InvalidBoard as exc:
        print(exc.render())
        return EXIT_INVALID
    needed = "" if summary.threshold is None else f" of {summary.threshold} needed"
    print(f"VALID initiative {summary.initiative}: {summary.seq} entries, head {summary.head}; "
          f"count {summary.count}{needed} ({summary.signatures} signatures, "
          f"{summary.exclusions} excluded); {summary.checkpoints} checkpoints verified")
    if receipt is not None:
        status = summary.receipt_status(receipt)
        if status is None:
            print(f"receipt {receipt}: not on the board (it may still wait for publication)")
            return EXIT_RECEIPT_MISSING
        print(f"receipt {receipt}: " + ("on the board, counted" if status[0] == "on_board"
                                        else f"excluded ({status[1]})"))
    return EXIT_VALID


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
