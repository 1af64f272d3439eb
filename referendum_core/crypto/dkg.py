"""t-of-n trustees: a distributed key generation and threshold decryption (spec
``docs/spec/threshold-trustees.md``).

Pedersen's verifiable secret sharing run by every trustee at once, with a hash-commit round in
front so that no trustee can choose its polynomial after seeing the others'. Nobody, the portal
included, ever holds the election secret: trustee ``j`` ends with ``x_j = Σ_{i∈Q} P_i(j)``, and
any ``t`` of them recombine ``x = Σ_{i∈Q} P_i(0)`` only "in the exponent", per decryption.

Rounds, each a JSON message per trustee (``MESSAGE_KEYS``):

1. ``commit``: ``SHA-256(canonical(reveal))`` of the reveal message it will publish next;
2. ``reveal``: ``C_ik = a_ik·B`` for ``k < t``, a Schnorr proof for each, an X25519 transport key;
3. ``shares``: ``s_ij = P_i(j)`` sealed (libsodium sealed box) to every other revealed trustee;
4. ``complaints``: the trustees whose share failed ``s_ij·B == Σ_k j^k·C_ik`` (possibly none);
5. ``answers``: the public ``s_ij`` for every complaint against the sender.

:func:`evaluate` derives, from the published messages alone, who is qualified (``Q``), the
election key ``Y`` and every verification key ``Y_j``; a trustee's :func:`finalize` adds its
secret ``x_j``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nacl import bindings as nb
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.exceptions import RuntimeError as NaclError
from nacl.public import PrivateKey, PublicKey, SealedBox

from . import group as g
from .dkg_messages import (
    COEFFICIENT_TAG,
    MESSAGE_TAG,
    ROUND_LISTS,
    ROUNDS,
    SHARE_LABEL,
    SIGNED_ROUNDS,
    DKGError,
    Params,
    check_envelope,
    check_signature,
    empty_transcript,
    envelope,
    eval_commitments,
    eval_poly,
    lagrange_at_zero,
    message_hash,
    messages_by_index,
    params_of,
    power,
    signed_body,
)
from .exceptions import CryptoError, DecryptionError, InvalidEncoding, InvalidProof
from .keys import TrusteeSecret

__all__ = [
    "COEFFICIENT_TAG", "MESSAGE_TAG", "ROUNDS", "SHARE_LABEL", "DKGError", "DealerState",
    "Outcome", "Params", "Revealed", "add_message", "answer_complaints", "check_reveal",
    "check_shares", "combine_partials", "commit", "deal_shares", "empty_transcript",
    "eval_commitments", "eval_poly", "evaluate", "finalize", "lagrange_at_zero", "message_hash",
    "open_share", "params_of", "pending", "power", "progress", "reveal", "seal", "sign_message",
]

# --------------------------------------------------------------------------- a trustee's state


@dataclass(frozen=True)
class DealerState:
    """A trustee's private state between the rounds: its polynomial and transport key, and the
    reveal message it committed to (published unchanged in round 2)."""

    params: Params
    index: int
    name: str
    coefficients: tuple[g.Scalar, ...]
    transport_seed: bytes
    reveal: dict[str, Any] = field(compare=False)

    @property
    def transport_key(self) -> PrivateKey:
        """The X25519 private key opening the shares sent to this trustee."""
        return PrivateKey.from_seed(self.transport_seed)

    def to_json(self) -> dict[str, Any]:
        """The state as JSON (secret: keep it sealed, see ``secretfile.seal_blob``)."""
        return {
            "election_id": self.params.election_id,
            "t": self.params.t,
            "n": self.params.n,
            "index": self.index,
            "name": self.name,
            "coefficients": [a.hex() for a in self.coefficients],
            "transport_seed": self.transport_seed.hex(),
            "reveal": self.reveal,
        }

    @classmethod
    def from_json(cls, obj: Any) -> DealerState:
        """Read a state written by :meth:`to_json`.

        Raises:
            DKGError: malformed, or the polynomial does not match the committed reveal.
        """
        try:
            params = Params(obj["election_id"], obj["t"], obj["n"])
            coefficients = tuple(g.parse_scalar(a) for a in obj["coefficients"])
            seed = g.parse_hex32(obj["transport_seed"], "transport_seed")
            state = cls(params, obj["index"], obj["name"], coefficients, seed, obj["reveal"])
        except (KeyError, TypeError) as exc:
            raise DKGError(f"malformed key-generation state: {exc}") from None
        want = [g.base_mul(a).hex() for a in coefficients]
        if state.reveal.get("coefficients") != want or state.reveal.get(
            "transport_key"
        ) != bytes(state.transport_key.public_key).hex():
            raise DKGError("the key-generation state does not match its reveal message")
        return state


def sign_message(
    state: DealerState, message: dict[str, Any], rng: g.ScalarSource = g.random_scalar
) -> dict[str, Any]:
    """Add the sender's Schnorr signature with ``a_i0`` over ``canonical(message)``."""
    a0 = state.coefficients[0]
    c0 = g.base_mul(a0)
    w = rng()
    k_point = g.base_mul(w)
    c = g.hash_to_scalar(
        MESSAGE_TAG, state.params.election_id, state.index, signed_body(message), c0, k_point
    )
    z = g.s_add(w, g.s_mul(c, a0))
    return {**message, "signature": {"commitment": k_point.hex(), "response": z.hex()}}


def _check_own(state: DealerState, transcript: Any) -> None:
    """The transcript must carry this trustee's own commitment and reveal, unaltered."""
    i = state.index
    for name, want in (("commits", message_hash(state.reveal)), ("reveals", state.reveal)):
        for m in transcript.get(name, []) if isinstance(transcript, dict) else []:
            if isinstance(m, dict) and m.get("index") == i:
                got = m.get("hash") if name == "commits" else m
                if got != want:
                    raise DKGError(
                        f"the transcript carries a {name[:-1]} message for trustee {i} that is "
                        "not this trustee's: do not go on, tell the election commission"
                    )


# --------------------------------------------------------------------------- rounds 1 and 2


def commit(
    params: Params, index: int, name: str, rng: g.ScalarSource = g.random_scalar
) -> tuple[DealerState, dict[str, Any]]:
    """Round 1: draw ``P_i`` and the transport key; return the state and the commit message.

    The reveal message (round 2) is fixed here, so that what is revealed is what was committed.

    Raises:
        DKGError: ``index`` is not in ``1 … n`` or the name is empty.
    """
    if type(index) is not int or not 1 <= index <= params.n:
        raise DKGError(f"index must be in 1 … {params.n}", "index")
    if not isinstance(name, str) or not name:
        raise DKGError("name must be a non-empty string", "name")
    coefficients = tuple(rng() for _ in range(params.t))
    seed = rng()
    transport = PrivateKey.from_seed(seed)
    commitments = [g.base_mul(a) for a in coefficients]
    proofs = []
    for k, (a, c_ik) in enumerate(zip(coefficients, commitments, strict=True)):
        w = rng()
        k_point = g.base_mul(w)
        c = g.hash_to_scalar(COEFFICIENT_TAG, params.election_id, index, k, c_ik, k_point)
        proofs.append({"commitment": k_point.hex(), "response": g.s_add(w, g.s_mul(c, a)).hex()})
    reveal = envelope(
        "reveal",
        params,
        index,
        t=params.t,
        n=params.n,
        coefficients=[c.hex() for c in commitments],
        proofs=proofs,
        transport_key=bytes(transport.public_key).hex(),
    )
    state = DealerState(params, index, name, coefficients, seed, reveal)
    return state, envelope("commit", params, index, name=name, hash=message_hash(reveal))


def reveal(state: DealerState) -> dict[str, Any]:
    """Round 2: the reveal message committed to in round 1."""
    return dict(state.reveal)


@dataclass(frozen=True)
class Revealed:
    """A checked reveal: the commitments ``C_ik`` and the transport key."""

    commitments: tuple[g.Point, ...]
    transport_key: bytes


def check_reveal(params: Params, index: int, committed_hash: str, message: Any) -> Revealed:
    """Check a reveal against its commitment and its proofs of knowledge.

    Raises:
        CryptoError: the hash differs, the shape is wrong, a point or proof is invalid.
    """
    if message_hash(message) != committed_hash:
        raise DKGError("the reveal does not match its commitment")
    if message["t"] != params.t or message["n"] != params.n:
        raise DKGError("t or n differ from the election's")
    cs, proofs = message["coefficients"], message["proofs"]
    if not isinstance(cs, list) or not isinstance(proofs, list):
        raise InvalidEncoding("coefficients and proofs must be lists")
    if len(cs) != params.t or len(proofs) != params.t:
        raise DKGError(f"need exactly {params.t} coefficients and proofs")
    points = []
    for k, (c_hex, proof) in enumerate(zip(cs, proofs, strict=True)):
        try:
            c_ik = g.parse_point(c_hex)
        except CryptoError as exc:
            raise exc.at(f"coefficients[{k}]") from None
        if not isinstance(proof, dict) or proof.keys() != {"commitment", "response"}:
            raise InvalidEncoding("proof must have exactly commitment, response", f"proofs[{k}]")
        try:
            k_point = g.parse_point(proof["commitment"])
            z = g.parse_scalar(proof["response"])
        except CryptoError as exc:
            raise exc.at(f"proofs[{k}]") from None
        c = g.hash_to_scalar(COEFFICIENT_TAG, params.election_id, index, k, c_ik, k_point)
        if g.base_mul(z) != g.add(k_point, g.mul(c, c_ik)):
            raise InvalidProof("proof of knowledge of the coefficient fails", f"proofs[{k}]")
        points.append(c_ik)
    transport = g.parse_hex32(message["transport_key"], "transport_key")
    try:  # libsodium refuses a low-order X25519 key; find out now, not while dealing shares
        seal(transport, b"", bytes(32))
    except NaclError:
        raise DKGError("transport_key is not a usable X25519 public key", "transport_key") from None
    return Revealed(tuple(points), transport)


# --------------------------------------------------------------------------- transcript


def add_message(transcript: dict[str, Any], message: Any) -> dict[str, Any]:
    """Append a trustee's message to the transcript (the portal's upload check).

    Lists stay sorted by trustee index; a second message of a trustee in the same round is
    refused, so no one can change a message once published.

    Raises:
        DKGError: malformed message, another election, or a second message.
    """
    params = params_of(transcript)
    kind = check_envelope(params, message)
    lst = transcript[ROUND_LISTS[kind]]
    later = ROUNDS[ROUNDS.index(kind) + 1 :]
    if any(transcript[ROUND_LISTS[r]] for r in later):
        # Above all, no commitment once reveals are public: that is what the hash-commit
        # round is for (no polynomial chosen after seeing the others').
        raise DKGError(f"the {kind} round is closed: a later round has begun")
    if any(m["index"] == message["index"] for m in lst):
        raise DKGError(f"trustee {message['index']} already published its {kind} message")
    if kind in SIGNED_ROUNDS:
        revealed = evaluate(transcript, final=False).revealed
        if message["index"] not in revealed:
            raise DKGError(f"trustee {message['index']} has no accepted reveal")
        check_signature(params, message, revealed[message["index"]].commitments[0])
    lst.append(message)
    lst.sort(key=lambda m: m["index"])
    return transcript


# --------------------------------------------------------------------------- the public outcome


@dataclass
class Outcome:
    """What the published messages establish (anyone can recompute it)."""

    params: Params
    names: dict[int, str]
    revealed: dict[int, Revealed]
    disqualified: dict[int, str]
    complaints: dict[int, list[int]]
    answers: dict[tuple[int, int], g.Scalar]
    shares: dict[tuple[int, int], bytes]
    qualified: list[int] = field(default_factory=list)
    public_key: g.Point = g.IDENTITY
    verification_keys: dict[int, g.Point] = field(default_factory=dict)

    @property
    def has_quorum(self) -> bool:
        """At least ``t`` trustees stayed qualified."""
        return len(self.qualified) >= self.params.t

    def require_quorum(self) -> None:
        """Stop when fewer than ``t`` trustees are qualified.

        Raises:
            DKGError: naming the qualified and disqualified trustees.
        """
        if not self.has_quorum:
            why = "; ".join(f"trustee {i}: {r}" for i, r in sorted(self.disqualified.items()))
            raise DKGError(
                f"key generation failed: only {len(self.qualified)} trustees are qualified "
                f"({self.qualified}), the threshold is {self.params.t}. Disqualified: {why}. "
                "Start a new key generation."
            )


def evaluate(transcript: Any, *, final: bool = True) -> Outcome:
    """Recompute, from the transcript alone, who is qualified and the public keys.

    With ``final`` (after the answer deadline) a complaint without a correct answer disqualifies
    its target, and a revealed trustee that published no complaints message (not even an empty
    one) is dropped: it never confirmed holding valid shares. Before, only the reveal checks
    apply (what the shares round needs).

    Raises:
        DKGError: the transcript or a message in it is malformed.
    """
    params = params_of(transcript)
    commits = messages_by_index(transcript, params, "commit")
    reveals = messages_by_index(transcript, params, "reveal")
    share_msgs = messages_by_index(transcript, params, "shares")
    complaint_msgs = messages_by_index(transcript, params, "complaints")
    answer_msgs = messages_by_index(transcript, params, "answers")
    names = {i: m["name"] for i, m in commits.items()}
    disqualified: dict[int, str] = {}
    revealed: dict[int, Revealed] = {}
    for i in range(1, params.n + 1):
        if i not in commits:
            disqualified[i] = "published no commitment"
        elif i not in reveals:
            disqualified[i] = "did not reveal"
        else:
            try:
                revealed[i] = check_reveal(params, i, commits[i]["hash"], reveals[i])
            except CryptoError as exc:
                disqualified[i] = f"invalid reveal: {exc}"
    for name, msgs in (
        ("shares", share_msgs), ("complaints", complaint_msgs), ("answers", answer_msgs)
    ):
        for pos, (i, m) in enumerate(sorted(msgs.items())):
            if i not in revealed:
                raise DKGError(f"trustee {i} has no accepted reveal", f"{name}[{pos}]")
            try:
                check_signature(params, m, revealed[i].commitments[0])
            except CryptoError as exc:
                raise exc.at(f"{name}[{pos}]") from None
    shares = {
        (i, e["to"]): bytes.fromhex(e["ciphertext"])
        for i, m in share_msgs.items()
        for e in m["shares"]
    }
    complaints = {j: list(m["against"]) for j, m in complaint_msgs.items()}
    answers = {
        (i, e["to"]): bytes.fromhex(e["share"]) for i, m in answer_msgs.items() for e in m["answers"]
    }
    out = Outcome(params, names, revealed, disqualified, complaints, answers, shares)
    if not final:
        out.qualified = sorted(revealed)
        return out
    for j, against in sorted(complaints.items()):
        for i in against:
            if i not in revealed or i in disqualified:
                continue
            s = answers.get((i, j))
            if s is None:
                disqualified[i] = f"did not answer the complaint of trustee {j}"
            elif g.base_mul(s) != eval_commitments(revealed[i].commitments, j):
                disqualified[i] = f"the share it revealed for trustee {j} is wrong"
    for j in revealed:
        if j not in complaints and j not in disqualified:
            disqualified[j] = "did not check its shares (no complaints message)"
    out.qualified = [i for i in sorted(revealed) if i not in disqualified]
    if out.qualified:
        summed = [
            g.p_sum(revealed[i].commitments[k] for i in out.qualified) for k in range(params.t)
        ]
        out.public_key = summed[0]
        rows = [(g.ZERO, [power(j, k) for k in range(params.t)]) for j in out.qualified]
        keys = g.msm(summed, rows) if params.t > 1 else [summed[0]] * len(rows)
        out.verification_keys = dict(zip(out.qualified, keys, strict=True))
    return out


# --------------------------------------------------------------------------- rounds 3 to 5


def _share_plaintext(params: Params, sender: int, to: int, share: g.Scalar) -> bytes:
    return g.canonical(
        {
            "type": SHARE_LABEL,
            "election_id": params.election_id,
            "from": sender,
            "to": to,
            "share": share.hex(),
        }
    )


def seal(public_key: bytes, plaintext: bytes, ephemeral_seed: bytes | None = None) -> bytes:
    """libsodium's sealed box (``crypto_box_seal``) to an X25519 key.

    With ``ephemeral_seed`` the sender's one-time key pair is ``crypto_box_seed_keypair(seed)``
    and the box is built from its definition: ``epk ‖ crypto_box(m, n, pk, esk)`` with
    ``n = BLAKE2b-192(epk ‖ pk)`` — the same bytes libsodium would produce with that key pair,
    so test vectors are reproducible. Without it, libsodium draws the key pair.
    """
    if ephemeral_seed is None:
        return bytes(SealedBox(PublicKey(public_key)).encrypt(plaintext))
    epk, esk = nb.crypto_box_seed_keypair(ephemeral_seed)
    nonce = hashlib.blake2b(epk + public_key, digest_size=24).digest()
    return epk + nb.crypto_box(plaintext, nonce, public_key, esk)


def deal_shares(
    state: DealerState,
    transcript: Any,
    *,
    wrong_for: Iterable[int] = (),
    rng: g.ScalarSource | None = None,
) -> dict[str, Any]:
    """Round 3: ``s_ij = P_i(j)`` sealed to each other trustee whose reveal is valid.

    ``wrong_for`` makes the shares for those trustees wrong (tests and the simulator only: a
    cheating trustee); ``rng`` seeds the boxes' one-time keys (test vectors only).

    Raises:
        DKGError: this trustee's own reveal is not accepted in the transcript.
    """
    _check_own(state, transcript)
    outcome = evaluate(transcript, final=False)
    i = state.index
    if i not in outcome.revealed:
        raise DKGError(f"own reveal not accepted: {outcome.disqualified.get(i, 'missing')}")
    cheat = set(wrong_for)
    entries = []
    for j in sorted(outcome.revealed):
        if j == i:
            continue
        s = eval_poly(state.coefficients, j)
        if j in cheat:
            s = g.s_add(s, g.ONE)
        ct = seal(
            outcome.revealed[j].transport_key,
            _share_plaintext(state.params, i, j, s),
            rng() if rng is not None else None,
        )
        entries.append({"to": j, "ciphertext": ct.hex()})
    message = envelope("shares", state.params, i, shares=entries)
    return sign_message(state, message, rng or g.random_scalar)


def open_share(state: DealerState, outcome: Outcome, sender: int) -> g.Scalar | None:
    """The share ``s_ij`` from ``sender`` to this trustee if it arrived and is correct, else None."""
    j = state.index
    ct = outcome.shares.get((sender, j))
    if ct is None or sender not in outcome.revealed:
        return None
    try:
        plain = SealedBox(state.transport_key).decrypt(ct)
    except NaclCryptoError:
        return None
    try:
        body = json.loads(plain)
        s = g.parse_scalar(body["share"])
    except (ValueError, TypeError, KeyError, CryptoError):
        return None
    if plain != _share_plaintext(state.params, sender, j, s):
        return None
    if g.base_mul(s) != eval_commitments(outcome.revealed[sender].commitments, j):
        return None
    return s


def check_shares(
    state: DealerState, transcript: Any, rng: g.ScalarSource = g.random_scalar
) -> dict[str, Any]:
    """Round 4: the complaints message against every revealed trustee whose share to this
    trustee is missing, does not open, or fails ``s_ij·B == Σ_k j^k·C_ik`` (often none)."""
    _check_own(state, transcript)
    outcome = evaluate(transcript, final=False)
    against = [
        i
        for i in sorted(outcome.revealed)
        if i != state.index and open_share(state, outcome, i) is None
    ]
    message = envelope("complaints", state.params, state.index, against=against)
    return sign_message(state, message, rng)


def answer_complaints(
    state: DealerState, transcript: Any, rng: g.ScalarSource = g.random_scalar
) -> dict[str, Any]:
    """Round 5: reveal in public ``s_ij`` for every complaint against this trustee."""
    _check_own(state, transcript)
    outcome = evaluate(transcript, final=False)
    answers = [
        {"to": j, "share": eval_poly(state.coefficients, j).hex()}
        for j, against in sorted(outcome.complaints.items())
        if state.index in against
    ]
    message = envelope("answers", state.params, state.index, answers=answers)
    return sign_message(state, message, rng)


def finalize(state: DealerState, transcript: Any) -> tuple[TrusteeSecret, Outcome]:
    """After the answer deadline: ``x_j = Σ_{i∈Q} s_ij``, checked against ``Y_j``.

    Raises:
        DKGError: fewer than ``t`` trustees qualified, this trustee is not qualified, or a
            share it did not complain about does not open.
    """
    _check_own(state, transcript)
    outcome = evaluate(transcript)
    outcome.require_quorum()
    j = state.index
    if j not in outcome.qualified:
        raise DKGError(f"trustee {j} is not qualified: {outcome.disqualified.get(j)}")
    total = 0
    for i in outcome.qualified:
        if i == j:
            s = eval_poly(state.coefficients, j)
        elif (i, j) in outcome.answers and i in outcome.complaints.get(j, []):
            s = outcome.answers[(i, j)]
        else:
            opened = open_share(state, outcome, i)
            if opened is None:
                raise DKGError(f"the share of trustee {i} does not open and was not complained of")
            s = opened
        total += g.scalar_to_int(s)
    x = g.scalar_from_int(total)
    y_j = outcome.verification_keys[j]
    if g.base_mul(x) != y_j:
        raise DKGError("the combined secret does not match the verification key")
    return TrusteeSecret(state.params.election_id, state.name, x, y_j), outcome


def pending(transcript: Any) -> list[str]:
    """What the key generation still waits for before its outcome is settled: a revealed
    trustee's complaints message, or the answer to a complaint (empty when settled). Before
    the last deadline, evaluating with these pending would disqualify trustees too early.

    Raises:
        DKGError: the transcript is malformed.
    """
    outcome = evaluate(transcript, final=False)
    waits = [f"trustee {j} has not checked its shares"
             for j in sorted(outcome.revealed) if j not in outcome.complaints]
    waits += [f"trustee {i} has not answered the complaint of trustee {j}"
              for j, against in sorted(outcome.complaints.items()) for i in against
              if i in outcome.revealed and (i, j) not in outcome.answers]
    return waits


def progress(transcript: Any) -> dict[int, dict[str, bool]]:
    """Who has published what: ``{index: {round: bool}}`` for every trustee ``1 … n`` (what a
    trustee page shows).

    Raises:
        DKGError: the transcript is malformed.
    """
    params = params_of(transcript)
    done = {r: set(messages_by_index(transcript, params, r)) for r in ROUNDS}
    return {i: {r: i in done[r] for r in ROUNDS} for i in range(1, params.n + 1)}


# --------------------------------------------------------------------------- decryption


def combine_partials(
    partials: Mapping[int, Sequence[g.Point]], t: int, n_choices: int
) -> list[g.Point]:
    """``D_k = Σ_{j∈S} λ_j·D_jk`` over the (already verified) partial decryptions of ``S``.

    Raises:
        DecryptionError: fewer than ``t`` partial decryptions.
    """
    if len(partials) < t:
        raise DecryptionError(
            f"{len(partials)} valid partial decryptions, the threshold is {t}: no result"
        )
    lambdas = lagrange_at_zero(sorted(partials))
    order = sorted(partials)
    points = [partials[j][k] for k in range(n_choices) for j in order]
    out = []
    width = len(order)
    for k in range(n_choices):
        pts = points[k * width : (k + 1) * width]
        out.append(g.p_sum(g.mul(lambdas[j], p) for j, p in zip(order, pts, strict=True)))
    return out
