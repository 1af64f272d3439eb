"""The per-voter ballot counts: fixed windows per limit, refused beyond any of them with the
seconds to wait, windows starting afresh when they end, memory pruned."""
from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.voting import ballot_limits
from portal.voting.ballot_limits import BallotCounts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_tightest_window_refuses_and_says_how_long_to_wait():
    clock = Clock()
    counts = BallotCounts(clock)
    limit = "3 per minute; 5 per hour"
    assert [counts.hit("voter:1", limit) for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert counts.hit("voter:1", limit) == 40  # the minute's window ends 40 s from now
    assert counts.hit("voter:2", limit) is None  # another voter has windows of their own
    clock.now += 41  # a new minute: the hour still holds 4 of 5
    assert counts.hit("voter:1", limit) is None
    assert counts.hit("voter:1", limit) == 60 * 60 - 61  # the hour's window is full now


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=5), max_size=60), st.integers(1, 5))
def test_never_more_than_the_limit_is_let_through_in_one_window(gaps, amount):
    clock = Clock()
    counts = BallotCounts(clock)
    allowed_at = []
    for gap in gaps:
        clock.now += gap
        if counts.hit("voter:1", f"{amount} per 10 seconds") is None:
            allowed_at.append(clock.now)
    # Fixed windows: each starts at its first ballot and lasts 10 s.
    start, in_window = None, 0
    for at in allowed_at:
        if start is None or at >= start + 10:
            start, in_window = at, 0
        in_window += 1
        assert in_window <= amount


def test_threads_counting_at_once_lose_no_count():
    counts = BallotCounts(Clock())
    refused = []

    def send() -> None:
        for _ in range(50):
            if counts.hit("voter:1", "100 per minute") is not None:
                refused.append(1)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refused) == 4 * 50 - 100


def test_ended_windows_are_dropped_when_the_table_grows(monkeypatch):
    monkeypatch.setattr(ballot_limits, "PRUNE_ABOVE", 10)
    clock = Clock()
    counts = BallotCounts(clock)
    for voter in range(11):
        counts.hit(f"voter:{voter}", "1 per minute")
    clock.now += 61
    counts.hit("voter:new", "1 per minute")
    assert len(counts._windows) == 1  # noqa: SLF001 - the table itself is what is tested
