"""The group layer's multi-scalar multiplication: the compiled extension against libsodium's API."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referendum_core.crypto import _ed25519
from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import verify_ballot
from referendum_core.crypto.exceptions import CryptoError, InvalidPoint
from referendum_core.crypto.manifest import context_from_manifest

DATA = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "election-record-v1.json").read_text("utf-8")
)
ORDER_8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")

scalars = st.one_of(
    st.sampled_from([g.ZERO, g.ONE, g.scalar_from_int(2), g.scalar_from_int(g.L - 1)]),
    st.integers(min_value=0, max_value=g.L - 1).map(g.scalar_from_int),
)
points = st.one_of(
    st.just(g.IDENTITY),
    st.just(g.BASE),
    st.integers(min_value=1, max_value=g.L - 1).map(lambda n: g.base_mul(g.scalar_from_int(n))),
)


def test_the_extension_is_built() -> None:
    """`make install` (pip install -e .) compiles it; without it ballots verify 2-3x slower."""
    assert g.ACCELERATED


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(min_value=0, max_value=4))
def test_msm_gives_libsodiums_bytes(data: st.DataObject, n: int) -> None:
    pts = data.draw(st.lists(points, min_size=n, max_size=n))
    rows = data.draw(
        st.lists(
            st.tuples(scalars, st.lists(scalars, min_size=n, max_size=n).map(tuple)),
            min_size=1,
            max_size=4,
        )
    )
    assert g.msm(pts, rows) == g._msm_reference(pts, rows)


def test_msm_of_nothing_is_the_identity() -> None:
    assert g.msm([], [(g.ZERO, ())]) == [g.IDENTITY]
    assert g.msm([g.BASE], []) == []


def test_msm_matches_a_hand_computed_combination() -> None:
    p = g.base_mul(g.scalar_from_int(7))
    row = (g.scalar_from_int(3), (g.s_neg(g.scalar_from_int(2)),))
    # 3·B − 2·(7·B) = −11·B
    assert g.msm([p], [row]) == [g.base_mul(g.scalar_from_int(g.L - 11))]


@pytest.mark.parametrize(
    "bad",
    [
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p
        "0200000000000000000000000000000000000000000000000000000000000000",  # not on the curve
    ],
)
def test_msm_refuses_points_off_the_curve_or_not_canonical(bad: str) -> None:
    with pytest.raises(InvalidPoint):
        g.msm([bytes.fromhex(bad)], [(g.ONE, (g.ONE,))])


def test_msm_does_not_check_the_subgroup_so_callers_must() -> None:
    """A canonical curve point outside the main subgroup goes through (documented): the ballot
    check validates every received point before it reaches msm."""
    mixed = g.add(g.BASE, ORDER_8)
    assert not g.is_valid_point(mixed)
    assert g.msm([mixed], [(g.ZERO, (g.ONE,))]) == [mixed]


@pytest.mark.parametrize(
    ("points_arg", "rows", "error"),
    [
        ([b"short"], [(g.ONE, (g.ONE,))], TypeError),
        (["not bytes" * 4], [(g.ONE, (g.ONE,))], TypeError),
        ([g.BASE], [(g.ONE, (b"\xff" * 32,))], ValueError),  # scalar ≥ 2^255
        ([g.BASE], [(g.ONE, (g.ONE, g.ONE))], ValueError),  # one scalar per point
        ([g.BASE], [(g.ONE,)], TypeError),
        ([g.BASE], [[g.ONE, (g.ONE,)]], TypeError),
        ([g.BASE] * 17, [], ValueError),
        (None, [], TypeError),
    ],
)
def test_the_extension_refuses_malformed_arguments(points_arg: Any, rows: Any, error: type) -> None:
    with pytest.raises(error):
        _ed25519.msm(points_arg, rows)


@pytest.fixture(params=["extension", "libsodium"])
def msm_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "libsodium":
        monkeypatch.setattr(g, "_ed25519", None)
    return str(request.param)


def test_every_vector_ballot_verifies_on_both_paths(msm_path: str) -> None:
    for election in DATA["elections"].values():
        ctx = context_from_manifest(election["manifest"])
        for case in election["ballots"]:
            assert verify_ballot(ctx, case["alias"], case["ballot"]) == case["tracker"]


def test_a_tampered_response_is_refused_on_both_paths(msm_path: str) -> None:
    election = DATA["elections"]["yes-no"]
    ctx = context_from_manifest(election["manifest"])
    case = election["ballots"][0]
    ballot = copy.deepcopy(case["ballot"])
    z = g.scalar_to_int(bytes.fromhex(ballot["choices"][1]["proof"][0]["response"]))
    ballot["choices"][1]["proof"][0]["response"] = g.scalar_from_int(z + 1).hex()
    with pytest.raises(CryptoError) as err:
        verify_ballot(ctx, case["alias"], ballot)
    assert err.value.location == "choices[1].proof"


any_32_bytes = st.binary(min_size=32, max_size=32)


@settings(max_examples=300, deadline=None)
@given(a=st.one_of(scalars, any_32_bytes), b=st.one_of(scalars, any_32_bytes))
def test_scalar_arithmetic_gives_libsodiums_residues(a: bytes, b: bytes) -> None:
    """The scalar operations run on Python integers; libsodium's give the same bytes for any
    32-byte input, reduced or not (it adds modulo 2^256 before reducing)."""
    from nacl import bindings

    assert g.s_add(a, b) == bindings.crypto_core_ed25519_scalar_add(a, b)
    assert g.s_sub(a, b) == bindings.crypto_core_ed25519_scalar_sub(a, b)
    assert g.s_mul(a, b) == bindings.crypto_core_ed25519_scalar_mul(a, b)
    assert g.s_neg(a) == bindings.crypto_core_ed25519_scalar_negate(a)
    total = g.ZERO
    for s in (a, b, a):
        total = bindings.crypto_core_ed25519_scalar_add(total, s)
    assert g.s_sum([a, b, a]) == total


@settings(max_examples=100, deadline=None)
@given(items=st.lists(st.one_of(st.binary(max_size=80), st.text(max_size=20),
                                st.integers(min_value=0, max_value=10**6)), max_size=10))
def test_hash_to_scalar_reduces_as_libsodium_does(items: list[Any]) -> None:
    """``Hs`` = libsodium's reduction of SHA-512 over the framed tag and items (spec section 2)."""
    import hashlib

    from nacl import bindings

    framed = g.frame(b"tag") + b"".join(g.frame(g.item_bytes(x)) for x in items)
    expected = bindings.crypto_core_ed25519_scalar_reduce(hashlib.sha512(framed).digest())
    assert g.hash_to_scalar("tag", *items) == expected
