"""Hostile zip containers built byte by byte (``zipfile`` cannot write a lying one): deflate,
bzip2 and LZMA bombs in an office document's type-marker entries, ratio and entry-count bombs,
declared sizes that lie, overlapping entries and nested archives."""
from __future__ import annotations

import bz2
import functools
import io
import lzma
import struct
import zipfile
import zlib
from dataclasses import dataclass

STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14
MiB = 1024 * 1024
BOMB_BYTES = 256 * MiB  # what each bomb inflates to: far past the 64 MiB the tests allow
ODT = b"application/vnd.oasis.opendocument.text"
CONTENT_TYPES = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                 b'package/2006/content-types"/>')


@dataclass
class Entry:
    """One entry as written: ``payload`` is the compressed bytes; sizes may lie."""

    name: str
    payload: bytes
    method: int = STORED
    size: int | None = None  # declared in the central directory (default: the real size)
    local_size: int | None = None  # declared in the local header (default: ``size``)
    crc: int = 0
    offset: int | None = None  # where the central directory says the local header is


def _zeros(total: int, chunk: int = 4 * MiB):
    for start in range(0, total, chunk):
        yield b"\0" * min(chunk, total - start)


@functools.cache
def deflate_bomb(total: int = BOMB_BYTES) -> tuple[bytes, int]:
    """(raw deflate of ``total`` zero bytes, its CRC), made without holding them."""
    packer, crc, out = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS), 0, []
    for piece in _zeros(total):
        crc = zlib.crc32(piece, crc)
        out.append(packer.compress(piece))
    out.append(packer.flush())
    return b"".join(out), crc


@functools.cache
def bzip2_bomb(total: int = BOMB_BYTES) -> tuple[bytes, int]:
    packer, crc, out = bz2.BZ2Compressor(9), 0, []
    for piece in _zeros(total):
        crc = zlib.crc32(piece, crc)
        out.append(packer.compress(piece))
    out.append(packer.flush())
    return b"".join(out), crc


@functools.cache
def lzma_bomb(total: int = BOMB_BYTES) -> tuple[bytes, int]:
    """LZMA as zip stores it: version, properties size, LZMA1 properties, raw stream."""
    filters = [{"id": lzma.FILTER_LZMA1, "dict_size": 1 << 20}]
    packer, crc, out = lzma.LZMACompressor(lzma.FORMAT_RAW, filters=filters), 0, []
    for piece in _zeros(total):
        crc = zlib.crc32(piece, crc)
        out.append(packer.compress(piece))
    out.append(packer.flush())
    props = bytes([(2 * 5 + 0) * 9 + 3]) + (1 << 20).to_bytes(4, "little")  # pb=2, lp=0, lc=3
    return b"\x09\x14\x05\x00" + props + b"".join(out), crc


def build(entries: list[Entry], *, declared_count: int | None = None) -> bytes:
    """A zip of ``entries`` in order, with what each declares written as given."""
    out = io.BytesIO()
    offsets = []
    for entry in entries:
        offsets.append(out.tell())
        name = entry.name.encode()
        real = entry.size if entry.size is not None else len(entry.payload)
        local = entry.local_size if entry.local_size is not None else real
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, entry.method, 0, 0x21,
                              entry.crc, len(entry.payload), local, len(name), 0))
        out.write(name + entry.payload)
    cd_start = out.tell()
    for entry, offset in zip(entries, offsets, strict=True):
        name = entry.name.encode()
        real = entry.size if entry.size is not None else len(entry.payload)
        out.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, entry.method,
                              0, 0x21, entry.crc, len(entry.payload), real, len(name), 0, 0, 0,
                              0, 0, entry.offset if entry.offset is not None else offset))
        out.write(name)
    cd_size = out.tell() - cd_start
    count = len(entries) if declared_count is None else declared_count
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_start, 0))
    return out.getvalue()


def stored(name: str, data: bytes) -> Entry:
    return Entry(name, data, STORED, crc=zlib.crc32(data))


def deflated(name: str, data: bytes) -> Entry:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return Entry(name, packer.compress(data) + packer.flush(), DEFLATED, size=len(data),
                 crc=zlib.crc32(data))


def docx_parts() -> list[Entry]:
    return [deflated("word/document.xml", b"<w:document/>"),
            deflated("docProps/app.xml", b"<Properties/>")]


# --- the bombs ------------------------------------------------------------------------------

def odt_mimetype_deflate_bomb(lying: bool = True) -> bytes:
    """An .odt whose ``mimetype`` entry inflates to 256 MiB; ``lying`` declares 39 bytes (so
    every declared ratio looks harmless), else the true size."""
    payload, crc = deflate_bomb()
    size = len(ODT) if lying else BOMB_BYTES
    return build([Entry("mimetype", payload, DEFLATED, size=size, crc=crc),
                  stored("content.xml", b"<office:document-content/>")])


def odt_mimetype_compressed_bomb(method: int) -> bytes:
    """The same with a bzip2 or LZMA entry (declaring 39 bytes)."""
    payload, crc = (bzip2_bomb() if method == BZIP2 else lzma_bomb())
    return build([Entry("mimetype", payload, method, size=len(ODT), crc=crc),
                  stored("content.xml", b"<office:document-content/>")])


def docx_content_types_bomb(method: int = DEFLATED) -> bytes:
    """A .docx whose ``[Content_Types].xml`` inflates to 256 MiB while declaring 100 bytes."""
    payload, crc = {DEFLATED: deflate_bomb, BZIP2: bzip2_bomb, LZMA: lzma_bomb}[method]()
    return build([Entry("[Content_Types].xml", payload, method, size=100, crc=crc),
                  *docx_parts()])


def xlsx_ratio_bomb() -> bytes:
    """An honest .xlsx: every size is true, one sheet inflates 1000 to 1."""
    payload, crc = deflate_bomb(64 * MiB)
    return build([deflated("[Content_Types].xml", CONTENT_TYPES),
                  Entry("xl/worksheets/sheet1.xml", payload, DEFLATED, size=64 * MiB, crc=crc)])


def entry_count_bomb(count: int = 60_000, declared: int | None = None) -> bytes:
    """A .docx of ``count`` empty entries (declaring ``declared`` in the end record)."""
    entries = [deflated("[Content_Types].xml", CONTENT_TYPES), *docx_parts()]
    entries += [stored(f"word/media/{i}", b"") for i in range(count)]
    return build(entries, declared_count=declared)


def local_header_lies() -> bytes:
    """The central directory declares 100 bytes, the local header 256 MiB (a reader that
    trusts the local header inflates it all)."""
    payload, crc = deflate_bomb()
    return build([Entry("[Content_Types].xml", payload, DEFLATED, size=100,
                        local_size=BOMB_BYTES, crc=crc), *docx_parts()])


def overlapping_entries() -> bytes:
    """Entry ``word/b.xml`` lives inside the stored bytes of ``word/a.xml``: each looks
    harmless, but bytes shared by entries multiply what a small file inflates to (a chain of
    such entries is the overlapping zip bomb)."""
    inner = deflated("word/b.xml", bytes(range(256)) * 64)
    name = inner.name.encode()
    inner_local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, DEFLATED, 0, 0x21,
                              inner.crc, len(inner.payload), inner.size, len(name), 0)
    outer = stored("word/a.xml", inner_local + name + inner.payload)
    data = build([deflated("[Content_Types].xml", CONTENT_TYPES), outer])
    offset = data.index(b"word/a.xml") + len(b"word/a.xml")  # the first is its local header
    inner.offset = offset
    return _with_extra_records(data, [inner])


def _with_extra_records(data: bytes, records: list[Entry]) -> bytes:
    end = data.rindex(b"PK\x05\x06")
    _sig, _d, _c, count, _t, _size, cd_start, _cl = struct.unpack_from("<4sHHHHIIH", data, end)
    out = io.BytesIO()
    out.write(data[:end])
    for entry in records:
        name = entry.name.encode()
        out.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, entry.method,
                              0, 0x21, entry.crc, len(entry.payload), entry.size, len(name), 0,
                              0, 0, 0, 0, entry.offset))
        out.write(name)
    total = count + len(records)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, total, total,
                          out.tell() - cd_start, cd_start, 0))
    return out.getvalue()


def nested(depth: int) -> bytes:
    """A .docx embedding a spreadsheet (``depth`` 1), whose spreadsheet embeds another
    archive (``depth`` 2)."""
    inner = real_xlsx()
    for _ in range(depth - 1):
        inner = build([deflated("[Content_Types].xml", CONTENT_TYPES),
                       stored("xl/embeddings/inner.xlsx", inner)])
    return build([deflated("[Content_Types].xml", CONTENT_TYPES), *docx_parts(),
                  stored("word/embeddings/Microsoft_Excel_Worksheet.xlsx", inner)])


def nested_bomb() -> bytes:
    """A .docx embedding a spreadsheet whose sheet declares 100 bytes and inflates to 256 MiB."""
    payload, crc = deflate_bomb()
    inner = build([deflated("[Content_Types].xml", CONTENT_TYPES),
                   Entry("xl/worksheets/sheet1.xml", payload, DEFLATED, size=100, crc=crc)])
    return build([deflated("[Content_Types].xml", CONTENT_TYPES), *docx_parts(),
                  stored("word/embeddings/sheet.xlsx", inner)])


def sibling_nested(count: int, each: int) -> bytes:
    """A .docx embedding ``count`` small spreadsheets, each honest on its own: a sheet of
    ``each`` zero bytes (ratio 100, padded after the deflate stream), the spreadsheet itself
    deflated and padded to ratio 100. Each fits what the document's own sizes leave, together
    they inflate ``count * each``: a 650 kB file of 300 such sheets of 20 MiB inflates 6 GiB."""
    payload, crc = deflate_bomb(each)
    sheet = Entry("xl/worksheets/sheet1.xml", payload.ljust(-(-each // 100), b"\0"), DEFLATED,
                  size=each, crc=crc)
    inner = build([deflated("[Content_Types].xml", CONTENT_TYPES), sheet])
    packed = deflated("embedded", inner).payload
    packed = packed.ljust(-(-len(inner) // 100), b"\0")
    return build([deflated("[Content_Types].xml", CONTENT_TYPES), *docx_parts(),
                  *(Entry(f"word/embeddings/sheet{i}.xlsx", packed, DEFLATED, size=len(inner),
                          crc=zlib.crc32(inner)) for i in range(count))])


# --- real documents (written by zipfile, with data descriptors when streamed) ---------------

def _write(files: dict[str, bytes], streamed: bool = False) -> bytes:
    out = io.BytesIO()

    class Unseekable(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b) -> int:  # type: ignore[override]
            return out.write(b)

    target = Unseekable() if streamed else out
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            if streamed:
                with archive.open(zipfile.ZipInfo(name), "w") as handle:
                    handle.write(data)
            else:
                archive.writestr(name, data, compress_type=method)
    return out.getvalue()


def real_docx(streamed: bool = False) -> bytes:
    return _write({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": b"<Relationships/>",
                   "word/document.xml": b"<w:document>" + b"<w:p>Teksts</w:p>" * 50
                   + b"</w:document>"}, streamed)


def real_xlsx() -> bytes:
    return _write({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<workbook/>"})


def real_odt() -> bytes:
    return _write({"mimetype": ODT, "content.xml": b"<office:document-content/>"})
