"""The one upload check against zip bombs: nothing is inflated before the directory is checked,
and what is read is read with a hard cap. Peak memory while refusing each bomb is measured in
a fresh process (``ru_maxrss`` counts what the C decompressors allocate, too)."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap

import pytest

from referendum_core.uploads import (
    DOCUMENT_TYPES,
    DOCX,
    IMAGE_TYPES,
    ODT,
    TEXT_TYPES,
    XLSX,
    UploadRejected,
    check_upload,
)
from referendum_core.uploads.archive import (
    BZIP2,
    KNOWN_METHODS,
    LZMA,
    ZipLimits,
    read_directory,
    read_entry,
)
from tests import zip_bombs

MiB = 1024 * 1024
MAX_GROWTH = 64 * MiB


def _reason(data: bytes, name: str, allowed: frozenset[str] = DOCUMENT_TYPES) -> str:
    with pytest.raises(UploadRejected) as err:
        check_upload(data, name, allowed=allowed, max_bytes=25 * MiB)
    return err.value.reason


BOMBS = {
    "odt mimetype deflate, lying size": ("bomb.odt", zip_bombs.odt_mimetype_deflate_bomb),
    "odt mimetype deflate, true size": (
        "bomb.odt", lambda: zip_bombs.odt_mimetype_deflate_bomb(lying=False)),
    "odt mimetype bzip2": ("bomb.odt", lambda: zip_bombs.odt_mimetype_compressed_bomb(BZIP2)),
    "odt mimetype lzma": ("bomb.odt", lambda: zip_bombs.odt_mimetype_compressed_bomb(LZMA)),
    "docx content types deflate": ("bomb.docx", zip_bombs.docx_content_types_bomb),
    "docx content types bzip2": ("bomb.docx",
                                 lambda: zip_bombs.docx_content_types_bomb(BZIP2)),
    "xlsx ratio bomb": ("bomb.xlsx", zip_bombs.xlsx_ratio_bomb),
    "docx entry-count bomb": ("bomb.docx", zip_bombs.entry_count_bomb),
    "docx local header lies": ("bomb.docx", zip_bombs.local_header_lies),
    "docx nested bomb": ("bomb.docx", zip_bombs.nested_bomb),
}

_MEASURE = textwrap.dedent("""
    import json, resource, sys
    from referendum_core.uploads import DOCUMENT_TYPES, UploadRejected, check_upload
    data = open(sys.argv[1], "rb").read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        check_upload(data, sys.argv[2], allowed=DOCUMENT_TYPES, max_bytes=25 * 1024 * 1024)
        reason = None
    except UploadRejected as err:
        reason = err.reason
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"reason": reason, "growth_kib": after - before}))
""")


@pytest.mark.parametrize("label", list(BOMBS))
def test_zip_bombs_are_refused_with_bounded_memory(label, tmp_path):
    name, make = BOMBS[label]
    data = make()
    assert len(data) < 8 * MiB, "the bomb itself is small"
    path = tmp_path / name
    path.write_bytes(data)
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(path), name],
                            capture_output=True, text=True, check=True, timeout=120)
    outcome = json.loads(result.stdout)
    assert outcome["reason"] in {"zip_bomb", "damaged"}, outcome
    assert outcome["growth_kib"] * 1024 < MAX_GROWTH, outcome


@pytest.mark.parametrize(("label", "reason"), [
    ("odt mimetype deflate, lying size", "zip_bomb"),   # inflates past what it declared
    ("odt mimetype deflate, true size", "zip_bomb"),    # declared ratio
    ("odt mimetype bzip2", "damaged"),                  # not a method office formats use
    ("docx content types deflate", "zip_bomb"),
    ("xlsx ratio bomb", "zip_bomb"),
    ("docx entry-count bomb", "zip_bomb"),
    ("docx local header lies", "damaged"),
    ("docx nested bomb", "zip_bomb"),
])
def test_each_bomb_is_refused_for_its_reason(label, reason):
    name, make = BOMBS[label]
    assert _reason(make(), name) == reason


def test_an_end_record_that_understates_the_entries_is_refused():
    assert _reason(zip_bombs.entry_count_bomb(count=3000, declared=10), "x.docx") == "damaged"


def test_overlapping_entries_are_refused():
    assert _reason(zip_bombs.overlapping_entries(), "x.docx") == "zip_bomb"


def test_an_archive_nested_two_deep_is_refused_one_deep_is_accepted():
    assert check_upload(zip_bombs.nested(1), "a.docx", allowed=DOCUMENT_TYPES,
                        max_bytes=MiB).content_type == DOCX
    assert _reason(zip_bombs.nested(2), "a.docx") == "zip_bomb"


def test_embedded_archives_share_one_budget():
    """Three embedded spreadsheets of 40 MiB each fit the 100 MiB budget one by one, not
    together: the document is refused before the third is inflated."""
    assert check_upload(zip_bombs.sibling_nested(2, 40 * MiB), "a.docx",
                        allowed=DOCUMENT_TYPES, max_bytes=MiB).content_type == DOCX
    assert _reason(zip_bombs.sibling_nested(3, 40 * MiB), "a.docx") == "zip_bomb"


@pytest.mark.parametrize(("make", "name", "mime"), [
    (zip_bombs.real_docx, "a.docx", DOCX),
    (lambda: zip_bombs.real_docx(streamed=True), "a.docx", DOCX),  # with data descriptors
    (zip_bombs.real_xlsx, "a.xlsx", XLSX),
    (zip_bombs.real_odt, "a.odt", ODT),
])
def test_real_documents_pass(make, name, mime):
    assert check_upload(make(), name, allowed=DOCUMENT_TYPES, max_bytes=MiB).content_type == mime


def test_a_macro_document_dressed_as_docx_is_refused():
    data = zip_bombs.build([
        zip_bombs.deflated("[Content_Types].xml", b'<Types><Override ContentType="application/'
                           b'vnd.ms-word.document.macroEnabled.main+xml"/></Types>'),
        *zip_bombs.docx_parts()])
    assert _reason(data, "a.docx") == "type_mismatch"


def test_where_no_archive_is_allowed_an_archive_is_never_opened():
    """A photo or a register extract: the bomb is refused by its first bytes."""
    bomb = zip_bombs.odt_mimetype_deflate_bomb()
    assert _reason(bomb, None, IMAGE_TYPES) == "type_not_allowed"
    assert _reason(bomb, "extract.csv", TEXT_TYPES) == "type_mismatch"


@pytest.mark.parametrize("method", [BZIP2, LZMA, 8])
def test_the_reader_stops_inflating_at_the_cap(method):
    """Whatever the method, an entry that gives more than it declared is refused once it
    passes the cap, without inflating the rest (the reader never holds the 256 MiB)."""
    payload, crc = {8: zip_bombs.deflate_bomb, BZIP2: zip_bombs.bzip2_bomb,
                    LZMA: zip_bombs.lzma_bomb}[method]()
    data = zip_bombs.build([zip_bombs.Entry("big", payload, method, size=1000, crc=crc)])
    (entry,) = read_directory(data, ZipLimits(methods=KNOWN_METHODS))
    with pytest.raises(UploadRejected) as err:
        read_entry(data, entry, cap=4096)
    assert err.value.reason == "zip_bomb"
    with pytest.raises(UploadRejected):
        read_entry(data, entry, cap=100)  # declares more than the cap: not even started


def test_a_corrupt_entry_is_damaged_not_an_error():
    entry = zip_bombs.deflated("[Content_Types].xml", zip_bombs.CONTENT_TYPES)
    entry.payload = b"\xff" * len(entry.payload)
    data = zip_bombs.build([entry, *zip_bombs.docx_parts()])
    assert _reason(data, "a.docx") == "damaged"


def _box(kind: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def _heic(width: int | None, height: int = 0) -> bytes:
    ispe = (_box(b"ispe", b"\0" * 4 + width.to_bytes(4, "big") + height.to_bytes(4, "big"))
            if width is not None else b"")
    meta = _box(b"meta", b"\0" * 4 + _box(b"iprp", _box(b"ipco", ispe)))
    return _box(b"ftyp", b"heic\0\0\0\0mif1heic") + meta + _box(b"mdat", b"\0" * 64)


def _jpeg(width: int, height: int, before_frame: bytes = b"") -> bytes:
    app0 = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return app0 + before_frame + sof + b"\xff\xd9"


@pytest.mark.parametrize(("label", "name", "data", "reason"), [
    # libjpeg (browsers) skips stray bytes between segments and goes on to the frame header
    ("huge jpeg behind a stray byte", "a.jpg", _jpeg(60000, 60000, b"\x00"), "damaged"),
    ("jpeg without a frame header", "a.jpg", _jpeg(8, 8)[:20] + b"\xff\xd9", "damaged"),
    ("huge heic", "a.heic", _heic(60000, 60000), "damaged"),
    ("heic without a size", "a.heic", _heic(None), "damaged"),
], ids=lambda value: value if isinstance(value, str) and " " in value else "")
def test_image_dimensions_are_checked_however_the_file_is_laid_out(label, name, data, reason):
    assert _reason(data, name, IMAGE_TYPES) == reason, label


@pytest.mark.parametrize(("name", "data"), [
    ("a.jpg", _jpeg(800, 600, b"\x00")),
    ("a.heic", _heic(4032, 3024)),
], ids=["jpeg with a stray byte", "heic"])
def test_images_of_ordinary_size_pass(name, data):
    assert check_upload(data, name, allowed=IMAGE_TYPES, max_bytes=MiB).size == len(data)
