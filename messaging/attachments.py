"""Attachment checks by content: the type is sniffed (``filetype``) and the file's structure is
checked; the name's extension must agree with what the content is. Size is limited before
anything else (the web layer also stops reading an upload past the limit).

Allowed: PDF, PNG, JPEG, WebP, and the zip-based office formats DOCX, XLSX, ODT, ODS
(with a zip-bomb guard: entry count, total unpacked size and compression ratio).
"""
from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass

import filetype

from messaging.exceptions import AttachmentRejected

PDF, PNG, JPEG, WEBP = "application/pdf", "image/png", "image/jpeg", "image/webp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

EXTENSIONS: dict[str, frozenset[str]] = {
    PDF: frozenset({"pdf"}), PNG: frozenset({"png"}), JPEG: frozenset({"jpg", "jpeg"}),
    WEBP: frozenset({"webp"}), DOCX: frozenset({"docx"}), XLSX: frozenset({"xlsx"}),
    ODT: frozenset({"odt"}), ODS: frozenset({"ods"}),
}
ALLOWED_TYPES = frozenset(EXTENSIONS)
MAX_ZIP_ENTRIES = 2000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100
MAX_IMAGE_PIXELS = 50_000_000


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed: its safe name, sniffed type and size."""

    filename: str
    content_type: str
    size: int


def safe_filename(name: str) -> str:
    """A display/download name without paths or control characters (keeps Latvian letters)."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>|:*?')
    name = re.sub(r"\s+", " ", name).strip().lstrip(".")
    return name[:150] or "file"


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return PDF
    kind = filetype.guess(data[:8192])
    if kind is None:
        return None
    mime = kind.mime
    if mime == "application/zip" or mime in (DOCX, XLSX, ODT, ODS):
        return _office_type(data)
    return mime


def _office_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return declared if declared in (ODT, ODS) else None
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return DOCX
                if any(n.startswith("xl/") for n in names):
                    return XLSX
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:
        raise AttachmentRejected("damaged", "broken zip container") from exc
    return None


def inspect(data: bytes, filename: str, max_bytes: int) -> CheckedFile:
    """Check an uploaded file; return what it is.

    Raises:
        AttachmentRejected: ``too_large``, ``empty``, ``type_not_allowed``, ``type_mismatch``
            (the name claims another type), ``damaged`` or ``zip_bomb``.
    """
    if len(data) > max_bytes:
        raise AttachmentRejected("too_large", f"{len(data)} > {max_bytes} bytes")
    if not data:
        raise AttachmentRejected("empty")
    name = safe_filename(filename)
    content_type = _sniff(data)
    if content_type not in ALLOWED_TYPES:
        # A name that claims an allowed type for other content is a lie, not just a wrong type.
        if any(_extension(name) in exts for exts in EXTENSIONS.values()):
            raise AttachmentRejected("type_mismatch", f"content is {content_type or 'unknown'}")
        raise AttachmentRejected("type_not_allowed", content_type or "unknown")
    if _extension(name) not in EXTENSIONS[content_type]:
        raise AttachmentRejected("type_mismatch", f"content is {content_type}")
    _STRUCTURE_CHECKS[content_type](data)
    return CheckedFile(filename=name, content_type=content_type, size=len(data))


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise AttachmentRejected("damaged", "PDF without end marker")
    if b"xref" not in data and b"/XRef" not in data:
        raise AttachmentRejected("damaged", "PDF without cross-reference table")


def _check_png(data: bytes) -> None:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise AttachmentRejected("damaged", "PNG without header chunk")
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width and 0 < height and width * height <= MAX_IMAGE_PIXELS):
        raise AttachmentRejected("damaged", "PNG dimensions out of range")
    if b"IEND" not in data[-32:]:
        raise AttachmentRejected("damaged", "PNG is truncated")


def _check_jpeg(data: bytes) -> None:
    if not data.startswith(b"\xff\xd8\xff"):
        raise AttachmentRejected("damaged", "not a JPEG start")
    if b"\xff\xd9" not in data[-64:]:
        raise AttachmentRejected("damaged", "JPEG is truncated")


def _check_webp(data: bytes) -> None:
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise AttachmentRejected("damaged", "not a WebP container")
    declared = struct.unpack("<I", data[4:8])[0] + 8
    if declared != len(data) and declared != len(data) - 1:
        raise AttachmentRejected("damaged", "WebP size does not match")
    if data[12:16] not in (b"VP8 ", b"VP8L", b"VP8X"):
        raise AttachmentRejected("damaged", "WebP without image chunk")


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                raise AttachmentRejected("zip_bomb", "too many entries")
            total = 0
            for info in infos:
                if info.filename.startswith("/") or ".." in info.filename.split("/"):
                    raise AttachmentRejected("damaged", "unsafe path inside the document")
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                    raise AttachmentRejected("zip_bomb", "compression ratio too high")
            if total > MAX_UNPACKED_BYTES:
                raise AttachmentRejected("zip_bomb", "unpacks too large")
    except zipfile.BadZipFile as exc:
        raise AttachmentRejected("damaged", "broken zip container") from exc


_STRUCTURE_CHECKS = {
    PDF: _check_pdf, PNG: _check_png, JPEG: _check_jpeg, WEBP: _check_webp,
    DOCX: _check_zip, XLSX: _check_zip, ODT: _check_zip, ODS: _check_zip,
}
