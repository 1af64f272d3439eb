"""The CVK service-level dashboard: figures from events, charts linking to their cases."""
from __future__ import annotations

from datetime import timedelta

from referendum_core.cases import services
from tests.case_factories import COMMISSION, report


def test_dashboard_is_for_cvk_only(people, login_as):
    assert login_as(people.member()).get("/cases/dashboard").status_code == 403


def test_dashboard_charts_come_from_events_and_link_to_cases(db_session, clock, people, login_as):
    member = people.member()
    case = report(db_session, clock, people.observer(),
                  draft_started_at=clock.now() - timedelta(minutes=3))
    clock.advance(timedelta(hours=5))
    services.transition_case(db_session, clock, member, case, "dismiss", 1, "Nav pārkāpuma",
                             parties=COMMISSION)
    html = login_as(people.cvk_officer()).get("/cases/dashboard").get_data(as_text=True)
    for chart in ("fulfil-type", "fulfil-municipality", "submit", "first-time-right"):
        assert f'data-testid="chart-{chart}"' in html
    assert "/cases?type=observer_report&amp;status=closed" in html
    assert "<script" not in html and "style=" not in html
