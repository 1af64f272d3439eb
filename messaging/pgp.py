"""The one OpenPGP wrapper (python-gnupg around ``gpg``), after SecureDrop's ``encryption.py``.

It is given its GnuPG home and the portal archive key's fingerprint when constructed, raises
typed exceptions (``PGPError``, ``KeyNotFound``) and never logs plaintext or key material —
only fingerprints and gpg's status words.

The portal archive key is one Ed25519 signing key with a Curve25519 encryption subkey: it wraps
the thread data keys (encryption) and signs exports (detached signatures). Its fingerprint is
kept next to the keyring in ``archive-key.fpr`` so a rotation is one atomic file replace.
"""
from __future__ import annotations

import fcntl
import logging
import os
import subprocess  # noqa: S404 - only to stop the gpg-agent of a home we own
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import gnupg

from messaging.exceptions import KeyNotFound, PGPError

log = logging.getLogger(__name__)
# python-gnupg logs gpg's command lines and status at DEBUG; keep it quiet by default so that a
# debug log level elsewhere can never sweep key material or decrypted output into the log.
if logging.getLogger("gnupg").level == logging.NOTSET:
    logging.getLogger("gnupg").setLevel(logging.WARNING)

GPG_BINARY = "/usr/bin/gpg"
FINGERPRINT_FILE = "archive-key.fpr"
ARCHIVE_KEY_NAME = "Referendum portal archive key"
ARCHIVE_KEY_EMAIL = "archive@portal.cvk.lv"


def _clean_fpr(value: str) -> str:
    return "".join(value.split()).upper()


class PGP:
    """OpenPGP operations in one GnuPG home.

    ``archive_fingerprint`` names the portal key; when omitted it is read from
    ``<home>/archive-key.fpr`` (written by ``generate_archive_key``).
    """

    def __init__(self, home: str | os.PathLike[str], archive_fingerprint: str | None = None,
                 *, public_keys: Iterable[str] = (), gpg_binary: str = GPG_BINARY) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.home, 0o700)
        try:
            self._gpg = gnupg.GPG(gnupghome=str(self.home), gpgbinary=gpg_binary)
        except (OSError, ValueError) as exc:
            raise PGPError(f"cannot start gpg: {exc}") from exc
        self._gpg.encoding = "utf-8"
        self._archive_fpr = _clean_fpr(archive_fingerprint) if archive_fingerprint else None
        for armored in public_keys:
            self.import_public_key(armored)

    # The archive key -------------------------------------------------------------------
    @property
    def archive_fingerprint(self) -> str:
        """The current archive key's fingerprint.

        Raises:
            KeyNotFound: no archive key has been generated in this home.
        """
        if self._archive_fpr:
            return self._archive_fpr
        path = self.home / FINGERPRINT_FILE
        if path.exists():
            value = _clean_fpr(path.read_text())
            if value:
                return value
        raise KeyNotFound("the portal archive key does not exist yet (run "
                          "`referendum-portal messaging init-keys`)")

    def has_archive_key(self) -> bool:
        """Is there an archive key with its secret part in this home?"""
        try:
            return self.has_secret_key(self.archive_fingerprint)
        except KeyNotFound:
            return False

    def generate_archive_key(self, name: str = ARCHIVE_KEY_NAME, email: str = ARCHIVE_KEY_EMAIL,
                             *, make_current: bool = True) -> str:
        """Create a new Ed25519/Cv25519 archive key without passphrase; return its fingerprint.

        With ``make_current`` the key becomes the archive key of this home (``archive-key.fpr``).
        """
        params = self._gpg.gen_key_input(
            key_type="EDDSA", key_curve="ed25519", key_usage="sign",
            subkey_type="ECDH", subkey_curve="cv25519", subkey_usage="encrypt",
            name_real=name, name_email=email, expire_date="0", no_protection=True)
        result = self._gpg.gen_key(params)
        fingerprint = _clean_fpr(str(result.fingerprint or ""))
        if not fingerprint:
            raise PGPError(f"key generation failed: {result.status or result.stderr[-200:]}")
        log.info("generated OpenPGP key %s in %s", fingerprint, self.home)
        if make_current:
            self.set_archive_key(fingerprint)
        return fingerprint

    def set_archive_key(self, fingerprint: str) -> None:
        """Make ``fingerprint`` (whose secret key must be here) the archive key."""
        fingerprint = _clean_fpr(fingerprint)
        if not self.has_secret_key(fingerprint):
            raise KeyNotFound(f"no secret key {fingerprint} in this GnuPG home")
        tmp = self.home / (FINGERPRINT_FILE + ".tmp")
        tmp.write_text(fingerprint + "\n")
        tmp.replace(self.home / FINGERPRINT_FILE)
        self._archive_fpr = fingerprint

    def ensure_archive_key(self) -> str:
        """Return the archive key's fingerprint, generating the key first if there is none.

        Safe when several processes start at once (a lock file serialises generation).
        """
        with self._lock():
            if self.has_archive_key():
                return self.archive_fingerprint
            self._archive_fpr = None
            if self.has_archive_key():
                return self.archive_fingerprint
            return self.generate_archive_key()

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.home / ".portal-keygen.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # Keys ------------------------------------------------------------------------------
    def has_secret_key(self, fingerprint: str) -> bool:
        """Is the secret part of ``fingerprint`` in this home?"""
        fingerprint = _clean_fpr(fingerprint)
        return any(_clean_fpr(k["fingerprint"]) == fingerprint
                   for k in self._gpg.list_keys(secret=True))

    def import_public_key(self, armored: str) -> str:
        """Import one public key; return its fingerprint.

        Raises:
            PGPError: the text holds no key, or holds a secret key.
        """
        if "PRIVATE KEY BLOCK" in armored:
            raise PGPError("a secret key was offered where a public key is expected")
        result = self._gpg.import_keys(armored)
        fingerprints = [_clean_fpr(f) for f in (result.fingerprints or []) if f]
        if not fingerprints:
            raise PGPError("no OpenPGP public key found in the text")
        return fingerprints[0]

    def export_public_key(self, fingerprint: str | None = None) -> str:
        """The ASCII-armoured public key (the archive key by default)."""
        fingerprint = _clean_fpr(fingerprint) if fingerprint else self.archive_fingerprint
        armored = self._gpg.export_keys(fingerprint)
        if not armored:
            raise KeyNotFound(f"no public key {fingerprint}")
        return armored

    def delete_secret_key(self, fingerprint: str) -> None:
        """Remove a secret key (e.g. a retired archive key after a rotation)."""
        fingerprint = _clean_fpr(fingerprint)
        result = self._gpg.delete_keys(fingerprint, secret=True, expect_passphrase=False)
        if str(result) != "ok":
            raise PGPError(f"could not delete secret key {fingerprint}: {result.status}")

    # Encryption ------------------------------------------------------------------------
    def encrypt(self, data: bytes | str, fingerprints: Iterable[str], *, armor: bool = True
                ) -> str:
        """Encrypt to every key in ``fingerprints`` (imported public keys); ASCII armour.

        Raises:
            PGPError: a recipient key is missing or unusable.
        """
        recipients = [_clean_fpr(f) for f in fingerprints]
        if not recipients:
            raise PGPError("no recipients")
        result = self._gpg.encrypt(data, recipients, armor=armor, always_trust=True)
        if not result.ok:
            raise PGPError(f"encryption failed: {result.status}")
        return str(result)

    def decrypt(self, armored: str | bytes) -> bytes:
        """Decrypt with a secret key of this home.

        Raises:
            PGPError: no matching secret key or damaged message.
        """
        result = self._gpg.decrypt(armored)
        if not result.ok:
            raise PGPError(f"decryption failed: {result.status}")
        return result.data

    def wrap_key(self, data_key: bytes, fingerprint: str | None = None) -> str:
        """A thread data key encrypted to ``fingerprint`` (the archive key by default)."""
        return self.encrypt(data_key, [fingerprint or self.archive_fingerprint])

    def unwrap_key(self, wrapped: str, expected_length: int = 32) -> bytes:
        """The data key inside ``wrapped``.

        Raises:
            PGPError: cannot decrypt, or the content is not a key of the expected length.
        """
        key = self.decrypt(wrapped)
        if len(key) != expected_length:
            raise PGPError("wrapped value is not a data key")
        return key

    # Signatures ------------------------------------------------------------------------
    def sign_detached(self, data: bytes) -> str:
        """An ASCII-armoured detached signature of ``data`` by the archive key."""
        result = self._gpg.sign(data, keyid=self.archive_fingerprint, detach=True, binary=False)
        if not str(result).strip() or not getattr(result, "fingerprint", None):
            raise PGPError(f"signing failed: {getattr(result, 'status', '')}")
        return str(result)

    def verify_detached(self, data: bytes, signature: str) -> str:
        """Check a detached signature; return the signing key's fingerprint.

        Raises:
            PGPError: the signature does not verify.
        """
        sig_path = self.home / f".verify-{os.getpid()}-{id(data)}.asc"
        sig_path.write_text(signature)
        try:
            verified = self._gpg.verify_data(str(sig_path), data)
        finally:
            sig_path.unlink(missing_ok=True)
        if not verified.valid:
            raise PGPError(f"signature does not verify: {verified.status}")
        return _clean_fpr(verified.pubkey_fingerprint or verified.fingerprint)

    # Housekeeping ----------------------------------------------------------------------
    def stop_agent(self) -> None:
        """Stop this home's gpg-agent (tests and short-lived CLI runs)."""
        subprocess.run(["/usr/bin/gpgconf", "--homedir", str(self.home), "--kill", "all"],  # noqa: S603
                       check=False, capture_output=True, timeout=10)
