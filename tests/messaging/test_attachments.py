"""Attachment checks by content, structure and size."""
from __future__ import annotations

import io
import zipfile

import pytest

from messaging.attachments import DOCX, JPEG, PDF, PNG, WEBP, inspect, safe_filename
from messaging.exceptions import AttachmentRejected

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\nxref\n0 1\ntrailer<<>>\nstartxref\n0\n%%EOF\n"
PNG_BYTES = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
             b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
             b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG_BYTES = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
              b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00" + b"\x00" * 50 + b"\xff\xd9")
WEBP_BODY = b"WEBPVP8L" + (10).to_bytes(4, "little") + b"\x2f" + b"\x00" * 9
WEBP_BYTES = b"RIFF" + len(WEBP_BODY).to_bytes(4, "little") + WEBP_BODY
LIMIT = 1024 * 1024


def _docx(extra: dict[str, bytes] | None = None, compress: bool = True) -> bytes:
    out = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(("data", "name", "mime"), [
    (PDF_BYTES, "protokols.pdf", PDF), (PNG_BYTES, "foto.png", PNG),
    (JPEG_BYTES, "foto.JPG", JPEG), (WEBP_BYTES, "bilde.webp", WEBP),
    (_docx(), "lēmums.docx", DOCX),
])
def test_accepted_files(data, name, mime):
    checked = inspect(data, name, LIMIT)
    assert checked.content_type == mime and checked.size == len(data)


@pytest.mark.parametrize(("data", "name", "code"), [
    (b"MZ\x90\x00" + b"\x00" * 100, "protokols.pdf", "type_mismatch"),
    (PNG_BYTES, "dokuments.pdf", "type_mismatch"),
    (b"<html><script>x</script></html>", "lapa.html", "type_not_allowed"),
    (b"", "tukšs.pdf", "empty"),
    (PDF_BYTES[:-7], "nepilns.pdf", "damaged"),
    (PNG_BYTES[:-12], "nepilns.png", "damaged"),
    (_docx({"word/bomb.xml": b"\x00" * 5_000_000}), "bumba.docx", "zip_bomb"),
])
def test_refused_files(data, name, code):
    with pytest.raises(AttachmentRejected) as err:
        inspect(data, name, 10 * LIMIT)
    assert err.value.code == code


def test_size_limit_before_anything_else():
    with pytest.raises(AttachmentRejected) as err:
        inspect(PDF_BYTES + b"\x00" * LIMIT, "liels.pdf", LIMIT)
    assert err.value.code == "too_large"


def test_safe_filename_strips_paths_and_controls():
    assert safe_filename("../../etc/pass\x00wd.pdf") == "passwd.pdf"
    assert safe_filename("C:\\Users\\x\\Lēmums Nr. 5.pdf") == "Lēmums Nr. 5.pdf"
