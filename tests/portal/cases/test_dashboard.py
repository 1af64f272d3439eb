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
    # The charts need no script: the only one is the shared scroll-frame script of every page.
    shared = '<script src="/static/js/scroll-frame.js" defer></script>'
    assert "<script" not in html.replace(shared, "") and "style=" not in html


def _closed_count(html: str) -> int:
    import re

    return int(re.search(r'data-testid="closed-count">(\d+)<', html).group(1))


def test_dashboard_figures_are_reused_briefly_then_recomputed_from_events(
        db_session, clock, people, login_as):
    member = people.member()
    officer = login_as(people.cvk_officer())
    before = _closed_count(officer.get("/cases/dashboard").get_data(as_text=True))
    case = report(db_session, clock, people.observer())
    services.transition_case(db_session, clock, member, case, "dismiss", 1, "Nav pārkāpuma",
                             parties=COMMISSION)
    # Within the cache period the page shows the figures it computed a moment ago ...
    html = officer.get("/cases/dashboard").get_data(as_text=True)
    assert _closed_count(html) == before and 'data-testid="computed-at"' in html
    # ... and once it has passed, figures are computed again from the events.
    clock.advance(timedelta(seconds=31))
    assert _closed_count(officer.get("/cases/dashboard").get_data(as_text=True)) == before + 1


def test_figures_cache_with_no_period_always_computes(app, db_session, clock, people):
    from portal.cases.dashboard import FiguresCache

    cache = FiguresCache(0)
    first = cache.get_figures(db_session, clock.now(), None)
    report(db_session, clock, people.observer())
    second = cache.get_figures(db_session, clock.now(), None)
    assert second.totals["total"] == first.totals["total"] + 1
    kept = FiguresCache(30)
    assert kept.get_figures(db_session, clock.now(), None) is kept.get_figures(
        db_session, clock.now(), None)
    assert kept.get_figures(db_session, clock.now(), frozenset({1})) is not kept.get_figures(
        db_session, clock.now(), None)


def test_dashboard_counts_are_grammatical_in_latvian(people, login_as):
    """Latvian has three count forms: "0 slēgtu", "1 slēgta", "2 slēgtas"."""
    html = login_as(people.cvk_officer()).get("/cases/dashboard").get_data(as_text=True)
    assert 'data-testid="closed-count">0</span>slēgtu' in html
    assert "0</span>lietu" in html
