"""Sealing data at rest with AES-256-GCM: the one scheme of the project. Messaging seals
message parts under per-thread data keys (and copies of those keys under a server key); case
texts are sealed here, column by column, under a column key. Both keys of the servers are
derived from ``DATA_KEY`` with HKDF-SHA256 (``derive_key``), each for its own purpose.

Serialisation (version 1): ``b"\\x01" || nonce (12 bytes) || ciphertext+tag``. The associated
data binds a ciphertext to where it belongs (a thread and a purpose; a table and a column), so
a value moved elsewhere fails authentication.

Sealed columns (``SealedText``, ``SealedBytes``) seal on write and open on read inside
SQLAlchemy, so every query, list and export works on plain values and opens each row's value
once, in the same pass that reads the row (no key to unwrap per row). An empty value is stored
as empty bytes: whether a text is blank stays a query (retention blanks texts and finds them
by that); nothing else about a sealed column can be compared or searched in SQL.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import LargeBinary
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
# The purpose the column key is derived for from DATA_KEY (a new purpose means a new key).
COLUMN_KEY_PURPOSE = b"referendum-portal/sealed-columns/v1"


class SealingError(Exception):
    """A value cannot be sealed or opened: wrong key size, unknown version, truncated data,
    wrong key or altered ciphertext, or no column key configured."""


# --- the primitive ------------------------------------------------------------------------

def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def derive_key(secret: str | bytes, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` derived from a configured secret (HKDF-SHA256)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(raw)


def _aead(key: bytes) -> AESGCM:
    if len(key) != KEY_BYTES:
        raise SealingError("a data key must be 32 bytes")
    return AESGCM(key)


def _seal_with(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return bytes([VERSION]) + nonce + aead.encrypt(nonce, plaintext, aad)


def _open_with(aead: AESGCM, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + TAG_BYTES or sealed[0] != VERSION:
        raise SealingError("not a version-1 sealed value")
    nonce, body = sealed[1:1 + NONCE_BYTES], sealed[1 + NONCE_BYTES:]
    try:
        return aead.decrypt(nonce, body, aad)
    except InvalidTag as exc:
        raise SealingError("ciphertext does not authenticate (wrong key or altered)") from exc


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` under ``key``, bound to ``aad``."""
    return _seal_with(_aead(key), plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Decrypt what ``seal`` produced.

    Raises:
        SealingError: unknown version, truncated data, wrong key or tampered ciphertext.
    """
    return _open_with(_aead(key), sealed, aad)


def seal_text(key: bytes, text: str, aad: bytes) -> bytes:
    """``seal`` for UTF-8 text."""
    return seal(key, text.encode("utf-8"), aad)


def open_text(key: bytes, sealed: bytes, aad: bytes) -> str:
    """``open_sealed`` for UTF-8 text."""
    return open_sealed(key, sealed, aad).decode("utf-8")


# --- sealed columns -----------------------------------------------------------------------

def column_aad(table: str, column: str) -> bytes:
    """What a sealed column's values are bound to."""
    return f"referendum-portal/sealed-column/v{VERSION}|{table}.{column}".encode()


class ColumnSealer:
    """Seals and opens the values of sealed columns under one column key."""

    def __init__(self, key: bytes) -> None:
        self._aead = _aead(key)

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        """The stored form of ``plaintext`` (empty stays empty)."""
        return _seal_with(self._aead, plaintext, aad) if plaintext else b""

    def open(self, aad: bytes, stored: bytes) -> bytes:
        """The plain value of a stored one.

        Raises:
            SealingError: the value was sealed under another key or altered.
        """
        return _open_with(self._aead, stored, aad) if stored else b""


SealerProvider = Callable[[], "ColumnSealer | None"]
_lock = threading.Lock()
_state: dict[str, Any] = {"sealer": None, "provider": None}


def configure(*, sealer: ColumnSealer | None = None,
              provider: SealerProvider | None = None) -> None:
    """Set the process-wide column sealer and/or a provider of the current one (several apps
    in one process, e.g. tests, each bring their own; the provider returns None to fall back
    to the configured sealer)."""
    with _lock:
        if sealer is not None:
            _state["sealer"] = sealer
        if provider is not None:
            _state["provider"] = provider


def current_sealer() -> ColumnSealer:
    """The column sealer in force.

    Raises:
        SealingError: none is configured (a process must configure one before it reads or
            writes case texts).
    """
    provider = _state["provider"]
    sealer = provider() if provider is not None else None
    if sealer is None:
        sealer = _state["sealer"]
    if sealer is None:
        raise SealingError("no column key is configured for sealed columns")
    return sealer


class _BlankOnly(TypeDecorator.Comparator):  # type: ignore[type-arg]
    """SQL on a sealed column may only ask whether it is blank (or NULL): any other comparison,
    pattern or sort direction would silently run on ciphertext, so it is refused when written."""

    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        blank = (op in (operators.eq, operators.ne) and len(other) == 1
                 and isinstance(other[0], str | bytes) and not other[0])
        null = op in (operators.is_, operators.is_not) and other == (None,)
        if not (blank or null):
            raise SealingError(f"a sealed column cannot be used in SQL with {op.__name__}: "
                               "only a comparison with the blank value is possible")
        return super().operate(op, *other, **kwargs)


class SealedBytes(TypeDecorator[bytes]):
    """Bytes sealed at rest under the column key, bound to ``table.column``."""

    impl = LargeBinary
    cache_ok = True
    comparator_factory = _BlankOnly

    def __init__(self, table: str, column: str) -> None:
        super().__init__()
        self.table, self.column = table, column
        self._aad = column_aad(table, column)

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return current_sealer().seal(self._aad, bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return current_sealer().open(self._aad, bytes(value))


class SealedText(SealedBytes):
    """UTF-8 text sealed at rest under the column key, bound to ``table.column``."""

    cache_ok = True

    @property
    def python_type(self) -> type[str]:
        return str

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:  # type: ignore[override]
        return super().process_bind_param(None if value is None else value.encode("utf-8"),
                                          dialect)

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:  # type: ignore[override]
        opened = super().process_result_value(value, dialect)
        return None if opened is None else opened.decode("utf-8")
