"""Latvian personal codes (personas kods): validation and protection at rest.

Validation (old ``DDMMYY-CNNNN`` with check digit, new ``32…`` format) comes from python-stdnum.
Codes are stored as a keyed hash for lookup and an AES-GCM ciphertext for display to those
allowed, so a database dump alone does not reveal them.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from stdnum.exceptions import ValidationError
from stdnum.lv import pvn


class InvalidPersonalCode(ValueError):
    """The text is not a valid Latvian personal code."""


def normalise(code: str) -> str:
    """Validate and return the 11 digits.

    Raises:
        InvalidPersonalCode: wrong length, characters, birth date or check digit, or a
            company registration number.
    """
    try:
        digits = pvn.validate(code or "")
    except ValidationError as exc:
        raise InvalidPersonalCode(str(exc)) from exc
    if digits[0] > "3":
        raise InvalidPersonalCode("a legal entity's number, not a personal code")
    return digits


def is_valid(code: str) -> bool:
    try:
        normalise(code)
    except InvalidPersonalCode:
        return False
    return True


def masked(digits: str) -> str:
    """For screens: birth-date part only, e.g. ``161175-*****``."""
    return f"{digits[:6]}-*****"


@dataclass(frozen=True)
class PersonalCodeProtector:
    """Keyed lookup hashes and encryption for personal codes, keys derived from one secret."""

    secret: bytes

    def _derive(self, purpose: bytes) -> bytes:
        return _derive_key(self.secret, purpose)

    def lookup_hash(self, code: str) -> str:
        """Deterministic keyed hash of a (validated) personal code."""
        return self.lookup_hash_normalised(normalise(code))

    def lookup_hash_normalised(self, digits: str) -> str:
        """``lookup_hash`` of the 11 digits ``normalise`` returned (bulk imports validate once)."""
        return hmac.new(self._derive(b"personal-code-lookup-v1"), digits.encode(),
                        hashlib.sha256).hexdigest()

    def encrypt(self, code: str) -> bytes:
        return self.encrypt_normalised(normalise(code))

    def encrypt_normalised(self, digits: str) -> bytes:
        """``encrypt`` of the 11 digits ``normalise`` returned."""
        nonce = os.urandom(12)
        return nonce + _aead(self.secret).encrypt(nonce, digits.encode(), b"personal-code")

    def decrypt(self, blob: bytes) -> str:
        return _aead(self.secret).decrypt(blob[:12], blob[12:], b"personal-code").decode()


# Register imports hash and encrypt hundreds of thousands of codes: derive each key once.
@lru_cache(maxsize=32)
def _derive_key(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(secret)


@lru_cache(maxsize=8)
def _aead(secret: bytes) -> AESGCM:
    return AESGCM(_derive_key(secret, b"personal-code-enc-v1"))
