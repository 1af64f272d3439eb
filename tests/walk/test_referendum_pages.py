"""The living demo's referendum pages as a newcomer meets them in Chromium: the workflow
diagram, the results chart and the protocol tables on a phone say they scroll and scroll from
the keyboard (one mechanism, portal/static/js/scroll-frame.js); the chair's manage page says
why each offered step applies now; the question's two versions are labelled; the trustee's
download is saved under the name the page's command uses; a visitor sees the demo clock's date
but not its buttons. axe finds no serious or critical violation on any of these pages."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from portal.accounts.services import find_user_by_email
from portal.seed import DEMO_DOMAIN
from portal.seed_story import TRUSTEE_PASSPHRASE
from referendum_core.crypto.file_names import TrusteeFiles
from referendum_core.crypto.secretfile import open_secret
from referendum_core.crypto.tally import aggregate_from_json, aggregate_to_json, partial_decrypt
from referendum_core.voting import accept_trustee_share
from referendum_core.voting.models import Referendum
from tests.browser import check_a11y, submit
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
    page.wait_for_url(re.compile(r"/cases/\d+$"))


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


def _frames_scroll_from_the_keyboard(page: Any) -> int:
    """Every sideways-scrolling frame on the page that is wider than the screen is a named,
    focusable region with its hint shown and scrolls with the arrow keys; the page itself
    never scrolls sideways. Returns how many frames were wider."""
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    wider = 0
    for frame in page.locator(".scroll-frame").all():
        hint = frame.locator("xpath=preceding-sibling::*[1]")
        if not frame.evaluate("f => f.scrollWidth > f.clientWidth + 1"):
            assert hint.is_hidden() and frame.get_attribute("tabindex") is None
            continue
        wider += 1
        assert frame.get_attribute("role") == "region" and frame.get_attribute("tabindex") == "0"
        assert frame.evaluate("f => f.getAttribute('aria-labelledby') || "
                              "f.getAttribute('aria-label')")
        assert hint.is_visible() and "pavelciet to uz sāniem" in hint.inner_text()
        frame.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("f => f.scrollLeft > 0", arg=frame.element_handle())
    return wider


def _trustee_decrypts(live: Any, referendum_id: int, secret_path: str) -> None:
    """The demo trustee adds the partial decryption of last week's count, with the secret the
    seed left for the offline tool."""
    with live.app.app_context():
        session = live.app.extensions["portal_db"].new_session()
        referendum = session.get(Referendum, referendum_id)
        secret = open_secret(json.loads(Path(secret_path).read_text()), TRUSTEE_PASSPHRASE)
        agg = aggregate_from_json(json.loads(referendum.aggregate), 2)
        partial = {"election_hash": referendum.election_hash, "trustee": 0,
                   "name": secret.name, "public_key": secret.public_key.hex(),
                   "aggregate": aggregate_to_json(agg),
                   "shares": partial_decrypt(secret, bytes.fromhex(referendum.election_hash),
                                             agg)}
        trustee = find_user_by_email(session, f"trustee@{DEMO_DOMAIN}")
        accept_trustee_share(session, live.app.extensions["clock"], trustee, referendum,
                             json.dumps(partial))
        session.commit()
        session.close()


def test_results_and_protocols_on_a_phone_scroll_in_their_frames(demo, browser):
    live, _real, story = demo
    counted = story["counted"]
    _trustee_decrypts(live, counted, story["trustee_secret"])
    chair = _person(browser, demo, "chair")
    try:
        chair.goto(f"{live.url}/voting/{counted}/manage")
        submit(chair, "Apstiprināt un publicēt rezultātus")
        chair.goto(f"{live.url}/voting/{counted}/manage")
        assert chair.get_by_test_id("stage").inner_text() == "rezultāti apstiprināti"
    finally:
        chair.context.close()
    page = _person(browser, demo, "chair", phone=True)
    try:
        page.goto(f"{live.url}/voting/{counted}/results")
        page.get_by_test_id("chart-frame").wait_for()
        assert _frames_scroll_from_the_keyboard(page) >= 1
        assert page.get_by_test_id("chart-frame").get_attribute("tabindex") == "0"
        assert check_a11y(page) == []
        page.goto(f"{live.url}/voting/{counted}/protocols")
        assert _frames_scroll_from_the_keyboard(page) == 1
        assert check_a11y(page) == []
        page.goto(f"{live.url}/voting/{counted}")
        phase = page.get_by_test_id("voting-phase")
        assert "rezultāti ir publicēti" in phase.inner_text()
        assert page.get_by_text("Pieteikties kā vēlētājam, lai balsotu").count() == 0
        assert check_a11y(page) == []
    finally:
        page.context.close()
