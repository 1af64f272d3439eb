"""The signature board format (``docs/spec/signature-board.md``): the spec's vectors, the
verifier CLI on honest and tampered boards, and an independent recount that imports nothing of
the portal."""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from referendum_core.crypto.checkpoint import CheckpointSigner
from referendum_core.crypto.signature_board import (
    EMPTY_HEAD,
    InvalidBoard,
    board_log_name,
    canonical,
    entry_body,
    exclusion_entry,
    make_receipt,
    person_tag,
    signature_entry,
    verify_board,
)
from referendum_core.crypto.signature_board_cli import main

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "docs" / "spec" / "signature-board.md"
RECOUNT = ROOT / "tests" / "independent" / "recount_signatures.py"
MASTER = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")


def _vector() -> dict[str, Any]:
    match = re.search(r"```json signature-board-vector\n(.*?)```", SPEC.read_text(), re.S)
    assert match, "the spec's test vector block is missing"
    return json.loads(match.group(1))


def _rechain(board: dict[str, Any]) -> dict[str, Any]:
    """Recompute every hash, the head, seq and count: a forger's best effort."""
    head = EMPTY_HEAD
    for n, entry in enumerate(board["entries"], 1):
        entry["seq"] = n
        body = entry_body(entry)
        made = (signature_entry(n, head, body["receipt"], body["method"], body["day"])
                if body["kind"] == "signature"
                else exclusion_entry(n, head, body["receipt"], body.get("reason", "")))
        entry["hash"] = made["hash"]
        head = made["hash"]
    board["seq"], board["head"] = len(board["entries"]), head
    board["checkpoints"] = []
    return board


def test_spec_vector_tags_receipts_chain_and_checkpoint() -> None:
    v = _vector()
    key = bytes.fromhex(v["tag_key"])
    for person, tag, nonce, receipt in zip(v["person_refs"], v["tags"], v["nonces"],
                                           v["receipts"], strict=True):
        assert person_tag(key, v["initiative"], person).hex() == tag
        assert make_receipt(v["initiative"], bytes.fromhex(tag), bytes.fromhex(nonce)) == receipt
    board = v["board"]
    assert canonical(entry_body(board["entries"][0])).decode() == v["first_entry_body_canonical"]
    summary = verify_board(board)
    assert (summary.seq, summary.signatures, summary.exclusions, summary.count) == (4, 3, 1, 2)
    assert summary.checkpoints == 1
    assert board["checkpoint_key"] == CheckpointSigner.derive(
        MASTER, board_log_name(v["initiative"])).public_key
    assert summary.receipt_status(v["receipts"][2]) == ("excluded", "not_eligible")
    assert summary.receipt_status(v["receipts"][0]) == ("on_board", None)


def test_the_tag_depends_on_the_key_and_the_initiative() -> None:
    """Nobody without the key can test whether a known person signed; tags of one person
    differ between initiatives."""
    tag = person_tag(bytes(32), 7, "p")
    assert tag != person_tag(bytes([1]) * 32, 7, "p")
    assert tag != person_tag(bytes(32), 8, "p")


def _write(tmp_path: Path, board: dict[str, Any]) -> Path:
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board), encoding="utf-8")
    return path


def test_cli_accepts_the_vector_and_reports_a_receipt(tmp_path: Path, capsys) -> None:
    v = _vector()
    path = _write(tmp_path, v["board"])
    assert main([str(path)]) == 0
    assert "count 2 of 2 needed (3 signatures, 1 excluded)" in capsys.readouterr().out
    assert main([str(path), "--receipt", v["receipts"][2].upper()]) == 0
    assert "excluded (not_eligible)" in capsys.readouterr().out
    assert main([str(path), "--receipt", v["receipts"][1]]) == 0
    assert "on the board, counted" in capsys.readouterr().out
    assert main([str(path), "--receipt", "ab" * 32]) == 3
    assert main([str(path), "--receipt", "xyz"]) == 2


def _drop(b):
    del b["entries"][1]


def _dup(b):
    b["entries"].insert(2, copy.deepcopy(b["entries"][0]))


def _no_reason(b):
    del b["entries"][3]["reason"]


def _empty_reason(b):
    b["entries"][3]["reason"] = ""


def _unknown_receipt(b):
    b["entries"][3]["receipt"] = "cd" * 32


def _count(b):
    b["count"] = 3


def _reorder(b):
    b["entries"][0], b["entries"][1] = b["entries"][1], b["entries"][0]


@pytest.mark.parametrize(("tamper", "rechain", "where"), [
    (_drop, False, "entries[1].seq"),
    (_drop, True, "count"),
    (_dup, True, "entries[2].receipt"),
    (_no_reason, False, "entries[3].reason"),
    (_empty_reason, True, "entries[3].reason"),
    (_unknown_receipt, True, "entries[3].receipt"),
    (_count, False, "count"),
    (_reorder, False, "entries[0].seq"),
    (_reorder, True, "checkpoints[0]"),
])
def test_cli_rejects_a_tampered_board(tmp_path: Path, capsys, tamper, rechain, where) -> None:
    """A dropped entry, a duplicate receipt, an exclusion without a reason or of an unknown
    receipt, a changed count and a reordered chain are each rejected, with the place named;
    re-hashing the chain does not help (the count or the signed checkpoint gives it away)."""
    board = copy.deepcopy(_vector()["board"])
    tamper(board)
    if rechain:
        cps = board["checkpoints"]
        _rechain(board)
        board["checkpoints"] = cps
    assert main([str(_write(tmp_path, board))]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"INVALID at {where}:"), out


def test_a_rechained_board_without_its_checkpoint_fails_against_a_kept_one(tmp_path: Path,
                                                                           capsys) -> None:
    """An observer kept the checkpoint; the operator drops an entry, re-hashes, strips the
    checkpoints and fixes the count: the kept checkpoint still catches it."""
    v = _vector()
    kept = tmp_path / "kept.jsonl"
    kept.write_text(json.dumps(v["board"]["checkpoints"][0]) + "\n")
    board = copy.deepcopy(v["board"])
    del board["entries"][0]
    _rechain(board)
    board["count"] = 1
    assert main([str(_write(tmp_path, board))]) == 0
    capsys.readouterr()
    assert main([str(_write(tmp_path, board)), "--checkpoints", str(kept)]) == 1
    assert "does not pass through this signed checkpoint" in capsys.readouterr().out


def test_unknown_fields_and_bad_receipts_are_refused() -> None:
    board = copy.deepcopy(_vector()["board"])
    board["entries"][0]["name"] = "Anna"
    with pytest.raises(InvalidBoard) as err:
        verify_board(board)
    assert err.value.location == "entries[0]"
    board = copy.deepcopy(_vector()["board"])
    board["entries"][0]["receipt"] = board["entries"][0]["receipt"].upper()
    with pytest.raises(InvalidBoard) as err:
        verify_board(board)
    assert err.value.location == "entries[0].receipt"


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main([str(bad)]) == 2
    assert main([str(tmp_path / "missing.json")]) == 2


def _recount(tmp_path: Path, board: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    # -I: isolated mode, no user site, no PYTHONPATH; run from an empty directory so nothing
    # of the portal is importable even by accident.
    return subprocess.run([sys.executable, "-I", str(RECOUNT), str(_write(tmp_path, board))],  # noqa: S603
                          capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False)


def test_independent_recount_imports_only_hashlib_and_json(tmp_path: Path) -> None:
    imports = {line.split()[1] for line in RECOUNT.read_text().splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= {"hashlib", "json", "sys"}
    done = _recount(tmp_path, _vector()["board"])
    assert (done.returncode, done.stdout.strip()) == (0, "2")
    board = copy.deepcopy(_vector()["board"])
    board["count"] = 3
    assert _recount(tmp_path, board).returncode == 1
