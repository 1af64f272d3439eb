"""The messages and transcript of the distributed key generation (``docs/spec/threshold-trustees.md``
sections 2-3): shapes, parameters, signatures and the polynomial helpers every round shares.
The rounds themselves are in :mod:`.dkg`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import group as g
from .exceptions import CryptoError, DecryptionError, InvalidProof

SPEC = "referendum-dkg/1"
COEFFICIENT_TAG = "dkg-coefficient-v1"
SHARE_LABEL = "dkg-share-v1"
MESSAGE_TAG = "dkg-message-v1"
#: Rounds whose messages the sender signs with ``a_i0`` (key ``C_i0`` of its reveal), so that
#: the portal relaying them can neither alter nor forge them.
SIGNED_ROUNDS = frozenset({"shares", "complaints", "answers"})
ROUNDS = ("commit", "reveal", "shares", "complaints", "answers")
MESSAGE_KEYS: dict[str, frozenset[str]] = {
    "commit": frozenset({"type", "election_id", "index", "name", "hash"}),
    "reveal": frozenset(
        {"type", "election_id", "index", "t", "n", "coefficients", "proofs", "transport_key"}
    ),
    "shares": frozenset({"type", "election_id", "index", "shares", "signature"}),
    "complaints": frozenset({"type", "election_id", "index", "against", "signature"}),
    "answers": frozenset({"type", "election_id", "index", "answers", "signature"}),
}
#: The transcript's list of each round's messages.
ROUND_LISTS = {
    "commit": "commits",
    "reveal": "reveals",
    "shares": "shares",
    "complaints": "complaints",
    "answers": "answers",
}
#: At most this many trustees (``n``): they are members of the internet polling-station
#: commission. The bound keeps a hostile transcript or manifest from naming, say, 10^9 trustees
#: that every verifier would then list as disqualified (memory and time without limit).
MAX_TRUSTEES = 100
TRANSCRIPT_KEYS = frozenset({"spec", "election_id", "t", "n", *ROUND_LISTS.values()})


class DKGError(CryptoError):
    """Key generation cannot go on: a malformed message, or too few qualified trustees."""


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Params:
    """What the chair fixes before key generation: the election, ``t`` and ``n``."""

    election_id: str
    t: int
    n: int

    def __post_init__(self) -> None:
        if not isinstance(self.election_id, str) or not self.election_id:
            raise DKGError("election_id must be a non-empty string", "election_id")
        if type(self.t) is not int or type(self.n) is not int or not 1 <= self.t <= self.n:
            raise DKGError("need integers 1 ≤ t ≤ n", "t")
        if self.n > MAX_TRUSTEES:
            raise DKGError(f"need n ≤ {MAX_TRUSTEES} trustees", "n")


def power(j: int, k: int) -> g.Scalar:
    """``j^k mod L`` as a scalar."""
    return g.scalar_from_int(pow(j, k, g.L))


def eval_poly(coefficients: Sequence[g.Scalar], x: int) -> g.Scalar:
    """``P(x) = Σ_k a_k·x^k mod L`` (Horner)."""
    acc = 0
    for a in reversed(coefficients):
        acc = (acc * x + g.scalar_to_int(a)) % g.L
    return g.scalar_from_int(acc)


def eval_commitments(commitments: Sequence[g.Point], j: int) -> g.Point:
    """``Σ_k j^k·C_k``, the public image of ``P(j)`` (points already validated)."""
    return g.msm(list(commitments), [(g.ZERO, [power(j, k) for k in range(len(commitments))])])[0]


def lagrange_at_zero(indices: Sequence[int]) -> dict[int, g.Scalar]:
    """``λ_j = Π_{m∈S, m≠j} m·(m − j)^(−1) mod L`` for every ``j`` of the set ``S``.

    Raises:
        DecryptionError: an index repeats or is not in ``1 … L−1``.
    """
    s = list(indices)
    if len(set(s)) != len(s) or any(not 0 < j < g.L for j in s):
        raise DecryptionError("Lagrange indices must be distinct and positive")
    out = {}
    for j in s:
        num, den = 1, 1
        for m in s:
            if m != j:
                num = num * m % g.L
                den = den * (m - j) % g.L
        out[j] = g.scalar_from_int(num * pow(den, -1, g.L))
    return out


def message_hash(message: Mapping[str, Any]) -> str:
    """``hex(SHA-256(canonical(message)))``: the commitment to a reveal, the transcript hash."""
    return hashlib.sha256(g.canonical(dict(message))).hexdigest()


def envelope(kind: str, params: Params, index: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "election_id": params.election_id, "index": index, **fields}


def signed_body(message: Mapping[str, Any]) -> bytes:
    return g.canonical({k: v for k, v in message.items() if k != "signature"})


def check_signature(params: Params, message: Mapping[str, Any], c0: g.Point) -> None:
    """Check a signed message against the sender's ``C_i0``.

    Raises:
        InvalidProof: the signature does not verify.
    """
    sig = message["signature"]
    k_point = g.parse_point(sig["commitment"])
    z = g.parse_scalar(sig["response"])
    c = g.hash_to_scalar(
        MESSAGE_TAG, params.election_id, message["index"], signed_body(message), c0, k_point
    )
    if g.base_mul(z) != g.add(k_point, g.mul(c, c0)):
        raise InvalidProof("the sender's signature does not verify", "signature")


def empty_transcript(params: Params) -> dict[str, Any]:
    """The published transcript before any message: one list per round."""
    return {
        "spec": SPEC,
        "election_id": params.election_id,
        "t": params.t,
        "n": params.n,
        **{name: [] for name in ROUND_LISTS.values()},
    }


def params_of(transcript: Any) -> Params:
    """The parameters of a transcript, checking its outer shape.

    Raises:
        DKGError: not a transcript.
    """
    if not isinstance(transcript, dict) or transcript.keys() != TRANSCRIPT_KEYS:
        raise DKGError(f"transcript must have exactly {', '.join(sorted(TRANSCRIPT_KEYS))}")
    if transcript["spec"] != SPEC:
        raise DKGError(f"spec must be {SPEC!r}", "spec")
    return Params(transcript["election_id"], transcript["t"], transcript["n"])


def check_envelope(params: Params, message: Any) -> str:
    if not isinstance(message, dict) or message.get("type") not in MESSAGE_KEYS:
        raise DKGError(f"message type must be one of {', '.join(ROUNDS)}", "type")
    kind = message["type"]
    if message.keys() != MESSAGE_KEYS[kind]:
        raise DKGError(f"{kind} message must have exactly {', '.join(sorted(MESSAGE_KEYS[kind]))}")
    if message["election_id"] != params.election_id:
        raise DKGError("message of another election", "election_id")
    i = message["index"]
    if type(i) is not int or not 1 <= i <= params.n:
        raise DKGError(f"index must be in 1 … {params.n}", "index")
    if kind in SIGNED_ROUNDS:
        sig = message["signature"]
        if not isinstance(sig, dict) or sig.keys() != {"commitment", "response"}:
            raise DKGError("signature must have exactly commitment, response", "signature")
        g.parse_point(sig["commitment"])
        g.parse_scalar(sig["response"])
    if kind == "commit":
        g.parse_hex32(message["hash"], "hash")
        if not isinstance(message["name"], str) or not message["name"]:
            raise DKGError("name must be a non-empty string", "name")
    elif kind == "shares":
        _check_list(message["shares"], {"to", "ciphertext"}, params, i, "shares")
        for e in message["shares"]:
            if not isinstance(e["ciphertext"], str) or not _is_hex(e["ciphertext"]):
                raise DKGError("ciphertext must be lowercase hex", "shares")
    elif kind == "complaints":
        against = message["against"]
        if (
            not isinstance(against, list)
            or any(type(j) is not int or not 1 <= j <= params.n or j == i for j in against)
            or against != sorted(set(against))
        ):
            raise DKGError("against must list other trustees' indices, ascending", "against")
    elif kind == "answers":
        _check_list(message["answers"], {"to", "share"}, params, i, "answers")
        for e in message["answers"]:
            g.parse_scalar(e["share"])
    return kind


def _is_hex(s: str) -> bool:
    return len(s) % 2 == 0 and all(ch in "0123456789abcdef" for ch in s)


def _check_list(items: Any, keys: set[str], params: Params, sender: int, where: str) -> None:
    if not isinstance(items, list):
        raise DKGError(f"{where} must be a list", where)
    tos = []
    for e in items:
        if not isinstance(e, dict) or e.keys() != keys:
            raise DKGError(f"each entry must have exactly {', '.join(sorted(keys))}", where)
        j = e["to"]
        if type(j) is not int or not 1 <= j <= params.n or j == sender:
            raise DKGError("to must be another trustee's index", where)
        tos.append(j)
    if tos != sorted(set(tos)):
        raise DKGError("entries must be in ascending order of to, each once", where)


def messages_by_index(transcript: Mapping[str, Any], params: Params, kind: str) -> dict[int, Any]:
    out: dict[int, Any] = {}
    name = ROUND_LISTS[kind]
    if not isinstance(transcript[name], list):
        raise DKGError("must be a list", name)
    for pos, m in enumerate(transcript[name]):
        try:
            check_envelope(params, m)
        except CryptoError as exc:
            raise exc.at(f"{name}[{pos}]") from None
        if m["type"] != kind or m["index"] in out:
            raise DKGError(f"not the {kind} round, or a second message", f"{name}[{pos}]")
        out[m["index"]] = m
    return out
