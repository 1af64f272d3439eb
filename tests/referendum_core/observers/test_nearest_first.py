"""The observer's referendums in the order they are needed (``observers.nearest_first``): a
referendum still being prepared for next year never comes before this week's."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from referendum_core.observers import nearest_first


def test_today_and_the_soonest_come_first_then_later_then_past():
    def ref(i, day):
        return SimpleNamespace(id=i, referendum_day=day)

    today = date(2026, 12, 8)
    refs = [ref(1, date(2027, 2, 20)), ref(2, date(2026, 12, 12)), ref(3, date(2026, 12, 5)),
            ref(4, date(2026, 12, 8)), ref(5, date(2026, 11, 28))]
    assert [r.id for r in nearest_first(refs, today)] == [4, 2, 1, 3, 5]
