"""The threshold-trustee vectors (tests/vectors/threshold-trustees-v1.json) are reproduced exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nacl import bindings as nb

from referendum_core.crypto import dkg
from referendum_core.crypto import group as g
from referendum_core.crypto.keys import TrusteeSecret
from referendum_core.crypto.tally import aggregate_from_json, partial_decrypt

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
DATA = json.loads((VECTORS / "threshold-trustees-v1.json").read_text(encoding="utf-8"))
PARAMS = dkg.Params(DATA["election_id"], DATA["t"], DATA["n"])


def fixed(scalars: list[str]) -> g.ScalarSource:
    it = iter(scalars)
    return lambda: bytes.fromhex(next(it))


def test_generator_is_deterministic_and_file_is_current() -> None:
    run = subprocess.run(
        [sys.executable, str(VECTORS / "generate_threshold.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


def test_commit_and_reveal_from_the_drawn_scalars() -> None:
    for t in DATA["trustees"]:
        state, commit = dkg.commit(PARAMS, t["index"], f"Trustee {t['index']}", fixed(
            t["commit_draws"]))
        assert g.canonical(state.reveal).decode() == t["reveal_canonical"]
        assert commit["hash"] == t["commit_hash"] == dkg.message_hash(state.reveal)
        assert DATA["transcript"]["reveals"][t["index"] - 1] == state.reveal


def test_sealed_shares_are_libsodium_sealed_boxes() -> None:
    """Each vector box is the one-time-key construction, and libsodium's own opener opens it."""
    by_index = {t["index"]: t for t in DATA["trustees"]}
    wrong = {(2, 3), (4, 1)}
    for message in DATA["transcript"]["shares"]:
        i = message["index"]
        seeds = iter(by_index[i]["shares_draws"])
        for e in message["shares"]:
            j = e["to"]
            recipient = by_index[j]
            seed = bytes.fromhex(recipient["commit_draws"][PARAMS.t])
            pk, sk = nb.crypto_box_seed_keypair(seed)
            assert pk.hex() == recipient["transport_public_key"]
            plain = nb.crypto_box_seal_open(bytes.fromhex(e["ciphertext"]), pk, sk)
            share = json.loads(plain)["share"]
            correct = by_index[i]["shares"][str(j)]
            assert (share != correct) == ((i, j) in wrong)
            assert dkg.seal(pk, plain, bytes.fromhex(next(seeds))).hex() == e["ciphertext"]


def test_outcome_keys_and_lagrange() -> None:
    assert dkg.message_hash(DATA["transcript"]) == DATA["transcript_sha256"]
    outcome = dkg.evaluate(DATA["transcript"])
    want = DATA["outcome"]
    assert outcome.qualified == want["qualified"]
    assert {str(i): r for i, r in outcome.disqualified.items()} == want["disqualified"]
    assert outcome.public_key.hex() == want["public_key"]
    assert {str(j): y.hex() for j, y in outcome.verification_keys.items()} == want[
        "verification_keys"]
    shares = {t["index"]: t["shares"] for t in DATA["trustees"]}
    for j, x in want["secrets"].items():
        # x_j = Σ_{i∈Q} P_i(j), with the answered (correct) share where a complaint was made.
        total = sum(g.scalar_to_int(bytes.fromhex(shares[i][j])) for i in outcome.qualified)
        assert g.scalar_from_int(total).hex() == x
    for case in DATA["lagrange"]:
        got = dkg.lagrange_at_zero(case["set"])
        assert {str(j): v.hex() for j, v in got.items()} == case["coefficients"]


def test_partial_decryptions_and_combination() -> None:
    d = DATA["decryption"]
    agg = aggregate_from_json(d["aggregate"], 2)
    eh = bytes.fromhex(d["election_hash"])
    ds = {}
    for j in d["set"]:
        x = bytes.fromhex(DATA["outcome"]["secrets"][str(j)])
        y = bytes.fromhex(DATA["outcome"]["verification_keys"][str(j)])
        secret = TrusteeSecret(DATA["election_id"], f"Trustee {j}", x, y)
        shares = partial_decrypt(secret, eh, agg, fixed(d["partial_draws"][str(j)]))
        assert shares == d["partials"][str(j)]
        ds[j] = [bytes.fromhex(s["D"]) for s in shares]
    assert [p.hex() for p in dkg.combine_partials(ds, PARAMS.t, 2)] == d["combined"]
    assert d["result"] == d["plaintexts"]


def test_signatures_from_the_drawn_scalars() -> None:
    """Each signed message is ``sign_message`` of its body with the recorded ``w``."""
    for t in DATA["trustees"]:
        i = t["index"]
        state, _ = dkg.commit(PARAMS, i, f"Trustee {i}", fixed(t["commit_draws"]))
        for name, draws in (("shares", t["shares_draws"][-1:]),
                            ("complaints", t["complaints_draws"]),
                            ("answers", t.get("answers_draws", []))):
            sent = [m for m in DATA["transcript"][name] if m["index"] == i]
            if not sent:
                assert not draws
                continue
            body = {k: v for k, v in sent[0].items() if k != "signature"}
            assert dkg.sign_message(state, body, fixed(draws)) == sent[0]
