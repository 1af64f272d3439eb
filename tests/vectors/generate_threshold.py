"""Generate the threshold-trustee vectors ``tests/vectors/threshold-trustees-v1.json``.

Deterministic: every scalar comes from ``deterministic_scalars`` with fixed seeds and is written
next to what consumed it; the sealed boxes' one-time keys come from seeds written in the file, so
another implementation can produce the same bytes (``docs/spec/threshold-trustees.md``).

Four trustees, threshold 2: trustee 2 deals a wrong share to trustee 3 and answers the complaint
with the correct one (it stays qualified); trustee 4 deals a wrong share to trustee 1 and does not
answer (it is disqualified). Then trustees 1 and 3 decrypt an aggregate.

    python tests/vectors/generate_threshold.py            # rewrite the file
    python tests/vectors/generate_threshold.py --check    # exit 1 if the file is not current
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Run as a script: its folder is on sys.path, so the ballot vectors' generator lends its
# scalar recorder.
from generate import Recorder

from referendum_core.crypto import dkg
from referendum_core.crypto import group as g
from referendum_core.crypto.tally import aggregate_to_json, partial_decrypt, recover_result

OUT = Path(__file__).with_name("threshold-trustees-v1.json")
ELECTION_HASH = bytes.fromhex("5c" * 32)


def generate() -> dict[str, Any]:
    """Run the scenario and collect every input and output."""
    params = dkg.Params("7d4a3f0e-2b1c-4e5f-8a9b-0c1d2e3f4a5b", 2, 4)
    transcript = dkg.empty_transcript(params)
    trustees: list[dict[str, Any]] = []
    states = []
    for i in range(1, params.n + 1):
        rec = Recorder(f"dkg-vector-trustee-{i}")
        state, commit = dkg.commit(params, i, f"Trustee {i}", rec)
        states.append(state)
        dkg.add_message(transcript, commit)
        trustees.append(
            {
                "index": i,
                "commit_draws": rec.take(),
                "draws_are": "a_i0 … a_i(t-1), transport seed, w_0 … w_(t-1)",
                "transport_public_key": state.reveal["transport_key"],
                "reveal_canonical": g.canonical(state.reveal).decode(),
                "commit_hash": commit["hash"],
            }
        )
    for s in states:
        dkg.add_message(transcript, dkg.reveal(s))
    wrong = {2: [3], 4: [1]}
    for s, t in zip(states, trustees, strict=True):
        rec = Recorder(f"dkg-vector-boxes-{s.index}")
        dkg.add_message(
            transcript, dkg.deal_shares(s, transcript, wrong_for=wrong.get(s.index, []), rng=rec)
        )
        t["shares_draws"] = rec.take()
        t["shares_draws_are"] = "one box seed per recipient (ascending), then the signature's w"
        t["shares"] = {
            str(j): dkg.eval_poly(s.coefficients, j).hex()
            for j in range(1, params.n + 1)
        }
    for s, t in zip(states, trustees, strict=True):
        rec = Recorder(f"dkg-vector-check-{s.index}")
        dkg.add_message(transcript, dkg.check_shares(s, transcript, rec))
        t["complaints_draws"] = rec.take()
    for s, t in zip(states[:3], trustees[:3], strict=True):
        rec = Recorder(f"dkg-vector-answer-{s.index}")
        dkg.add_message(transcript, dkg.answer_complaints(s, transcript, rec))
        t["answers_draws"] = rec.take()
    outcome = dkg.evaluate(transcript)
    secrets = {s.index: dkg.finalize(s, transcript)[0] for s in states if s.index in outcome.qualified}
    r = Recorder("dkg-vector-aggregate")
    counts = [3, 5]
    agg = []
    for m in counts:
        rk = r()
        agg.append(
            (g.base_mul(rk), g.add(g.mul(rk, outcome.public_key), g.base_mul(g.scalar_from_int(m))))
        )
    agg_draws = r.take()
    decrypting = [1, 3]
    partials, partial_draws, ds = {}, {}, {}
    for j in decrypting:
        rec = Recorder(f"dkg-vector-decrypt-{j}")
        partials[str(j)] = partial_decrypt(secrets[j], ELECTION_HASH, agg, rec)
        partial_draws[str(j)] = rec.take()
        ds[j] = [bytes.fromhex(sh["D"]) for sh in partials[str(j)]]
    combined = dkg.combine_partials(ds, params.t, len(agg))
    return {
        "about": "docs/spec/threshold-trustees.md; regenerate with "
        "python tests/vectors/generate_threshold.py",
        "election_id": params.election_id,
        "t": params.t,
        "n": params.n,
        "trustees": trustees,
        "transcript": transcript,
        "transcript_sha256": dkg.message_hash(transcript),
        "outcome": {
            "qualified": outcome.qualified,
            "disqualified": {str(i): why for i, why in sorted(outcome.disqualified.items())},
            "public_key": outcome.public_key.hex(),
            "verification_keys": {str(j): y.hex() for j, y in outcome.verification_keys.items()},
            "secrets": {str(j): s.secret.hex() for j, s in secrets.items()},
        },
        "lagrange": [
            {"set": list(sub), "coefficients": {str(j): lam.hex() for j, lam in
                                                dkg.lagrange_at_zero(sub).items()}}
            for sub in ([1, 3], [2, 3], [1, 2, 3])
        ],
        "decryption": {
            "election_hash": ELECTION_HASH.hex(),
            "plaintexts": counts,
            "aggregate_draws": agg_draws,
            "aggregate": aggregate_to_json(agg),
            "set": decrypting,
            "partial_draws": partial_draws,
            "partials": partials,
            "combined": [d.hex() for d in combined],
            "result": recover_result(agg, [combined], sum(counts)),
        },
    }


def render() -> str:
    """The file's text."""
    return json.dumps(generate(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the vectors, or with ``--check`` compare."""
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is not current; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
