"""Record v2 with t-of-n trustees: simulated records verify, and tampering is caught where it is."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from referendum_core.crypto import dkg
from referendum_core.crypto import group as g
from referendum_core.crypto.exceptions import CryptoError
from referendum_core.crypto.manifest import election_hash
from referendum_core.crypto.simulate import run_key_generation, simulate
from referendum_core.crypto.verify import verify_record


@pytest.fixture(scope="module")
def cheat_absent() -> Any:
    return simulate(12, 5, threshold=3, cheat_share=2, absent=(4,), seed="thr-record")


@pytest.fixture(scope="module")
def all_decrypt() -> Any:
    return simulate(12, 5, threshold=3, seed="thr-all")


@pytest.fixture(scope="module")
def empty() -> Any:
    """No ballot: the manifest can be altered and re-hashed without re-encrypting anything."""
    return simulate(0, 5, threshold=3, cheat_share=2, seed="thr-empty")


def refuses(record: dict[str, Any], where: str, match: str = "") -> CryptoError:
    with pytest.raises(CryptoError) as err:
        verify_record(record)
    assert err.value.location == where, str(err.value)
    assert match in str(err.value)
    return err.value


def rehash(record: dict[str, Any]) -> dict[str, Any]:
    """Make the manifest commit to the (altered) transcript again, as a forger would."""
    m = record["manifest"]
    m["threshold"]["dkg_transcript"] = dkg.message_hash(record["dkg"])
    record["election_hash"] = election_hash(m).hex()
    return record


def test_cheater_and_absentee_are_reported(cheat_absent: Any) -> None:
    summary = verify_record(cheat_absent.record)
    th = summary.threshold
    assert (th.t, th.n) == (3, 5)
    assert th.qualified == [1, 3, 4, 5]
    assert th.disqualified == {2: "the share it revealed for trustee 3 is wrong"}
    assert th.decrypted_by == [1, 3, 5]
    assert list(summary.result.values()) == cheat_absent.expected
    text = summary.render()
    assert "trustee 2 disqualified" in text
    assert "did not decrypt:   trustees [4]" in text
    assert [e["index"] for e in cheat_absent.record["manifest"]["trustees"]] == [1, 3, 4, 5]


def test_invalid_partial_decryption_is_skipped_while_t_remain(all_decrypt: Any) -> None:
    record = copy.deepcopy(all_decrypt.record)
    share = record["tally"]["decryptions"][1]["shares"][0]
    share["response"] = g.s_add(g.parse_scalar(share["response"]), g.ONE).hex()
    summary = verify_record(record)
    assert summary.threshold.decrypted_by == [1, 3, 4, 5]
    assert list(summary.threshold.skipped) == [2]
    assert "equal-logarithms proof fails" in summary.threshold.skipped[2]
    assert list(summary.result.values()) == all_decrypt.expected


def test_simulated_bad_decryption_is_skipped() -> None:
    sim = simulate(6, 4, threshold=2, bad_decryption=1, absent=(2,), seed="thr-bad")
    summary = verify_record(sim.record)
    assert summary.threshold.decrypted_by == [3, 4]
    assert list(summary.threshold.skipped) == [1]


def test_fewer_than_t_valid_partial_decryptions_fail(cheat_absent: Any) -> None:
    record = copy.deepcopy(cheat_absent.record)
    share = record["tally"]["decryptions"][0]["shares"][1]
    share["D"] = g.BASE.hex()
    refuses(record, "tally.decryptions", "2 valid partial decryptions, the threshold is 3")


def test_decryption_by_a_disqualified_trustee_is_refused(cheat_absent: Any) -> None:
    record = copy.deepcopy(cheat_absent.record)
    record["tally"]["decryptions"][0]["trustee"] = 2
    refuses(record, "tally.decryptions[0].trustee")


def test_wrong_result_is_refused(cheat_absent: Any) -> None:
    record = copy.deepcopy(cheat_absent.record)
    record["tally"]["result"][0] += 1
    refuses(record, "tally.result[0]")


def test_transcript_changed_without_the_manifest(cheat_absent: Any) -> None:
    record = copy.deepcopy(cheat_absent.record)
    record["dkg"]["commits"][0]["name"] = "Someone else"
    refuses(record, "dkg", "hash differs")


def test_missing_transcript(cheat_absent: Any) -> None:
    record = copy.deepcopy(cheat_absent.record)
    del record["dkg"]
    refuses(record, "dkg", "needs the key generation")


def test_dropping_the_complaint_does_not_requalify_the_cheater(empty: Any) -> None:
    record = copy.deepcopy(empty.record)
    record["dkg"]["complaints"][2]["against"] = []
    refuses(rehash(record), "dkg.complaints[2].signature", "signature does not verify")


def test_reveal_swapped_after_commit_disqualifies(empty: Any) -> None:
    record = copy.deepcopy(empty.record)
    record["dkg"]["reveals"][0]["coefficients"][0] = g.BASE.hex()
    refuses(rehash(record), "dkg.shares[0]", "trustee 1 has no accepted reveal")


def test_verification_keys_of_another_key_generation(empty: Any) -> None:
    """A valid transcript of a second key generation (same trustees, same election) cannot be
    put under the manifest's keys."""
    record = copy.deepcopy(empty.record)
    params = dkg.Params(record["manifest"]["election_id"], 3, 5)
    transcript, _secrets, _ = run_key_generation(
        params, g.deterministic_scalars("second"), cheat_share=2
    )
    record["dkg"] = transcript
    refuses(rehash(record), "manifest.trustees[0].verification_key", "Σ_{i∈Q}")


def test_manifest_key_off_the_polynomial(empty: Any) -> None:
    record = copy.deepcopy(empty.record)
    record["manifest"]["trustees"][3]["verification_key"] = g.BASE.hex()
    record["election_hash"] = election_hash(record["manifest"]).hex()
    refuses(record, "manifest.trustees[3].verification_key", "not on the polynomial")


def test_manifest_public_key_not_the_combined_key(empty: Any) -> None:
    record = copy.deepcopy(empty.record)
    record["manifest"]["public_key"] = g.BASE.hex()
    record["election_hash"] = election_hash(record["manifest"]).hex()
    refuses(record, "manifest.public_key", "combined key")


def test_manifest_with_fewer_than_t_trustees(empty: Any) -> None:
    record = copy.deepcopy(empty.record)
    record["manifest"]["trustees"] = record["manifest"]["trustees"][:2]
    refuses(record, "manifest.trustees", "at least t = 3")


def test_v1_record_still_verifies() -> None:
    sim = simulate(5, 2, seed="v1-still")
    summary = verify_record(sim.record)
    assert summary.threshold is None
    assert "threshold" not in sim.record["manifest"]
