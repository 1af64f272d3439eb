"""A trustee's secret share at rest: Argon2id-derived key + XChaCha20-Poly1305.

The header (format, election, name, public key, KDF and AEAD parameters) is the AEAD's
associated data, so none of it can be swapped without the passphrase check failing.
"""

from __future__ import annotations

import json
import os
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from nacl import bindings as nb
from nacl.exceptions import CryptoError as NaclCryptoError

from . import group as g
from .exceptions import SecretFileError
from .keys import TrusteeSecret

FORMAT = "referendum-trustee-secret/1"
#: A trustee unlocks the file only a few times per election, so we spend more than an interactive
#: login would: 128 MiB, 3 passes (libsodium's "moderate" level is 256 MiB; minimum allowed 64).
DEFAULT_KDF = {"alg": "argon2id", "time_cost": 3, "memory_cost_kib": 131072, "parallelism": 1}
MIN_MEMORY_KIB = 65536
AEAD_ALG = "xchacha20poly1305-ietf"


def _derive(passphrase: str, salt: bytes, kdf: dict[str, Any]) -> bytes:
    if kdf.get("alg") != "argon2id":
        raise SecretFileError("unsupported key derivation", "kdf.alg")
    try:
        return hash_secret_raw(
            passphrase.encode("utf-8"),
            salt,
            time_cost=int(kdf["time_cost"]),
            memory_cost=int(kdf["memory_cost_kib"]),
            parallelism=int(kdf["parallelism"]),
            hash_len=32,
            type=Type.ID,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SecretFileError(f"bad key-derivation parameters: {exc}", "kdf") from None


def seal_secret(
    secret: TrusteeSecret, passphrase: str, kdf: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Encrypt a trustee secret under a passphrase; returns the JSON object to store.

    Raises:
        SecretFileError: empty passphrase.
    """
    if not passphrase:
        raise SecretFileError("the passphrase must not be empty")
    params = dict(kdf or DEFAULT_KDF)
    if int(params["memory_cost_kib"]) < MIN_MEMORY_KIB or int(params["time_cost"]) < 2:
        raise SecretFileError("key derivation too weak (need ≥ 64 MiB and ≥ 2 passes)")
    params["salt"] = os.urandom(16).hex()
    header = {
        "format": FORMAT,
        "election_id": secret.election_id,
        "name": secret.name,
        "public_key": secret.public_key.hex(),
        "kdf": params,
        "aead": {"alg": AEAD_ALG, "nonce": os.urandom(24).hex()},
    }
    key = _derive(passphrase, bytes.fromhex(params["salt"]), params)
    ct = nb.crypto_aead_xchacha20poly1305_ietf_encrypt(
        secret.secret, g.canonical(header), bytes.fromhex(header["aead"]["nonce"]), key
    )
    return {**header, "ciphertext": ct.hex()}


def open_secret(sealed: Any, passphrase: str) -> TrusteeSecret:
    """Decrypt a sealed secret and check it matches its public key.

    Raises:
        SecretFileError: wrong passphrase, tampered file, or not a secret file.
    """
    if not isinstance(sealed, dict) or sealed.get("format") != FORMAT:
        raise SecretFileError(f"not a {FORMAT} file")
    try:
        header = {
            k: sealed[k] for k in ("format", "election_id", "name", "public_key", "kdf", "aead")
        }
        public_key = g.parse_point(header["public_key"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SecretFileError(f"malformed secret file: {exc}") from None
    x = _decrypt(sealed, header, passphrase)
    if len(x) != 32 or g.base_mul(x) != public_key:
        raise SecretFileError("the secret does not match the public key in the file")
    return TrusteeSecret(header["election_id"], header["name"], x, public_key)


def dumps_sealed(sealed: dict[str, Any]) -> str:
    """Pretty JSON for the secret file."""
    return json.dumps(sealed, indent=2, sort_keys=True) + "\n"


def seal_blob(
    fmt: str,
    header: dict[str, Any],
    payload: bytes,
    passphrase: str,
    kdf: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Encrypt any secret ``payload`` under a passphrase, as :func:`seal_secret` does; the
    ``header`` (public, e.g. election and trustee index) is bound as associated data.

    Raises:
        SecretFileError: empty passphrase or too weak a key derivation.
    """
    if not passphrase:
        raise SecretFileError("the passphrase must not be empty")
    params = dict(kdf or DEFAULT_KDF)
    if int(params["memory_cost_kib"]) < MIN_MEMORY_KIB or int(params["time_cost"]) < 2:
        raise SecretFileError("key derivation too weak (need ≥ 64 MiB and ≥ 2 passes)")
    params["salt"] = os.urandom(16).hex()
    full = {
        **header,
        "format": fmt,
        "kdf": params,
        "aead": {"alg": AEAD_ALG, "nonce": os.urandom(24).hex()},
    }
    key = _derive(passphrase, bytes.fromhex(params["salt"]), params)
    ct = nb.crypto_aead_xchacha20poly1305_ietf_encrypt(
        payload, g.canonical(full), bytes.fromhex(full["aead"]["nonce"]), key
    )
    return {**full, "ciphertext": ct.hex()}


def open_blob(sealed: Any, passphrase: str, fmt: str) -> tuple[dict[str, Any], bytes]:
    """Decrypt what :func:`seal_blob` sealed; return its header and payload.

    Raises:
        SecretFileError: wrong passphrase, tampered file, or not a file of this format.
    """
    if not isinstance(sealed, dict) or sealed.get("format") != fmt:
        raise SecretFileError(f"not a {fmt} file")
    header = {k: v for k, v in sealed.items() if k != "ciphertext"}
    return header, _decrypt(sealed, header, passphrase)


def _decrypt(sealed: dict[str, Any], header: dict[str, Any], passphrase: str) -> bytes:
    """The payload of a sealed file whose associated data is ``header``.

    Raises:
        SecretFileError: malformed fields, unsupported encryption, wrong passphrase or an
            altered file.
    """
    try:
        salt = bytes.fromhex(header["kdf"]["salt"])
        nonce = bytes.fromhex(header["aead"]["nonce"])
        ct = bytes.fromhex(sealed["ciphertext"])
        alg = header["aead"].get("alg")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SecretFileError(f"malformed secret file: {exc}") from None
    if alg != AEAD_ALG or len(nonce) != 24:
        raise SecretFileError("unsupported encryption", "aead")
    key = _derive(passphrase, salt, header["kdf"])
    try:
        return nb.crypto_aead_xchacha20poly1305_ietf_decrypt(ct, g.canonical(header), nonce, key)
    except NaclCryptoError:
        raise SecretFileError("wrong passphrase, or the secret file was altered") from None
