"""Verifiable encrypted ballots (spec ``election-record-v1``): pure, typed, libsodium-backed.

The web part calls :func:`verify_ballot`, :func:`board_head`, :func:`aggregate`,
:func:`verify_partial_decryption` and :func:`recover_result`; trustees use ``referendum-trustee``;
anyone verifies a record with ``referendum-verify``.
"""

from .ballot import (
    audit_opening,
    compute_tracker,
    encrypt_ballot,
    verify_audited,
    verify_ballot,
)
from .board import EMPTY_HEAD, board_head
from .exceptions import (
    CryptoError,
    DecryptionError,
    InvalidBallot,
    InvalidEncoding,
    InvalidManifest,
    InvalidPoint,
    InvalidProof,
    InvalidRecord,
    InvalidScalar,
    SecretFileError,
)
from .keys import generate_trustee_key, verify_trustee_key
from .manifest import ElectionContext, build_manifest, context_from_manifest, election_hash
from .tally import aggregate, partial_decrypt, recover_result, verify_partial_decryption

__all__ = [
    "EMPTY_HEAD",
    "CryptoError",
    "DecryptionError",
    "ElectionContext",
    "InvalidBallot",
    "InvalidEncoding",
    "InvalidManifest",
    "InvalidPoint",
    "InvalidProof",
    "InvalidRecord",
    "InvalidScalar",
    "SecretFileError",
    "aggregate",
    "audit_opening",
    "board_head",
    "build_manifest",
    "compute_tracker",
    "context_from_manifest",
    "election_hash",
    "encrypt_ballot",
    "generate_trustee_key",
    "partial_decrypt",
    "recover_result",
    "verify_audited",
    "verify_ballot",
    "verify_partial_decryption",
    "verify_trustee_key",
]
