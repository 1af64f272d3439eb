"""The living demo's referendum pages as a newcomer meets them in Chromium: the workflow
diagram on a phone says it scrolls and scrolls from the keyboard; the chair's manage page says
why each offered step applies now; the question's two versions are labelled; the trustee's
download is saved under the name the page's command uses; a visitor sees the demo clock's date
but not its buttons. axe finds no serious or critical violation on any of these pages."""
from __future__ import annotations

from typing import Any

import pytest

from referendum_core.crypto.file_names import TrusteeFiles
from referendum_core.voting.models import Referendum
from tests.browser import check_a11y
from tests.living_demo import sign_in
from tests.tour import new_context

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]
WIDTH = 390


def _person(browser: Any, demo: tuple, who: str | None, phone: bool = False) -> Any:
    live, real, _story = demo
    page = new_context(browser, phone=phone).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    if who:
        sign_in(page, live, real, who)
    return page


def _first_case(page: Any, live: Any) -> None:
    page.goto(live.url + "/cases")
    page.locator("td a").first.click()
    page.wait_for_load_state()


def test_the_workflow_diagram_on_a_phone_says_it_scrolls(demo, browser):
    live = demo[0]
    page = _person(browser, demo, "cvk_officer", phone=True)
    try:
        _first_case(page, live)
        frame = page.get_by_role("region", name="Darba plūsmas shēma: pašreizējais stāvoklis "
                                                 "ir izcelts")
        assert frame.get_attribute("tabindex") == "0"
        assert frame.evaluate("f => f.scrollWidth > f.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        hint = page.locator(".scroll-hint")
        assert hint.is_visible() and "pavelciet to uz sāniem" in hint.inner_text()
        assert "radial-gradient" in frame.evaluate("f => getComputedStyle(f).backgroundImage")
        frame.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => document.querySelector('.scroll-frame').scrollLeft > 0")
        assert check_a11y(page) == []
    finally:
        page.context.close()
    wide = _person(browser, demo, "cvk_officer")
    try:
        _first_case(wide, live)
        assert wide.locator(".scroll-hint").is_hidden()  # the diagram fits a wide screen
    finally:
        wide.context.close()


def test_the_chairs_manage_pages_explain_their_steps(demo, browser):
    live, _real, story = demo
    page = _person(browser, demo, "chair")
    try:
        page.goto(f"{live.url}/voting/{story['referendum']}/manage")
        assert page.get_by_test_id("stage").inner_text() == "notiek balsošana"
        assert page.get_by_test_id("close-later").is_visible()
        assert page.get_by_role("button", name="Slēgt iecirkņus").count() == 0
        assert page.get_by_role("button",
                                name="Pārbaudīt reģistrācijas aploksnes pret vēlētāju reģistru"
                                ).count() == 0
        assert check_a11y(page) == []
        page.goto(f"{live.url}/voting/{story['counted']}/manage")
        assert "gaida protokolus" not in page.content()
        for button in page.locator(".next-action button").all():
            assert len(button.evaluate(
                "b => document.getElementById(b.getAttribute('aria-describedby')).textContent"
            )) > 40
        assert check_a11y(page) == []
    finally:
        page.context.close()


def test_the_question_versions_are_labelled_and_the_trustee_file_names_agree(demo, browser):
    live, _real, story = demo
    visitor = _person(browser, demo, None)
    try:
        visitor.goto(f"{live.url}/voting/{story['referendum']}")
        versions = visitor.get_by_test_id("question-versions")
        assert versions.locator('[lang="lv"] dt').inner_text() == "Latviski"
        assert versions.locator('[lang="en"] dt').inner_text() == "In English"
        assert check_a11y(visitor) == []
        # The demo clock: its date for everyone, its buttons for election officials only.
        assert visitor.get_by_test_id("demo-banner").is_visible()
        assert visitor.get_by_test_id("demo-clock-buttons").count() == 0
    finally:
        visitor.context.close()
    with live.app.app_context():
        session = live.app.extensions["portal_db"].new_session()
        election_id = session.get(Referendum, story["counted"]).election_id
        session.close()
    files = TrusteeFiles(election_id)
    trustee = _person(browser, demo, "trustee")
    try:
        trustee.goto(f"{live.url}/voting/{story['counted']}/trustee")
        command = trustee.locator("pre code").last.inner_text()
        assert f"--secret {files.secret} --tally {files.record} --out {files.partial}" in command
        with trustee.expect_download() as download:
            trustee.get_by_test_id("trustee-record").click()
        assert download.value.suggested_filename == files.record
        assert check_a11y(trustee) == []
    finally:
        trustee.context.close()
