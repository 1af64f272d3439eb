"""Reading a zip container from an untrusted upload without trusting it.

Nothing is inflated before the whole central directory is read and checked: the entry count
(from the end record, before any entry is parsed), declared sizes, compression ratios, names,
and that each entry's local header agrees with the directory and owns its own bytes (no
overlapping entries, no entry reaching into the directory). An entry is then read with a hard
cap, inflating in small steps with a bound on every step's output, so one that gives more than
it declared, or more than the cap, is refused as soon as it passes, without inflating the rest;
``verify_entry`` inflates an entry the same way keeping nothing, to prove its declared size.

The standard ``zipfile`` module is not used to read uploads: it builds an object for every
directory record before the records can be counted, and it hands each bzip2 or LZMA chunk to
the decompressor with no bound on the output.
"""
from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from referendum_core.uploads.exceptions import UploadRejected

STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14
KNOWN_METHODS = frozenset({STORED, DEFLATED, BZIP2, LZMA})

_END = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_END_SIG, _CENTRAL_SIG, _LOCAL_SIG = b"PK\x05\x06", b"PK\x01\x02", b"PK\x03\x04"
_ZIP64 = 0xFFFFFFFF
_ENCRYPTED, _DATA_DESCRIPTOR, _UTF8 = 0x1, 0x8, 0x800
_STEP = 64 * 1024  # bytes handed to a decompressor, and taken out of it, at a time


@dataclass(frozen=True)
class ZipLimits:
    """What an archive may declare before anything in it is read."""

    max_entries: int = 2000
    max_unpacked: int = 100 * 1024 * 1024
    max_ratio: int = 100
    methods: frozenset[int] = KNOWN_METHODS


@dataclass(frozen=True)
class ZipEntry:
    """One checked entry: where its compressed bytes are and what it declares."""

    name: str
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int
    data_offset: int


def _damaged(detail: str) -> UploadRejected:
    return UploadRejected("damaged", detail)


def _bomb(detail: str) -> UploadRejected:
    return UploadRejected("zip_bomb", detail)


def _end_record(data: bytes, limits: ZipLimits) -> tuple[int, int, int]:
    """(entry count, directory offset, directory size) from the end record, checked."""
    pos = data.rfind(_END_SIG, max(0, len(data) - _END.size - 0xFFFF))
    if pos < 0 or len(data) - pos < _END.size:
        raise _damaged("no end of central directory")
    _sig, disk, cd_disk, on_disk, total, cd_size, cd_offset, comment = _END.unpack_from(data, pos)
    if pos + _END.size + comment != len(data):
        raise _damaged("bytes after the end record")
    if disk or cd_disk or on_disk != total:
        raise _damaged("multi-part archive")
    if total == 0xFFFF or _ZIP64 in (cd_size, cd_offset):
        # Zip64 is for archives of more than 4 GiB or 65535 entries, never an upload.
        raise _damaged("zip64 archive")
    if total > limits.max_entries:
        raise _bomb(f"{total} entries")
    if cd_offset + cd_size != pos:
        raise _damaged("central directory is not where the end record says")
    return total, cd_offset, cd_size


def read_directory(data: bytes, limits: ZipLimits) -> list[ZipEntry]:
    """Every entry of the archive ``data``, after checking the whole directory; reads nothing.

    Raises:
        UploadRejected: ``zip_bomb`` (too many entries, too large declared, too high a ratio,
            overlapping entries) or ``damaged`` (anything malformed, encrypted, inconsistent).
    """
    count, cd_offset, cd_size = _end_record(data, limits)
    entries: list[ZipEntry] = []
    names: set[str] = set()
    total = 0
    pos, cd_end = cd_offset, cd_offset + cd_size
    for _ in range(count):
        if pos + _CENTRAL.size > cd_end or data[pos:pos + 4] != _CENTRAL_SIG:
            raise _damaged("broken central directory")
        (_sig, _made, _need, flags, method, _time, _date, crc, csize, size, name_len, extra_len,
         comment_len, _disk, _iattr, _eattr, offset) = _CENTRAL.unpack_from(data, pos)
        raw_name = data[pos + _CENTRAL.size:pos + _CENTRAL.size + name_len]
        pos += _CENTRAL.size + name_len + extra_len + comment_len
        if pos > cd_end:
            raise _damaged("broken central directory")
        if flags & _ENCRYPTED:
            raise _damaged("encrypted entry")
        if method not in limits.methods:
            raise _damaged(f"compression method {method}")
        if _ZIP64 in (csize, size, offset):
            raise _damaged("zip64 entry")
        name = _entry_name(raw_name, flags)
        if name in names:
            raise _damaged("two entries with one name")
        names.add(name)
        total += size
        if total > limits.max_unpacked:
            raise _bomb("declared sizes too large")
        if size > max(csize, 1) * limits.max_ratio:
            raise _bomb(f"compression ratio of {name!r}")
        if method == STORED and size != csize:
            raise _damaged("stored entry with two sizes")
        entries.append(_with_local_header(data, raw_name, name, flags, method, crc, csize, size,
                                          offset, cd_offset))
    if pos != cd_end:
        raise _damaged("central directory longer than its entries")
    _check_no_overlap(entries)
    return entries


def _entry_name(raw: bytes, flags: int) -> str:
    try:
        name = raw.decode("utf-8") if flags & _UTF8 else raw.decode("cp437")
    except UnicodeDecodeError:
        raise _damaged("entry name is not UTF-8") from None
    parts = name.replace("\\", "/").split("/")
    if not name or name.startswith("/") or ".." in parts or ":" in parts[0] or "\x00" in name:
        raise _damaged("unsafe path inside the archive")
    return name


def _with_local_header(data: bytes, raw_name: bytes, name: str, flags: int, method: int,
                       crc: int, csize: int, size: int, offset: int, cd_offset: int) -> ZipEntry:
    """The entry once its local header is found to agree with the directory (a reader that
    trusts one and an office suite that trusts the other must see the same file)."""
    if offset + _LOCAL.size > cd_offset or data[offset:offset + 4] != _LOCAL_SIG:
        raise _damaged("entry without its local header")
    (_sig, _need, local_flags, local_method, _time, _date, local_crc, local_csize, local_size,
     name_len, extra_len) = _LOCAL.unpack_from(data, offset)
    start = offset + _LOCAL.size
    if local_method != method or data[start:start + name_len] != raw_name:
        raise _damaged("local header disagrees with the directory")
    if (local_flags ^ flags) & (_ENCRYPTED | _DATA_DESCRIPTOR):
        raise _damaged("local header disagrees with the directory")
    if not local_flags & _DATA_DESCRIPTOR and (local_crc, local_csize, local_size) != (
            crc, csize, size):
        raise _damaged("local header sizes disagree with the directory")
    data_offset = start + name_len + extra_len
    if data_offset + csize > cd_offset:
        raise _damaged("entry runs into the central directory")
    return ZipEntry(name=name, method=method, crc=crc, compressed_size=csize, size=size,
                    header_offset=offset, data_offset=data_offset)


def _check_no_overlap(entries: list[ZipEntry]) -> None:
    """Each entry owns its bytes: entries that share compressed data multiply what a small
    file inflates to while every ratio looks harmless."""
    end = 0
    for entry in sorted(entries, key=lambda e: e.header_offset):
        if entry.header_offset < end:
            raise _bomb("overlapping entries")
        end = entry.data_offset + entry.compressed_size


def read_entry(data: bytes, entry: ZipEntry, cap: int) -> bytes:
    """The content of ``entry``, never inflating more than ``min(cap, declared size) + 1``
    bytes; its CRC is checked.

    Raises:
        UploadRejected: ``zip_bomb`` when it declares or gives more than ``cap`` or than it
            declared; ``damaged`` when it is truncated, corrupt or fails its CRC.
    """
    if entry.size > cap:
        raise _bomb(f"{entry.name!r} is larger than the reader takes")
    return b"".join(_checked_pieces(data, entry))


def verify_entry(data: bytes, entry: ZipEntry, head: int = 8) -> bytes:
    """Inflate ``entry`` piece by piece, keeping nothing but its first ``head`` bytes (returned),
    to prove it gives exactly what it declares: a declared size that lies is refused as soon as
    the output passes it.

    Raises:
        UploadRejected: as ``read_entry``.
    """
    kept = bytearray()
    for piece in _checked_pieces(data, entry):
        if len(kept) < head:
            kept += piece[:head - len(kept)]
    return bytes(kept)


def _checked_pieces(data: bytes, entry: ZipEntry) -> Iterator[bytes]:
    produced, crc = 0, 0
    for piece in _pieces(data, entry, entry.size + 1):
        produced += len(piece)
        if produced > entry.size:
            raise _bomb(f"{entry.name!r} inflates past its declared size")
        crc = zlib.crc32(piece, crc)
        yield piece
    if produced < entry.size or crc != entry.crc:
        raise _damaged(f"{entry.name!r} is corrupt")


def _pieces(data: bytes, entry: ZipEntry, limit: int) -> Iterator[bytes]:
    """The inflated content in pieces of at most ``_STEP`` bytes, ``limit`` bytes in all."""
    raw = memoryview(data)[entry.data_offset:entry.data_offset + entry.compressed_size]
    try:
        if entry.method == STORED:
            for start in range(0, min(limit, len(raw)), _STEP):
                yield bytes(raw[start:min(start + _STEP, limit)])
        elif entry.method == DEFLATED:
            yield from _inflate_deflate(raw, limit)
        elif entry.method == BZIP2:
            yield from _inflate_stream(bz2.BZ2Decompressor(), raw, limit)
        else:
            yield from _inflate_lzma(raw, limit)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise _damaged(f"{entry.name!r} does not inflate") from exc


def _inflate_deflate(raw: memoryview, limit: int) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced, pos = 0, 0
    pending: bytes | memoryview = b""
    while produced < limit and not inflater.eof:
        if not pending:
            if pos >= len(raw):
                return
            pending, pos = raw[pos:pos + _STEP], pos + _STEP
        piece = inflater.decompress(pending, min(_STEP, limit - produced))
        pending = inflater.unconsumed_tail
        produced += len(piece)
        yield piece


def _inflate_stream(decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor,
                    raw: memoryview, limit: int) -> Iterator[bytes]:
    produced, pos = 0, 0
    while produced < limit and not decompressor.eof:
        if decompressor.needs_input:
            if pos >= len(raw):
                return
            chunk, pos = bytes(raw[pos:pos + _STEP]), pos + _STEP
        else:
            chunk = b""
        piece = decompressor.decompress(chunk, min(_STEP, limit - produced))
        if not piece and not chunk:
            return
        produced += len(piece)
        yield piece


def _inflate_lzma(raw: memoryview, limit: int) -> Iterator[bytes]:
    """LZMA in a zip: a 4-byte header (version, properties size), 5 bytes of LZMA1 properties,
    then the raw stream."""
    if len(raw) < 9 or int.from_bytes(raw[2:4], "little") != 5:
        raise ValueError("bad LZMA header")
    props = raw[4]
    lc, lp, pb = props % 9, (props // 9) % 5, props // 45
    # The dictionary never needs to be larger than what may be inflated: a declared 4 GiB
    # dictionary would otherwise be allocated before the first byte is read.
    dict_size = min(int.from_bytes(raw[5:9], "little"), max(limit, 4096))
    decompressor = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[{
        "id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc, "lp": lp, "pb": pb}])
    yield from _inflate_stream(decompressor, raw[9:], limit)
