"""The voter votes with the keyboard alone on the living demo: from the ballot page, Tab
reaches the choices, Space chooses, Tab reaches "Šifrēt un nodot manu balsi", Enter casts, and
the receipt with the tracker appears; every focused control shows where the focus is."""
from __future__ import annotations

from typing import Any

import pytest

from tests.browser import check_a11y
from tests.living_demo import sign_in
from tests.tour import new_context

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)",
                         selector):
            outline, width, shadow = page.evaluate(
                "() => { const c = getComputedStyle(document.activeElement);"
                " return [c.outlineStyle, c.outlineWidth, c.boxShadow]; }")
            assert (outline != "none" and width != "0px") or shadow != "none", selector
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {selector}")


def test_the_voter_votes_with_the_keyboard_only(demo, browser):
    live, real, story = demo
    context = new_context(browser)
    page = context.new_page()
    try:
        sign_in(page, live, real, "voter")
        page.goto(f"{live.url}/voting/{story['referendum']}")
        page.get_by_text("Gatavs.").first.wait_for()
        _tab_to(page, "input[type=radio]")
        page.keyboard.press("Space")
        assert page.locator("input[type=radio]").first.is_checked()
        _tab_to(page, "#cast-button")
        assert page.evaluate("document.activeElement.innerText").strip() == (
            "Šifrēt un nodot manu balsi")
        page.keyboard.press("Enter")
        page.get_by_test_id("receipt").wait_for()
        page.wait_for_load_state()  # the styles below are read from the loaded receipt page
        # The receipt's sentences wrap between words; only the tracker may break anywhere.
        receipt = page.get_by_test_id("receipt")
        assert receipt.evaluate("r => getComputedStyle(r.querySelector('p')).wordBreak") == \
            "normal"
        assert receipt.evaluate("r => getComputedStyle(r).overflowWrap") == "normal"
        assert page.get_by_test_id("receipt-tracker").evaluate(
            "t => getComputedStyle(t).wordBreak") == "break-all"
        assert check_a11y(page) == []
    finally:
        context.close()
