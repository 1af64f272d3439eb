"""PAdES signatures of the commission's PDFs, checked with pyHanko's own validator against a
local test CA made here (no key is committed)."""
from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from referendum_core.crypto.pades import (
    CommissionKey,
    PadesError,
    check_pdf,
    make_test_ca,
    sign_pdf,
)

# Real time: a validator checks the certificates' validity at the time it runs.
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def ca():
    return make_test_ca("Rīgas pilsētas vēlēšanu komisija", NOW, passphrase=b"test")


@pytest.fixture(scope="module")
def key(ca):
    return CommissionKey.from_pkcs12(ca.pkcs12, b"test")


def _pdf(text: str = "Lēmums") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, text.encode("latin-1", "ignore").decode("latin-1"))
    return bytes(pdf.output())


def test_signed_pdf_validates_up_to_the_test_ca(ca, key):
    signed = sign_pdf(_pdf(), key, reason="Signature check decision (Art. 13)",
                      location="Rīga")
    check = check_pdf(signed, [ca.ca_certificate_pem], key.certificate)
    assert check.is_valid, check.summary
    assert check.signatures == 1 and "vēlēšanu komisija" in check.signer


def test_a_changed_byte_is_detected(ca, key):
    signed = sign_pdf(_pdf(), key, reason="r", location="Rīga")
    tampered = signed.replace(b"%PDF-1.3", b"%PDF-1.4", 1)
    assert tampered != signed
    check = check_pdf(tampered, [ca.ca_certificate_pem], key.certificate)
    assert not check.intact and not check.is_valid


def test_content_added_after_the_signature_is_detected(ca, key):
    signed = sign_pdf(_pdf(), key, reason="r", location="Rīga")
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root["/Lang"] = generic.pdf_string("en")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    check = check_pdf(out.getvalue(), [ca.ca_certificate_pem], key.certificate)
    assert check.intact and not check.covers_whole_file and not check.is_valid


def test_another_ca_is_not_trusted(key):
    other = make_test_ca("Cita komisija", NOW)
    check = check_pdf(sign_pdf(_pdf(), key, reason="r", location="Rīga"),
                      [other.ca_certificate_pem], key.certificate)
    assert not check.trusted and not check.is_valid


def test_unsigned_and_unreadable_files_are_not_valid(ca, key):
    assert check_pdf(_pdf(), [ca.ca_certificate_pem], key.certificate).signatures == 0
    assert not check_pdf(b"not a pdf", [ca.ca_certificate_pem], key.certificate).is_valid


def test_wrong_passphrase_and_broken_input_are_refused(ca, key):
    with pytest.raises(PadesError):
        CommissionKey.from_pkcs12(ca.pkcs12, b"wrong")
    with pytest.raises(PadesError):
        CommissionKey.from_pkcs12(b"garbage", None)
    with pytest.raises(PadesError):
        sign_pdf(b"not a pdf", key, reason="r", location="Rīga")


def test_signing_works_where_an_event_loop_is_already_running(ca, key):
    """pyHanko's synchronous signing calls ``asyncio.run``; a caller whose thread already runs
    a loop (Playwright's synchronous API in the test process, an asyncio host) still signs."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def inside_a_loop() -> bool:
        signed = sign_pdf(_pdf(), key, reason="r", location="Latvija")
        return check_pdf(signed, [ca.ca_certificate_pem], key.certificate).is_valid

    # A thread of its own: this one may already run Playwright's loop (browser tests).
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: asyncio.run(inside_a_loop())).result()
