"""The Ed25519 prime-order group through libsodium: scalars, points, hashing (spec sections 1-2).

Points and scalars are plain 32-byte ``bytes``. Everything received from outside goes through
:func:`parse_point` / :func:`parse_scalar`, which enforce the canonical hex form, reject the
identity and points outside the main subgroup, and reject unreduced scalars.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from nacl import bindings as _nb

from .exceptions import InvalidEncoding, InvalidPoint, InvalidScalar

#: Order of the prime-order subgroup.
L = 2**252 + 27742317777372353535851937790883648493

Scalar = bytes
Point = bytes
#: A source of fresh scalars (tests and vectors inject a deterministic one).
ScalarSource = Callable[[], Scalar]

ZERO: Scalar = bytes(32)
ONE: Scalar = (1).to_bytes(32, "little")
IDENTITY: Point = b"\x01" + bytes(31)
BASE: Point = _nb.crypto_scalarmult_ed25519_base_noclamp(ONE)

_HEX64 = re.compile(r"[0-9a-f]{64}")

_base_mult = _nb.crypto_scalarmult_ed25519_base_noclamp
_mult = _nb.crypto_scalarmult_ed25519_noclamp
_add = _nb.crypto_core_ed25519_add
_sub = _nb.crypto_core_ed25519_sub
_is_valid = _nb.crypto_core_ed25519_is_valid_point
_reduce = _nb.crypto_core_ed25519_scalar_reduce

try:  # libsodium's own group arithmetic, built with the package (setup.py)
    from . import _ed25519
except ImportError:  # pragma: no cover - a source tree nobody built; the slow path still works
    _ed25519 = None

#: Whether :func:`msm` runs in the compiled extension (it should wherever the package was
#: installed with ``pip install``; the libsodium fallback gives the same bytes, 2-3x slower).
ACCELERATED = _ed25519 is not None


# --------------------------------------------------------------------------- scalars


def scalar_from_int(n: int) -> Scalar:
    """Encode ``n mod L`` as a scalar."""
    return (n % L).to_bytes(32, "little")


def scalar_to_int(s: Scalar) -> int:
    """Decode a scalar to an integer."""
    return int.from_bytes(s, "little")


def random_scalar() -> Scalar:
    """A uniformly random non-zero scalar from the OS CSPRNG."""
    while True:
        s = _reduce(os.urandom(64))
        if s != ZERO:
            return s


def deterministic_scalars(seed: bytes | str) -> ScalarSource:
    """A reproducible scalar stream: ``reduce(SHA-512("test-rng-v1" ‖ seed ‖ counter))``.

    Only for test vectors, the simulator and benchmarks — never for real ballots or keys.
    """
    seed_b = seed.encode() if isinstance(seed, str) else seed
    counter = 0

    def nxt() -> Scalar:
        nonlocal counter
        while True:
            digest = hashlib.sha512(b"test-rng-v1" + frame(seed_b) + str(counter).encode()).digest()
            counter += 1
            s = _reduce(digest)
            if s != ZERO:
                return s

    return nxt


# Scalar arithmetic on Python integers, at a fraction of the cost of a call through libsodium's
# bindings and with its crypto_core_ed25519_scalar_* results for any 32 bytes, reduced or not:
# libsodium adds the two 256-bit numbers modulo 2^256 before reducing, and subtracts by adding
# the negation (tests/referendum_core/crypto/test_crypto_group.py compares them).
_WRAP = (1 << 256) - 1


def _int(s: Scalar) -> int:
    return int.from_bytes(s, "little")


def _scalar(n: int) -> Scalar:
    return (n % L).to_bytes(32, "little")


def s_add(a: Scalar, b: Scalar) -> Scalar:
    """``a + b mod L``."""
    return _scalar((_int(a) + _int(b)) & _WRAP)


def s_sub(a: Scalar, b: Scalar) -> Scalar:
    """``a - b mod L``."""
    return _scalar((_int(a) + (-_int(b) % L)) & _WRAP)


def s_mul(a: Scalar, b: Scalar) -> Scalar:
    """``a · b mod L``."""
    return _scalar(_int(a) * _int(b))


def s_neg(a: Scalar) -> Scalar:
    """``-a mod L``."""
    return _scalar(-_int(a))


def s_sum(items: Iterable[Scalar]) -> Scalar:
    """Sum of scalars mod L."""
    acc = 0
    for s in items:
        acc = ((acc + int.from_bytes(s, "little")) & _WRAP) % L
    return acc.to_bytes(32, "little")


# --------------------------------------------------------------------------- points


def base_mul(s: Scalar) -> Point:
    """``s·B``; ``0·B = O`` (libsodium refuses a zero scalar, so it is wrapped)."""
    if s == ZERO:
        return IDENTITY
    return _base_mult(s)


def mul(s: Scalar, p: Point) -> Point:
    """``s·P`` for ``P`` in the main subgroup or ``O``; ``0·P = s·O = O``.

    libsodium checks ``P`` (canonical, not small order, in the main subgroup) on every call.

    Raises:
        InvalidPoint: ``P`` is not a valid group element.
    """
    if s == ZERO or p == IDENTITY:
        return IDENTITY
    try:
        return _mult(s, p)
    except Exception as exc:  # nacl raises RuntimeError/ValueError/TypeError
        raise InvalidPoint("not a valid group element") from exc


def add(p: Point, q: Point) -> Point:
    """``P + Q`` (either may be ``O``)."""
    return _add(p, q)


def sub(p: Point, q: Point) -> Point:
    """``P - Q`` (either may be ``O``)."""
    return _sub(p, q)


#: One row of :func:`msm`: the base point's scalar, then one scalar per point.
MsmRow = tuple[Scalar, Sequence[Scalar]]


def msm(points: Sequence[Point], rows: Sequence[MsmRow]) -> list[Point]:
    """``b·B + s_1·P_1 + … + s_n·P_n`` for each row ``(b, (s_1, …, s_n))``.

    Variable time: only for public values (proof challenges and responses, ciphertexts, keys),
    never for secrets or a ballot's randomness. Each point must already be a valid group element
    (:func:`is_valid_point`) or ``O``; this function does not check subgroup membership.

    The compiled extension (libsodium's ref10 arithmetic, Straus' method) decodes each point
    once and shares its table across rows; without it every product goes through libsodium's
    public API, which re-checks the point on every call. Both give the same bytes.

    Raises:
        InvalidPoint: a point is not a canonical curve point.
    """
    if _ed25519 is None:
        return _msm_reference(points, rows)
    try:
        return _ed25519.msm(points, rows)
    except ValueError as exc:
        raise InvalidPoint("not a valid group element") from exc


def _msm_reference(points: Sequence[Point], rows: Sequence[MsmRow]) -> list[Point]:
    """:func:`msm` through libsodium's public API, one product at a time."""
    out: list[Point] = []
    for b, scalars in rows:
        acc = base_mul(b)
        for s, p in zip(scalars, points, strict=True):
            acc = _add(acc, mul(s, p))
        out.append(acc)
    return out


def p_sum(points: Iterable[Point]) -> Point:
    """Sum of points; the empty sum is ``O``."""
    it = iter(points)
    acc = next(it, IDENTITY)
    for p in it:
        acc = _add(acc, p)
    return acc


def is_valid_point(p: bytes) -> bool:
    """True for a 32-byte canonical main-subgroup point that is not the identity."""
    return len(p) == 32 and p != IDENTITY and bool(_is_valid(p))


_small_table: list[Point] = [IDENTITY]


def small_multiple(v: int) -> Point:
    """``v·B`` for a small non-negative integer, cached (used for the proofs' ``v_j·B``)."""
    while len(_small_table) <= v:
        _small_table.append(_add(_small_table[-1], BASE))
    return _small_table[v]


# --------------------------------------------------------------------------- parsing


def parse_hex32(value: Any, what: str = "value") -> bytes:
    """Decode 64 lowercase hex digits to 32 bytes.

    Raises:
        InvalidEncoding: not a string of exactly 64 lowercase hex digits.
    """
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InvalidEncoding(f"{what} must be 64 lowercase hex digits")
    return bytes.fromhex(value)


def parse_scalar(value: Any) -> Scalar:
    """Decode a received scalar; it must be canonical and reduced (< L).

    Raises:
        InvalidScalar: not canonical hex or not reduced.
    """
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InvalidScalar("scalar must be 64 lowercase hex digits")
    s = bytes.fromhex(value)
    if int.from_bytes(s, "little") >= L:
        raise InvalidScalar("scalar is not reduced mod L")
    return s


def parse_point_raw(value: Any) -> Point:
    """Decode a point's hex form without the (costly) group check; caller validates later.

    Raises:
        InvalidPoint: not canonical hex, or the identity.
    """
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InvalidPoint("point must be 64 lowercase hex digits")
    p = bytes.fromhex(value)
    if p == IDENTITY:
        raise InvalidPoint("the identity is not a valid received point")
    return p


def parse_point(value: Any) -> Point:
    """Decode and fully validate a received point (``crypto_core_ed25519_is_valid_point``).

    Raises:
        InvalidPoint: bad hex, the identity, or not a canonical main-subgroup point.
    """
    p = parse_point_raw(value)
    if not _is_valid(p):
        raise InvalidPoint("not a valid group element")
    return p


# --------------------------------------------------------------------------- hashing


def frame(x: bytes) -> bytes:
    """4-byte big-endian length, then ``x``."""
    return len(x).to_bytes(4, "big") + x


def item_bytes(x: bytes | str | int) -> bytes:
    """Hash item encoding: bytes as is, strings UTF-8, small integers ASCII decimal."""
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x).encode("ascii")
    raise TypeError(f"cannot hash {type(x).__name__}")


def hash_to_scalar(tag: str, *items: bytes | str | int) -> Scalar:
    """``Hs(tag, x1, …, xn)`` = reduce(SHA-512(frame(tag) ‖ frame(x1) ‖ …))."""
    parts = [frame(tag.encode("utf-8"))]
    for x in items:
        b = x if type(x) is bytes else item_bytes(x)
        parts.append(len(b).to_bytes(4, "big"))
        parts.append(b)
    return _scalar(int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little"))


def canonical(obj: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8, no floats.

    Raises:
        InvalidEncoding: the object contains a float.
    """
    _reject_floats(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _reject_floats(obj: Any) -> None:
    if isinstance(obj, float):
        raise InvalidEncoding("floats are not allowed")
    if isinstance(obj, dict):
        for v in obj.values():
            _reject_floats(v)
    elif isinstance(obj, list):
        for v in obj:
            _reject_floats(v)
