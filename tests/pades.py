"""Test helpers for the commission's PAdES signatures: the test CA's root as a validator's
trust anchor (taken from the PKCS#12 archive the test app made)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from referendum_core.crypto.pades import PadesCheck, check_pdf


def _archive(app: Any) -> Any:
    return pkcs12.load_pkcs12(Path(app.config["COMMISSION_SIGNING_PKCS12"]).read_bytes(), None)


def trust_root(app: Any) -> bytes:
    """The PEM of the local test CA that issued the app's commission certificate."""
    (root,) = _archive(app).additional_certs
    return root.certificate.public_bytes(serialization.Encoding.PEM)


def commission_certificate(app: Any) -> bytes:
    """The PEM of the app's commission certificate (the signer a check expects)."""
    return _archive(app).cert.certificate.public_bytes(serialization.Encoding.PEM)


def check_commission_signature(app: Any, pdf: bytes) -> PadesCheck:
    """pyHanko's validation of ``pdf`` with the test CA as the only trusted root and the
    commission's certificate as the only signer."""
    return check_pdf(pdf, [trust_root(app)], commission_certificate(app))
