"""The ``threshold`` object of a v2 manifest (``docs/spec/threshold-trustees.md`` section 6):
t-of-n trustees' verification keys, checked from the manifest alone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import group as g
from .dkg_messages import MAX_TRUSTEES
from .exceptions import CryptoError, InvalidManifest

THRESHOLD_KEY = "threshold"
THRESHOLD_KEYS = frozenset({"t", "n", "dkg_transcript"})
TRUSTEE_KEYS = frozenset({"index", "name", "verification_key"})
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ThresholdKeys:
    """A checked ``threshold`` manifest: ``t``, ``n`` and each qualified trustee's ``Y_j``."""

    t: int
    n: int
    transcript_hash: str
    indices: tuple[int, ...]
    names: tuple[str, ...]
    keys: tuple[g.Point, ...]
    public_key: g.Point


def interpolate_at(points: Mapping[int, g.Point], x: int) -> g.Point:
    """``Σ_j λ_j(x)·Y_j``: the value at ``x`` of the polynomial through the given ``(j, Y_j)``."""
    order = sorted(points)
    acc = g.IDENTITY
    for j in order:
        num, den = 1, 1
        for m in order:
            if m != j:
                num = num * (x - m) % g.L
                den = den * (j - m) % g.L
        acc = g.add(acc, g.mul(g.scalar_from_int(num * pow(den, -1, g.L)), points[j]))
    return acc


def check_threshold_manifest(m: Mapping[str, Any]) -> ThresholdKeys:
    """Check a v2 manifest's trustees: ``1 ≤ t ≤ n``, at least ``t`` qualified trustees, every
    ``Y_j`` on one polynomial of degree below ``t`` and ``public_key`` its value at 0.

    Raises:
        CryptoError: with a location relative to the manifest.
    """
    th = m[THRESHOLD_KEY]
    if not isinstance(th, dict) or th.keys() != THRESHOLD_KEYS:
        raise InvalidManifest(
            f"threshold must have exactly {', '.join(sorted(THRESHOLD_KEYS))}", THRESHOLD_KEY
        )
    t, n = th["t"], th["n"]
    if type(t) is not int or type(n) is not int or not 1 <= t <= n:
        raise InvalidManifest("need integers 1 ≤ t ≤ n", f"{THRESHOLD_KEY}.t")
    if n > MAX_TRUSTEES:
        raise InvalidManifest(f"need n ≤ {MAX_TRUSTEES} trustees", f"{THRESHOLD_KEY}.n")
    if not isinstance(th["dkg_transcript"], str) or not _HEX64.fullmatch(th["dkg_transcript"]):
        raise InvalidManifest("must be 64 lowercase hex digits", f"{THRESHOLD_KEY}.dkg_transcript")
    trustees = m["trustees"]
    if not isinstance(trustees, list) or len(trustees) < t:
        raise InvalidManifest(f"need at least t = {t} qualified trustees", "trustees")
    indices: list[int] = []
    names: list[str] = []
    keys: list[g.Point] = []
    for pos, e in enumerate(trustees):
        where = f"trustees[{pos}]"
        if not isinstance(e, dict) or e.keys() != TRUSTEE_KEYS:
            raise InvalidManifest(f"must have exactly {', '.join(sorted(TRUSTEE_KEYS))}", where)
        j = e["index"]
        if type(j) is not int or not 1 <= j <= n or (indices and j <= indices[-1]):
            raise InvalidManifest(f"index must be in 1 … {n}, ascending", f"{where}.index")
        if not isinstance(e["name"], str) or not e["name"]:
            raise InvalidManifest("name must be a non-empty string", f"{where}.name")
        try:
            keys.append(g.parse_point(e["verification_key"]))
        except CryptoError as exc:
            raise exc.at(f"{where}.verification_key") from None
        indices.append(j)
        names.append(e["name"])
    base = dict(zip(indices[:t], keys[:t], strict=True))
    for pos in range(t, len(indices)):
        if interpolate_at(base, indices[pos]) != keys[pos]:
            raise InvalidManifest(
                "verification key is not on the polynomial of the others",
                f"trustees[{pos}].verification_key",
            )
    try:
        y = g.parse_point(m["public_key"])
    except CryptoError as exc:
        raise exc.at("public_key") from None
    if interpolate_at(base, 0) != y:
        raise InvalidManifest("public_key is not the trustees' combined key", "public_key")
    return ThresholdKeys(
        t, n, th["dkg_transcript"], tuple(indices), tuple(names), tuple(keys), y
    )
