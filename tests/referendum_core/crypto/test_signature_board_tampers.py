"""Signature boards tampered with as a hostile operator would (an outside judge's attack on
``referendum-verify-signatures``, ``docs/spec/signature-board.md``): what was accepted or
crashed before is refused now, with a clear message and no traceback."""
from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from referendum_core.crypto.signature_board import (
    EMPTY_HEAD,
    InvalidBoard,
    chain_step,
    entry_body,
    verify_board,
)
from referendum_core.crypto.signature_board_cli import EXIT_INVALID, EXIT_UNREADABLE, main

SPEC = Path(__file__).resolve().parents[3] / "docs" / "spec" / "signature-board.md"


@pytest.fixture(scope="module")
def board() -> dict[str, Any]:
    match = re.search(r"```json signature-board-vector\n(.*?)```", SPEC.read_text(), re.S)
    assert match
    return json.loads(match.group(1))["board"]


def _rechained(board: dict[str, Any]) -> dict[str, Any]:
    """Every hash, head, seq and count recomputed: what the operator can always do."""
    head = EMPTY_HEAD
    for n, entry in enumerate(board["entries"], 1):
        entry["seq"] = n
        head = entry["hash"] = chain_step(head, entry_body(entry))
    board["seq"], board["head"], board["checkpoints"] = len(board["entries"]), head, []
    return board


def _run(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "board.json"
    path.write_text(text, encoding="utf-8")
    code = main([str(path)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out + out.err


def test_duplicate_key_is_refused_not_last_one_wins(
    board: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: ``json.loads`` kept the last ``count``, so a board stating ``count`` 99 to one
    reader verified as valid here."""
    text = json.dumps(board).replace('"count": 2', '"count": 99, "count": 2')
    code, out = _run(tmp_path, text, capsys)
    assert code == EXIT_UNREADABLE and "duplicate key 'count'" in out


def test_deep_nesting_is_refused_without_recursion_error(
    board: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a RecursionError traceback."""
    text = json.dumps(board)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    start = time.monotonic()
    code, out = _run(tmp_path, text, capsys)
    assert code == EXIT_UNREADABLE and "nested deeper" in out
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("fragment", ['"threshold": NaN', '"threshold": 2.0'])
def test_non_integer_numbers_are_refused(
    board: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], fragment: str
) -> None:
    code, _ = _run(tmp_path, json.dumps(board).replace('"threshold": 2', fragment), capsys)
    assert code == EXIT_UNREADABLE


def test_unknown_board_field_is_refused(board: dict[str, Any]) -> None:
    """Section 5 lists the board's fields; an extra one (say a second, unchecked count) would
    be read by one verifier and ignored by another."""
    tampered = copy.deepcopy(board)
    tampered["count_after_appeal"] = 5
    with pytest.raises(InvalidBoard) as info:
        verify_board(tampered)
    assert info.value.location == "count_after_appeal"


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "٢٠٢٦-٠٣-٠٥"])
def test_a_day_that_is_not_a_calendar_day_is_refused(board: dict[str, Any], day: str) -> None:
    """Section 3: ``day`` is the Riga calendar day; before, any digits matched, even
    non-ASCII ones and the 30th of February."""
    tampered = copy.deepcopy(board)
    tampered["entries"][0]["day"] = day
    with pytest.raises(InvalidBoard) as info:
        verify_board(_rechained(tampered))
    assert info.value.location == "entries[0].day"


def test_honest_board_still_verifies(
    board: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(tmp_path, json.dumps(board, indent=1, ensure_ascii=False), capsys)
    assert code == 0 and "VALID initiative 7" in out
    assert verify_board(_rechained(copy.deepcopy(board))).count == 2


@pytest.mark.parametrize(
    ("tamper", "where"),
    [
        ("drop", "entries[1].seq"),
        ("duplicate_receipt", "entries[2].receipt"),
        ("exclusion_without_reason", "entries[3].reason"),
        ("count", "count"),
        ("exclusion_before_signature", "entries[2].receipt"),
    ],
)
def test_tampered_board_is_refused(board: dict[str, Any], tamper: str, where: str) -> None:
    b = copy.deepcopy(board)
    if tamper == "drop":
        del b["entries"][1]
    elif tamper == "duplicate_receipt":
        b["entries"].insert(2, copy.deepcopy(b["entries"][0]))
        _rechained(b)
    elif tamper == "exclusion_without_reason":
        del b["entries"][3]["reason"]
        _rechained(b)
    elif tamper == "count":
        b["count"] = 3
    else:
        b["entries"][2], b["entries"][3] = b["entries"][3], b["entries"][2]
        _rechained(b)
    with pytest.raises(InvalidBoard) as info:
        verify_board(b)
    assert info.value.location == where
    assert EXIT_INVALID == 1
