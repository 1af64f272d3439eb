"""The one check every uploaded file goes through, whatever it is for (message attachments,
case photos, register extracts, key files): size first, then the type sniffed from the content
(the name's extension must agree), then the type's structure.

A zip-based office document is sniffed through ``archive``: its directory is checked (entry
count, declared sizes, ratios, overlaps, local headers) before any entry is inflated; then every
entry is inflated in pieces, keeping nothing, to prove its declared size; the type-marker
entries are read with a small cap; an archive nested in it is checked the same way, one level
deep. An upload whose allowed types include no archive is never opened as one.
"""
from __future__ import annotations

import codecs
import dataclasses
import re
import struct
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

import filetype

from referendum_core.uploads.archive import (
    DEFLATED,
    STORED,
    ZipEntry,
    ZipLimits,
    read_directory,
    read_entry,
    verify_entry,
)
from referendum_core.uploads.exceptions import UploadRejected

PDF, PNG, JPEG, WEBP = "application/pdf", "image/png", "image/jpeg", "image/webp"
HEIC, HEIF = "image/heic", "image/heif"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
TEXT = "text/plain"  # UTF-8 text: CSV, JSON, JSON lines

EXTENSIONS: dict[str, frozenset[str]] = {
    PDF: frozenset({"pdf"}), PNG: frozenset({"png"}), JPEG: frozenset({"jpg", "jpeg"}),
    WEBP: frozenset({"webp"}), HEIC: frozenset({"heic"}), HEIF: frozenset({"heif"}),
    DOCX: frozenset({"docx"}), XLSX: frozenset({"xlsx"}), ODT: frozenset({"odt"}),
    ODS: frozenset({"ods"}), TEXT: frozenset({"csv", "json", "jsonl", "txt"}),
}
OFFICE_TYPES = frozenset({DOCX, XLSX, ODT, ODS})
IMAGE_TYPES = frozenset({PNG, JPEG, WEBP, HEIC, HEIF})
DOCUMENT_TYPES = frozenset({PDF, PNG, JPEG, WEBP}) | OFFICE_TYPES
TEXT_TYPES = frozenset({TEXT})

# OOXML (ECMA-376 Part 2) and ODF (Part 3) packages use only stored and deflated entries; the
# reader bounds bzip2 and LZMA as well, but an office document has no reason to carry them.
OFFICE_LIMITS = ZipLimits(max_entries=2000, max_unpacked=100 * 1024 * 1024, max_ratio=100,
                          methods=frozenset({STORED, DEFLATED}))
MAX_MARKER_BYTES = 1024 * 1024  # [Content_Types].xml; an ODF mimetype is a few dozen bytes
MAX_NESTED_BYTES = 16 * 1024 * 1024  # an archive inside a document (an embedded spreadsheet)
MAX_IMAGE_PIXELS = 50_000_000
SNIFF_BYTES = 8192
_ARCHIVE_MAGIC = b"PK\x03\x04"
_TEXT_CONTROLS = frozenset("\t\n\r\f")
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                       0xCF})


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed: its safe name (empty when none was given), sniffed type and size."""

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


def check_upload(data: bytes, filename: str | None, *, allowed: frozenset[str],
                 max_bytes: int) -> CheckedUpload:
    """Check an uploaded file against the types ``allowed`` where it is uploaded.

    ``filename`` (when given) must have an extension of the sniffed type.

    Raises:
        UploadRejected: ``too_large``, ``empty``, ``type_not_allowed``, ``type_mismatch``,
            ``damaged`` or ``zip_bomb``.
    """
    if len(data) > max_bytes:
        raise UploadRejected("too_large", f"{len(data)} > {max_bytes} bytes")
    if not data:
        raise UploadRejected("empty")
    name = safe_filename(filename) if filename else ""
    content_type = sniff(data, allowed)
    if content_type not in allowed:
        # A name that claims an allowed type for other content is a lie, not just a wrong type.
        if name and any(_extension(name) in EXTENSIONS[kind] for kind in allowed):
            raise UploadRejected("type_mismatch", f"content is {content_type or 'unknown'}")
        raise UploadRejected("type_not_allowed", content_type or "unknown")
    if name and _extension(name) not in EXTENSIONS[content_type]:
        raise UploadRejected("type_mismatch", f"content is {content_type}")
    _STRUCTURE_CHECKS.get(content_type, _no_check)(data)
    return CheckedUpload(filename=name, content_type=content_type, size=len(data))


def check_upload_stream(stream: IO[bytes], filename: str | None, *,
                        allowed: frozenset[str]) -> None:
    """The same check for a file read as a stream (a register extract of hundreds of MB): its
    type is sniffed from the first bytes of the (seekable) stream, which is left where it was.
    Only types without a whole-file structure (``TEXT``) can be checked this way.

    Raises:
        UploadRejected: as ``check_upload``.
    """
    if allowed - TEXT_TYPES:
        raise ValueError("only text uploads can be checked as a stream")
    start = stream.tell()
    head = stream.read(SNIFF_BYTES)
    stream.seek(start)
    check_upload(head, filename, allowed=allowed, max_bytes=SNIFF_BYTES)


def sniff(data: bytes, allowed: frozenset[str] = DOCUMENT_TYPES) -> str | None:
    """The type of ``data`` by its content; an archive is opened only when ``allowed`` has an
    archive-based type.

    Raises:
        UploadRejected: ``damaged`` or ``zip_bomb``, from opening an archive.
    """
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(_ARCHIVE_MAGIC):
        return _office_type(data) if allowed & OFFICE_TYPES else "application/zip"
    kind = filetype.guess(data[:SNIFF_BYTES])
    if kind is not None:
        return str(kind.mime)
    return TEXT if _is_text(data[:SNIFF_BYTES]) else None


def _is_text(head: bytes) -> bool:
    try:  # not final: a head read from a stream may end inside a character
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return not any(ch < " " and ch not in _TEXT_CONTROLS for ch in text)


def _office_type(data: bytes) -> str | None:
    entries = {entry.name: entry for entry in read_directory(data, OFFICE_LIMITS)}
    budget = OFFICE_LIMITS.max_unpacked - sum(e.size for e in entries.values())
    _verify_entries(data, entries.values(), budget, depth=0)
    if "mimetype" in entries:
        declared = read_entry(data, entries["mimetype"], 256).decode("ascii", "replace").strip()
        return declared if declared in (ODT, ODS) else None
    if "[Content_Types].xml" in entries:
        types = read_entry(data, entries["[Content_Types].xml"], MAX_MARKER_BYTES)
        if b"macroEnabled" in types:  # a .docm or .xlsm dressed as .docx or .xlsx
            return None
        if any(name.startswith("word/") for name in entries):
            return DOCX
        if any(name.startswith("xl/") for name in entries):
            return XLSX
    return None


def _verify_entries(data: bytes, entries: Iterable[ZipEntry], budget: int, depth: int) -> int:
    """Every entry gives exactly what it declares (inflated in pieces, keeping nothing), so the
    declared sizes the directory checks counted are true for whoever opens the document next.
    An archive inside (a chart's embedded spreadsheet) is checked like the document, within
    what is left of the budget, and what it declares is taken from the budget before the next
    one is opened: siblings share one budget, or many small embedded archives would each
    inflate the whole of it. An archive nested inside that is refused. Returns what is left.
    """
    for entry in entries:
        if verify_entry(data, entry, len(_ARCHIVE_MAGIC)) != _ARCHIVE_MAGIC:
            continue
        if depth >= 1:
            raise UploadRejected("zip_bomb", "archive nested in a nested archive")
        inner = read_entry(data, entry, MAX_NESTED_BYTES)
        inner_entries = read_directory(inner, dataclasses.replace(
            OFFICE_LIMITS, max_unpacked=max(budget, 0)))
        budget -= sum(e.size for e in inner_entries)
        budget = _verify_entries(inner, inner_entries, budget, depth + 1)
    return budget


# --- structure by type ---------------------------------------------------------------------

def _no_check(_data: bytes) -> None:
    return None


def _check_pixels(width: int, height: int) -> None:
    if not (0 < width and 0 < height and width * height <= MAX_IMAGE_PIXELS):
        raise UploadRejected("damaged", "image dimensions out of range")


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise UploadRejected("damaged", "PDF without end marker")
    if b"xref" not in data and b"/XRef" not in data:
        raise UploadRejected("damaged", "PDF without cross-reference table")


def _check_png(data: bytes) -> None:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise UploadRejected("damaged", "PNG without header chunk")
    _check_pixels(*struct.unpack(">II", data[16:24]))
    if b"IEND" not in data[-32:]:
        raise UploadRejected("damaged", "PNG is truncated")


def _check_jpeg(data: bytes) -> None:
    if not data.startswith(b"\xff\xd8\xff"):
        raise UploadRejected("damaged", "not a JPEG start")
    if b"\xff\xd9" not in data[-64:]:
        raise UploadRejected("damaged", "JPEG is truncated")
    size = _jpeg_size(data)
    if size is None:
        raise UploadRejected("damaged", "JPEG without frame header")
    _check_pixels(*size)


def _check_webp(data: bytes) -> None:
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UploadRejected("damaged", "not a WebP container")
    declared = struct.unpack("<I", data[4:8])[0] + 8
    if declared != len(data) and declared != len(data) - 1:
        raise UploadRejected("damaged", "WebP size does not match")
    chunk = data[12:16]
    if chunk == b"VP8X":
        _check_pixels(int.from_bytes(data[24:27], "little") + 1,
                      int.from_bytes(data[27:30], "little") + 1)
    elif chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        _check_pixels((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    elif chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        _check_pixels(width & 0x3FFF, height & 0x3FFF)
    else:
        raise UploadRejected("damaged", "WebP without image chunk")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The (width, height) of the first frame header, found the way decoders find it:
    libjpeg skips any bytes other than 0xFF between segments, so a stray byte must not end
    the search here while a browser goes on to a frame header that nothing checked. ``None``
    when the scan (or the end) comes before any frame header."""
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan or end of image: no frame header before
            return None
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    return None


def _check_heif(data: bytes) -> None:
    """HEIC/HEIF (ISO/IEC 23008-12): every image's size is an ``ispe`` property in
    ``meta``/``iprp``/``ipco``; a file without one says nothing a decoder can be held to."""
    sizes = [(int.from_bytes(body[4:8], "big"), int.from_bytes(body[8:12], "big"))
             for body in _boxes(data, (b"meta", b"iprp", b"ipco", b"ispe"))]
    if not sizes:
        raise UploadRejected("damaged", "HEIF without image size")
    for width, height in sizes:
        _check_pixels(width, height)


_FULL_BOXES = frozenset({b"meta"})  # boxes whose children follow a version and flags


def _boxes(data: bytes, path: tuple[bytes, ...]) -> list[bytes]:
    """The bodies of the ISO BMFF boxes at ``path`` (each step a box type, from the top)."""
    found: list[bytes] = []
    pos, end = 0, len(data)
    while pos + 8 <= end:
        size, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise UploadRejected("damaged", "HEIF box is truncated")
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise UploadRejected("damaged", "HEIF box is truncated")
        if kind == path[0]:
            body = data[pos + header:pos + size]
            if len(path) == 1:
                found.append(body)
            else:
                found += _boxes(body[4:] if kind in _FULL_BOXES else body, path[1:])
        pos += size
    return found


def _check_text(data: bytes) -> None:
    if not _is_text(data):
        raise UploadRejected("damaged", "not UTF-8 text")


_STRUCTURE_CHECKS: dict[str, Callable[[bytes], None]] = {
    PDF: _check_pdf, PNG: _check_png, JPEG: _check_jpeg, WEBP: _check_webp, HEIC: _check_heif,
    HEIF: _check_heif, TEXT: _check_text,
}

