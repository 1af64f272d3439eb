"""PAdES signatures of the commission's PDF documents (results protocols, signature-check
decisions), with pyHanko: the format Latvian institutions validate (eParaksts, the EU DSS).

The commission's certificate and key come as a PKCS#12 file (production: issued by a qualified
trust service provider; the demo and the tests: a local test CA made by :func:`make_test_ca` at
seed or test time, never committed). A signature is PAdES baseline B-B (``ETSI.CAdES.detached``)
over the whole file; its signing time is the machine's real time, as pyHanko writes it, not the
portal's (possibly shifted) demo clock.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .exceptions import CryptoError

T = TypeVar("T")

#: the name of the signature field the portal adds
FIELD_NAME = "Commission"


class PadesError(CryptoError):
    """The key material could not be loaded or the PDF could not be signed."""


@dataclass(frozen=True)
class CommissionKey:
    """The commission's signing key and certificate chain, loaded from PKCS#12."""

    signer: signers.SimpleSigner

    @property
    def subject(self) -> str:
        return self.signer.signing_cert.subject.human_friendly

    @property
    def certificate(self) -> bytes:
        """The commission's certificate (DER): what :func:`check_pdf` expects as the signer."""
        return bytes(self.signer.signing_cert.dump())

    @classmethod
    def from_pkcs12(cls, data: bytes, passphrase: bytes | None = None) -> CommissionKey:
        """Load a PKCS#12 archive (key, certificate, and the chain up to the CA).

        Raises:
            PadesError: not a PKCS#12 archive, a wrong passphrase, or no key in it.
        """
        try:
            signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=(),
                                                           passphrase=passphrase)
        except (ValueError, TypeError) as err:
            raise PadesError(f"cannot load the PKCS#12 archive: {err}", "pkcs12") from None
        if signer is None or signer.signing_key is None:
            raise PadesError("cannot load the PKCS#12 archive (wrong passphrase?)", "pkcs12")
        return cls(signer)


def _run_coroutine(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run pyHanko's asynchronous signing to its end. Its synchronous wrapper calls
    ``asyncio.run``, which refuses to start in a thread whose event loop is already running
    (a caller inside asyncio, or Playwright's synchronous API in the same test process): then
    the coroutine gets a loop of its own in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def sign_pdf(pdf: bytes, key: CommissionKey, *, reason: str, location: str,
             name: str | None = None) -> bytes:
    """``pdf`` with the commission's PAdES signature added as an incremental update.

    Raises:
        PadesError: ``pdf`` cannot be read as a PDF.
    """
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, reason=reason, location=location, name=name,
        md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES)
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        out = _run_coroutine(lambda: signers.PdfSigner(meta, key.signer).async_sign_pdf(writer))
    except Exception as err:  # pyHanko raises several families for a broken input
        raise PadesError(f"cannot sign the PDF: {err}", "pdf") from None
    return out.getvalue()


@dataclass(frozen=True)
class PadesCheck:
    """What pyHanko's validator found in a PDF's signatures (the last one counts)."""

    signatures: int
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    signer: str
    summary: str
    #: the last signature is the expected signer's (its very certificate, not merely one
    #: the same CA issued: a qualified CA certifies every citizen's eParaksts too)
    expected_signer: bool = False

    @property
    def is_valid(self) -> bool:
        """Unchanged since signing, the signature checks, the chain ends at a trusted root,
        the signer is the expected one and nothing was added after the signature."""
        return (self.signatures > 0 and self.intact and self.valid and self.trusted
                and self.covers_whole_file and self.expected_signer)


def check_pdf(pdf: bytes, trust_roots: Iterable[bytes], signer: bytes) -> PadesCheck:
    """Validate the PDF's signatures with pyHanko against ``trust_roots`` (PEM or DER) and
    ``signer``, the commission's own certificate (PEM or DER): a file signed, or signed again
    after an incremental update, by anyone else whom the CA certified is not the commission's.
    No revocation information is fetched (soft-fail): the test CA publishes none."""
    expected = asn1_x509.Certificate.load(_der(signer))
    roots = [asn1_x509.Certificate.load(_der(root)) for root in trust_roots]
    context = ValidationContext(trust_roots=roots, allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as err:  # a file too broken to read has no valid signature
        return PadesCheck(0, False, False, False, False, "", f"unreadable: {err}")
    if not embedded:
        return PadesCheck(0, False, False, False, False, "", "no signature")
    try:
        status = _run_coroutine(lambda: async_validate_pdf_signature(embedded[-1], context))
    except Exception as err:  # a mangled signature is an invalid one
        return PadesCheck(len(embedded), False, False, False, False, "", f"invalid: {err}")
    return PadesCheck(
        signatures=len(embedded), intact=bool(status.intact), valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly, summary=status.summary(),
        expected_signer=status.signing_cert.dump() == expected.dump())


def _der(cert: bytes) -> bytes:
    if cert.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(cert).public_bytes(serialization.Encoding.DER)
    return cert


@dataclass(frozen=True)
class LocalCa:
    """A local certification authority and a commission certificate it issued (demo, tests)."""

    ca_certificate_pem: bytes
    pkcs12: bytes


def make_test_ca(commission: str, now: datetime, *, passphrase: bytes | None = None,
                 valid_days: int = 3650) -> LocalCa:
    """A fresh test CA (ECDSA P-256) and a signing certificate for ``commission`` (digital
    signature and non-repudiation key usage), packed with its key and the CA certificate as
    PKCS#12. ``now`` is the real time; the certificates are valid from a day before it."""
    start, end = now - timedelta(days=1), now + timedelta(days=valid_days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LV"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Referendum portal"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Referendum portal test CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                            False, False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LV"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, commission),
                         x509.NameAttribute(NameOID.COMMON_NAME, commission)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    archive = pkcs12.serialize_key_and_certificates(
        commission.encode(), key, cert, [ca_cert], encryption)
    return LocalCa(ca_cert.public_bytes(serialization.Encoding.PEM), archive)
