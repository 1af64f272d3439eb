"""Work that finds you (``portal.work``): the navigation counts what needs the person and the home
page lists it, most urgent first, per role and scope, in a fixed number of statements however
many cases there are; another area adds its work through the registry."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from messaging import services as messaging
from portal.work import REGISTRY, Count, WorkItem, WorkProvider, register
from referendum_core.cases import services
from tests.case_factories import COMMISSION, report
from tests.statements import captured_statements


def nav_counts(html: str) -> list[str]:
    """The words of the counts beside the navigation entries."""
    header = html[:html.index("</header>")]
    return re.findall(r'data-testid="nav-count"><span aria-hidden="true">\d+\+?</span>'
                      r'<span class="visually-hidden">\(([^)]*)\)', header)


def work_items(html: str) -> list[str]:
    return re.findall(r'data-testid="work-item"[^>]*>\s*<a href="([^"]+)"', html)


def query(db_session, clock, member, title="Kā skaitīt bojātas zīmes?"):
    return services.ask_cvk(db_session, clock, member, municipality_id=member.memberships[0]
                            .commission.municipality_id, title=title, question="Lūdzu palīdzību.",
                            parties=COMMISSION)


def test_a_report_waits_for_its_commission_and_nobody_elsewhere(db_session, clock, people,
                                                                login_as, app):
    case = report(db_session, clock, people.observer())
    member, other = people.member(), people.member("0001000")
    html = login_as(member).get("/").get_data(as_text=True)
    assert "1 gaida jūs" in nav_counts(html)
    assert work_items(html) == [f"/cases/{case.id}"]
    assert "Gaida jūsu rīcību" in html and "Termiņš:" in html
    elsewhere = login_as(other).get("/").get_data(as_text=True)
    assert nav_counts(elsewhere) == [] and work_items(elsewhere) == []
    assert 'data-testid="no-work"' in elsewhere


def test_cvk_sees_queries_awaiting_it_and_overdue_cases_first(db_session, clock, people,
                                                             login_as):
    member = people.member()
    asked = query(db_session, clock, member)
    late = report(db_session, clock, people.observer())
    clock.advance(timedelta(days=3))  # the report's one working day has passed
    officer = people.cvk_officer()
    html = login_as(officer).get("/").get_data(as_text=True)
    counts = nav_counts(html)
    assert "1 gaida jūs" in counts and "1 nokavēta" in counts
    # The overdue report (someone else's turn) comes before the query waiting for CVK.
    assert work_items(html) == [f"/cases/{late.id}", f"/cases/{asked.id}"]
    assert "nākamais rīkojas: pašvaldības vēlēšanu komisija" in html or \
        "nākamais rīkojas" in html
    # In English too.
    client = login_as(officer)
    client.post("/lang/en")
    english = client.get("/").get_data(as_text=True)
    assert "1 awaiting you" in nav_counts(english) and "1 overdue" in nav_counts(english)
    assert "Needs your action" in english and "Overdue" in english


def test_unread_threads_are_counted_for_each_reader(db_session, clock, people, login_as):
    member, officer = people.member(), people.cvk_officer()
    case = query(db_session, clock, member)
    thread = messaging.open_case_thread(
        db_session, clock, member, case_id=case.id, subject="Jautājums",
        municipality_id=case.municipality_id, participant_user_ids=[member.id, officer.id])
    messaging.post_message(db_session, clock, member, thread, "Sveiki, CVK!")
    html = login_as(officer).get("/").get_data(as_text=True)
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(html)
    assert f"/messages/{thread.id}" in work_items(html)
    assert "1 nelasīta ziņa" in html
    own = login_as(member).get("/").get_data(as_text=True)
    assert not any("nelasīt" in c for c in nav_counts(own))  # the author has read it


def test_the_counts_cost_the_same_for_two_cases_or_twenty(db_session, clock, people, login_as):
    member = people.member()
    observer = people.observer()
    report(db_session, clock, observer)
    client = login_as(member)
    client.get("/")  # warm caches (templates, statements)
    with captured_statements(db_session) as few:
        client.get("/")
    for _ in range(19):
        report(db_session, clock, observer)
    db_session.commit()
    with captured_statements(db_session) as many:
        html = client.get("/").get_data(as_text=True)
    assert "20 gaida jūs" in nav_counts(html)
    assert len(many) == len(few), "\n".join(many)


def test_another_area_adds_its_work_through_the_registry(db_session, people, login_as):
    def count(ctx):
        return [Count("cases.queue", 2, "2 critical", is_urgent=True)]

    def items(ctx, limit):
        return [WorkItem("Kritisks ziņojums", "/cases/", "Critical report", is_urgent=True,
                         area="observer")]

    register(WorkProvider("test_critical", count, items, order=1))
    try:
        html = login_as(people.member()).get("/").get_data(as_text=True)
    finally:
        REGISTRY.providers.pop("test_critical")
    assert "2 critical" in nav_counts(html)
    assert work_items(html)[0] == "/cases/"


def test_a_count_past_the_cap_shows_99_plus(people, login_as, monkeypatch):
    """Counts stop at ``COUNT_CAP`` (each reads at most that many rows;
    tests/referendum_core/cases/test_work.py): the badge says "99+" and its words "more
    than 99"."""
    import portal.cases.work as portal_work

    monkeypatch.setattr(portal_work, "count_work", lambda *a, **k: (100, 120))
    html = login_as(people.member()).get("/").get_data(as_text=True)
    assert nav_counts(html) == ["vairāk nekā 99 gaida jūs", "vairāk nekā 99 nokavētas"]
    assert html[:html.index("</header>")].count('<span aria-hidden="true">99+</span>') == 2


@pytest.mark.parametrize("who", ["voter", "internet_member"])
def test_people_without_cases_get_no_counts_and_no_errors(who, people, login_as):
    user = people.voter() if who == "voter" else people.internet_member()
    answer = login_as(user).get("/")
    assert answer.status_code == 200 and nav_counts(answer.get_data(as_text=True)) == []


def test_among_the_same_deadline_a_critical_report_comes_before_a_high_one(db_session, clock,
                                                                          people, login_as):
    """Sorted by urgent, deadline, severity, title: "Zzz" (critical) before "Aaa" (high)."""
    due = clock.now() + timedelta(hours=3)
    high = WorkItem("Aaa", "/a", "r", deadline_at=due, severity=2)
    critical = WorkItem("Zzz", "/z", "r", deadline_at=due, severity=3)
    later = WorkItem("Bbb", "/b", "r", deadline_at=due + timedelta(minutes=1), severity=3)
    urgent = WorkItem("Ccc", "/c", "r", deadline_at=due + timedelta(days=1), is_urgent=True)
    assert sorted([later, high, urgent, critical], key=WorkItem.sort_key) == [
        urgent, critical, high, later]
    # The cases area ranks its observer reports so.
    first = report(db_session, clock, people.observer(), severity="high")
    second = report(db_session, clock, people.observer(), severity="critical")
    second.deadline_at = first.deadline_at
    db_session.commit()
    html = login_as(people.member()).get("/").get_data(as_text=True)
    assert work_items(html)[:2] == [f"/cases/{second.id}", f"/cases/{first.id}"]
