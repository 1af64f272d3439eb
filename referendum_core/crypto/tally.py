"""Homomorphic tally, partial decryption with equal-logs proofs, result recovery (spec §7)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from . import group as g
from .ballot import CheckedBallot
from .exceptions import CryptoError, DecryptionError, InvalidEncoding
from .keys import TrusteeSecret

DECRYPTION_TAG = "decryption-v1"
SHARE_KEYS = frozenset({"D", "commitment_b", "commitment_a", "response"})

#: One aggregate ciphertext per choice: ``(A_k, S_k)``.
Aggregate = list[tuple[g.Point, g.Point]]


def _ciphertexts(ballot: Any) -> tuple[Sequence[bytes], Sequence[bytes]]:
    if isinstance(ballot, CheckedBallot):
        return ballot.alphas, ballot.betas
    if isinstance(ballot, dict):
        chs = ballot["choices"]
        return [bytes.fromhex(c["alpha"]) for c in chs], [bytes.fromhex(c["beta"]) for c in chs]
    alphas, betas = ballot
    return alphas, betas


def aggregate(ballots: Iterable[Any], n_choices: int | None = None) -> Aggregate:
    """``A_k = Σ alpha_k``, ``S_k = Σ beta_k`` over already verified ballots.

    Each ballot may be a ballot dict, a :class:`CheckedBallot` or an ``(alphas, betas)`` pair.
    Returns ``[]`` when there is no ballot (spec §7).
    """
    sums_a: list[bytes] | None = None
    sums_b: list[bytes] = []
    add = g.add
    for ballot in ballots:
        alphas, betas = _ciphertexts(ballot)
        if sums_a is None:
            sums_a, sums_b = list(alphas), list(betas)
            if n_choices is not None and len(sums_a) != n_choices:
                raise ValueError("wrong number of choices")
            continue
        for k in range(len(sums_a)):
            sums_a[k] = add(sums_a[k], alphas[k])
            sums_b[k] = add(sums_b[k], betas[k])
    if sums_a is None:
        return []
    return list(zip(sums_a, sums_b, strict=True))


def combine_aggregates(parts: Iterable[Aggregate]) -> Aggregate:
    """Sum partial aggregates (e.g. computed in worker processes); empty parts are skipped."""
    total: Aggregate = []
    for part in parts:
        if not part:
            continue
        if not total:
            total = list(part)
        else:
            total = [
                (g.add(a, pa), g.add(s, ps)) for (a, s), (pa, ps) in zip(total, part, strict=True)
            ]
    return total


def aggregate_to_json(agg: Aggregate) -> list[dict[str, str]]:
    """JSON form ``[{"A": …, "S": …}, …]``."""
    return [{"A": a.hex(), "S": s.hex()} for a, s in agg]


def aggregate_from_json(value: Any, n_choices: int) -> Aggregate:
    """Parse and validate a published aggregate (locations ``[k].A`` / ``[k].S``).

    Raises:
        CryptoError: malformed entry or invalid point.
    """
    if not isinstance(value, list) or len(value) not in (0, n_choices):
        raise InvalidEncoding(f"aggregate must list {n_choices} entries (or none)")
    out: Aggregate = []
    for k, e in enumerate(value):
        if not isinstance(e, dict) or e.keys() != {"A", "S"}:
            raise InvalidEncoding("aggregate entry must have exactly A, S", f"[{k}]")
        pts = []
        for key in ("A", "S"):
            try:
                pts.append(g.parse_point(e[key]))
            except CryptoError as exc:
                raise exc.at(f"[{k}].{key}") from None
        out.append((pts[0], pts[1]))
    return out


# --------------------------------------------------------------------------- decryption


def partial_decrypt(
    secret: TrusteeSecret,
    election_hash: bytes,
    agg: Aggregate,
    rng: g.ScalarSource = g.random_scalar,
) -> list[dict[str, str]]:
    """Trustee side: ``D_ik = x_i·A_k`` with a proof of equal logarithms for every choice."""
    x, y = secret.secret, secret.public_key
    shares = []
    for k, (a, _s) in enumerate(agg):
        d = g.mul(x, a)
        w = rng()
        k1, k2 = g.base_mul(w), g.mul(w, a)
        c = g.hash_to_scalar(DECRYPTION_TAG, election_hash, k, y, a, d, k1, k2)
        z = g.s_add(w, g.s_mul(c, x))
        shares.append(
            {"D": d.hex(), "commitment_b": k1.hex(), "commitment_a": k2.hex(), "response": z.hex()}
        )
    return shares


def verify_partial_decryption(
    election_hash: bytes, trustee_key: g.Point, agg: Aggregate, shares: Any
) -> list[g.Point]:
    """Check one trustee's shares against the aggregate; return the ``D_ik``.

    Raises:
        CryptoError: location relative to the shares list (``[k].D``, ``[k]`` for the proof).
    """
    if not isinstance(shares, list) or len(shares) != len(agg):
        raise DecryptionError(f"need exactly {len(agg)} shares")
    ds: list[g.Point] = []
    for k, (sh, (a, _s)) in enumerate(zip(shares, agg, strict=True)):
        if not isinstance(sh, dict) or sh.keys() != SHARE_KEYS:
            raise DecryptionError(
                f"share must have exactly {', '.join(sorted(SHARE_KEYS))}", f"[{k}]"
            )
        parsed = []
        for key in ("D", "commitment_b", "commitment_a"):
            try:
                parsed.append(g.parse_point(sh[key]))
            except CryptoError as exc:
                raise exc.at(f"[{k}].{key}") from None
        d, k1, k2 = parsed
        try:
            z = g.parse_scalar(sh["response"])
        except CryptoError as exc:
            raise exc.at(f"[{k}].response") from None
        c = g.hash_to_scalar(DECRYPTION_TAG, election_hash, k, trustee_key, a, d, k1, k2)
        if g.base_mul(z) != g.add(k1, g.mul(c, trustee_key)) or g.mul(z, a) != g.add(
            k2, g.mul(c, d)
        ):
            raise DecryptionError("equal-logarithms proof fails", f"[{k}]")
        ds.append(d)
    return ds


# --------------------------------------------------------------------------- result


class _BabySteps:
    """``{j·B: j}`` for ``0 ≤ j < m``, grown on demand and kept for later tallies."""

    def __init__(self) -> None:
        self.points: list[g.Point] = [g.IDENTITY]
        self.index: dict[g.Point, int] = {g.IDENTITY: 0}

    def ensure(self, m: int) -> None:
        pts, idx = self.points, self.index
        while len(pts) < m:
            p = g.add(pts[-1], g.BASE)
            idx[p] = len(pts)
            pts.append(p)


_BABY = _BabySteps()


def discrete_log(m_point: g.Point, max_value: int) -> int:
    """The unique ``T ∈ [0, max_value]`` with ``T·B = M`` (baby-step giant-step).

    Raises:
        DecryptionError: no such ``T``.
    """
    if m_point == g.IDENTITY:
        return 0
    step = max(1, math.isqrt(max_value) + 1)
    _BABY.ensure(step)
    giant = g.base_mul(g.scalar_from_int(step))
    cur = m_point
    index = _BABY.index
    for i in range(max_value // step + 1):
        j = index.get(cur)
        if j is not None:
            t = i * step + j
            if t <= max_value:
                return t
            break
        cur = g.sub(cur, giant)
    raise DecryptionError(f"decrypted value is not in [0, {max_value}]")


def recover_result(agg: Aggregate, shares: Sequence[Sequence[g.Point]], counted: int) -> list[int]:
    """``T_k`` from ``M_k = S_k − Σ_i D_ik``; all zeros when nothing was counted.

    ``shares[i][k]`` is trustee ``i``'s ``D_ik`` (already verified).

    Raises:
        DecryptionError: some ``M_k`` is not ``T·B`` for ``T ∈ [0, counted]`` (location ``[k]``).
    """
    result = []
    for k, (_a, s) in enumerate(agg):
        m_point = s
        for trustee_shares in shares:
            m_point = g.sub(m_point, trustee_shares[k])
        try:
            result.append(discrete_log(m_point, counted))
        except DecryptionError as exc:
            raise exc.at(f"[{k}]") from None
    return result
