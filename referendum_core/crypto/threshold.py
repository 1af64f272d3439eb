"""Threshold trustees in the election record (record v2, ``docs/spec/threshold-trustees.md``).

A manifest with a ``threshold`` object lists the qualified trustees by their key-generation index
with their verification keys ``Y_j``; the record carries the key generation's transcript under
``dkg`` and, in the tally, the partial decryptions of any ``t`` or more of those trustees. A
manifest without ``threshold`` is a v1 manifest and nothing here applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import dkg
from . import group as g
from .exceptions import CryptoError, DecryptionError, InvalidRecord
from .tally import Aggregate, aggregate_to_json, recover_result, verify_partial_decryption
from .threshold_manifest import ThresholdKeys

RECORD_KEY = "dkg"


def manifest_trustees(
    transcript: Mapping[str, Any], outcome: dkg.Outcome
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """The manifest's ``trustees``, ``threshold`` and ``public_key`` after a key generation.

    Raises:
        DKGError: fewer than ``t`` trustees qualified.
    """
    outcome.require_quorum()
    trustees = [
        {
            "index": j,
            "name": outcome.names[j],
            "verification_key": outcome.verification_keys[j].hex(),
        }
        for j in outcome.qualified
    ]
    threshold = {
        "t": outcome.params.t,
        "n": outcome.params.n,
        "dkg_transcript": dkg.message_hash(transcript),
    }
    return trustees, threshold, outcome.public_key.hex()


# --------------------------------------------------------------------------- the record


@dataclass
class ThresholdReport:
    """What the verifier found in a threshold record, for its summary."""

    t: int
    n: int
    qualified: list[int]
    disqualified: dict[int, str]
    decrypted_by: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)

    def render(self) -> list[str]:
        """Lines for the verifier's summary."""
        lines = [
            f"  threshold            {self.t} of {self.n}; qualified trustees {self.qualified}",
        ]
        lines += [f"    trustee {i} disqualified: {why}" for i, why in self.disqualified.items()]
        lines.append(f"  decrypted by         trustees {self.decrypted_by}")
        silent = [j for j in self.qualified if j not in self.decrypted_by and j not in self.skipped]
        if silent:
            lines.append(f"    did not decrypt:   trustees {silent}")
        lines += [
            f"    trustee {j}'s partial decryption skipped: {why}"
            for j, why in self.skipped.items()
        ]
        return lines


def check_dkg_record(manifest_keys: ThresholdKeys, election_id: str, transcript: Any) -> ThresholdReport:
    """Recompute the key generation from its transcript and compare it with the manifest: the
    transcript's hash, every commitment, proof and complaint answer, ``Q``, ``Y`` and each ``Y_j``.

    Raises:
        CryptoError: location under ``dkg`` or the manifest entry that differs.
    """
    if transcript is None:
        raise InvalidRecord("a threshold election's record needs the key generation", RECORD_KEY)
    try:
        canonical_hash = dkg.message_hash(transcript)
    except (CryptoError, TypeError) as exc:
        raise InvalidRecord(f"not a transcript: {exc}", RECORD_KEY) from None
    if canonical_hash != manifest_keys.transcript_hash:
        raise InvalidRecord(
            "the transcript's hash differs from manifest.threshold.dkg_transcript", RECORD_KEY
        )
    try:
        params = dkg.params_of(transcript)
        if (params.election_id, params.t, params.n) != (
            election_id, manifest_keys.t, manifest_keys.n
        ):
            raise InvalidRecord("election_id, t or n differ from the manifest")
        outcome = dkg.evaluate(transcript)
        outcome.require_quorum()
    except CryptoError as exc:
        raise exc.at(RECORD_KEY) from None
    if outcome.qualified != list(manifest_keys.indices):
        raise InvalidRecord(
            f"the qualified trustees are {outcome.qualified}", "manifest.trustees"
        )
    for pos, j in enumerate(outcome.qualified):
        if outcome.names[j] != manifest_keys.names[pos]:
            raise InvalidRecord("name differs from the commitment's", f"manifest.trustees[{pos}].name")
        if outcome.verification_keys[j] != manifest_keys.keys[pos]:
            raise InvalidRecord(
                "is not Σ_{i∈Q} Σ_k j^k·C_ik", f"manifest.trustees[{pos}].verification_key"
            )
    if outcome.public_key != manifest_keys.public_key:
        raise InvalidRecord("is not Σ_{i∈Q} C_i0", "manifest.public_key")
    return ThresholdReport(
        manifest_keys.t, manifest_keys.n, outcome.qualified, dict(sorted(outcome.disqualified.items()))
    )


def check_decryptions(
    election_hash: bytes, keys: ThresholdKeys, agg: Aggregate, decryptions: Any
) -> tuple[dict[int, list[g.Point]], dict[int, str]]:
    """Check each published partial decryption; return the valid ones and why others failed.

    Raises:
        InvalidRecord: the list is malformed, or names a trustee twice or not qualified.
    """
    if not isinstance(decryptions, list):
        raise InvalidRecord("decryptions must be a list", "tally.decryptions")
    by_index = dict(zip(keys.indices, keys.keys, strict=True))
    valid: dict[int, list[g.Point]] = {}
    skipped: dict[int, str] = {}
    for pos, d in enumerate(decryptions):
        where = f"tally.decryptions[{pos}]"
        if not isinstance(d, dict) or d.keys() != {"trustee", "shares"}:
            raise InvalidRecord("must have exactly trustee, shares", where)
        j = d["trustee"]
        if type(j) is not int or j not in by_index or j in valid or j in skipped:
            raise InvalidRecord("not a qualified trustee's index, or repeated", f"{where}.trustee")
        if j < max((*valid, *skipped), default=0):
            raise InvalidRecord("decryptions are in ascending trustee order", f"{where}.trustee")
        try:
            valid[j] = verify_partial_decryption(election_hash, by_index[j], agg, d["shares"])
        except CryptoError as exc:
            skipped[j] = str(exc.at(f"{where}.shares"))
    return valid, skipped


def threshold_result(
    keys: ThresholdKeys,
    agg: Aggregate,
    valid: Mapping[int, Sequence[g.Point]],
    counted: int,
) -> list[int]:
    """``T_k`` from ``S_k − Σ_{j∈S} λ_j·D_jk`` over the valid partial decryptions ``S``.

    Raises:
        DecryptionError: fewer than ``t`` valid partial decryptions, or no ``T_k`` in range.
    """
    combined = dkg.combine_partials(valid, keys.t, len(agg))
    return recover_result(agg, [combined], counted)


def verify_threshold_tally(
    election_hash: bytes, keys: ThresholdKeys, n_choices: int, agg: Aggregate, counted: int,
    tally: Mapping[str, Any], report: ThresholdReport,
) -> list[int]:
    """The decryptions and result of a threshold tally (the aggregate is already checked);
    fills ``report`` with who decrypted and whose partial decryption was skipped.

    Raises:
        CryptoError: fewer than ``t`` valid partial decryptions, or a wrong result.
    """
    decs = tally["decryptions"]
    if counted == 0:
        if decs != []:
            raise InvalidRecord("no ballot was counted: no decryptions", "tally.decryptions")
        expected = [0] * n_choices
    else:
        valid, report.skipped = check_decryptions(election_hash, keys, agg, decs)
        report.decrypted_by = sorted(valid)
        try:
            expected = threshold_result(keys, agg, valid, counted)
        except CryptoError as exc:
            raise exc.at("tally.decryptions") from None
    result = tally["result"]
    if not isinstance(result, list) or len(result) != n_choices or any(
        type(v) is not int for v in result
    ):
        raise InvalidRecord(f"result must list {n_choices} integers", "tally.result")
    for k, (got, want) in enumerate(zip(result, expected, strict=True)):
        if got != want:
            raise InvalidRecord(f"decrypts to {want}", f"tally.result[{k}]")
    return expected


def build_tally(
    election_hash: bytes,
    keys: ThresholdKeys,
    agg: Aggregate,
    counted: int,
    n_choices: int,
    partials: Mapping[int, list[dict[str, str]]],
) -> dict[str, Any]:
    """The ``tally`` section from the partial decryptions the trustees uploaded (each checked;
    invalid ones stay published and are skipped).

    Raises:
        DecryptionError: fewer than ``t`` valid partial decryptions.
    """
    if counted == 0:
        return {"counted": 0, "aggregate": [], "decryptions": [], "result": [0] * n_choices}
    decryptions = [{"trustee": j, "shares": partials[j]} for j in sorted(partials)]
    valid, _skipped = check_decryptions(election_hash, keys, agg, decryptions)
    if len(valid) < keys.t:
        raise DecryptionError(
            f"{len(valid)} valid partial decryptions, the threshold is {keys.t}: no result"
        )
    return {
        "counted": counted,
        "aggregate": aggregate_to_json(agg),
        "decryptions": decryptions,
        "result": threshold_result(keys, agg, valid, counted),
    }
