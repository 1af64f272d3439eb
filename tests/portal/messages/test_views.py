"""Messaging pages through HTTP (no JavaScript): list, new thread, post, reply, edit, attachments,
search, export, and every refusal with its translated reason and audit entry."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from messaging import services
from messaging.models import Attachment, Message, Thread
from messaging.rules import Target, TargetKind
from referendum_core.audit import AuditEntry
from referendum_core.organisation import Municipality

PDF = (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\nxref\n0 1\n0000000000 65535 f \n"
       b"startxref\n0\n%%EOF\n")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def _refusals(db_session, reason):
    db_session.expire_all()
    return [e for e in db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "messaging.refused")) if e.detail_dict.get("reason") == reason]


def _thread(db_session, clock, member, text="Sveiki, CVK!"):
    thread = services.create_thread(db_session, clock, member, subject="Iecirkņa telpas",
                                    text=text, targets=[Target(TargetKind.CVK)])
    db_session.commit()
    return thread


def _messages(db_session):
    db_session.expire_all()
    return db_session.scalar(select(func.count(Message.id)))


def test_new_thread_post_reply_and_list(client, login_as, db_session, clock, people):
    member, officer = people.member(), people.cvk_officer()
    login_as(member)
    page = client.get("/messages/new")
    assert page.status_code == 200
    response = client.post("/messages/new", data={
        "recipient": "cvk", "subject": "Vēlēšanu iecirknis", "text": "Vai **drīkst**?",
        "attachment": (io.BytesIO(PDF), "protokols.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    thread_url = response.headers["Location"]
    page = client.get(thread_url).get_data(as_text=True)
    assert "<strong>drīkst</strong>" in page and "protokols.pdf" in page
    login_as(officer)
    listing = client.get("/messages/").get_data(as_text=True)
    assert "Vēlēšanu iecirknis" in listing and "1 nelasīta" in listing
    thread_id = int(thread_url.rstrip("/").rsplit("/", 1)[-1])
    first = db_session.scalars(select(Message).where(Message.thread_id == thread_id)).first()
    response = client.post(f"/messages/{thread_id}/post", data={
        "text": "Drīkst.", "reply_to": str(first.id)})
    assert response.status_code == 302
    page = client.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert "Atbilde uz:" in page and "Drīkst." in page
    attachment = db_session.scalars(select(Attachment)).first()
    download = client.get(f"/messages/{thread_id}/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert "attachment;" in download.headers["Content-Disposition"]


def test_outsider_cannot_read_post_or_download(client, login_as, db_session, clock, people):
    member, outsider = people.member(), people.member("0001000")
    thread = _thread(db_session, clock, member)
    before = _messages(db_session)
    login_as(outsider)
    assert client.get(f"/messages/{thread.id}").status_code == 403
    response = client.post(f"/messages/{thread.id}/post", data={"text": "ielaužos"})
    assert response.status_code == 403
    assert "Jūs neesat šīs sarakstes dalībnieks" in response.get_data(as_text=True)
    assert _messages(db_session) == before
    assert len(_refusals(db_session, "not_participant")) == 2
    assert "Iecirkņa" not in client.get("/messages/search?q=Sveiki").get_data(as_text=True)


def test_script_in_text_is_refused_in_latvian(client, login_as, db_session, clock, people):
    member = people.member()
    thread = _thread(db_session, clock, member)
    before = _messages(db_session)
    login_as(member)
    response = client.post(f"/messages/{thread.id}/post",
                           data={"text": "Skat. <script>alert('x')</script>"})
    assert response.status_code == 400
    assert "skript" in response.get_data(as_text=True).lower()  # Latvian: "skriptu"
    assert _messages(db_session) == before
    assert _refusals(db_session, "unsafe_content")


def test_closed_thread_refuses_messages(client, login_as, db_session, clock, people):
    member = people.member()
    thread = _thread(db_session, clock, member)
    services.close_thread(db_session, clock, member, thread)
    db_session.commit()
    before = _messages(db_session)
    login_as(member)
    client.get("/", headers={"Accept-Language": "en"})
    response = client.post(f"/messages/{thread.id}/post", data={"text": "vēl"},
                           headers={"X-Requested-With": "fetch"})
    assert response.status_code == 409
    assert response.get_json()["code"] == "thread_closed"
    assert _messages(db_session) == before
    assert _refusals(db_session, "thread_closed")


def test_attachment_lying_about_its_type(client, login_as, db_session, clock, people):
    member = people.member()
    thread = _thread(db_session, clock, member)
    before = _messages(db_session)
    login_as(member)
    fake = b"MZ\x90\x00" + b"\x00" * 200  # a Windows executable named .pdf
    response = client.post(f"/messages/{thread.id}/post", data={
        "text": "pielikumā", "attachment": (io.BytesIO(fake), "protokols.pdf")},
        content_type="multipart/form-data", headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "type_mismatch"
    png_as_pdf = client.post(f"/messages/{thread.id}/post", data={
        "text": "pielikumā", "attachment": (io.BytesIO(PNG), "bilde.pdf")},
        content_type="multipart/form-data", headers={"X-Requested-With": "fetch"})
    assert png_as_pdf.get_json()["code"] == "type_mismatch"
    assert _messages(db_session) == before
    assert len(_refusals(db_session, "type_mismatch")) == 2


class _Stream(io.RawIOBase):
    """A 100 MB request body that is never held in memory and counts what the server reads."""

    def __init__(self, size: int) -> None:
        self.size, self.pos, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"a" * n
        self.pos += n
        self.read_bytes += n
        return n


def test_100_mb_upload_refused_before_reading(client, login_as, db_session, clock, people):
    member = people.member()
    thread = _thread(db_session, clock, member)
    before = _messages(db_session)
    login_as(member)
    body = _Stream(100 * 1024 * 1024)
    response = client.post(f"/messages/{thread.id}/post", input_stream=body,
                           content_type="multipart/form-data; boundary=x",
                           headers={"Content-Length": str(body.size),
                                    "X-Requested-With": "fetch"})
    assert response.status_code == 413
    assert response.get_json()["code"] == "upload_too_large"
    assert body.read_bytes < 1024 * 1024
    assert _messages(db_session) == before
    assert _refusals(db_session, "upload_too_large")


def test_edit_keeps_history_and_window(client, login_as, db_session, clock, people):
    member = people.member()
    thread = _thread(db_session, clock, member, text="pirmais teksts")
    message = db_session.scalars(select(Message).where(Message.thread_id == thread.id)).one()
    login_as(member)
    assert client.post(f"/messages/{thread.id}/m/{message.id}/edit",
                       data={"text": "labotais teksts"}).status_code == 302
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert "labotais teksts" in page and "pirmais teksts" not in page
    clock.advance(timedelta(minutes=20))  # the edit window is 10 minutes
    response = client.post(f"/messages/{thread.id}/m/{message.id}/edit", data={"text": "vēlāk"})
    assert response.status_code == 400
    assert "labošanas laiks ir beidzies" in response.get_data(as_text=True)


def test_links_get_noopener(client, login_as, db_session, clock, people):
    member = people.member()
    thread = _thread(db_session, clock, member, text="Skat. [CVK](https://www.cvk.lv)")
    login_as(member)
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert 'href="https://www.cvk.lv" rel="noopener noreferrer"' in page


def test_voter_enquiry_to_commission(client, login_as, db_session, clock, people):
    voter = people.voter()
    adazi = db_session.scalars(select(Municipality).where(Municipality.atvk_code == "0023000")).one()
    login_as(voter)
    page = client.get("/messages/new").get_data(as_text=True)
    assert f"commission:{adazi.id}" in page and 'value="cvk"' not in page
    response = client.post("/messages/new", data={
        "recipient": f"commission:{adazi.id}", "subject": "Jautājums", "text": "Kur balsot?"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.scalar(select(func.count(Thread.id))) == 1
