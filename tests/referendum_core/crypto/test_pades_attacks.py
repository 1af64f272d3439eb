"""Forged commission documents the PAdES check must refuse: a CA that certifies more than the
commission (a qualified trust service provider certifies every citizen's eParaksts) lets anyone
sign a PDF that chains to the trusted root, or change a signed protocol by an incremental update
and sign the result again; only the commission's own certificate may count."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from referendum_core.crypto.pades import CommissionKey, _run_coroutine, check_pdf, sign_pdf
from tests.referendum_core.crypto.test_pades import _pdf

NOW = datetime.now(UTC)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LV"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _leaf(ca_key, ca_name, common: str) -> CommissionKey:
    """A signing certificate the shared CA issued to ``common``, as a loaded key."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return CommissionKey.from_pkcs12(pkcs12.serialize_key_and_certificates(
        common.encode(), key, cert, None, serialization.NoEncryption()))


@pytest.fixture(scope="module")
def shared_ca():
    """A CA that certifies the commission and a private person alike; (root PEM, keys)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Qualified TSP (test)")
    root = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                         False, False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return (root.public_bytes(serialization.Encoding.PEM),
            _leaf(ca_key, ca_name, "Vēlēšanu komisija"), _leaf(ca_key, ca_name, "Jānis Viltus"))


def test_a_pdf_signed_by_someone_else_the_ca_certified_is_not_the_commissions(shared_ca):
    root, commission, forger = shared_ca
    forged = sign_pdf(_pdf("Rezultati: PRET"), forger, reason="r", location="Riga")
    check = check_pdf(forged, [root], commission.certificate)
    assert check.intact and check.valid and check.trusted and check.covers_whole_file
    assert not check.expected_signer and not check.is_valid
    genuine = sign_pdf(_pdf(), commission, reason="r", location="Riga")
    assert check_pdf(genuine, [root], commission.certificate).is_valid


def test_an_incremental_update_signed_again_by_another_key_is_refused(shared_ca):
    """The commission's protocol, changed in an incremental update and signed over by another
    certificate of the same CA: the last signature covers the whole file and chains to the root,
    but it is not the commission's."""
    root, commission, forger = shared_ca
    signed = sign_pdf(_pdf("Rezultati: PAR"), commission, reason="r", location="Riga")
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root["/Lang"] = generic.pdf_string("en")
    writer.update_root()
    changed = BytesIO()
    writer.write(changed)
    meta = signers.PdfSignatureMetadata(field_name="Second", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    # pyHanko's coroutine on a loop of its own (this thread may run Playwright's).
    resigned = _run_coroutine(lambda: signers.async_sign_pdf(
        IncrementalPdfFileWriter(BytesIO(changed.getvalue())), meta, forger.signer)).getvalue()
    check = check_pdf(resigned, [root], commission.certificate)
    assert check.signatures == 2 and check.covers_whole_file and check.trusted
    assert not check.is_valid
