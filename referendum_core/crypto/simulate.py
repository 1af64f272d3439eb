"""``referendum-simulate``: a whole election through the real code, written as a record.

Keys, ballots (with re-votes and Benaloh audits), server acceptance, in-person exclusions, the
tally and every trustee's partial decryption all use the same functions as production. With
``--seed`` the record is reproducible (test randomness; never for a real election).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from . import dkg
from . import group as g
from .ballot import audit_opening, encrypt_ballot
from .exceptions import CryptoError
from .keys import TrusteeSecret, generate_trustee_key
from .manifest import build_manifest
from .record import RecordBuilder, write_record
from .tally import partial_decrypt
from .threshold import build_tally, manifest_trustees

DEFAULT_QUESTION: dict[str, Any] = {
    "id": "q1",
    "text": {
        "lv": "Vai atbalstāt jaunā parka izveidi?",
        "en": "Do you support creating the new park?",
    },
    "choices": [
        {"id": "yes", "text": {"lv": "Par", "en": "For"}},
        {"id": "no", "text": {"lv": "Pret", "en": "Against"}},
    ],
    "min_choices": 1,
    "max_choices": 1,
}
OPENS_AT = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
CLOSES_AT = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)


def _ts(dt: datetime) -> str:
    """RFC 3339 UTC, whole seconds: the form spec section 9 gives the board's cast_at."""
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Simulation:
    """The outcome: the record, the trustees' secrets, and the plaintext truth."""

    record: dict[str, Any]
    secrets: list[TrusteeSecret]
    expected: list[int]


def _selection(rnd: random.Random, n: int, lo: int, hi: int) -> list[int]:
    count = rnd.randint(lo, hi)
    chosen = set(rnd.sample(range(n), count))
    return [1 if k in chosen else 0 for k in range(n)]


def run_key_generation(
    params: dkg.Params,
    rng: g.ScalarSource = g.random_scalar,
    *,
    cheat_share: int | None = None,
    box_rng: g.ScalarSource | None = None,
) -> tuple[dict[str, Any], dict[int, TrusteeSecret], dkg.Outcome]:
    """Every trustee's side of the key generation, in memory, through the real rounds.

    ``cheat_share``: that trustee sends a wrong share to the next trustee and, when that one
    complains, answers with the same wrong share (so it is disqualified). ``box_rng`` seeds the
    sealed boxes (reproducible records; never for a real election).

    Raises:
        DKGError: fewer than ``t`` trustees qualified.
    """
    transcript = dkg.empty_transcript(params)
    states = []
    for i in range(1, params.n + 1):
        state, message = dkg.commit(params, i, f"Trustee {i}", rng)
        states.append(state)
        dkg.add_message(transcript, message)
    for state in states:
        dkg.add_message(transcript, dkg.reveal(state))
    victim = cheat_share % params.n + 1 if cheat_share is not None else None
    for state in states:
        wrong = [victim] if state.index == cheat_share else []
        dkg.add_message(transcript, dkg.deal_shares(state, transcript, wrong_for=wrong, rng=box_rng))
    for state in states:
        dkg.add_message(transcript, dkg.check_shares(state, transcript, rng))
    for state in states:
        answers = dkg.answer_complaints(state, transcript, rng)
        if state.index == cheat_share:
            answers.pop("signature")
            for a in answers["answers"]:
                wrong_share = g.s_add(dkg.eval_poly(state.coefficients, a["to"]), g.ONE)
                a["share"] = wrong_share.hex()
            answers = dkg.sign_message(state, answers, rng)
        dkg.add_message(transcript, answers)
    outcome = dkg.evaluate(transcript)
    outcome.require_quorum()
    secrets = {
        s.index: dkg.finalize(s, transcript)[0] for s in states if s.index in outcome.qualified
    }
    return transcript, secrets, outcome


def simulate(
    voters: int,
    trustees: int = 3,
    *,
    revote_share: float = 0.0,
    audited: int = 0,
    excluded: int = 0,
    seed: str | None = None,
    question: dict[str, Any] | None = None,
    revoting: bool = True,
    threshold: int | None = None,
    cheat_share: int | None = None,
    absent: tuple[int, ...] = (),
    bad_decryption: int | None = None,
) -> Simulation:
    """Run an election in memory and return its record.

    With ``threshold`` the trustees run the distributed key generation (trustee ``cheat_share``
    deals a wrong share and is disqualified); trustees in ``absent`` do not decrypt, and
    ``bad_decryption``'s partial decryption carries a broken proof (it is skipped).

    Raises:
        ValueError: inconsistent parameters.
        DKGError: fewer than ``t`` trustees qualified.
    """
    if voters < 0 or trustees < 1 or not 0 <= revote_share <= 1 or excluded > voters:
        raise ValueError("need voters ≥ 0, trustees ≥ 1, 0 ≤ revote-share ≤ 1, excluded ≤ voters")
    if threshold is None and (cheat_share or absent or bad_decryption):
        raise ValueError("--cheat-share, --absent and --bad-decryption need --threshold")
    if threshold is not None and not 1 <= threshold <= trustees:
        raise ValueError("need 1 ≤ threshold ≤ trustees")
    if any(not 1 <= j <= trustees for j in (*absent, cheat_share or 1, bad_decryption or 1)):
        raise ValueError("trustee numbers run from 1 to --trustees")
    if revote_share and not revoting:
        raise ValueError("re-votes need revoting")
    rng: g.ScalarSource = g.deterministic_scalars(seed) if seed is not None else g.random_scalar
    rnd = random.Random(seed) if seed is not None else random.SystemRandom()  # noqa: S311
    q = question or DEFAULT_QUESTION
    election_id = (
        str(uuid.UUID(bytes=hashlib.sha256(f"election:{seed}".encode()).digest()[:16], version=4))
        if seed is not None
        else str(uuid.uuid4())
    )
    common = {
        "election_id": election_id,
        "municipality": "0001000",
        "question": q,
        "opens_at": _ts(OPENS_AT),
        "closes_at": _ts(CLOSES_AT),
        "revoting": revoting,
    }
    transcript: dict[str, Any] | None = None
    by_index: dict[int, TrusteeSecret] = {}
    if threshold is None:
        secrets, publics = [], []
        for i in range(trustees):
            s, p = generate_trustee_key(election_id, f"Trustee {i + 1}", rng)
            secrets.append(s)
            publics.append(p)
        manifest = build_manifest(**common, trustees=publics)
    else:
        transcript, by_index, outcome = run_key_generation(
            dkg.Params(election_id, threshold, trustees),
            rng,
            cheat_share=cheat_share,
            box_rng=rng if seed is not None else None,
        )
        members, th, y = manifest_trustees(transcript, outcome)
        manifest = build_manifest(**common, trustees=members, threshold=(th, y))
        secrets = [by_index[j] for j in sorted(by_index)]
    builder = RecordBuilder(manifest)
    ctx = builder.context
    n, lo, hi = ctx.n_choices, ctx.min_choices, ctx.max_choices
    aliases = [
        f"v{hashlib.sha256(f'{seed}:{i}'.encode()).hexdigest()[:20]}"
        if seed is not None
        else uuid.uuid4().hex
        for i in range(voters)
    ]
    # A cast is (alias, order key); re-voters cast twice, later in the period.
    casts = [(a, rnd.random() * 0.5) for a in aliases]
    revoters = rnd.sample(aliases, round(voters * revote_share))
    casts += [(a, 0.5 + rnd.random() * 0.5) for a in revoters]
    casts.sort(key=lambda c: c[1])
    span = (CLOSES_AT - OPENS_AT).total_seconds()
    last_vote: dict[str, list[int]] = {}
    audit_at = set(rnd.sample(range(len(casts)), min(audited, len(casts)))) if casts else set()
    extra_audits = max(0, audited - len(casts))
    for idx, (alias, when) in enumerate(casts):
        if idx in audit_at:  # the voter challenges one encryption, then encrypts afresh
            challenged = encrypt_ballot(ctx, alias, _selection(rnd, n, lo, hi), rng)
            builder.add_audited(audit_opening(challenged))
        sel = _selection(rnd, n, lo, hi)
        enc = encrypt_ballot(ctx, alias, sel, rng)
        builder.cast(alias, enc.ballot, _ts(OPENS_AT + timedelta(seconds=when * span)))
        last_vote[alias] = sel
    for _ in range(extra_audits):
        alias = f"auditor-{rnd.getrandbits(64):016x}"
        builder.add_audited(
            audit_opening(encrypt_ballot(ctx, alias, _selection(rnd, n, lo, hi), rng))
        )
    for alias in rnd.sample(aliases, excluded):
        builder.exclude(alias)
    excluded_set = set(builder.excluded_aliases)
    expected = [0] * n
    for alias, sel in last_vote.items():
        if alias not in excluded_set:
            expected = [e + s for e, s in zip(expected, sel, strict=True)]
    agg = builder.aggregate()
    if agg and threshold is None:
        for i, s in enumerate(secrets):
            builder.add_decryption(i, partial_decrypt(s, ctx.election_hash, agg, rng))
    in_person_counts = {cid: rnd.randint(0, max(1, voters // 4)) for cid in ctx.choice_ids}
    in_person = {
        "ballots_issued": sum(in_person_counts.values()) + 3,
        "counts": in_person_counts,
        "invalid": 3,
        "protocol_sha256": hashlib.sha256(f"protocol:{seed}".encode()).hexdigest(),
    }
    if threshold is None:
        record = builder.record(in_person)
    else:
        record = builder.record(in_person, with_tally=False)
        record["dkg"] = transcript
        partials = {}
        for j, secret in sorted(by_index.items()):
            if j in absent:
                continue
            shares = partial_decrypt(secret, ctx.election_hash, agg, rng) if agg else []
            if j == bad_decryption and shares:
                shares[0]["response"] = g.s_add(g.parse_scalar(shares[0]["response"]), g.ONE).hex()
            partials[j] = shares
        assert ctx.threshold is not None  # noqa: S101 - a threshold manifest was built above
        record["tally"] = build_tally(
            ctx.election_hash, ctx.threshold, agg, len(builder.counted_indices()), n, partials
        )
    if record["tally"]["result"] != expected:
        raise AssertionError("simulated tally does not match the plaintexts")
    return Simulation(record, secrets, expected)


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    ap = argparse.ArgumentParser(prog="referendum-simulate", description=__doc__)
    ap.add_argument("--voters", type=int, required=True)
    ap.add_argument("--trustees", type=int, default=3)
    ap.add_argument("--threshold", type=int, help="t of the t-of-n trustees (key generation)")
    ap.add_argument("--cheat-share", type=int, help="this trustee deals a wrong share")
    ap.add_argument("--absent", type=int, action="append", default=[],
                    help="this trustee does not decrypt (repeatable)")
    ap.add_argument("--bad-decryption", type=int,
                    help="this trustee's partial decryption has a broken proof")
    ap.add_argument(
        "--revote-share", type=float, default=0.0, help="share of voters who vote twice"
    )
    ap.add_argument("--audited", type=int, default=0, help="number of Benaloh-audited ballots")
    ap.add_argument("--excluded", type=int, default=0, help="voters who also voted in person")
    ap.add_argument("--seed", help="reproducible (insecure) randomness")
    ap.add_argument("--out", required=True, help="record file to write ('-' for stdout)")
    args = ap.parse_args(argv)
    try:
        sim = simulate(
            args.voters,
            args.trustees,
            revote_share=args.revote_share,
            audited=args.audited,
            excluded=args.excluded,
            seed=args.seed,
            threshold=args.threshold,
            cheat_share=args.cheat_share,
            absent=tuple(args.absent),
            bad_decryption=args.bad_decryption,
        )
    except ValueError as exc:
        ap.error(str(exc))
    except CryptoError as exc:
        print(f"referendum-simulate: {exc}", file=sys.stderr)
        return 1
    if args.out == "-":
        write_record(sim.record, sys.stdout)
    else:
        with open(args.out, "w", encoding="utf-8") as fp:
            write_record(sim.record, fp)
    t = sim.record["tally"]
    print(
        f"simulated {len(sim.record['board'])} ballots on the board, {t['counted']} counted, "
        f"result {t['result']}, head {sim.record['board_head']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
