"""The shared vectors (tests/vectors/election-record-v1.json) are reproduced exactly in Python."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import (
    audit_opening,
    encrypt_ballot,
    verify_audited,
    verify_ballot,
)
from referendum_core.crypto.board import EMPTY_HEAD, board_head
from referendum_core.crypto.keys import TrusteeSecret, generate_trustee_key
from referendum_core.crypto.manifest import context_from_manifest, election_hash
from referendum_core.crypto.tally import aggregate_from_json, partial_decrypt
from referendum_core.crypto.verify import verify_record

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
DATA = json.loads((VECTORS / "election-record-v1.json").read_text(encoding="utf-8"))
ELECTIONS = sorted(DATA["elections"])


def fixed(scalars: list[str]) -> g.ScalarSource:
    it = iter(scalars)
    return lambda: bytes.fromhex(next(it))


def test_generator_is_deterministic_and_file_is_current() -> None:
    run = subprocess.run(
        [sys.executable, str(VECTORS / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


def test_group_constants() -> None:
    assert int(DATA["group"]["L"]) == g.L
    assert DATA["group"]["base"] == g.BASE.hex()
    assert DATA["group"]["identity"] == g.IDENTITY.hex()
    assert g.frame(b"abc").hex() == DATA["group"]["frame_example"]["framed_hex"]


def test_hash_to_scalar() -> None:
    for case in DATA["hash_to_scalar"]:
        items = [
            bytes.fromhex(i["hex"]) if "hex" in i else i["str"] if "str" in i else i["int"]
            for i in case["items"]
        ]
        assert g.hash_to_scalar(case["tag"], *items).hex() == case["scalar"]


@pytest.mark.parametrize("key", ELECTIONS)
def test_trustee_keys(key: str) -> None:
    e = DATA["elections"][key]
    for t in e["trustees"]:
        secret, public = generate_trustee_key(
            e["manifest"]["election_id"], t["public"]["name"], fixed(t["randomness"])
        )
        assert public == t["public"]
        assert secret.secret.hex() == t["secret"]


@pytest.mark.parametrize("key", ELECTIONS)
def test_ballots_audits_and_board(key: str) -> None:
    e = DATA["elections"][key]
    ctx = context_from_manifest(e["manifest"])
    assert election_hash(e["manifest"]).hex() == e["election_hash"]
    head = EMPTY_HEAD
    assert e["board_heads"][0] == head.hex()
    for n, b in enumerate(e["ballots"]):
        enc = encrypt_ballot(ctx, b["alias"], b["plaintext"], fixed(b["randomness"]))
        assert enc.ballot == b["ballot"]
        assert enc.tracker == b["tracker"]
        assert audit_opening(enc) == b["audit"]
        assert verify_ballot(ctx, b["alias"], b["ballot"]) == b["tracker"]
        assert verify_audited(ctx, b["audit"]) == (b["tracker"], b["plaintext"])
        head = board_head(head, bytes.fromhex(b["tracker"]))
        assert head.hex() == e["board_heads"][n + 1]
    assert verify_audited(ctx, e["audited"]["revealed"])[0] == e["audited"]["tracker"]


@pytest.mark.parametrize("key", ELECTIONS)
def test_tally_shares_and_record(key: str) -> None:
    e = DATA["elections"][key]
    ctx = context_from_manifest(e["manifest"])
    agg = aggregate_from_json(e["tally"]["aggregate"], ctx.n_choices)
    for d, t in zip(e["tally"]["decryptions"], e["trustees"], strict=True):
        secret = TrusteeSecret(
            ctx.election_id,
            t["public"]["name"],
            bytes.fromhex(t["secret"]),
            ctx.trustee_keys[d["trustee"]],
        )
        assert (
            partial_decrypt(secret, ctx.election_hash, agg, fixed(d["randomness"])) == d["shares"]
        )
    summary = verify_record(e["record"])
    assert list(summary.result.values()) == e["tally"]["result"]
    assert summary.counted == e["tally"]["counted"]
