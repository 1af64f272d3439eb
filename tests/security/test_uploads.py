"""Hostile uploads to message attachments and case photos: polyglots, a PDF with JavaScript, a
zip bomb dressed as a .docx, lying extensions and a "huge image" header. Each is refused, or
kept as an inert file served for download (``Content-Disposition: attachment``, ``nosniff``,
a sandboxing CSP) — images on case pages inline, but only as their sniffed image type."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from sqlalchemy import func, select

from messaging.models import Attachment, Message
from referendum_core.audit import AuditEntry
from referendum_core.cases.models import Case
from referendum_core.register_import import RegisterImport
from tests import zip_bombs
from tests.case_factories import PNG, report, station
from tests.conftest import municipality
from tests.voting_support import build_scenario


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def _jpeg_header(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + sof


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
POLYGLOT_JPEG = _jpeg_header(8, 8) + HTML + b"\xff\xd9"
PDF_WITH_JS = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction 2 0 R>>endobj\n"
               b"2 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\ntrailer<</Root 1 0 R>>\n"
               b"xref\n0 1\n0000000000 65535 f \nstartxref\n0\n%%EOF\n")
HUGE_PNG = _png(20000, 20000)
HUGE_JPEG = _jpeg_header(20000, 20000) + b"\xff\xd9"


def _zip_bomb_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", b"\x00" * (20 * 1024 * 1024))
    return out.getvalue()


def _post_attachment(client, name: str, data: bytes):
    return client.post("/messages/new", data={
        "recipient": "cvk", "subject": "Pielikums", "text": "Skat. pielikumu",
        "attachment": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _assert_inert_download(response, content_type: str) -> None:
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


REFUSED = [
    ("zip bomb as docx", "atskaite.docx", _zip_bomb_docx()),
    ("html named pdf", "protokols.pdf", HTML),
    ("html page", "lapa.html", HTML),
    ("svg with script", "attels.svg",
     b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("pdf named png", "attels.png", PDF_WITH_JS),
    ("double extension", "protokols.pdf.exe", PDF_WITH_JS),
    ("huge image", "liels.png", HUGE_PNG),
    ("polyglot named html", "lapa.html", POLYGLOT_JPEG),
]


@pytest.mark.parametrize(("label", "name", "data"), REFUSED, ids=[r[0] for r in REFUSED])
def test_hostile_attachments_are_refused(label, name, data, db_session, people, login_as):
    client = login_as(people.member())
    response = _post_attachment(client, name, data)
    assert 400 <= response.status_code < 500, label
    assert db_session.scalars(select(Attachment)).first() is None


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("foto.jpg", POLYGLOT_JPEG, "image/jpeg"),
    ("protokols.pdf", PDF_WITH_JS, "application/pdf"),
], ids=["jpeg+html polyglot", "pdf with javascript"])
def test_accepted_tricky_attachments_are_served_inert(name, data, content_type, db_session,
                                                      people, login_as):
    member, officer = people.member(), people.cvk_officer()
    client = login_as(member)
    response = _post_attachment(client, name, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db_session.scalars(select(Attachment)).one()
    thread_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    download = login_as(officer).get(f"/messages/{thread_id}/attachments/{row.id}")
    _assert_inert_download(download, content_type)
    assert download.get_data() == data


@pytest.mark.parametrize(("label", "name", "data"), [
    ("huge png", "p.png", HUGE_PNG),
    ("huge jpeg", "p.jpg", HUGE_JPEG),
    ("html as jpg", "p.jpg", HTML),
    ("pdf as jpg", "p.jpg", PDF_WITH_JS),
    ("svg", "p.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
])
def test_hostile_case_photos_are_refused(label, name, data, db_session, clock, people,
                                         login_as):
    observer = people.observer()
    case = report(db_session, clock, observer, at=station(db_session))
    client = login_as(observer)
    response = client.post(f"/cases/{case.id}/photos", data={"photo": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert 400 <= response.status_code < 500, label
    db_session.expire_all()
    assert case.photos == []


def test_case_photos_are_served_only_as_their_sniffed_image_type(db_session, clock, people,
                                                                 login_as):
    observer = people.observer()
    case = report(db_session, clock, observer, at=station(db_session), photos=[PNG,
                                                                               POLYGLOT_JPEG])
    db_session.commit()
    client = login_as(people.member())
    for photo, mime in zip(case.photos, ("image/png", "image/jpeg"), strict=True):
        response = client.get(f"/cases/{case.id}/photos/{photo.id}")
        assert response.status_code == 200 and response.mimetype == mime
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "filename=" in response.headers["Content-Disposition"]


# --- one upload check on every path: a zip bomb is refused, in Latvian, and nothing written ---

ZIP_BOMB_LV = "Dokuments atarhivējas nedroši lielā apjomā."
NOT_ACCEPTED_LV = "Šāda veida datne šeit netiek pieņemta."


@pytest.mark.parametrize(("name", "make"), [
    ("lemums.odt", zip_bombs.odt_mimetype_deflate_bomb),
    ("lemums.docx", zip_bombs.docx_content_types_bomb),
    ("lemums.docx", zip_bombs.local_header_lies),
    ("tabula.xlsx", zip_bombs.xlsx_ratio_bomb),
], ids=["odt mimetype bomb", "docx content-types bomb", "lying local header", "ratio bomb"])
def test_message_attachment_zip_bombs_are_refused(name, make, db_session, people, login_as):
    response = _post_attachment(login_as(people.member()), name, make())
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert ZIP_BOMB_LV in html or "Datne ir bojāta vai nepilnīga." in html
    assert db_session.scalars(select(Attachment)).first() is None
    assert db_session.scalars(select(Message)).first() is None


def test_observer_report_with_a_zip_bomb_photo_is_refused(db_session, people, login_as):
    observer = people.observer()
    ss = station(db_session)
    db_session.commit()
    before = db_session.scalar(select(func.count(Case.id)))
    response = login_as(observer).post("/cases/report", data={
        "polling_station_id": str(ss.id), "category": "ballot_box", "severity": "high",
        "description": "Urna nav aizzīmogota", "started": "1772444000",
        "photos": [(io.BytesIO(zip_bombs.odt_mimetype_deflate_bomb()), "foto.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert NOT_ACCEPTED_LV in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count(Case.id))) == before


def test_case_photo_zip_bomb_is_refused(db_session, clock, people, login_as):
    observer = people.observer()
    case = report(db_session, clock, observer, at=station(db_session))
    db_session.commit()
    response = login_as(observer).post(
        f"/cases/{case.id}/photos", content_type="multipart/form-data",
        data={"photo": (io.BytesIO(zip_bombs.docx_content_types_bomb()), "foto.png")})
    assert 400 <= response.status_code < 500
    assert NOT_ACCEPTED_LV in response.get_data(as_text=True)
    db_session.expire_all()
    assert case.photos == []


def test_register_import_of_a_zip_bomb_is_refused(db_session, people, login_as):
    chair = people.chair()
    muni = municipality(db_session)
    response = login_as(chair).post("/register/import", content_type="multipart/form-data",
                                    data={"source": "population", "municipality_id": muni.id,
                                          "file_format": "csv", "mode": "continue",
                                          "upload": (io.BytesIO(zip_bombs.nested_bomb()),
                                                     "extract.csv")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nekas netika importēts." in html and "Datnes saturs neatbilst" in html
    assert db_session.scalars(select(RegisterImport)).first() is None
    refusal = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert refusal.action == "register.import_refused"


def test_trustee_key_file_zip_bomb_is_refused(db_session, clock, keys, login_as):
    s = build_scenario(db_session, clock, keys, open_now=False)
    for trustee in s.referendum.trustees:
        trustee.public_key = trustee.public_json = None
    db_session.commit()
    response = login_as(s.trustees[0]).post(
        f"/voting/{s.referendum.id}/trustee", content_type="multipart/form-data",
        data={"key-upload": (io.BytesIO(zip_bombs.odt_mimetype_deflate_bomb()), "key.json")})
    assert response.status_code == 422
    assert NOT_ACCEPTED_LV in response.get_data(as_text=True)
    db_session.expire_all()
    assert all(t.public_key is None for t in s.referendum.trustees)
