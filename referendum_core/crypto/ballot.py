"""Encrypted ballots: encryption with range proofs, verification, trackers, Benaloh audits (§5).

Randomness is drawn from a :data:`~.group.ScalarSource` in a fixed order that the browser module
(``portal/static/js/ballot.js``) follows too, so fixed randomness gives identical bytes:

1. ``r_k`` for every choice ``k`` in order;
2. for every choice, then for the overall proof, a range proof drawing, for ``j`` in order,
   ``w`` when ``j`` is the true index and otherwise ``c_j`` then ``z_j``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import group as g
from .exceptions import CryptoError, InvalidBallot, InvalidEncoding, InvalidPoint, InvalidProof
from .manifest import ElectionContext, as_context

CHOICE_TAG = "choice-proof-v1"
OVERALL_TAG = "overall-proof-v1"
TRACKER_TAG = b"tracker-v1"
BALLOT_KEYS = frozenset({"election_hash", "alias", "choices", "overall_proof"})
AUDIT_KEYS = BALLOT_KEYS | {"randomness", "plaintext"}
CHOICE_KEYS = frozenset({"alpha", "beta", "proof"})
PROOF_KEYS = frozenset({"challenge", "response"})


@dataclass(frozen=True)
class CheckedBallot:
    """A ballot that passed every check of section 5 (except the board-wide replay check)."""

    tracker: bytes
    alphas: tuple[g.Point, ...]
    betas: tuple[g.Point, ...]


@dataclass(frozen=True)
class EncryptedBallot:
    """A freshly encrypted ballot with the secrets needed for a Benaloh audit."""

    ballot: dict[str, Any]
    randomness: tuple[g.Scalar, ...]
    plaintext: tuple[int, ...]
    tracker: str


# --------------------------------------------------------------------------- trackers


def compute_tracker(
    election_hash: bytes, alias: str, alphas: Sequence[bytes], betas: Sequence[bytes]
) -> bytes:
    """``SHA-256(frame("tracker-v1") ‖ frame(election_hash) ‖ frame(alias) ‖ frame(alpha_0) ‖ …)``."""
    h = hashlib.sha256(g.frame(TRACKER_TAG))
    h.update(g.frame(election_hash))
    h.update(g.frame(alias.encode("utf-8")))
    for a, b in zip(alphas, betas, strict=True):
        h.update(g.frame(a))
        h.update(g.frame(b))
    return h.digest()


# --------------------------------------------------------------------------- range proofs


def prove_range(
    tag: str,
    election_hash: bytes,
    alias: str,
    label: str,
    alpha: g.Point,
    beta: g.Point,
    public_key: g.Point,
    values: Sequence[int],
    true_index: int,
    r: g.Scalar,
    rng: g.ScalarSource,
) -> list[dict[str, str]]:
    """Disjunctive Chaum–Pedersen proof that ``(alpha, beta)`` encrypts ``values[true_index]``."""
    n = len(values)
    cs: list[g.Scalar] = [g.ZERO] * n
    zs: list[g.Scalar] = [g.ZERO] * n
    commitments: list[bytes] = []
    w = g.ZERO
    for j, v in enumerate(values):
        if j == true_index:
            w = rng()
            commitments += [g.base_mul(w), g.mul(w, public_key)]
        else:
            cs[j], zs[j] = rng(), rng()
            bj = beta if v == 0 else g.sub(beta, g.small_multiple(v))
            commitments += [
                g.sub(g.base_mul(zs[j]), g.mul(cs[j], alpha)),
                g.sub(g.mul(zs[j], public_key), g.mul(cs[j], bj)),
            ]
    c = g.hash_to_scalar(tag, election_hash, alias, label, alpha, beta, *commitments)
    cs[true_index] = g.s_sub(c, g.s_sum(cs[j] for j in range(n) if j != true_index))
    zs[true_index] = g.s_add(w, g.s_mul(cs[true_index], r))
    return [{"challenge": c_.hex(), "response": z_.hex()} for c_, z_ in zip(cs, zs, strict=True)]


def _parse_proof(proof: Any, n: int) -> tuple[list[g.Scalar], list[g.Scalar]]:
    if not isinstance(proof, list) or len(proof) != n:
        raise InvalidProof(f"proof must be a list of {n} entries")
    cs: list[g.Scalar] = []
    zs: list[g.Scalar] = []
    for j, e in enumerate(proof):
        if not isinstance(e, dict) or e.keys() != PROOF_KEYS:
            raise InvalidProof("proof entry must have exactly challenge, response", f"[{j}]")
        try:
            cs.append(g.parse_scalar(e["challenge"]))
        except CryptoError as exc:
            raise exc.at(f"[{j}].challenge") from None
        try:
            zs.append(g.parse_scalar(e["response"]))
        except CryptoError as exc:
            raise exc.at(f"[{j}].response") from None
    return cs, zs


def verify_range(
    tag: str,
    election_hash: bytes,
    alias: str,
    label: str,
    alpha: g.Point,
    beta: g.Point,
    public_key: g.Point,
    values: Sequence[int],
    proof: Any,
) -> None:
    """Check a range proof. ``alpha``, ``beta`` and ``public_key`` must already be valid group
    elements (the caller checks received points with :func:`group.is_valid_point`).

    Every commitment ``A_j = z_j·B − c_j·alpha`` and ``C_j = z_j·Y − c_j·beta + (c_j·v_j)·B``
    comes from one multi-scalar multiplication over ``alpha``, ``beta`` and ``Y``.

    Raises:
        InvalidProof: location relative to the proof (``[j].challenge`` …, or empty).
    """
    cs, zs = _parse_proof(proof, len(values))
    rows: list[g.MsmRow] = []
    for c, z, v in zip(cs, zs, values, strict=True):
        neg_c = g.s_neg(c)
        rows.append((z, (neg_c, g.ZERO, g.ZERO)))
        rows.append((_times_small(c, v), (g.ZERO, neg_c, z)))
    commitments = g.msm((alpha, beta, public_key), rows)
    expected = g.hash_to_scalar(tag, election_hash, alias, label, alpha, beta, *commitments)
    if g.s_sum(cs) != expected:
        raise InvalidProof("challenges do not sum to the hash")


def _times_small(c: g.Scalar, v: int) -> g.Scalar:
    """``v·c mod L`` for a small non-negative ``v`` (the proofs' ``c_j·v_j``)."""
    if v == 0:
        return g.ZERO
    if v == 1:
        return c
    return g.s_mul(c, g.scalar_from_int(v))


# --------------------------------------------------------------------------- encryption


def encrypt_ballot(
    context: ElectionContext | dict[str, Any],
    alias: str,
    plaintext: Sequence[int],
    rng: g.ScalarSource = g.random_scalar,
) -> EncryptedBallot:
    """Encrypt a selection (``plaintext[k] ∈ {0, 1}`` per choice) with all proofs.

    Raises:
        InvalidBallot: the selection has the wrong length or breaks min/max choices.
    """
    ctx = as_context(context)
    m = list(plaintext)
    if len(m) != ctx.n_choices or any(type(x) is not int or x not in (0, 1) for x in m):
        raise InvalidBallot("plaintext must hold 0 or 1 for each choice")
    total = sum(m)
    if not ctx.min_choices <= total <= ctx.max_choices:
        raise InvalidBallot("number of selected choices outside [min_choices, max_choices]")
    y = ctx.public_key
    rs = [rng() for _ in m]
    alphas = [g.base_mul(r) for r in rs]
    betas = [g.add(g.mul(r, y), g.small_multiple(mk)) for r, mk in zip(rs, m, strict=True)]
    choices = []
    for k, (a, b, r, mk) in enumerate(zip(alphas, betas, rs, m, strict=True)):
        proof = prove_range(
            CHOICE_TAG, ctx.election_hash, alias, str(k), a, b, y, [0, 1], mk, r, rng
        )
        choices.append({"alpha": a.hex(), "beta": b.hex(), "proof": proof})
    values = ctx.overall_values
    overall = prove_range(
        OVERALL_TAG,
        ctx.election_hash,
        alias,
        "overall",
        g.p_sum(alphas),
        g.p_sum(betas),
        y,
        values,
        values.index(total),
        g.s_sum(rs),
        rng,
    )
    ballot = {
        "election_hash": ctx.election_hash.hex(),
        "alias": alias,
        "choices": choices,
        "overall_proof": overall,
    }
    tracker = compute_tracker(ctx.election_hash, alias, alphas, betas)
    return EncryptedBallot(ballot, tuple(rs), tuple(m), tracker.hex())


def audit_opening(encrypted: EncryptedBallot) -> dict[str, Any]:
    """The Benaloh-revealed form of a ballot: the ballot plus ``randomness`` and ``plaintext``.

    The ballot must never be cast afterwards; the browser encrypts afresh.
    """
    revealed = dict(encrypted.ballot)
    revealed["randomness"] = [r.hex() for r in encrypted.randomness]
    revealed["plaintext"] = list(encrypted.plaintext)
    return revealed


# --------------------------------------------------------------------------- verification


def check_ballot(
    context: ElectionContext,
    alias: str,
    ballot: Any,
    *,
    allowed_keys: frozenset[str] = BALLOT_KEYS,
) -> CheckedBallot:
    """All per-ballot checks of section 5; locations are relative to the ballot object.

    Raises:
        CryptoError: InvalidBallot, InvalidPoint, InvalidScalar, InvalidProof, InvalidEncoding.
    """
    ctx = context
    if not isinstance(ballot, dict) or ballot.keys() != allowed_keys:
        raise InvalidBallot(f"ballot must have exactly {', '.join(sorted(allowed_keys))}")
    if ballot["election_hash"] != ctx.election_hash.hex():
        raise InvalidBallot("ballot is for another election", "election_hash")
    if not isinstance(alias, str) or ballot["alias"] != alias:
        raise InvalidBallot("ballot alias does not match", "alias")
    choices = ballot["choices"]
    if not isinstance(choices, list) or len(choices) != ctx.n_choices:
        raise InvalidBallot(f"ballot must have {ctx.n_choices} choices", "choices")
    eh, y = ctx.election_hash, ctx.public_key
    alphas: list[g.Point] = []
    betas: list[g.Point] = []
    for k, ch in enumerate(choices):
        where = f"choices[{k}]"
        if not isinstance(ch, dict) or ch.keys() != CHOICE_KEYS:
            raise InvalidBallot("choice must have exactly alpha, beta, proof", where)
        try:
            a = g.parse_point_raw(ch["alpha"])
        except CryptoError as exc:
            raise exc.at(f"{where}.alpha") from None
        try:
            b = g.parse_point_raw(ch["beta"])
        except CryptoError as exc:
            raise exc.at(f"{where}.beta") from None
        if not g.is_valid_point(a):
            raise InvalidPoint("not a valid group element", f"{where}.alpha")
        if not g.is_valid_point(b):
            raise InvalidPoint("not a valid group element", f"{where}.beta")
        if a in alphas:
            # Equal alphas mean reused randomness: beta_j − beta_k then reveals m_j − m_k.
            raise InvalidBallot(
                f"alpha equals the alpha of choices[{alphas.index(a)}] (reused randomness)",
                f"{where}.alpha",
            )
        try:
            verify_range(CHOICE_TAG, eh, alias, str(k), a, b, y, (0, 1), ch["proof"])
        except CryptoError as exc:
            raise exc.at(f"{where}.proof") from None
        alphas.append(a)
        betas.append(b)
    try:
        verify_range(
            OVERALL_TAG,
            eh,
            alias,
            "overall",
            g.p_sum(alphas),
            g.p_sum(betas),
            y,
            ctx.overall_values,
            ballot["overall_proof"],
        )
    except CryptoError as exc:
        raise exc.at("overall_proof") from None
    return CheckedBallot(compute_tracker(eh, alias, alphas, betas), tuple(alphas), tuple(betas))


def verify_ballot(
    manifest_or_context: ElectionContext | dict[str, Any],
    alias: str,
    ballot: Any,
    *,
    is_replay: Callable[[bytes], bool] | None = None,
) -> str:
    """Server acceptance check of a cast ballot; returns its tracker (hex).

    ``is_replay(alpha)`` should say whether an alpha is already on the board; the caller must
    still enforce uniqueness atomically (e.g. a unique constraint on the stored alphas).

    Raises:
        CryptoError: the first failed check, with a location relative to the ballot.
    """
    ctx = as_context(manifest_or_context)
    checked = check_ballot(ctx, alias, ballot)
    if is_replay is not None:
        for k, a in enumerate(checked.alphas):
            if is_replay(a):
                raise InvalidBallot("alpha already on the board (replay)", f"choices[{k}].alpha")
    return checked.tracker.hex()


def ballot_alphas(ballot: dict[str, Any]) -> list[bytes]:
    """The raw alphas of an (already verified) ballot, for replay bookkeeping."""
    return [bytes.fromhex(ch["alpha"]) for ch in ballot["choices"]]


def verify_audited(
    manifest_or_context: ElectionContext | dict[str, Any], revealed: Any
) -> tuple[str, list[int]]:
    """Check a Benaloh-revealed ballot: its proofs and that the openings match.

    Returns ``(tracker hex, plaintext)``.

    Raises:
        CryptoError: location relative to the revealed ballot.
    """
    ctx = as_context(manifest_or_context)
    if not isinstance(revealed, dict) or not isinstance(revealed.get("alias"), str):
        raise InvalidBallot("audited ballot must be an object with an alias")
    checked = check_ballot(ctx, revealed["alias"], revealed, allowed_keys=AUDIT_KEYS)
    rs, ms = revealed["randomness"], revealed["plaintext"]
    n = ctx.n_choices
    if not isinstance(rs, list) or len(rs) != n:
        raise InvalidEncoding(f"randomness must list {n} scalars", "randomness")
    if not isinstance(ms, list) or len(ms) != n:
        raise InvalidEncoding(f"plaintext must list {n} values", "plaintext")
    for k in range(n):
        mk = ms[k]
        if type(mk) is not int or mk not in (0, 1):
            raise InvalidEncoding("plaintext value must be 0 or 1", f"plaintext[{k}]")
    opened = open_with_randomness(ctx, checked.alphas, checked.betas, rs)
    for k, (got, mk) in enumerate(zip(opened, ms, strict=True)):
        if got != mk:
            raise InvalidBallot("beta != r·Y + m·B", f"plaintext[{k}]")
    return checked.tracker.hex(), list(ms)


def open_with_randomness(
    context: ElectionContext,
    alphas: Sequence[g.Point],
    betas: Sequence[g.Point],
    randomness: Any,
) -> list[int]:
    """What a ballot says, read with its own randomness (a Benaloh opening, or the voter's check
    of the ballot actually cast on a second device): checks ``alpha_k == r_k·B`` and finds
    ``m_k ∈ {0, 1}`` with ``beta_k == r_k·Y + m_k·B``.

    Raises:
        CryptoError: a scalar is malformed, or the randomness does not open the ballot
        (location ``randomness[k]``).
    """
    n = len(alphas)
    if not isinstance(randomness, list | tuple) or len(randomness) != n:
        raise InvalidEncoding(f"randomness must list {n} scalars", "randomness")
    out: list[int] = []
    for k, text in enumerate(randomness):
        try:
            r = g.parse_scalar(text)
        except CryptoError as exc:
            raise exc.at(f"randomness[{k}]") from None
        if g.base_mul(r) != alphas[k]:
            raise InvalidBallot("alpha != r·B", f"randomness[{k}]")
        masked = g.mul(r, context.public_key)
        for m in (0, 1):
            if g.add(masked, g.small_multiple(m)) == betas[k]:
                out.append(m)
                break
        else:
            raise InvalidBallot("beta is neither r·Y nor r·Y + B", f"randomness[{k}]")
    return out
