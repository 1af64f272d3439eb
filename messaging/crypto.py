"""Per-thread data keys and AES-256-GCM sealing of message parts, with the project's one
sealing scheme (``referendum_core.sealing``, version-1 serialisation). The associated data
binds a ciphertext to its thread and purpose, so a body cannot be moved to another thread or
swapped with an attachment name without failing authentication.
"""
from __future__ import annotations

from messaging.exceptions import CryptoError
from referendum_core import sealing

VERSION = sealing.VERSION
KEY_BYTES = sealing.KEY_BYTES
NONCE_BYTES = sealing.NONCE_BYTES


def new_data_key() -> bytes:
    """A fresh random 256-bit thread data key."""
    return sealing.new_data_key()


def associated_data(thread_id: int, purpose: str) -> bytes:
    """What a ciphertext is bound to: ``purpose`` is e.g. "subject", "body", "file-name"."""
    return f"referendum-portal/messaging/v{VERSION}|thread={thread_id}|{purpose}".encode()


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` under ``key``.

    Raises:
        CryptoError: the key is not 32 bytes.
    """
    try:
        return sealing.seal(key, plaintext, aad)
    except sealing.SealingError as exc:
        raise CryptoError(str(exc)) from exc


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Decrypt what ``seal`` produced.

    Raises:
        CryptoError: unknown version, truncated data, wrong key or tampered ciphertext.
    """
    try:
        return sealing.open_sealed(key, sealed, aad)
    except sealing.SealingError as exc:
        raise CryptoError(str(exc)) from exc


def seal_text(key: bytes, text: str, aad: bytes) -> bytes:
    """``seal`` for UTF-8 text."""
    return seal(key, text.encode("utf-8"), aad)


def open_text(key: bytes, sealed: bytes, aad: bytes) -> str:
    """``open_sealed`` for UTF-8 text."""
    return open_sealed(key, sealed, aad).decode("utf-8")
