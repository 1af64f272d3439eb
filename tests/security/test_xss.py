"""Stored and reflected XSS: every displayed text field gets script and attribute-breaking
payloads; the pages that show them must carry them only as inert text (escaped, or removed by
the Markdown sanitiser), never as markup."""
from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

from messaging import services as messaging
from messaging.rules import Target, TargetKind
from referendum_core import audit
from referendum_core.calendar import WorkingDayCalendar
from referendum_core.cases import services as cases
from referendum_core.cases.workflows import Party
from referendum_core.initiatives import submit_initiative
from tests.case_factories import report, station
from tests.conftest import municipality
from tests.register_data import add_person, code_for

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, IMG)


class _Markup(HTMLParser):
    """Collects what would run: inline scripts, event-handler attributes, injected images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.active: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not (names.get("src") or "").startswith("/static/"):
            self.active.append(f"<script {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.active.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and names.get("src") == "x":
            self.active.append("<img src=x>")


def assert_inert(html: str, marker: str) -> None:
    """``marker`` (text sent next to the payloads) is shown and no payload became markup."""
    assert marker in html, f"{marker} is not displayed on this page"
    for payload in PAYLOADS:
        assert payload not in html
    parser = _Markup()
    parser.feed(html)
    assert not parser.active, parser.active


def _text(marker: str) -> str:
    return f"{marker} {SCRIPT} {IMG}"


def test_message_text_with_markup_is_refused_and_nothing_stored(app, db_session, clock,
                                                                people, login_as):
    client = login_as(people.member())
    for payload in PAYLOADS + ("[x](javascript:alert(1))",):
        response = client.post("/messages/new", data={
            "recipient": "cvk", "subject": "Sveiki", "text": "TEXTX " + payload})
        assert 400 <= response.status_code < 500, payload
        assert_inert(response.get_data(as_text=True), "TEXTX")
    assert messaging.threads_for(db_session, people.cvk_officer()) == []


def test_messages_subject_text_author_and_search_are_inert(app, db_session, clock, people,
                                                           login_as, monkeypatch):
    # Defence in depth: store script-laden text as if the input check had let it through; the
    # Markdown renderer and the sanitiser must still show it inert.
    monkeypatch.setattr(messaging, "check_text", lambda _text: None)
    member = people.member()
    member.display_name = _text("NAMEX")
    officer = people.cvk_officer()
    thread = messaging.create_thread(db_session, clock, member, subject=_text("SUBJX"),
                                     text=_text("BODYX") + "\n\n**bold** [a](javascript:alert(1))",
                                     targets=[Target(TargetKind.CVK)])
    db_session.flush()
    message = messaging.messages_of(db_session, thread)[0]
    client = login_as(officer)
    assert_inert(client.get("/messages/").get_data(as_text=True), "SUBJX")
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    for marker in ("SUBJX", "BODYX", "NAMEX"):
        assert_inert(page, marker)
    assert 'href="javascript:' not in page
    assert_inert(client.get(f"/messages/{thread.id}/m/{message.id}").get_data(as_text=True),
                 "BODYX")
    for payload in PAYLOADS:
        found = client.get("/messages/search", query_string={"q": "BODYX " + payload})
        assert found.status_code == 200
        assert_inert(found.get_data(as_text=True), "BODYX")
    client = login_as(member)
    assert_inert(client.get(f"/messages/{thread.id}/m/{message.id}/edit").get_data(
        as_text=True), "BODYX")


def test_case_title_description_and_comments_are_inert(app, db_session, clock, people,
                                                       login_as):
    observer, member = people.observer(), people.member()
    observer.display_name = _text("OBSNAMEX")
    case = report(db_session, clock, observer, at=station(db_session),
                  description=_text("DESCX"))
    cases.comment_on_case(db_session, clock, member, case, _text("COMMENTX"),
                          parties=frozenset({Party.COMMISSION}))
    db_session.flush()
    for user in (member, people.cvk_officer(), observer):
        client = login_as(user)
        page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        for marker in ("DESCX", "COMMENTX"):
            assert_inert(page, marker)
        assert_inert(client.get("/cases").get_data(as_text=True), "DESCX")
    officer_client = login_as(people.cvk_officer())
    csv_text = officer_client.get("/cases/export.csv").get_data(as_text=True)
    assert "DESCX" in csv_text


def test_case_export_neutralises_spreadsheet_formulas(app, db_session, clock, people,
                                                      login_as):
    observer = people.observer()
    report(db_session, clock, observer, at=station(db_session),
           description='=HYPERLINK("http://evil.example","FORMULAX")')
    db_session.flush()
    body = login_as(people.cvk_officer()).get("/cases/export.csv").get_data(as_text=True)
    assert "FORMULAX" in body
    for line in body.splitlines():
        for cell in line.split(","):
            assert not cell.strip('"').startswith(("=", "+", "-", "@")) or cell.startswith(
                "'"), line


def test_initiative_question_and_reasons_are_inert(app, db_session, clock, keys, people,
                                                   login_as):
    ada = municipality(db_session)
    code = code_for(date(1970, 1, 1), 77)
    add_person(db_session, keys.personal_codes, code, born=date(1970, 1, 1), municipality=ada)
    voter = people.voter(code, "Vēlētājs")
    initiative = submit_initiative(db_session, clock, WorkingDayCalendar(), voter,
                                   municipality=ada, subject="strategy",
                                   question=_text("QUESTX")[:500], reasons=_text("REASONX"),
                                   person_ref=voter.person_ref, basis_date=date(2026, 2, 1))
    db_session.flush()
    for user in (voter, people.chair()):
        page = login_as(user).get(f"/initiatives/{initiative.id}").get_data(as_text=True)
        assert_inert(page, "QUESTX")
        assert_inert(page, "REASONX")


def test_display_names_and_audit_details_are_inert(app, db_session, clock, people, login_as):
    admin = people.cvk_admin()
    person = people.observer()
    person.display_name = _text("PERSONX")
    audit.record(db_session, clock, person, "security.test", obj=person,
                 note=_text("DETAILX"))
    db_session.flush()
    client = login_as(admin)
    assert_inert(client.get("/admin/users").get_data(as_text=True), "PERSONX")
    assert_inert(client.get(f"/admin/users/{person.id}").get_data(as_text=True), "PERSONX")
    # The audit log reads as sentences: the actor's name is shown (inert); a free-text detail
    # of an action without a sentence is not shown at all.
    log = client.get("/audit/").get_data(as_text=True)
    assert_inert(log, "PERSONX")
    assert "DETAILX" not in log


def test_reflected_filter_and_search_values_are_inert(app, db_session, clock, people,
                                                      login_as):
    admin = people.cvk_admin()
    client = login_as(admin)
    for payload in PAYLOADS:
        value = "REFLX" + payload
        for url, params in (
                ("/audit/", {"action": value, "actor": value, "object_type": value,
                             "since": value, "until": value, "page": value}),
                ("/cases", {"type": value, "state": value, "municipality": value,
                            "assignee": value, "status": value, "sort": value, "q": value,
                            "page": value, "overdue": value, "returned": value}),
                ("/messages/search", {"q": value}),
                ("/", {"next": value, "q": value}),
                ("/login", {"next": value}),
                ("/initiatives/", {"municipality": value, "page": value}),
                ("/voting/", {"page": value})):
            response = client.get(url, query_string=params)
            assert response.status_code < 500, (url, payload)
            html = response.get_data(as_text=True)
            for p in PAYLOADS:
                assert p not in html, (url, p)
            parser = _Markup()
            parser.feed(html)
            assert not parser.active, (url, parser.active)


def test_login_next_is_reflected_only_escaped(client):
    page = client.get("/login", query_string={"next": "/x" + IMG}).get_data(as_text=True)
    assert IMG not in page
    parser = _Markup()
    parser.feed(page)
    assert not parser.active
