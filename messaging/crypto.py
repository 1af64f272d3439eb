"""Per-thread data keys and AES-256-GCM sealing of message parts.

Serialisation (version 1): ``b"\\x01" || nonce (12 bytes) || ciphertext+tag``. The associated
data binds a ciphertext to its thread and purpose, so a body cannot be moved to another thread
or swapped with an attachment name without failing authentication.
"""
from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from messaging.exceptions import CryptoError

VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12


def new_data_key() -> bytes:
    """A fresh random 256-bit thread data key."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def associated_data(thread_id: int, purpose: str) -> bytes:
    """What a ciphertext is bound to: ``purpose`` is e.g. "subject", "body", "file-name"."""
    return f"referendum-portal/messaging/v{VERSION}|thread={thread_id}|{purpose}".encode()


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` under ``key``."""
    if len(key) != KEY_BYTES:
        raise CryptoError("a thread data key must be 32 bytes")
    nonce = os.urandom(NONCE_BYTES)
    return bytes([VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Decrypt what ``seal`` produced.

    Raises:
        CryptoError: unknown version, truncated data, wrong key or tampered ciphertext.
    """
    if len(key) != KEY_BYTES:
        raise CryptoError("a thread data key must be 32 bytes")
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[0] != VERSION:
        raise CryptoError("not a version-1 sealed value")
    nonce, body = sealed[1:1 + NONCE_BYTES], sealed[1 + NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag as exc:
        raise CryptoError("ciphertext does not authenticate (wrong key or altered)") from exc


def seal_text(key: bytes, text: str, aad: bytes) -> bytes:
    """``seal`` for UTF-8 text."""
    return seal(key, text.encode("utf-8"), aad)


def open_text(key: bytes, sealed: bytes, aad: bytes) -> str:
    """``open_sealed`` for UTF-8 text."""
    return open_sealed(key, sealed, aad).decode("utf-8")
