"""The living demo on a phone (390 px wide): the observer finds "Lietas" in the menu, the case
list's filters are folded and it shows each report's severity; no page of the observer's or
CVK's main screens (case list, case with its workflow diagram, dashboard charts, results)
is wider than the screen; the voter's main button has the house style."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.living_demo import sign_in
from tests.tour import new_context

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]
WIDTH = 390


def _phone(browser: Any, demo: tuple, who: str) -> Any:
    live, real, _story = demo
    context = new_context(browser, phone=True)
    page = context.new_page()
    sign_in(page, live, real, who)
    return page


def _fits(page: Any) -> None:
    """Nothing makes the page scroll sideways; charts and diagrams keep readable text (they
    scroll inside their own frame instead of shrinking)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, (page.url, width)
    heights = page.locator("main svg text").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)")
    assert all(h >= 12 for h in heights), (page.url, sorted(heights)[:3])


def test_the_observer_works_on_a_phone(demo, browser):
    live = demo[0]
    page = _phone(browser, demo, "observer")
    try:
        nav = page.get_by_role("navigation", name="Galvenā navigācija")
        nav.get_by_role("link", name="Lietas").click()
        page.wait_for_url("**/cases")
        filters = page.locator("details.filter-fold")
        assert filters.get_attribute("open") is None  # folded on a phone
        assert page.get_by_role("button", name="Rādīt").is_hidden()
        filters.locator("summary").click()
        assert page.get_by_role("button", name="Rādīt").is_visible()
        assert page.get_by_role("columnheader", name="Nopietnība").count() == 1
        assert page.locator("td .severity-critical").is_visible()  # a card per case
        groups = page.locator("#f-state optgroup").evaluate_all("gs => gs.map(g => g.label)")
        assert groups == ["Tiek izskatītas", "Pabeigtas"]
        _fits(page)
        page.locator("td a").first.click()
        page.wait_for_url(re.compile(r"/cases/\d+$"))
        _fits(page)
        page.goto(live.url + "/cases/report")
        _fits(page)
    finally:
        page.context.close()


def test_cvk_charts_and_results_fit_a_phone(demo, browser):
    live, _real, story = demo
    page = _phone(browser, demo, "cvk_officer")
    try:
        for path in ("/cases/dashboard", f"/voting/{story['counted']}/results", "/cases",
                     "/audit/"):
            page.goto(live.url + path)
            _fits(page)
    finally:
        page.context.close()


def test_the_voters_main_button_has_the_house_style(demo, browser):
    live, _real, story = demo
    page = _phone(browser, demo, "voter")
    try:
        page.goto(f"{live.url}/voting/{story['referendum']}")
        page.get_by_text("Gatavs.").first.wait_for()
        button = page.locator("#cast-button")
        style = button.evaluate("b => [getComputedStyle(b).backgroundColor,"
                                " getComputedStyle(b).color]")
        brand = page.evaluate("""() => { const a = document.createElement('a');
            a.className = 'button'; document.querySelector('main').appendChild(a);
            const c = getComputedStyle(a).backgroundColor; a.remove(); return c; }""")
        assert style[0] == brand and style[1] == "rgb(255, 255, 255)", style
        _fits(page)
    finally:
        page.context.close()


def test_trustee_and_chair_pages_with_keys_fit_a_phone(demo, browser):
    """A trustee's key (64 hex digits) and the decrypt command break rather than widen the
    page (a new user's phone showed the trustee page 760 px wide)."""
    live, _real, story = demo
    for who, paths in (("trustee", (f"/voting/{story['counted']}/trustee",)),
                       ("chair", (f"/voting/{story['counted']}/manage",
                                  f"/voting/{story['referendum']}/manage"))):
        page = _phone(browser, demo, who)
        try:
            for path in paths:
                page.goto(live.url + path)
                _fits(page)
        finally:
            page.context.close()
