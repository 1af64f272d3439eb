"""Distributed key generation and t-of-n decryption (docs/spec/threshold-trustees.md)."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from referendum_core.crypto import dkg
from referendum_core.crypto import group as g
from referendum_core.crypto.exceptions import CryptoError, DecryptionError
from referendum_core.crypto.keys import TrusteeSecret
from referendum_core.crypto.simulate import run_key_generation
from referendum_core.crypto.tally import (
    partial_decrypt,
    recover_result,
    verify_partial_decryption,
)

EH = bytes(range(32))


def encrypt_counts(y: g.Point, counts: list[int], seed: str) -> list[tuple[g.Point, g.Point]]:
    """An aggregate as the tally has it: ``(r·B, r·Y + m·B)`` per choice."""
    rng = g.deterministic_scalars(seed)
    out = []
    for m in counts:
        r = rng()
        out.append((g.base_mul(r), g.add(g.mul(r, y), g.base_mul(g.scalar_from_int(m)))))
    return out


def rounds(params: dkg.Params, seed: str) -> tuple[dict[str, Any], list[dkg.DealerState]]:
    """Commit and reveal of every trustee."""
    transcript = dkg.empty_transcript(params)
    rng = g.deterministic_scalars(seed)
    states = []
    for i in range(1, params.n + 1):
        state, message = dkg.commit(params, i, f"T{i}", rng)
        states.append(state)
        dkg.add_message(transcript, message)
    for s in states:
        dkg.add_message(transcript, dkg.reveal(s))
    return transcript, states


@pytest.fixture(scope="module")
def five() -> tuple[dict[str, Any], dict[int, TrusteeSecret], dkg.Outcome]:
    return run_key_generation(dkg.Params("e-five", 3, 5), g.deterministic_scalars("five"))


def partials(
    secrets: dict[int, TrusteeSecret], agg: list[tuple[g.Point, g.Point]]
) -> dict[int, list[g.Point]]:
    rng = g.deterministic_scalars("partials")
    out = {}
    for j, s in secrets.items():
        shares = partial_decrypt(s, EH, agg, rng)
        out[j] = verify_partial_decryption(EH, s.public_key, agg, shares)
    return out


def test_every_three_of_five_decrypts_the_same(five: Any) -> None:
    _transcript, secrets, outcome = five
    assert outcome.qualified == [1, 2, 3, 4, 5]
    agg = encrypt_counts(outcome.public_key, [7, 0, 12], "agg")
    ds = partials(secrets, agg)
    for size in (3, 4, 5):
        for subset in itertools.combinations(sorted(ds), size):
            combined = dkg.combine_partials({j: ds[j] for j in subset}, 3, len(agg))
            assert recover_result(agg, [combined], 20) == [7, 0, 12], subset


def test_no_one_holds_the_election_secret_but_t_shares_recombine_it(five: Any) -> None:
    _transcript, secrets, outcome = five
    for s in secrets.values():
        assert g.base_mul(s.secret) == outcome.verification_keys[secrets_index(secrets, s)]
        assert s.public_key != outcome.public_key
    lam = dkg.lagrange_at_zero([2, 4, 5])
    x = sum(g.scalar_to_int(lam[j]) * g.scalar_to_int(secrets[j].secret) for j in lam) % g.L
    assert g.base_mul(g.scalar_from_int(x)) == outcome.public_key


def secrets_index(secrets: dict[int, TrusteeSecret], s: TrusteeSecret) -> int:
    return next(j for j, v in secrets.items() if v is s)


def test_t_minus_one_shares_give_no_result(five: Any) -> None:
    _transcript, secrets, outcome = five
    agg = encrypt_counts(outcome.public_key, [5, 9], "agg2")
    ds = partials(secrets, agg)
    for subset in itertools.combinations(sorted(ds), 2):
        with pytest.raises(DecryptionError, match="threshold is 3"):
            dkg.combine_partials({j: ds[j] for j in subset}, 3, len(agg))
        # Interpolating two shares as if t were 2 does not give x·A either.
        wrong = dkg.combine_partials({j: ds[j] for j in subset}, 2, len(agg))
        with pytest.raises(DecryptionError):
            recover_result(agg, [wrong], 14)


def test_wrong_share_is_caught_by_complaint_and_sender_disqualified() -> None:
    transcript, secrets, outcome = run_key_generation(
        dkg.Params("e-cheat", 3, 5), g.deterministic_scalars("cheat"), cheat_share=2
    )
    complaints = {m["index"]: m["against"] for m in transcript["complaints"]}
    assert complaints == {1: [], 2: [], 3: [2], 4: [], 5: []}
    assert outcome.qualified == [1, 3, 4, 5]
    assert outcome.disqualified == {2: "the share it revealed for trustee 3 is wrong"}
    assert sorted(secrets) == [1, 3, 4, 5]
    # The disqualified dealer's polynomial is left out of Y: the rest still decrypts.
    agg = encrypt_counts(outcome.public_key, [3, 4], "agg3")
    ds = partials(secrets, agg)
    combined = dkg.combine_partials({j: ds[j] for j in (1, 4, 5)}, 3, 2)
    assert recover_result(agg, [combined], 7) == [3, 4]


def full_rounds(
    params: dkg.Params, seed: str, *, wrong: dict[int, list[int]] | None = None
) -> tuple[dict[str, Any], list[dkg.DealerState]]:
    transcript, states = rounds(params, seed)
    for s in states:
        dkg.add_message(transcript, dkg.deal_shares(s, transcript, wrong_for=(wrong or {}).get(
            s.index, [])))
    for s in states:
        dkg.add_message(transcript, dkg.check_shares(s, transcript))
    return transcript, states


def test_unanswered_complaint_disqualifies_and_honest_answer_keeps_the_trustee() -> None:
    params = dkg.Params("e-answer", 2, 4)
    transcript, states = full_rounds(params, "answer", wrong={1: [2], 3: [4]})
    # Trustee 1 answers with the correct share (a slip, now public); trustee 3 stays silent.
    dkg.add_message(transcript, dkg.answer_complaints(states[0], transcript))
    assert transcript["answers"][0]["answers"][0]["to"] == 2
    outcome = dkg.evaluate(transcript)
    assert outcome.qualified == [1, 2, 4]
    assert outcome.disqualified == {3: "did not answer the complaint of trustee 4"}
    # Trustee 2 takes the answered share from the transcript.
    secret_2, _ = dkg.finalize(states[1], transcript)
    assert g.base_mul(secret_2.secret) == outcome.verification_keys[2]


def test_too_few_qualified_stops_with_a_clear_message() -> None:
    params = dkg.Params("e-few", 3, 3)
    transcript, states = full_rounds(params, "few", wrong={1: [2]})
    outcome = dkg.evaluate(transcript)
    assert outcome.qualified == [2, 3]
    with pytest.raises(dkg.DKGError, match="only 2 trustees are qualified.*threshold is 3"):
        dkg.finalize(states[1], transcript)


def test_reveal_not_matching_its_commitment_is_refused() -> None:
    params = dkg.Params("e-commit", 2, 3)
    transcript = dkg.empty_transcript(params)
    rng = g.deterministic_scalars("commit")
    states = []
    for i in (1, 2, 3):
        state, message = dkg.commit(params, i, f"T{i}", rng)
        states.append(state)
        dkg.add_message(transcript, message)
    # Trustee 3, having seen the others' reveals, tries a polynomial chosen afterwards.
    for s in states[:2]:
        dkg.add_message(transcript, dkg.reveal(s))
    late, _ = dkg.commit(params, 3, "T3", g.deterministic_scalars("late"))
    dkg.add_message(transcript, dkg.reveal(late))
    outcome = dkg.evaluate(transcript, final=False)
    assert sorted(outcome.revealed) == [1, 2]
    assert "does not match its commitment" in outcome.disqualified[3]
    # Nobody deals it a share, and it cannot deal its own.
    shares_1 = dkg.deal_shares(states[0], transcript)
    assert [e["to"] for e in shares_1["shares"]] == [2]
    with pytest.raises(dkg.DKGError, match="not this trustee's"):
        dkg.deal_shares(late, transcript)
    # A published message cannot be replaced.
    with pytest.raises(dkg.DKGError, match="already published"):
        dkg.add_message(transcript, dkg.reveal(states[2]))


def test_reveal_with_a_bad_proof_disqualifies() -> None:
    params = dkg.Params("e-proof", 2, 3)
    transcript, _states = rounds(params, "proof")
    transcript["reveals"][1]["proofs"][1]["response"] = g.ONE.hex()
    transcript["commits"][1]["hash"] = dkg.message_hash(transcript["reveals"][1])
    outcome = dkg.evaluate(transcript, final=False)
    assert "proof of knowledge of the coefficient fails" in outcome.disqualified[2]


def test_relay_cannot_swap_alter_or_forge_signed_messages() -> None:
    """The portal relays every message; the sender's signature (key ``C_i0``) stops it from
    swapping two recipients' sealed shares, or forging a complaint that would force a share
    into the open."""
    params = dkg.Params("e-swap", 2, 3)
    transcript, states = rounds(params, "swap")
    shares = dkg.deal_shares(states[0], transcript)
    swapped = copy.deepcopy(shares)
    e = swapped["shares"]
    e[0]["ciphertext"], e[1]["ciphertext"] = e[1]["ciphertext"], e[0]["ciphertext"]
    with pytest.raises(CryptoError, match="signature does not verify"):
        dkg.add_message(transcript, swapped)
    dkg.add_message(transcript, shares)
    for s in states[1:]:
        dkg.add_message(transcript, dkg.deal_shares(s, transcript))
    forged = dkg.check_shares(states[1], transcript)
    forged["against"] = [1]
    with pytest.raises(CryptoError, match="signature does not verify"):
        dkg.add_message(transcript, forged)
    # Altered after upload: the transcript no longer evaluates.
    transcript["shares"][2]["shares"][0]["ciphertext"] = e[0]["ciphertext"]
    with pytest.raises(CryptoError) as err:
        dkg.evaluate(transcript)
    assert err.value.location == "shares[2].signature"


def test_a_trustee_refuses_a_transcript_with_its_reveal_replaced() -> None:
    params = dkg.Params("e-mitm", 2, 3)
    transcript, states = rounds(params, "mitm")
    fake, _ = dkg.commit(params, 2, "T2", g.deterministic_scalars("fake"))
    transcript["reveals"][1] = dkg.reveal(fake)
    transcript["commits"][1]["hash"] = dkg.message_hash(fake.reveal)
    with pytest.raises(dkg.DKGError, match="not this trustee's"):
        dkg.deal_shares(states[1], transcript)


def test_silent_at_check_round_is_dropped() -> None:
    params = dkg.Params("e-silent", 2, 3)
    transcript, states = rounds(params, "silent")
    for s in states:
        dkg.add_message(transcript, dkg.deal_shares(s, transcript))
    for s in states[:2]:
        dkg.add_message(transcript, dkg.check_shares(s, transcript))
    outcome = dkg.evaluate(transcript)
    assert outcome.qualified == [1, 2]
    assert "no complaints message" in outcome.disqualified[3]


def test_one_of_one_behaves_as_v1() -> None:
    transcript, secrets, outcome = run_key_generation(
        dkg.Params("e-one", 1, 1), g.deterministic_scalars("one")
    )
    (secret,) = secrets.values()
    reveal_c0 = transcript["reveals"][0]["coefficients"][0]
    assert outcome.public_key.hex() == reveal_c0 == secret.public_key.hex()
    assert dkg.lagrange_at_zero([1]) == {1: g.ONE}
    agg = encrypt_counts(outcome.public_key, [4, 2], "agg-one")
    shares = partial_decrypt(secret, EH, agg, g.deterministic_scalars("d"))
    ds = verify_partial_decryption(EH, secret.public_key, agg, shares)
    assert dkg.combine_partials({1: ds}, 1, 2) == ds
    assert recover_result(agg, [ds], 6) == [4, 2]


def test_messages_are_checked_on_upload() -> None:
    params = dkg.Params("e-upload", 2, 3)
    transcript, states = rounds(params, "upload")
    other = copy.deepcopy(dkg.deal_shares(states[0], transcript))
    other["election_id"] = "another"
    with pytest.raises(dkg.DKGError, match="another election"):
        dkg.add_message(transcript, other)
    bad = dkg.check_shares(states[0], transcript)
    bad["against"] = [1]
    with pytest.raises(dkg.DKGError, match="other trustees"):
        dkg.add_message(transcript, bad)
    with pytest.raises(dkg.DKGError, match="1 ≤ t ≤ n"):
        dkg.Params("e", 4, 3)


def test_state_round_trip_and_mismatch() -> None:
    _transcript, states = rounds(dkg.Params("e-state", 2, 2), "state")
    back = dkg.DealerState.from_json(states[0].to_json())
    assert back == states[0]
    broken = states[0].to_json()
    broken["coefficients"][0] = g.ONE.hex()
    with pytest.raises(dkg.DKGError, match="does not match its reveal"):
        dkg.DealerState.from_json(broken)


def test_lagrange_rejects_repeats() -> None:
    with pytest.raises(CryptoError):
        dkg.lagrange_at_zero([1, 1])


def test_low_order_transport_key_disqualifies_instead_of_breaking_the_others() -> None:
    params = dkg.Params("e-x25519", 2, 3)
    transcript, states = rounds(params, "x25519")
    transcript["reveals"][2]["transport_key"] = "00" * 32
    transcript["commits"][2]["hash"] = dkg.message_hash(transcript["reveals"][2])
    outcome = dkg.evaluate(transcript, final=False)
    assert "not a usable X25519 public key" in outcome.disqualified[3]
    assert [e["to"] for e in dkg.deal_shares(states[0], transcript)["shares"]] == [2]


def test_no_commitment_once_reveals_are_public() -> None:
    """The rushing trustee: committing after seeing the others' reveals is refused."""
    params = dkg.Params("e-rush", 2, 3)
    transcript = dkg.empty_transcript(params)
    rng = g.deterministic_scalars("rush")
    states = []
    for i in (1, 2):
        state, message = dkg.commit(params, i, f"T{i}", rng)
        states.append(state)
        dkg.add_message(transcript, message)
    dkg.add_message(transcript, dkg.reveal(states[0]))
    _late, late_commit = dkg.commit(params, 3, "T3", rng)
    with pytest.raises(dkg.DKGError, match="commit round is closed"):
        dkg.add_message(transcript, late_commit)


def test_progress_shows_who_has_done_what() -> None:
    params = dkg.Params("e-progress", 2, 3)
    transcript, states = rounds(params, "progress")
    dkg.add_message(transcript, dkg.deal_shares(states[2], transcript))
    table = dkg.progress(transcript)
    assert table[3] == {"commit": True, "reveal": True, "shares": True, "complaints": False,
                        "answers": False}
    assert table[1]["shares"] is False
