"""The commission's PAdES signature on the PDFs the portal issues (results protocols,
signature-check decisions), beside the portal's detached OpenPGP signature.

The key and certificate come from ``COMMISSION_SIGNING_PKCS12`` (passphrase
``COMMISSION_SIGNING_PASSPHRASE``). Production refuses to start without the file
(``portal.config``); elsewhere a local test CA and a certificate it issued are made there on
first use (``referendum_core.crypto.pades.make_test_ca``), so no key is ever committed.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app

from referendum_core.crypto.pades import CommissionKey, make_test_ca, sign_pdf

TEST_COMMISSION = "Referendum portal election commission (TEST)"


def _passphrase(app: Flask) -> bytes | None:
    value = app.config.get("COMMISSION_SIGNING_PASSPHRASE") or ""
    return value.encode() if value else None


def test_ca_path(path: str | Path) -> Path:
    """Where the test CA's certificate (PEM) is written beside its PKCS#12 archive: the trust
    root to give a validator (Adobe Reader, the EU DSS demo, pyHanko) in the demo."""
    file = Path(path)
    return file.with_name(file.stem + "-ca.pem")


def ensure_test_certificate(path: str | Path, passphrase: bytes | None) -> Path:
    """Make the test CA's PKCS#12 archive at ``path`` (mode 0600) and its CA certificate
    beside it unless the archive exists; the certificates' validity is real time, as a
    validator checks it (not the demo clock)."""
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        made = make_test_ca(TEST_COMMISSION, datetime.now(UTC), passphrase=passphrase)
        file.touch(mode=0o600, exist_ok=False)
        file.write_bytes(made.pkcs12)
        test_ca_path(file).write_bytes(made.ca_certificate_pem)
    return file


def commission_key(app: Flask | None = None) -> CommissionKey:
    """The commission's signing key (loaded once per process).

    Raises:
        referendum_core.crypto.pades.PadesError: the archive cannot be read.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    key = app.extensions.get("commission_key")
    if key is None:
        path = app.config["COMMISSION_SIGNING_PKCS12"]
        if app.config["ENV"] != "production":
            ensure_test_certificate(path, _passphrase(app))
        key = CommissionKey.from_pkcs12(Path(path).read_bytes(), _passphrase(app))
        app.extensions["commission_key"] = key
    return key


def sign_document(pdf: bytes, reason: str) -> bytes:
    """``pdf`` with the commission's PAdES signature (``reason`` goes into the signature)."""
    return sign_pdf(pdf, commission_key(), reason=reason, location="Latvija")
