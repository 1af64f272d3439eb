"""Ballots: round trip, and every mutation of a valid ballot is refused (spec §1, §5)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl import bindings as nb

from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import (
    audit_opening,
    encrypt_ballot,
    verify_audited,
    verify_ballot,
)
from referendum_core.crypto.exceptions import (
    CryptoError,
    InvalidBallot,
    InvalidPoint,
    InvalidProof,
    InvalidScalar,
)
from referendum_core.crypto.manifest import context_from_manifest

DATA = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "election-record-v1.json").read_text("utf-8")
)
YES_NO = DATA["elections"]["yes-no"]
MULTI = DATA["elections"]["pick-up-to-two"]
CTX = context_from_manifest(YES_NO["manifest"])
CTX_MULTI = context_from_manifest(MULTI["manifest"])
VALID = YES_NO["ballots"][0]
ALIAS = VALID["alias"]

# Encodings of the 8 small-order points, plus a non-canonical encoding (y = p).
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]
NON_CANONICAL = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"


def hex_paths(ballot: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Paths of every point and scalar in a ballot."""
    paths: list[tuple[Any, ...]] = []
    for k, ch in enumerate(ballot["choices"]):
        paths += [("choices", k, "alpha"), ("choices", k, "beta")]
        for j in range(len(ch["proof"])):
            paths += [
                ("choices", k, "proof", j, "challenge"),
                ("choices", k, "proof", j, "response"),
            ]
    for j in range(len(ballot["overall_proof"])):
        paths += [("overall_proof", j, "challenge"), ("overall_proof", j, "response")]
    return paths


PATHS = hex_paths(VALID["ballot"])


def get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def put(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def mutated(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    b = copy.deepcopy(VALID["ballot"])
    put(b, path, value)
    return b


def location(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def test_round_trip_and_tracker() -> None:
    for sel in ([1, 0], [0, 1]):
        enc = encrypt_ballot(CTX, "alias-x", sel)
        assert verify_ballot(CTX, "alias-x", enc.ballot) == enc.tracker
        assert verify_audited(CTX, audit_opening(enc)) == (enc.tracker, sel)
    for sel in ([0, 0, 0], [1, 1, 0], [0, 0, 1]):
        enc = encrypt_ballot(CTX_MULTI, "a", sel)
        assert verify_ballot(CTX_MULTI, "a", enc.ballot) == enc.tracker


def test_manifest_dict_is_accepted_as_context() -> None:
    assert verify_ballot(YES_NO["manifest"], ALIAS, VALID["ballot"]) == VALID["tracker"]


def test_selection_outside_min_max_cannot_be_encrypted() -> None:
    with pytest.raises(InvalidBallot):
        encrypt_ballot(CTX, "a", [1, 1])
    with pytest.raises(InvalidBallot):
        encrypt_ballot(CTX_MULTI, "a", [1, 1, 1])


def test_cheating_encryption_of_two_is_refused() -> None:
    """A forged ballot with m=2 for one choice cannot carry a valid proof."""
    r = g.random_scalar()
    y = CTX.public_key
    alpha, beta = g.base_mul(r), g.add(g.mul(r, y), g.small_multiple(2))
    from referendum_core.crypto.ballot import CHOICE_TAG, prove_range

    proof = prove_range(
        CHOICE_TAG, CTX.election_hash, ALIAS, "0", alpha, beta, y, [0, 1], 1, r, g.random_scalar
    )
    b = mutated(("choices", 0), {"alpha": alpha.hex(), "beta": beta.hex(), "proof": proof})
    with pytest.raises(InvalidProof):
        verify_ballot(CTX, ALIAS, b)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    byte=st.integers(0, 31),
    mask=st.integers(1, 255),
)
def test_every_byte_flip_is_refused(path: tuple[Any, ...], byte: int, mask: int) -> None:
    raw = bytearray(bytes.fromhex(get(VALID["ballot"], path)))
    raw[byte] ^= mask
    with pytest.raises(CryptoError) as err:
        verify_ballot(CTX, ALIAS, mutated(path, raw.hex()))
    where = "overall_proof" if path[0] == "overall_proof" else location(path[:2])
    assert err.value.location.startswith(where)


@pytest.mark.parametrize("path", [p for p in PATHS if p[-1] in ("challenge", "response")])
def test_unreduced_scalars_are_refused(path: tuple[Any, ...]) -> None:
    s = g.scalar_to_int(bytes.fromhex(get(VALID["ballot"], path))) + g.L
    assert s < 2**256
    with pytest.raises(InvalidScalar) as err:
        verify_ballot(CTX, ALIAS, mutated(path, s.to_bytes(32, "little").hex()))
    assert err.value.location == location(path)


@pytest.mark.parametrize("path", [p for p in PATHS if p[-1] in ("alpha", "beta")])
@pytest.mark.parametrize("bad", [*SMALL_ORDER, NON_CANONICAL])
def test_small_order_identity_and_non_canonical_points_are_refused(
    path: tuple[Any, ...], bad: str
) -> None:
    with pytest.raises(InvalidPoint) as err:
        verify_ballot(CTX, ALIAS, mutated(path, bad))
    assert err.value.location == location(path)


@pytest.mark.parametrize("path", [p for p in PATHS if p[-1] in ("alpha", "beta")])
@pytest.mark.parametrize("torsion", SMALL_ORDER[1:])
def test_points_with_a_torsion_component_are_refused(path: tuple[Any, ...], torsion: str) -> None:
    p = bytes.fromhex(get(VALID["ballot"], path))
    mixed = nb.crypto_core_ed25519_add(p, bytes.fromhex(torsion))
    with pytest.raises(InvalidPoint):
        verify_ballot(CTX, ALIAS, mutated(path, mixed.hex()))


@pytest.mark.parametrize("path", PATHS)
def test_uppercase_or_wrong_type_hex_is_refused(path: tuple[Any, ...]) -> None:
    value = get(VALID["ballot"], path)
    for bad in (
        value.upper(),
        value[:-2],
        value + "00",
        " " + value[1:],
        int(value, 16) % 2**53,
        None,
    ):
        if bad == value:
            continue
        with pytest.raises(CryptoError):
            verify_ballot(CTX, ALIAS, mutated(path, bad))


def test_swapped_proofs_are_refused() -> None:
    b = copy.deepcopy(VALID["ballot"])
    b["choices"][0]["proof"], b["choices"][1]["proof"] = (
        b["choices"][1]["proof"],
        b["choices"][0]["proof"],
    )
    with pytest.raises(InvalidProof):
        verify_ballot(CTX, ALIAS, b)
    b = copy.deepcopy(VALID["ballot"])
    b["choices"][0]["proof"].reverse()
    with pytest.raises(InvalidProof):
        verify_ballot(CTX, ALIAS, b)
    b = copy.deepcopy(VALID["ballot"])
    e = b["choices"][1]["proof"][0]
    e["challenge"], e["response"] = e["response"], e["challenge"]
    with pytest.raises(InvalidProof):
        verify_ballot(CTX, ALIAS, b)
    b = copy.deepcopy(VALID["ballot"])
    b["choices"].reverse()
    with pytest.raises(InvalidProof):
        verify_ballot(CTX, ALIAS, b)
    b = copy.deepcopy(VALID["ballot"])
    b["overall_proof"] = YES_NO["ballots"][1]["ballot"]["overall_proof"]
    with pytest.raises(InvalidProof):
        verify_ballot(CTX, ALIAS, b)


def test_replay_under_another_alias_is_refused() -> None:
    other = "alias-mallory"
    with pytest.raises(InvalidBallot):
        verify_ballot(CTX, other, VALID["ballot"])
    b = copy.deepcopy(VALID["ballot"])
    b["alias"] = other
    with pytest.raises(InvalidProof):
        verify_ballot(CTX, other, b)


def test_ballot_for_another_election_is_refused() -> None:
    other = MULTI["ballots"][0]
    with pytest.raises(InvalidBallot):
        verify_ballot(CTX, other["alias"], other["ballot"])
    b = copy.deepcopy(VALID["ballot"])
    b["election_hash"] = MULTI["election_hash"]
    with pytest.raises(InvalidBallot):
        verify_ballot(CTX, ALIAS, b)


def test_replay_callback_refuses_known_alpha() -> None:
    alphas = {bytes.fromhex(VALID["ballot"]["choices"][1]["alpha"])}
    with pytest.raises(InvalidBallot) as err:
        verify_ballot(CTX, ALIAS, VALID["ballot"], is_replay=alphas.__contains__)
    assert err.value.location == "choices[1].alpha"


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.pop("overall_proof"),
        lambda b: b.update(extra=1),
        lambda b: b["choices"].pop(),
        lambda b: b["choices"].append(b["choices"][0]),
        lambda b: b["choices"][0].update(note="x"),
        lambda b: b["choices"][0]["proof"].pop(),
        lambda b: b["choices"][0]["proof"][0].update(extra="00"),
        lambda b: b["overall_proof"].append(b["overall_proof"][0]),
        lambda b: b.update(alias=None),
        lambda b: b.update(choices={}),
    ],
)
def test_structural_mutations_are_refused(change: Any) -> None:
    b = copy.deepcopy(VALID["ballot"])
    change(b)
    with pytest.raises(CryptoError):
        verify_ballot(CTX, ALIAS, b)


def test_zero_simulated_challenge_still_validates_points() -> None:
    """A prover may pick a simulated challenge of 0, so that ``c_0·beta`` never touches beta:
    an honest proof like that verifies, and a ballot whose beta is not a group element is
    refused at that beta whatever its proof says (points are checked before any proof)."""
    from referendum_core.crypto.ballot import CHOICE_TAG, prove_range, verify_range

    r = g.random_scalar()
    y = CTX.public_key
    alpha, beta = g.base_mul(r), g.add(g.mul(r, y), g.BASE)
    draws = iter([g.ZERO, g.random_scalar(), g.random_scalar()])
    proof = prove_range(
        CHOICE_TAG, CTX.election_hash, ALIAS, "0", alpha, beta, y, [0, 1], 1, r, lambda: next(draws)
    )
    assert proof[0]["challenge"] == "00" * 32
    verify_range(CHOICE_TAG, CTX.election_hash, ALIAS, "0", alpha, beta, y, [0, 1], proof)

    b = copy.deepcopy(VALID["ballot"])
    # On the curve, canonical, but outside the main subgroup (B plus a point of order 8).
    b["choices"][0]["beta"] = g.add(g.BASE, bytes.fromhex(SMALL_ORDER[4])).hex()
    b["choices"][0]["proof"][0]["challenge"] = "00" * 32
    with pytest.raises(InvalidPoint) as err:
        verify_ballot(CTX, ALIAS, b)
    assert err.value.location == "choices[0].beta"


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("randomness", 0, "randomness[0]"),
        ("plaintext", 0, "plaintext[0]"),
    ],
)
def test_audit_with_wrong_opening_is_refused(field: str, value: int, where: str) -> None:
    revealed = copy.deepcopy(VALID["audit"])
    if field == "randomness":
        revealed["randomness"][value] = g.random_scalar().hex()
    else:
        revealed["plaintext"][value] = 1 - revealed["plaintext"][value]
    with pytest.raises(InvalidBallot) as err:
        verify_audited(CTX, revealed)
    assert err.value.location == where


def test_identity_and_zero_scalar_are_wrapped() -> None:
    assert g.mul(g.ZERO, g.BASE) == g.IDENTITY
    assert g.mul(g.ONE, g.IDENTITY) == g.IDENTITY
    assert g.base_mul(g.ZERO) == g.IDENTITY
    assert g.add(g.IDENTITY, g.BASE) == g.BASE
    assert g.sub(g.BASE, g.BASE) == g.IDENTITY
    with pytest.raises(InvalidPoint):
        g.parse_point(g.IDENTITY.hex())
