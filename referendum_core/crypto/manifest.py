"""The election manifest, its hash and the checked election context (spec section 4)."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import group as g
from .checkpoint import check_public_key
from .exceptions import CryptoError, InvalidManifest
from .keys import combine_public_keys, verify_trustee_key
from .threshold_manifest import THRESHOLD_KEY, ThresholdKeys, check_threshold_manifest

SPEC_VERSION = "referendum-record/1"
MANIFEST_KEYS = frozenset(
    {
        "spec",
        "election_id",
        "municipality",
        "question",
        "opens_at",
        "closes_at",
        "revoting",
        "trustees",
        "public_key",
    }
)
#: Optional (v2, ``docs/spec/checkpoints.md``): the Ed25519 public key (hex) that signs the
#: board's checkpoints. A v1 manifest has no such key and verifies as before.
CHECKPOINT_KEY = "checkpoint_key"


def election_hash(manifest: dict[str, Any]) -> bytes:
    """``SHA-256(canonical(manifest))`` as 32 raw bytes."""
    return hashlib.sha256(g.canonical(manifest)).digest()


#: RFC 3339 in UTC as the record writes it: ``T`` between date and time, seconds, an optional
#: fraction, and ``Z`` (or ``+00:00``). Python's ``fromisoformat`` alone takes more (a space
#: for the ``T``, no seconds), which two verifiers could read differently.
RFC3339_UTC = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|\+00:00)"
)


def parse_utc(value: Any, what: str) -> datetime:
    """Parse an RFC 3339 timestamp in UTC (:data:`RFC3339_UTC`).

    Raises:
        InvalidManifest: not a string, not RFC 3339, or not UTC.
    """
    if not isinstance(value, str) or not RFC3339_UTC.fullmatch(value):
        raise InvalidManifest(f"{what} must be an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidManifest(f"{what} is not an RFC 3339 timestamp") from None
    if dt.tzinfo is None or dt.utcoffset() != UTC.utcoffset(None):
        raise InvalidManifest(f"{what} must be in UTC")
    return dt


@dataclass(frozen=True)
class ElectionContext:
    """Everything needed to check ballots and the tally of one election, already validated."""

    election_id: str
    election_hash: bytes
    public_key: g.Point
    choice_ids: tuple[str, ...]
    min_choices: int
    max_choices: int
    revoting: bool
    opens_at: datetime
    closes_at: datetime
    trustee_keys: tuple[g.Point, ...]
    manifest: dict[str, Any] = field(compare=False, repr=False)
    checkpoint_key: str | None = None
    #: Set for t-of-n trustees (``docs/spec/threshold-trustees.md``); ``trustee_keys`` are then
    #: the qualified trustees' verification keys ``Y_j``.
    threshold: ThresholdKeys | None = None

    @property
    def n_choices(self) -> int:
        """Number of choices of the question."""
        return len(self.choice_ids)

    @property
    def overall_values(self) -> list[int]:
        """``V`` of the overall proof: ``[min_choices … max_choices]``."""
        return list(range(self.min_choices, self.max_choices + 1))


def _check_question(q: Any) -> tuple[tuple[str, ...], int, int]:
    if not isinstance(q, dict):
        raise InvalidManifest("question must be an object", "question")
    for key in ("id", "text", "choices", "min_choices", "max_choices"):
        if key not in q:
            raise InvalidManifest(f"question lacks {key}", "question")
    choices = q["choices"]
    if not isinstance(choices, list) or not choices:
        raise InvalidManifest("choices must be a non-empty list", "question.choices")
    ids: list[str] = []
    for k, ch in enumerate(choices):
        if not isinstance(ch, dict) or not isinstance(ch.get("id"), str) or not ch["id"]:
            raise InvalidManifest("choice needs a string id", f"question.choices[{k}]")
        if ch["id"] in ids:
            raise InvalidManifest("duplicate choice id", f"question.choices[{k}].id")
        ids.append(ch["id"])
    lo, hi = q["min_choices"], q["max_choices"]
    if type(lo) is not int or type(hi) is not int or not 0 <= lo <= hi <= len(ids) or hi < 1:
        raise InvalidManifest(
            "need integers 0 ≤ min_choices ≤ max_choices ≤ number of choices, max ≥ 1",
            "question.max_choices",
        )
    return tuple(ids), lo, hi


def context_from_manifest(manifest: Any) -> ElectionContext:
    """Validate a manifest (shape, trustee proofs, ``Y = Σ Y_i``) and build its context.

    Raises:
        CryptoError: with a location starting ``manifest.``.
    """
    try:
        return _context_from_manifest(manifest)
    except CryptoError as exc:
        raise exc.at("manifest") from None


def _context_from_manifest(m: Any) -> ElectionContext:
    if not isinstance(m, dict):
        raise InvalidManifest("manifest must be an object")
    missing = MANIFEST_KEYS - set(m)
    if missing:
        raise InvalidManifest(f"manifest lacks {', '.join(sorted(missing))}")
    if m["spec"] != SPEC_VERSION:
        raise InvalidManifest(f"spec must be {SPEC_VERSION!r}", "spec")
    if not isinstance(m["election_id"], str) or not m["election_id"]:
        raise InvalidManifest("election_id must be a non-empty string", "election_id")
    if not isinstance(m["revoting"], bool):
        raise InvalidManifest("revoting must be a boolean", "revoting")
    opens = parse_utc(m["opens_at"], "opens_at")
    closes = parse_utc(m["closes_at"], "closes_at")
    if not opens < closes:
        raise InvalidManifest("opens_at must be before closes_at", "closes_at")
    ids, lo, hi = _check_question(m["question"])
    threshold = None
    if THRESHOLD_KEY in m:
        threshold = check_threshold_manifest(m)
        keys, y_total = list(threshold.keys), threshold.public_key
    else:
        keys, y_total = _check_trustees(m)
    checkpoint_key = None
    if CHECKPOINT_KEY in m:
        try:
            checkpoint_key = check_public_key(m[CHECKPOINT_KEY])
        except CryptoError as exc:
            raise InvalidManifest(exc.message, CHECKPOINT_KEY) from None
    return ElectionContext(
        election_id=m["election_id"],
        election_hash=election_hash(m),
        public_key=y_total,
        choice_ids=ids,
        min_choices=lo,
        max_choices=hi,
        revoting=m["revoting"],
        opens_at=opens,
        closes_at=closes,
        trustee_keys=tuple(keys),
        manifest=m,
        checkpoint_key=checkpoint_key,
        threshold=threshold,
    )


def _check_trustees(m: dict[str, Any]) -> tuple[list[g.Point], g.Point]:
    trustees = m["trustees"]
    if not isinstance(trustees, list) or not trustees:
        raise InvalidManifest("trustees must be a non-empty list", "trustees")
    keys: list[g.Point] = []
    for i, t in enumerate(trustees):
        try:
            y = verify_trustee_key(m["election_id"], t)
        except CryptoError as exc:
            raise exc.at(f"trustees[{i}]") from None
        if y in keys:
            raise InvalidManifest("duplicate trustee key", f"trustees[{i}].public_key")
        keys.append(y)
    try:
        y_total = g.parse_point(m["public_key"])
    except CryptoError as exc:
        raise exc.at("public_key") from None
    if combine_public_keys(keys) != y_total:
        raise InvalidManifest("public_key is not the sum of the trustee keys", "public_key")
    return keys, y_total


@functools.lru_cache(maxsize=32)
def _cached_context(canonical_manifest: bytes) -> ElectionContext:
    return context_from_manifest(json.loads(canonical_manifest))


def as_context(manifest_or_context: dict[str, Any] | ElectionContext) -> ElectionContext:
    """Accept an :class:`ElectionContext` or a manifest dict (validated once, then cached)."""
    if isinstance(manifest_or_context, ElectionContext):
        return manifest_or_context
    return _cached_context(g.canonical(manifest_or_context))


def build_manifest(
    *,
    election_id: str,
    municipality: str,
    question: dict[str, Any],
    opens_at: str,
    closes_at: str,
    revoting: bool,
    trustees: list[dict[str, Any]],
    checkpoint_key: str | None = None,
    threshold: tuple[dict[str, Any], str] | None = None,
) -> dict[str, Any]:
    """Assemble a manifest from the published trustee parts (the key is their sum), with the
    board's checkpoint key when given. For t-of-n trustees ``trustees``, ``threshold`` and its
    ``public_key`` come from ``threshold.manifest_trustees`` (``threshold`` is then the pair
    ``(threshold object, public key)``).

    Raises:
        CryptoError: a trustee part or the question is invalid.
    """
    if threshold is None:
        keys = []
        for i, t in enumerate(trustees):
            try:
                keys.append(verify_trustee_key(election_id, t))
            except CryptoError as exc:
                raise exc.at(f"trustees[{i}]") from None
        public_key = combine_public_keys(keys).hex()
    else:
        public_key = threshold[1]
    manifest = {
        "spec": SPEC_VERSION,
        "election_id": election_id,
        "municipality": municipality,
        "question": question,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "revoting": revoting,
        "trustees": trustees,
        "public_key": public_key,
    }
    if threshold is not None:
        manifest[THRESHOLD_KEY] = threshold[0]
    if checkpoint_key is not None:
        manifest[CHECKPOINT_KEY] = checkpoint_key
    context_from_manifest(manifest)
    return manifest
