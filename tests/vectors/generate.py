"""Generate the shared test vectors ``tests/vectors/election-record-v1.json``.

Deterministic: all randomness comes from ``deterministic_scalars`` with fixed seeds, and every
scalar a computation consumed is written next to its output, so another implementation (the
browser module) can feed the same scalars and must produce the same bytes.

    python tests/vectors/generate.py            # rewrite the file
    python tests/vectors/generate.py --check    # exit 1 if the file is not what we generate
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from referendum_core.crypto import group as g
from referendum_core.crypto.ballot import audit_opening, encrypt_ballot
from referendum_core.crypto.board import EMPTY_HEAD, board_head
from referendum_core.crypto.keys import generate_trustee_key
from referendum_core.crypto.manifest import build_manifest
from referendum_core.crypto.record import RecordBuilder
from referendum_core.crypto.tally import aggregate_to_json, partial_decrypt

OUT = Path(__file__).with_name("election-record-v1.json")


class Recorder:
    """Wrap a scalar source and remember what was drawn."""

    def __init__(self, seed: str) -> None:
        self.src = g.deterministic_scalars(seed)
        self.drawn: list[str] = []

    def __call__(self) -> bytes:
        s = self.src()
        self.drawn.append(s.hex())
        return s

    def take(self) -> list[str]:
        out, self.drawn = self.drawn, []
        return out


QUESTIONS: dict[str, dict[str, Any]] = {
    "yes-no": {
        "id": "q1",
        "text": {"lv": "Vai atbalstāt parka izveidi Ķemeros?", "en": "Do you support the park?"},
        "choices": [
            {"id": "yes", "text": {"lv": "Par", "en": "For"}},
            {"id": "no", "text": {"lv": "Pret", "en": "Against"}},
        ],
        "min_choices": 1,
        "max_choices": 1,
    },
    "pick-up-to-two": {
        "id": "q1",
        "text": {"lv": "Kuras ielas atjaunot?", "en": "Which streets to renew?"},
        "choices": [
            {"id": "brivibas", "text": {"lv": "Brīvības iela", "en": "Brivibas Street"}},
            {"id": "rigas", "text": {"lv": "Rīgas iela", "en": "Rigas Street"}},
            {"id": "skolas", "text": {"lv": "Skolas iela", "en": "Skolas Street"}},
        ],
        "min_choices": 0,
        "max_choices": 2,
    },
}

SELECTIONS = {
    "yes-no": [
        ("alias-anna", [1, 0]),
        ("alias-jānis", [0, 1]),
        ("alias-anna", [0, 1]),
        ("alias-līga", [1, 0]),
    ],
    "pick-up-to-two": [("alias-1", [1, 1, 0]), ("alias-2", [0, 0, 0]), ("alias-3", [0, 1, 0])],
}


def hash_examples() -> list[dict[str, Any]]:
    """Hs on each kind of item: bytes (hex), string (UTF-8), small integer (ASCII decimal)."""
    cases = [
        ("choice-proof-v1", []),
        ("t", [{"hex": ""}]),
        ("tag-ā", [{"str": "Rīga"}, {"int": 0}, {"int": 12}, {"hex": g.BASE.hex()}]),
        ("decryption-v1", [{"hex": "00" * 32}, {"int": 1}, {"hex": g.IDENTITY.hex()}]),
    ]
    out = []
    for tag, items in cases:
        raw: list[bytes | str | int] = []
        for it in items:
            if "hex" in it:
                raw.append(bytes.fromhex(it["hex"]))
            elif "str" in it:
                raw.append(it["str"])
            else:
                raw.append(it["int"])
        out.append({"tag": tag, "items": items, "scalar": g.hash_to_scalar(tag, *raw).hex()})
    return out


def election_vectors(key: str) -> dict[str, Any]:
    """Keys, manifest, ballots (with the scalars they consumed), audits, board, tally."""
    rec = Recorder(f"vectors:{key}")
    election_id = {
        "yes-no": "5b0c5a52-4b6e-4f3e-9d7e-2f7d3c6b9a01",
        "pick-up-to-two": "0f6d2e3c-1a2b-4c5d-8e9f-a0b1c2d3e4f5",
    }[key]
    trustees = []
    publics = []
    secrets = []
    for i in range(3):
        s, p = generate_trustee_key(election_id, f"Trustee {i + 1}", rec)
        trustees.append({"randomness": rec.take(), "secret": s.secret.hex(), "public": p})
        publics.append(p)
        secrets.append(s)
    manifest = build_manifest(
        election_id=election_id,
        municipality="0054010",
        question=QUESTIONS[key],
        opens_at="2026-03-01T07:00:00Z",
        closes_at="2026-03-14T18:00:00Z",
        revoting=True,
        trustees=publics,
    )
    builder = RecordBuilder(manifest)
    ctx = builder.context
    ballots = []
    heads = [EMPTY_HEAD.hex()]
    for n, (alias, sel) in enumerate(SELECTIONS[key]):
        enc = encrypt_ballot(ctx, alias, sel, rec)
        used = rec.take()
        tracker = builder.cast(alias, enc.ballot, f"2026-03-0{2 + n}T10:00:00Z")
        heads.append(board_head(bytes.fromhex(heads[-1]), bytes.fromhex(tracker)).hex())
        ballots.append(
            {
                "alias": alias,
                "plaintext": sel,
                "randomness": used,
                "ballot": enc.ballot,
                "tracker": enc.tracker,
                "audit": audit_opening(enc),
            }
        )
    audited_enc = encrypt_ballot(ctx, "alias-auditor", [0] * (ctx.n_choices - 1) + [1], rec)
    audited_used = rec.take()
    builder.add_audited(audit_opening(audited_enc))
    builder.exclude(SELECTIONS[key][-1][0])
    agg = builder.aggregate()
    decryptions = []
    for i, s in enumerate(secrets):
        shares = partial_decrypt(s, ctx.election_hash, agg, rec)
        decryptions.append({"trustee": i, "randomness": rec.take(), "shares": shares})
        builder.add_decryption(i, shares)
    record = builder.record(
        {
            "ballots_issued": 10,
            "counts": {c: 3 for c in ctx.choice_ids},
            "invalid": 1,
            "protocol_sha256": "ab" * 32,
        }
    )
    return {
        "manifest": manifest,
        "election_hash": ctx.election_hash.hex(),
        "trustees": trustees,
        "ballots": ballots,
        "audited": {
            "randomness": audited_used,
            "revealed": audit_opening(audited_enc),
            "tracker": audited_enc.tracker,
        },
        "board_heads": heads,
        "tally": {
            "counted": record["tally"]["counted"],
            "aggregate": aggregate_to_json(agg),
            "decryptions": decryptions,
            "result": record["tally"]["result"],
        },
        "record": record,
    }


def generate() -> dict[str, Any]:
    """The whole vector document."""
    return {
        "spec": "referendum-record/1",
        "comment": "Generated by tests/vectors/generate.py; deterministic. 'randomness' lists the "
        "scalars each computation drew, in order (see referendum_core/crypto/ballot.py).",
        "group": {
            "L": str(g.L),
            "base": g.BASE.hex(),
            "identity": g.IDENTITY.hex(),
            "frame_example": {"input_hex": "616263", "framed_hex": g.frame(b"abc").hex()},
        },
        "hash_to_scalar": hash_examples(),
        "elections": {key: election_vectors(key) for key in QUESTIONS},
    }


def render() -> str:
    """The file's exact text."""
    return json.dumps(generate(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the vectors, or with ``--check`` compare."""
    text = render()
    if "--check" in argv:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale; run tests/vectors/generate.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
