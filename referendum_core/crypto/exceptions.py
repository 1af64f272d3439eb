"""Typed exceptions of the verifiable-ballot core.

Every exception carries a ``location``: a path into the election record (or into the object being
checked) such as ``board[17].ballot.choices[1].proof``, so a verifier can say exactly where a
check failed.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class: a check of the election-record contract failed."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Keep the location when the exception crosses a process boundary.
        return (self.__class__, (self.message, self.location))

    def at(self, prefix: str) -> CryptoError:
        """Return this error with ``prefix`` prepended to its location (mutates and returns self)."""
        if not prefix:
            return self
        if not self.location:
            self.location = prefix
        elif self.location.startswith("["):
            self.location = prefix + self.location
        else:
            self.location = f"{prefix}.{self.location}"
        return self

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class InvalidEncoding(CryptoError):
    """A value is not of the required JSON type or hex form."""


class InvalidPoint(CryptoError):
    """A received point is not a valid element of the prime-order group (or is the identity)."""


class InvalidScalar(CryptoError):
    """A received scalar is not canonical (not 64 lowercase hex digits, or not reduced mod L)."""


class InvalidProof(CryptoError):
    """A zero-knowledge proof does not verify."""


class InvalidBallot(CryptoError):
    """A ballot breaks a rule of section 5 other than a proof (shape, alias, election, replay)."""


class InvalidManifest(CryptoError):
    """The manifest or a trustee key is malformed or inconsistent."""


class InvalidRecord(CryptoError):
    """The election record is inconsistent (board chain, counted set, tally, result)."""


class DecryptionError(CryptoError):
    """A partial decryption is malformed or its proof fails, or the result cannot be recovered."""


class SecretFileError(CryptoError):
    """A trustee secret file cannot be opened (wrong passphrase, tampered, wrong format)."""
