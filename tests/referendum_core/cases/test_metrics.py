"""Service-level figures computed in SQL from recorded events."""
from __future__ import annotations

from datetime import timedelta

import pytest

from referendum_core.cases import metrics, services
from tests.case_factories import COMMISSION, REQUESTER, report


@pytest.fixture()
def closed_reports(db_session, clock, people):
    """Four reports closed after 1, 2, 3 and 10 hours; the third went back to the requester."""
    observer, member = people.observer(), people.member()
    cases = []
    for hours in (1, 2, 3, 10):
        case = report(db_session, clock, observer,
                      draft_started_at=clock.now() - timedelta(minutes=hours))
        if hours == 3:
            services.transition_case(db_session, clock, member, case, "triage", case.version,
                                     parties=COMMISSION)
            services.transition_case(db_session, clock, member, case, "request_information",
                                     case.version, "?", parties=COMMISSION)
            services.transition_case(db_session, clock, observer, case, "resubmit",
                                     case.version, "!", parties=REQUESTER)
        clock.advance(timedelta(hours=hours))
        services.transition_case(db_session, clock, member, case, "dismiss", case.version, "-",
                                 parties=COMMISSION)
        clock.advance(timedelta(hours=-hours))
        cases.append(case)
    return cases


def test_time_to_fulfil_median_and_p90_per_type(db_session, closed_reports):
    ids = frozenset({closed_reports[0].municipality_id})
    [row] = [r for r in metrics.time_to_fulfil(db_session, municipality_ids=ids)
             if r.group == "observer_report"]
    assert row.count == 4
    assert row.median_s == pytest.approx(2 * 3600, abs=2)  # nearest rank: 2nd of 4
    assert row.p90_s == pytest.approx(10 * 3600, abs=2)
    [by_muni] = metrics.time_to_fulfil(db_session, by="municipality", municipality_ids=ids)
    assert by_muni.group == closed_reports[0].municipality_id and by_muni.count == 4


def test_time_to_submit_from_draft_started_events(db_session, closed_reports):
    ids = frozenset({closed_reports[0].municipality_id})
    [row] = metrics.time_to_submit(db_session, municipality_ids=ids)
    assert row.count == 4 and row.median_s == pytest.approx(120, abs=2)


def test_first_time_right_share(db_session, closed_reports):
    ids = frozenset({closed_reports[0].municipality_id})
    [share] = metrics.first_time_right(db_session, municipality_ids=ids)
    assert (share.closed, share.first_time_right) == (4, 3)
    assert share.share == 0.75 and not share.meets_target


def test_past_deadline_open_and_closed_late(db_session, clock, people, closed_reports):
    ids = frozenset({closed_reports[0].municipality_id})
    late = report(db_session, clock, people.observer())
    clock.advance(timedelta(days=3))
    [row] = metrics.past_deadline(db_session, clock.now(), municipality_ids=ids)
    assert (row.group, row.open_past_deadline, row.closed_late) == ("observer_report", 1, 0)
    services.transition_case(db_session, clock, people.member(), late, "dismiss", 1, "vēlu",
                             parties=COMMISSION)
    [row] = metrics.past_deadline(db_session, clock.now(), municipality_ids=ids)
    assert (row.open_past_deadline, row.closed_late) == (0, 1)
    assert metrics.totals(db_session, clock.now(), municipality_ids=ids) == {
        "total": 5, "open": 0, "closed": 5, "overdue": 0}
