"""Cast as intended, from the command line: ``referendum-verify --tracker T --randomness …``
opens the ballot actually on the board with the voter's randomness and names its choice."""

from __future__ import annotations

from typing import Any

import pytest

from referendum_core.crypto.ballot import encrypt_ballot, open_with_randomness
from referendum_core.crypto.exceptions import CryptoError
from referendum_core.crypto.keys import generate_trustee_key
from referendum_core.crypto.manifest import build_manifest
from referendum_core.crypto.record import RecordBuilder, write_record
from referendum_core.crypto.simulate import DEFAULT_QUESTION
from referendum_core.crypto.tally import partial_decrypt
from referendum_core.crypto.verify_cli import main as verify_cli


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    secret, public = generate_trustee_key("cai-election", "T1")
    manifest = build_manifest(election_id="cai-election", municipality="0001000",
                              question=DEFAULT_QUESTION, opens_at="2026-03-01T07:00:00Z",
                              closes_at="2026-03-14T18:00:00Z", revoting=True,
                              trustees=[public])
    b = RecordBuilder(manifest)
    first = encrypt_ballot(manifest, "v-a", [1, 0])
    b.cast("v-a", first.ballot, "2026-03-02T10:00:00Z")
    other = encrypt_ballot(manifest, "v-b", [0, 1])
    b.cast("v-b", other.ballot, "2026-03-02T10:00:01Z")
    again = encrypt_ballot(manifest, "v-a", [0, 1])
    b.cast("v-a", again.ballot, "2026-03-02T10:05:00Z")
    b.add_decryption(0, partial_decrypt(secret, b.context.election_hash, b.aggregate()))
    path = tmp_path_factory.mktemp("cai") / "record.json"
    with open(path, "w", encoding="utf-8") as fp:
        write_record(b.record(), fp)
    return {"path": str(path), "first": first, "other": other, "again": again,
            "context": b.context}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = verify_cli([*args, "--jobs", "1"])
    return rc, capsys.readouterr().out


def _r(enc: Any) -> str:
    return ",".join(r.hex() for r in enc.randomness)


def test_randomness_opens_the_cast_ballot(election: dict[str, Any],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, election["path"], "--tracker", election["again"].tracker,
                  "--randomness", _r(election["again"]))
    assert rc == 0, out
    assert "found at board[2] (counted)" in out and "the ballot selects: no" in out
    rc, out = run(capsys, election["path"], "--tracker", election["first"].tracker,
                  "--randomness", _r(election["first"]))
    assert rc == 0 and "(superseded)" in out and "the ballot selects: yes" in out


def test_wrong_randomness_is_reported_not_a_choice(election: dict[str, Any],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = run(capsys, election["path"], "--tracker", election["again"].tracker,
                  "--randomness", _r(election["other"]))
    assert rc == 4, out
    assert "DOES NOT OPEN" in out and "selects" not in out
    rc, _ = run(capsys, election["path"], "--randomness", _r(election["other"]))
    assert rc == 2
    rc, _ = run(capsys, election["path"], "--tracker", election["again"].tracker,
                "--randomness", "zz")
    assert rc == 2


def test_open_with_randomness_refuses_a_beta_that_is_not_a_vote(
        election: dict[str, Any]) -> None:
    """A tampered beta (neither r·Y nor r·Y + B) is an error, never a choice."""
    enc = election["again"]
    alphas = [bytes.fromhex(c["alpha"]) for c in enc.ballot["choices"]]
    betas = [bytes.fromhex(c["beta"]) for c in enc.ballot["choices"]]
    rs = [r.hex() for r in enc.randomness]
    assert open_with_randomness(election["context"], alphas, betas, rs) == [0, 1]
    with pytest.raises(CryptoError) as err:
        open_with_randomness(election["context"], alphas, [betas[1], betas[1]], rs)
    assert err.value.location == "randomness[0]"
