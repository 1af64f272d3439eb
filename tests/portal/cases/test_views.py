"""Case pages through HTTP: filing from a phone form, the case page, moving a case, refusals,
work queues, saved filters and the CSV export."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from referendum_core.audit import AuditEntry
from referendum_core.cases import services
from referendum_core.cases.models import Case
from tests.case_factories import COMMISSION, NOT_AN_IMAGE, PNG, report, station


def file_report(client, station_id, **extra):
    data = {"polling_station_id": str(station_id), "category": "ballot_box", "severity": "high",
            "description": "Urna nav aizzīmogota", "started": "1772444000"}
    data.update(extra)
    return client.post("/cases/report", data=data, content_type="multipart/form-data")


def test_observer_files_a_report_with_a_photo_from_the_phone_form(db_session, people, login_as):
    observer = people.observer()
    ss = station(db_session)
    client = login_as(observer)
    page = client.get("/cases/report").get_data(as_text=True)
    assert 'accept="image/*"' in page and 'capture="environment"' in page
    assert "style=" not in page and "<script>" not in page
    response = file_report(client, ss.id, photos=[(io.BytesIO(PNG), "p.png")])
    assert response.status_code == 302
    case = db_session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert (case.state, case.municipality_id, len(case.photos)) == (
        "submitted", ss.municipality_id, 1)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert case.reference in html and "<svg" in html and 'data-testid="thread-link"' in html
    photo = client.get(f"/cases/{case.id}/photos/{case.photos[0].id}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"


def test_observer_accredited_elsewhere_is_refused_and_the_refusal_audited(
        db_session, people, login_as):
    client = login_as(people.observer("0023000"))
    riga = station(db_session, "0001000", 4)
    db_session.commit()
    response = file_report(client, riga.id)
    assert response.status_code == 403
    assert "nenovērojat šo vēlēšanu iecirkni" in response.get_data(as_text=True)
    last = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last.action == "case.refused" and "NotAccredited" in last.detail


def test_non_image_upload_is_refused_without_a_partial_case(db_session, people, login_as):
    client = login_as(people.observer())
    ss = station(db_session)
    before = db_session.scalar(select(Case.id).order_by(Case.id.desc()))
    response = file_report(client, ss.id, photos=[(io.BytesIO(NOT_AN_IMAGE), "x.jpg")])
    assert response.status_code == 400
    assert db_session.scalar(select(Case.id).order_by(Case.id.desc())) == before


def test_commission_triages_and_resolves_from_the_case_page(db_session, clock, people, login_as):
    case = report(db_session, clock, people.observer())
    member = people.member()
    client = login_as(member)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="do-triage"' in html and 'data-testid="do-resolve"' not in html
    response = client.post(f"/cases/{case.id}/transition",
                           data={"transition": "triage", "version": "1", "note": ""})
    assert response.status_code == 302
    response = client.post(f"/cases/{case.id}/transition",
                           data={"transition": "resolve", "version": "2", "note": "Salabots"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Case, case.id).state == "resolved"


def test_two_officials_with_the_same_page_one_wins_the_other_is_told(
        db_session, clock, people, login_as):
    case = report(db_session, clock, people.observer())
    client = login_as(people.member())
    assert client.post(f"/cases/{case.id}/transition",
                       data={"transition": "triage", "version": "1"}).status_code == 302
    # A second official's page still carries version 1.
    response = client.post(f"/cases/{case.id}/transition",
                           data={"transition": "dismiss", "version": "1", "note": "dup"})
    assert response.status_code == 409
    assert 'data-testid="case-error"' in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Case, case.id).state == "triaged"


def test_move_not_allowed_from_state_or_for_role(db_session, clock, people, login_as):
    observer = people.observer()
    case = report(db_session, clock, observer)
    member_client = login_as(people.member())
    assert member_client.post(f"/cases/{case.id}/transition", data={
        "transition": "resolve", "version": "1", "note": "x"}).status_code == 409
    observer_client = login_as(observer)
    assert observer_client.post(f"/cases/{case.id}/transition", data={
        "transition": "triage", "version": "1"}).status_code == 403


def test_other_municipality_and_other_observers_get_404(db_session, clock, people, login_as):
    case = report(db_session, clock, people.observer())
    assert login_as(people.member("0001000")).get(f"/cases/{case.id}").status_code == 404
    assert login_as(people.observer()).get(f"/cases/{case.id}").status_code == 404
    assert login_as(people.cvk_officer()).get(f"/cases/{case.id}").status_code == 200


def test_queue_filters_paginates_and_only_shows_own_municipality(db_session, clock, people,
                                                                 login_as):
    observer = people.observer()
    mine = report(db_session, clock, observer)
    theirs = report(db_session, clock, observer, station(db_session, "0001000", 2))
    member = people.member()
    client = login_as(member)
    html = client.get("/cases?type=observer_report&status=open&sort=deadline").get_data(
        as_text=True)
    assert mine.reference in html and theirs.reference not in html
    assert mine.reference not in client.get("/cases?overdue=1").get_data(as_text=True)
    clock.advance(timedelta(days=5))
    client = login_as(member)
    assert mine.reference in client.get("/cases?overdue=1").get_data(as_text=True)


def test_saved_filter_round_trip(db_session, people, login_as):
    client = login_as(people.member())
    response = client.post("/cases/filters", data={"name": "Kavētās", "query": "overdue=1"})
    assert response.status_code == 302
    assert "Kavētās" in client.get("/cases").get_data(as_text=True)


def test_csv_export_is_streamed_for_cvk_and_refused_to_commissions(
        db_session, clock, people, login_as):
    member = people.member()
    case = services.ask_cvk(db_session, clock, member,
                            municipality_id=station(db_session).municipality_id,
                            title='=HYPERLINK("x")', question="?", parties=COMMISSION)
    assert login_as(member).get("/cases/export.csv").status_code == 403
    response = login_as(people.cvk_officer()).get("/cases/export.csv?type=commission_query")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "reference"
    row = next(r for r in rows if r[0] == case.reference)
    assert row[5].startswith("'")  # formula neutralised


def test_complaint_form_shows_the_art_20_7_deadline_countdown(db_session, people, login_as):
    client = login_as(people.voter())
    muni = station(db_session).municipality_id
    response = client.post("/cases/complaint", data={
        "municipality_id": str(muni), "grounds": "count_protocol", "applicant_kind": "voter",
        "contested": "1. iecirkņa protokols", "contested_on": "2026-02-28",
        "summary": "Nepareizi saskaitīts"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "20. panta septītā daļa" in html and 'data-testid="countdown"' in html
    late = client.post("/cases/complaint", data={
        "municipality_id": str(muni), "grounds": "count_protocol", "applicant_kind": "voter",
        "contested": "Protokols", "contested_on": "2026-02-01", "summary": "Par vēlu"})
    assert late.status_code == 400 and "Art. 20(7)" in late.get_data(as_text=True)


def test_commission_asks_cvk_and_cvk_answers(db_session, people, login_as):
    member = people.member()
    client = login_as(member)
    muni = station(db_session).municipality_id
    response = client.post("/cases/query", data={"municipality_id": str(muni),
                                                 "title": "Saraksti", "question": "Kā?"})
    assert response.status_code == 302
    case = db_session.scalars(select(Case).order_by(Case.id.desc())).first()
    officer_client = login_as(people.cvk_officer())
    assert officer_client.post(f"/cases/{case.id}/transition", data={
        "transition": "answer", "version": str(case.version), "note": "Tā."}).status_code == 302


def test_assign_and_comment(db_session, clock, people, login_as):
    case = report(db_session, clock, people.observer())
    member = people.member()
    client = login_as(member)
    assert client.post(f"/cases/{case.id}/assign", data={
        "assignee_id": str(member.id), "version": "1"}).status_code == 302
    assert client.post(f"/cases/{case.id}/comment", data={"text": "Skatos"}).status_code == 302
    db_session.expire_all()
    fresh = db_session.get(Case, case.id)
    assert fresh.assignee_id == member.id and fresh.version >= 2
    assert [e.kind for e in fresh.events][-2:] == ["assignment", "comment"]


def test_a_report_starts_with_no_category_or_severity_and_requires_both(db_session, people,
                                                                        login_as):
    """A preselected category or severity is filed as is by a hurried observer: both start
    empty, and a report without them is answered with what to choose; nothing is filed."""
    client = login_as(people.observer())
    ss = station(db_session)
    page = client.get("/cases/report").get_data(as_text=True)
    for name in ("category", "severity"):
        select_html = page[page.index(f'name="{name}"'):]
        select_html = select_html[:select_html.index("</select>")]
        assert "selected" not in select_html, name
        assert '<option value="">— izvēlieties —</option>' in select_html
    before = db_session.scalar(select(Case.id).order_by(Case.id.desc()))
    response = file_report(client, ss.id, category="", severity="")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Izvēlieties, par ko ir ziņojums." in html
    assert "Izvēlieties, cik nopietni tas ir." in html
    assert db_session.scalar(select(Case.id).order_by(Case.id.desc())) == before
