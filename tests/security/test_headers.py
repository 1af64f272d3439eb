"""Clickjacking and content-sniffing headers on every kind of response: pages, forms, error
pages, redirects, JSON, the API, static files, CSV exports, downloads and images."""
from __future__ import annotations

import io

from tests.case_factories import PNG, report, station


def _check(response, what: str) -> None:
    headers = response.headers
    assert headers.get("X-Frame-Options") == "DENY", what
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", "") or \
        "sandbox" in headers.get("Content-Security-Policy", ""), what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what


def test_every_page_type_forbids_framing_and_sniffing(app, client, db_session, clock, people,
                                                      login_as):
    anonymous = app.test_client()
    for url in ("/", "/login", "/voter/login", "/initiatives/", "/voting/", "/healthz",
                "/api/v1/openapi.json", "/static/favicon.svg", "/no-such-page", "/account",
                "/api/v1/cases"):
        _check(anonymous.get(url), url)
    _check(anonymous.post("/lang/en"), "redirect")
    _check(anonymous.post("/login", data={"email": "x"}), "form with errors (400)")
    observer, member = people.observer(), people.member()
    case = report(db_session, clock, observer, at=station(db_session), photos=[PNG])
    db_session.commit()
    web = login_as(member)
    response = web.post("/messages/new", data={
        "recipient": "cvk", "subject": "S", "text": "T",
        "attachment": (io.BytesIO(PNG), "p.png")}, content_type="multipart/form-data")
    thread_url = response.headers["Location"]
    _check(response, "redirect after POST")
    page = web.get(thread_url)
    _check(page, "thread page")
    from messaging.models import Attachment

    attachment = db_session.query(Attachment).one()
    _check(web.get(f"{thread_url.rstrip('/')}/attachments/{attachment.id}"), "attachment")
    _check(web.get(f"/cases/{case.id}"), "case page")
    _check(web.get(f"/cases/{case.id}/photos/{case.photos[0].id}"), "photo")
    _check(web.get("/cases/9999"), "404 while signed in")
    web = login_as(people.cvk_officer())
    _check(web.get("/cases/export.csv"), "CSV export")
    _check(web.get("/admin/users"), "403 page")


def test_html_pages_are_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
