"""axe-core over the case pages (case list, case page, report form, dashboard, API tokens):
no serious or critical violations."""
from __future__ import annotations

import pytest

from tests.browser import check_a11y, sign_in_official
from tests.case_factories import PNG
from tests.live_accounts import add_official, in_live_app

pytestmark = pytest.mark.browser

OBSERVER = "observer.adazi@demo.cvk.lv"


def _file_cases(session, clock):
    from portal.accounts.models import User
    from referendum_core.cases import services
    from referendum_core.cases.workflows import Party
    from tests.case_factories import station

    observer = session.query(User).filter_by(email=OBSERVER).one()
    at = station(session)
    open_case = services.file_observer_report(
        session, clock, observer, polling_station_id=at.id, category="ballot_box",
        severity="high", description="Urnai nav plombes", is_accredited=lambda _m: True,
        photos=[PNG])
    closed = services.file_observer_report(
        session, clock, observer, polling_station_id=at.id, category="campaigning",
        severity="low", description="Aģitācija pie ieejas", is_accredited=lambda _m: True)
    services.transition_case(session, clock, None, closed, "dismiss", closed.version, "Nav",
                             parties=frozenset({Party.COMMISSION}))
    return open_case.id


@pytest.fixture(scope="module")
def case_id(live_server):
    return in_live_app(live_server, _file_cases)


def test_report_form_is_accessible(page, live_server):
    observer = add_official(live_server, "observer", "0023000")  # a TOTP step of its own
    sign_in_official(page, live_server, observer.email)
    page.goto(f"{live_server.url}/cases/report")
    assert page.get_by_test_id("send-report").is_visible()
    assert check_a11y(page) == []


def test_case_list_and_case_page_are_accessible_to_a_commission(page, live_server, case_id):
    chair = add_official(live_server, "commission_chair", "0023000")
    sign_in_official(page, live_server, chair.email)
    for path in ("/cases", "/cases?status=open&sort=deadline", "/cases?overdue=1",
                 f"/cases/{case_id}"):
        page.goto(live_server.url + path)
        assert check_a11y(page) == [], path
    # The case page with its actions, deadline form, assignment and timeline.
    assert page.get_by_test_id("change-deadline").is_visible()
    assert page.get_by_test_id("timeline").is_visible()
    assert page.console_errors == []


def test_dashboard_and_token_page_are_accessible_to_cvk(page, live_server, case_id):
    admin = add_official(live_server, "cvk_admin")
    sign_in_official(page, live_server, admin.email)
    page.goto(f"{live_server.url}/cases/dashboard")
    assert page.get_by_test_id("chart-fulfil-type").is_visible()
    assert check_a11y(page) == []
    page.goto(f"{live_server.url}/cases/tokens")
    assert check_a11y(page) == []
    page.get_by_label("Sistēmas nosaukums, kas to izmantos").fill("Ādažu IS")
    page.get_by_label("Darbojas kā (konta e-pasta adrese)").fill(admin.email)
    page.get_by_test_id("issue").click()
    assert page.get_by_test_id("token-plaintext").input_value().startswith("rpt_")
    assert check_a11y(page) == []
    assert page.console_errors == []
