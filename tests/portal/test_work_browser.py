"""Work that finds you, in Chromium on the living demo: the chair's navigation counts what waits
for the commission, the home page lists it most urgent first (the overdue query before the
rest), each entry opens its page, the list passes axe; the trustee finds the tally to decrypt."""
from __future__ import annotations

import re

import pytest

from tests.browser import Actors, check_a11y
from tests.portal.test_demo_browser import demo  # noqa: F401 - the living demo's server

pytestmark = [pytest.mark.browser]


class RealTime:
    """The sign-in codes of the demo accounts follow the real time (the session limits do)."""

    def advance(self, _delta):
        return None

    def now(self):
        return None


def test_the_chair_finds_the_commissions_work_and_opens_it(browser, demo):  # noqa: F811
    live, _story = demo
    actors = Actors(browser, live, RealTime())
    try:
        page = actors.official("chair.adazi@demo.cvk.lv")
        page.goto(live.url + "/")
        cases = page.get_by_role("navigation", name="Galvenā navigācija").get_by_role(
            "link", name=re.compile(r"^Lietas"))
        name = cases.inner_text()
        assert re.search(r"\d", name), name
        work = page.get_by_test_id("work")
        assert work.get_by_role("heading", name="Gaida jūsu rīcību").is_visible()
        items = work.get_by_test_id("work-item")
        assert items.count() >= 3
        first = items.first
        assert "Nokavēts" in first.inner_text()  # the overdue query comes first
        assert check_a11y(page) == []
        first.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/cases/\d+$"))
        assert re.search(r"L-\d{6}", page.get_by_role("heading", level=1).inner_text())

        trustee = actors.official("trustee@demo.cvk.lv")
        trustee.goto(live.url + "/")
        entry = trustee.get_by_test_id("work-item").filter(has_text="pilnvarotajam")
        entry.get_by_role("link").click()
        trustee.wait_for_url(re.compile(r"/voting/\d+/trustee$"))
        assert page.console_errors == [] and trustee.console_errors == []
    finally:
        actors.close()
