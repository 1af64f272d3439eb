"""Trustee keys with proof of knowledge (spec section 3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import group as g
from .exceptions import CryptoError, InvalidEncoding, InvalidManifest, InvalidProof

TRUSTEE_KEY_TAG = "trustee-key-v1"


@dataclass(frozen=True)
class TrusteeSecret:
    """A trustee's secret share ``x_i`` with its public key ``Y_i = x_i·B``."""

    election_id: str
    name: str
    secret: g.Scalar
    public_key: g.Point


def generate_trustee_key(
    election_id: str, name: str, rng: g.ScalarSource = g.random_scalar
) -> tuple[TrusteeSecret, dict[str, Any]]:
    """Generate ``x_i`` uniform in ``[1, L)`` and the public part with its proof of knowledge.

    Returns the secret and the JSON object ``{"name", "public_key", "pok"}`` to publish.
    """
    x = rng()
    while x == g.ZERO:
        x = rng()
    y = g.base_mul(x)
    w = rng()
    k = g.base_mul(w)
    c = g.hash_to_scalar(TRUSTEE_KEY_TAG, election_id, y, k)
    z = g.s_add(w, g.s_mul(c, x))
    public = {
        "name": name,
        "public_key": y.hex(),
        "pok": {"commitment": k.hex(), "response": z.hex()},
    }
    return TrusteeSecret(election_id, name, x, y), public


def verify_trustee_key(election_id: str, trustee: Any) -> g.Point:
    """Check a published trustee entry and its proof of knowledge; return ``Y_i``.

    Raises:
        InvalidManifest, InvalidPoint, InvalidScalar, InvalidProof: with a location relative to
        the trustee entry (``public_key``, ``pok.commitment``, ``pok.response``, ``pok``).
    """
    if not isinstance(trustee, dict) or set(trustee) != {"name", "public_key", "pok"}:
        raise InvalidManifest("trustee must have exactly name, public_key, pok")
    if not isinstance(trustee["name"], str) or not trustee["name"]:
        raise InvalidEncoding("trustee name must be a non-empty string", "name")
    try:
        y = g.parse_point(trustee["public_key"])
    except CryptoError as exc:
        raise exc.at("public_key") from None
    pok = trustee["pok"]
    if not isinstance(pok, dict) or set(pok) != {"commitment", "response"}:
        raise InvalidManifest("pok must have exactly commitment, response", "pok")
    try:
        k = g.parse_point(pok["commitment"])
    except CryptoError as exc:
        raise exc.at("pok.commitment") from None
    try:
        z = g.parse_scalar(pok["response"])
    except CryptoError as exc:
        raise exc.at("pok.response") from None
    c = g.hash_to_scalar(TRUSTEE_KEY_TAG, election_id, y, k)
    if g.base_mul(z) != g.add(k, g.mul(c, y)):
        raise InvalidProof("proof of knowledge of the trustee secret fails", "pok")
    return y


def combine_public_keys(keys: list[g.Point]) -> g.Point:
    """The election key ``Y = Σ Y_i``."""
    return g.p_sum(keys)
