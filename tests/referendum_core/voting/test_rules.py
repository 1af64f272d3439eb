"""The law's voting rules as pure functions (Art. 15, 16(1), 20(9)-(10), 21, 22)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from referendum_core.calendar import WorkingDayCalendar
from referendum_core.clock import to_riga
from referendum_core.voting.rules import (
    after_results_steps,
    announcement_deadline,
    assess_validity,
    is_saturday,
    online_window,
    polling_hours,
    rfc3339,
)

DAY = date(2026, 3, 14)


def test_art16_1_referendum_day_is_a_saturday():
    assert is_saturday(DAY)
    assert not is_saturday(date(2026, 3, 13))


def test_art15_1_online_window_is_monday_to_wednesday_around_the_clock():
    opens, closes = online_window(DAY, "strategy")
    assert to_riga(opens).isoformat() == "2026-03-09T00:00:00+02:00"  # Monday 00:00
    assert to_riga(closes).isoformat() == "2026-03-12T00:00:00+02:00"  # end of Wednesday
    assert opens == datetime(2026, 3, 8, 22, 0, tzinfo=UTC)


def test_art15_2_no_online_window_for_a_dismissal():
    assert online_window(DAY, "dismissal") is None


def test_art16_1_polls_open_7_to_20_riga_time_also_in_summer_time():
    opens, closes = polling_hours(date(2026, 6, 13))
    assert (to_riga(opens).hour, to_riga(closes).hour) == (7, 20)
    assert opens.hour == 4  # UTC+3 in summer


def test_art21_results_announced_within_three_working_days():
    # Saturday 14 March -> Mon 16, Tue 17, Wed 18.
    assert to_riga(announcement_deadline(WorkingDayCalendar(), DAY)).date() == date(2026, 3, 18)
    # Easter Monday 6 April 2026 is a holiday: Saturday 4 April -> Tue 7, Wed 8, Thu 9.
    assert to_riga(announcement_deadline(WorkingDayCalendar(), date(2026, 4, 4))).date() == \
        date(2026, 4, 9)


def test_rfc3339_is_utc_whole_seconds():
    assert rfc3339(datetime(2026, 3, 9, 12, 0, 1, 999, tzinfo=UTC)) == "2026-03-09T12:00:01Z"


def test_art22_1_turnout_must_reach_one_third_of_last_election_voters():
    below = assess_validity("strategy", participants=33, votes_for=30, votes_against=3,
                            voters_base=100, participants_base=60)
    assert (below.is_valid, below.is_passed, below.quorum) == (False, False, 34)
    at = assess_validity("construction", participants=34, votes_for=18, votes_against=16,
                         voters_base=100, participants_base=60)
    assert (at.is_valid, at.is_passed) == (True, True)


def test_art22_2_passed_needs_more_than_half_of_participants_par():
    # Invalid ballots count as participants: 17 of 34 is not more than half.
    half = assess_validity("strategy", participants=34, votes_for=17, votes_against=15,
                           voters_base=100, participants_base=60)
    assert (half.is_valid, half.is_passed) == (True, False)


def test_art22_3_dismissal_needs_majority_and_two_thirds_of_last_participants():
    enough = assess_validity("dismissal", participants=50, votes_for=40, votes_against=10,
                             voters_base=100, participants_base=60)
    assert (enough.is_passed, enough.for_needed) == (True, 40)
    short = assess_validity("dismissal", participants=50, votes_for=39, votes_against=11,
                            voters_base=100, participants_base=60)
    assert short.is_passed is False
    no_majority = assess_validity("dismissal", participants=100, votes_for=45, votes_against=55,
                                  voters_base=200, participants_base=60)
    assert no_majority.is_passed is False


def test_art22_missing_base_figure_is_never_judged_not_valid():
    """Art. 22(1), 22(3): without the base figure there is no verdict, not a "not valid" one."""
    with pytest.raises(ValueError):
        assess_validity("strategy", participants=10, votes_for=10, votes_against=0,
                        voters_base=None, participants_base=60)
    with pytest.raises(ValueError):
        assess_validity("dismissal", participants=10, votes_for=10, votes_against=0,
                        voters_base=100, participants_base=None)


def _steps(subject, announced_on, *, valid=True, passed=True):
    return {s.name: (s.due_at, s.basis) for s in after_results_steps(
        WorkingDayCalendar(), subject, is_valid=valid, is_passed=passed,
        announced_on=announced_on)}


def test_art24_passed_decision_council_considers_in_5_working_days_adopts_within_a_month():
    """Art. 24, Art. 23: results announced on Tuesday 17 March 2026."""
    steps = _steps("construction", date(2026, 3, 17))
    assert steps["council_considers"] == (datetime(2026, 3, 24, 21, 59, 59, 999999, tzinfo=UTC),
                                          "Art. 24")
    # 17 April 2026 is a Friday; EEST by then.
    assert steps["council_adopts"] == (datetime(2026, 4, 17, 20, 59, 59, 999999, tzinfo=UTC),
                                       "Art. 24")
    # Art. 23: only the council elected at the next regular elections (2 June 2029) may
    # readopt the rejected decision.
    assert steps["readopt_only_by_next_council"] == (
        datetime(2029, 6, 1, 21, 0, tzinfo=UTC), "Art. 23")


def test_art24_nothing_follows_a_referendum_that_did_not_pass_or_was_not_valid():
    assert _steps("strategy", date(2026, 3, 17), passed=False) == {}
    assert _steps("strategy", date(2026, 3, 17), valid=False, passed=False) == {}


def test_art24_passed_dismissal_goes_to_the_ministry_and_new_elections_within_3_months():
    steps = _steps("dismissal", date(2026, 9, 15))
    assert steps["dismissal_to_ministry"] == (
        datetime(2026, 9, 18, 20, 59, 59, 999999, tzinfo=UTC), "Art. 24")  # open: 3 days
    assert steps["new_elections"] == (
        datetime(2026, 12, 15, 21, 59, 59, 999999, tzinfo=UTC), "Art. 24")


def test_art24_no_new_elections_when_fewer_than_9_months_remain():
    # 1 October 2028 + 9 months = 1 July 2029, after the regular elections of 2 June 2029.
    steps = _steps("dismissal", date(2028, 10, 2))
    assert "dismissal_to_ministry" in steps and "new_elections" not in steps
    # 2 September 2028 + 9 months = 2 June 2029: exactly 9 months remain, elections follow.
    assert "new_elections" in _steps("dismissal", date(2028, 9, 2))
