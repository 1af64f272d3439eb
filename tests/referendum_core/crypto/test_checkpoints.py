"""Signed checkpoints (docs/spec/checkpoints.md): the byte encoding and its test vector, strict
parsing, contradictions, and witnessed board heads in the record verifier — a ballot dropped
and re-tallied with the trustee keys is caught by a checkpoint taken before it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import encrypt_ballot
from referendum_core.crypto.checkpoint import (
    AUDIT_LOG,
    CheckpointSigner,
    InvalidCheckpoint,
    board_log,
    contradictions,
    load_master_key,
    parse_checkpoint,
    read_checkpoints,
    signed_message,
    verify_checkpoint,
)
from referendum_core.crypto.exceptions import CryptoError
from referendum_core.crypto.keys import generate_trustee_key
from referendum_core.crypto.manifest import build_manifest, context_from_manifest
from referendum_core.crypto.record import RecordBuilder, write_record
from referendum_core.crypto.simulate import DEFAULT_QUESTION
from referendum_core.crypto.tally import partial_decrypt
from referendum_core.crypto.verify import verify_record, verify_record_file
from referendum_core.crypto.verify_cli import main as verify_main
from referendum_core.crypto.witness import BoardWitness, WitnessFailure

SPEC = Path(__file__).resolve().parents[3] / "docs" / "spec" / "checkpoints.md"
MASTER = bytes(range(32))


def _vector() -> dict[str, Any]:
    match = re.search(r"```json checkpoint-vector\n(.*?)```", SPEC.read_text(), re.S)
    assert match, "the spec's test vector block is missing"
    return json.loads(match.group(1))


def test_spec_vector_bytes_key_and_signature() -> None:
    v = _vector()
    master = bytes.fromhex(v["master_private_key"])
    message = signed_message(v["log"], v["seq"], v["head"], v["at"])
    assert message.hex() == v["message_hex"]
    assert message.startswith(b"referendum-checkpoint/1\n{")
    signer = CheckpointSigner.derive(master, v["log"])
    seed_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["derived_seed"]))
    assert seed_key.public_key().public_bytes_raw().hex() == signer.public_key
    checkpoint = signer.sign(v["seq"], v["head"], v["at"])
    assert checkpoint.to_json() == v["checkpoint"]
    verify_checkpoint(parse_checkpoint(v["checkpoint"]), v["checkpoint"]["key"])


def test_signature_covers_every_field_and_only_the_trusted_key_counts() -> None:
    signer = CheckpointSigner.derive(MASTER, AUDIT_LOG)
    good = signer.sign(5, "11" * 32, "2026-12-07T08:00:00Z").to_json()
    verify_checkpoint(parse_checkpoint(good), signer.public_key)
    for field, value in (("seq", 6), ("head", "12" * 32), ("at", "2026-12-07T08:00:01Z"),
                         ("log", "board:x")):
        forged = parse_checkpoint({**good, field: value})
        with pytest.raises(InvalidCheckpoint, match="does not verify"):
            verify_checkpoint(forged, signer.public_key)
    other = CheckpointSigner.derive(bytes(32), AUDIT_LOG)
    by_other = other.sign(5, "11" * 32, "2026-12-07T08:00:00Z")
    with pytest.raises(InvalidCheckpoint, match="another key"):
        verify_checkpoint(by_other, signer.public_key)


def test_keys_differ_per_log() -> None:
    keys = {CheckpointSigner.derive(MASTER, name).public_key
            for name in (AUDIT_LOG, board_log("a"), board_log("b"))}
    assert len(keys) == 3


@pytest.mark.parametrize("change", [
    {"seq": True}, {"seq": 1.0}, {"seq": -1}, {"head": "AB" * 32}, {"head": "ab"},
    {"at": "2026-12-07T08:00:00+00:00"}, {"at": "2026-12-07T08:00:00.5Z"},
    {"at": "2026-02-30T08:00:00Z"}, {"log": "Audit"}, {"log": "a b"}, {"extra": 1},
    {"key": "00"}, {"signature": "0" * 127},
])
def test_parse_is_strict(change: dict[str, Any]) -> None:
    good = CheckpointSigner.derive(MASTER, AUDIT_LOG).sign(1, "aa" * 32,
                                                           "2026-12-07T08:00:00Z").to_json()
    with pytest.raises(InvalidCheckpoint):
        parse_checkpoint({**good, **change})


def test_contradictions_same_seq_and_shrinking() -> None:
    signer = CheckpointSigner.derive(MASTER, AUDIT_LOG)
    a = signer.sign(10, "aa" * 32, "2026-12-07T08:00:00Z")
    b = signer.sign(10, "bb" * 32, "2026-12-07T08:05:00Z")
    c = signer.sign(12, "cc" * 32, "2026-12-07T08:10:00Z")
    d = signer.sign(11, "dd" * 32, "2026-12-07T08:15:00Z")
    assert contradictions([a, c]) == []
    [same] = contradictions([a, b])
    assert "two different heads" in same.reason and a.line() in same.render()
    [shrunk] = contradictions([a, c, d])
    assert "cut back" in shrunk.reason and {shrunk.first, shrunk.second} == {c, d}


def test_master_key_file_is_made_once_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "checkpoint.pem"
    with pytest.raises(FileNotFoundError):
        load_master_key(path, create=False)
    first = load_master_key(path, create=True)
    assert load_master_key(path, create=False) == first and len(first) == 32
    assert path.stat().st_mode & 0o077 == 0
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")


# --------------------------------------------------------------------------- witnessed board


class Election:
    """A small election with a checkpoint key, its trustees' secrets and its ballots."""

    def __init__(self, voters: int = 6) -> None:
        rng = g.deterministic_scalars("checkpoint-tests")
        self.election_id = "8d2c6b1e-5b7a-4c2e-9f0e-3a1b2c3d4e5f"
        self.signer = CheckpointSigner.derive(MASTER, board_log(self.election_id))
        secrets, publics = [], []
        for i in range(2):
            s, p = generate_trustee_key(self.election_id, f"Trustee {i + 1}", rng)
            secrets.append(s)
            publics.append(p)
        self.secrets, self.rng = secrets, rng
        self.manifest = build_manifest(
            election_id=self.election_id, municipality="0001000", question=DEFAULT_QUESTION,
            opens_at="2026-03-01T07:00:00Z", closes_at="2026-03-14T18:00:00Z", revoting=True,
            trustees=publics, checkpoint_key=self.signer.public_key)
        ctx = context_from_manifest(self.manifest)
        self.casts = [(f"voter-{i}", encrypt_ballot(ctx, f"voter-{i}", [i % 2, 1 - i % 2],
                                                    rng).ballot,
                       f"2026-03-0{2 + i}T08:00:00Z") for i in range(voters)]

    def record(self, casts: list[tuple[str, dict[str, Any], str]], *,
               checkpoint_after: tuple[int, ...] = ()) -> tuple[dict[str, Any], list[Any]]:
        """A tallied record of ``casts`` (checkpoints signed after the given counts)."""
        builder = RecordBuilder(self.manifest)
        for n, (alias, ballot, at) in enumerate(casts, 1):
            builder.cast(alias, ballot, at)
            if n in checkpoint_after:
                builder.sign_checkpoint(self.signer, at)
        agg = builder.aggregate()
        for i, secret in enumerate(self.secrets):
            builder.add_decryption(i, partial_decrypt(secret, builder.context.election_hash,
                                                      agg, self.rng))
        return builder.record(), builder.checkpoints


@pytest.fixture(scope="module")
def election() -> Election:
    return Election()


def test_record_with_checkpoints_verifies_v1_manifest_still_does(election: Election) -> None:
    record, checkpoints = election.record(election.casts, checkpoint_after=(2, 4, 6))
    assert len(checkpoints) == 3 and record["checkpoints"] == checkpoints
    summary = verify_record(record)
    assert summary.witnessed_heads == 3
    v1 = dict(election.manifest)
    del v1["checkpoint_key"]
    builder = RecordBuilder(v1)
    builder.cast("voter-0", encrypt_ballot(builder.context, "voter-0", [1, 0],
                                           election.rng).ballot, "2026-03-02T08:00:00Z")
    builder.add_decryption(0, partial_decrypt(election.secrets[0],
                                              builder.context.election_hash,
                                              builder.aggregate(), election.rng))
    builder.add_decryption(1, partial_decrypt(election.secrets[1],
                                              builder.context.election_hash,
                                              builder.aggregate(), election.rng))
    assert verify_record(builder.record()).witnessed_heads == 0


def test_dropped_ballot_retallied_is_caught_by_an_earlier_checkpoint(election: Election,
                                                                     tmp_path: Path,
                                                                     capsys: Any) -> None:
    """The key holders drop ballot 2 and re-tally with the trustee keys: the new record is
    consistent on its own, but the checkpoint an observer kept after 3 ballots is not on it."""
    honest, kept = election.record(election.casts, checkpoint_after=(3,))
    dropped = [c for n, c in enumerate(election.casts) if n != 1]
    forged, _ = election.record(dropped)
    assert verify_record(forged).counted == len(dropped)  # valid without witnesses
    with pytest.raises(WitnessFailure, match="does not pass through") as err:
        verify_record(forged, witness=BoardWitness(external=kept))
    assert err.value.location == "--checkpoints[0]"
    assert "PROOF OF MISBEHAVIOUR" in err.value.proofs[0]
    # ... and by a bare head copied by hand, through the command line.
    path = tmp_path / "forged.json"
    with open(path, "w", encoding="utf-8") as fp:
        write_record(forged, fp)
    kept_file = tmp_path / "kept.json"
    kept_file.write_text(json.dumps(kept))
    assert verify_main([str(path), "--jobs", "1", "--checkpoints", str(kept_file)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "PROOF OF MISBEHAVIOUR" in out and kept[0]["signature"] in out
    seq, head = kept[0]["seq"], kept[0]["head"]
    assert verify_main([str(path), "--jobs", "1", "--expect-head", f"{seq}:{head}"]) == 1
    assert "does not pass through" in capsys.readouterr().out
    honest_path = tmp_path / "honest.json"
    with open(honest_path, "w", encoding="utf-8") as fp:
        write_record(honest, fp)
    assert verify_main([str(honest_path), "--jobs", "1", "--checkpoints", str(kept_file),
                        "--expect-head", f"{seq}:{head}", "--expect-head",
                        f"0:{'0' * 64}"]) == 0
    assert "witnessed heads      4" in capsys.readouterr().out


def test_resigned_record_contradicts_the_kept_checkpoint(election: Election,
                                                         capsys: Any, tmp_path: Path) -> None:
    """The key holder also re-signs checkpoints for the forged board: with the observer's copy
    there are two signed heads at the same seq, printed as a proof of misbehaviour."""
    _, kept = election.record(election.casts, checkpoint_after=(3,))
    dropped = [c for n, c in enumerate(election.casts) if n != 1]
    forged, own = election.record(dropped, checkpoint_after=(3,))
    assert verify_record(forged).witnessed_heads == 1
    with pytest.raises(WitnessFailure, match="contradict") as err:
        verify_record(forged, witness=BoardWitness(external=kept))
    assert kept[0]["signature"] in err.value.proofs[0]
    assert own[0]["signature"] in err.value.proofs[0]


def test_a_kept_checkpoint_that_is_not_a_prefix_of_the_signed_board(election: Election) -> None:
    """The observer kept the checkpoint after 3 ballots; the key holder later signs the forged
    board (ballot 2 dropped) at 5 ballots: both signed, the first not a prefix of the second."""
    _, kept = election.record(election.casts, checkpoint_after=(3,))
    dropped = [c for n, c in enumerate(election.casts) if n != 1]
    forged, own = election.record(dropped, checkpoint_after=(5,))
    with pytest.raises(WitnessFailure) as err:
        verify_record(forged, witness=BoardWitness(external=kept))
    [proof] = err.value.proofs
    assert "not a prefix" in proof
    assert kept[0]["signature"] in proof and own[0]["signature"] in proof


def test_truncated_board_and_bad_checkpoints_in_the_record(election: Election,
                                                           tmp_path: Path) -> None:
    _, kept = election.record(election.casts, checkpoint_after=(6,))
    shorter, _ = election.record(election.casts[:4])
    with pytest.raises(WitnessFailure, match="fewer than the 6"):
        verify_record(shorter, witness=BoardWitness(external=kept))
    record, own = election.record(election.casts, checkpoint_after=(2,))
    tampered = {**record, "checkpoints": [{**own[0], "head": "ee" * 32}]}
    with pytest.raises(CryptoError, match="does not verify") as err:
        verify_record(tampered)
    assert err.value.location == "checkpoints[0].signature"
    other = CheckpointSigner.derive(bytes(32), board_log(election.election_id))
    foreign = {**record, "checkpoints": [other.sign(2, own[0]["head"], own[0]["at"]).to_json()]}
    with pytest.raises(CryptoError, match="another key"):
        verify_record(foreign)
    with pytest.raises(CryptoError, match="must be a list"):
        verify_record({**record, "checkpoints": {"seq": 1}})
    # Streaming with the checkpoints after the board (another writer's layout): second pass.
    path = tmp_path / "late.json"
    path.write_text(json.dumps({k: record[k] for k in sorted(record)}))
    assert verify_record_file(str(path)).witnessed_heads == 1


def test_cli_refuses_bad_usage(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("{}")
    assert verify_main([str(path), "--expect-head", "12:xyz"]) == 2
    assert verify_main([str(path), "--checkpoints", str(tmp_path / "missing.json")]) == 2


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000,
                                  '{"log": "x"}\n' + "[" * 100_000 + "]" * 100_000])
def test_a_checkpoints_file_nested_too_deep_is_not_json_not_a_crash(text):
    """Observers run the verifier on files from anywhere: a deep one is refused, located."""
    with pytest.raises(InvalidCheckpoint):
        read_checkpoints(text)
